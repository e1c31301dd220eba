import Foundation
import RemoteShards
import Shards
import Support
import TestSupport
import Trainer

/// Training `tutorial` at 150×150×3 (batch 100) from a set served by the in-process loopback HTTP
/// server (``LoopbackHTTPServer``, on the same cores), against the same set read from its folder:
/// the loop `Fitting.fit` runs, with its reader options (one worker thread, prefetch 4).
///
/// - cold cache: every measured epoch starts from an empty cache folder (a new store), so every
///   shard is fetched while the epoch trains;
/// - a third of the set cached (`--cache-limit`), in the shard-aware order (`--shuffle shards:1`):
///   the steady state, where every epoch fetches the set again, a shard at a time;
/// - for the record, a third cached in the global order, which refetches shards all epoch long.
///
/// Epochs of the configurations alternate after one warm-up epoch each, so drift hits all of
/// them. Targets: cold ≥ 90 % of the folder's images/s, a third cached ≥ 80 %. Bytes fetched per
/// epoch are reported against the set's size.
func streamBenchmarks() throws -> Section {
    let spec = ImageSpec(width: 150, height: 150, channels: 3), count = 600, batch = 100
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-stream-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    progress("stream: writing \(count) photo-like 150x150 samples in 4 MB shards")
    let writer = try ShardWriter(
        directory: folder + "/set", split: "train", spec: spec, hasSource: false, rotation: .init(maxBytes: 4 << 20))
    for i in 0..<count {
        let image = SyntheticImages.photoLike(width: 150, height: 150, seed: UInt64(i + 1))
        try image.pixels.withUnsafeBytes { try writer.append(image: $0, label: i % 2) }
    }
    let manifest = try writer.finish(
        classNames: ["cats", "dogs"], provenance: .init(dataset: "photo-like", tool: "bench", options: [:], seed: 1))
    let setBytes = manifest.shards.map(\.bytes).reduce(0, +)
    let server = try LoopbackHTTPServer()
    defer { server.stop() }
    try server.serveFolder(folder + "/set", at: "/set")
    let location = try SetLocation(server.baseURL + "/set")

    let architecture = Preset.tutorial.architecture
    let model = try Model(architecture: architecture, inputSpec: spec, classes: 2, seed: 1, imageLayout: architecture.preferredImageLayout)
    var options = Fitting.batchOptions(for: model, batchSize: batch, seed: 1, shuffle: true, prefetch: 4)
    var windowed = options
    windowed.shardWindow = 1
    let local = try BatchLoader(set: try ShardSet(directory: folder + "/set"), options: options)
    var cacheNumber = 0
    func remote(limit: Int?, _ options: BatchOptions) throws -> BatchLoader {
        cacheNumber += 1
        let set = try RemoteSet.open(
            location, cache: CacheSettings(folder: folder + "/cache-\(cacheNumber)", limit: limit), options: RemoteOptions())
        return try BatchLoader(set: set, options: options)
    }
    let third = try remote(limit: setBytes / 3, windowed)
    let thirdGlobal = try remote(limit: setBytes / 3, options)

    /// Result of one configuration: images, seconds, stall seconds, bytes fetched, epochs.
    struct Total { var images = 0, seconds = 0.0, stall = 0.0, bytes = 0, epochs = 0 }
    func epoch(_ loader: BatchLoader, _ number: Int, into total: inout Total) throws {
        let before = loader.set.cacheStatistics?.bytesFetched ?? 0
        let start = Date()
        let batches = loader.epoch(number)
        while let next = try batches.next() {
            _ = try model.trainStep(next)
            total.images += next.count
        }
        total.seconds += Date().timeIntervalSince(start)
        total.stall += batches.stallSeconds
        total.bytes += (loader.set.cacheStatistics?.bytesFetched ?? 0) - before
        total.epochs += 1
    }

    var discard = Total()
    progress("stream: warm-up epochs")
    try epoch(local, 0, into: &discard)
    try epoch(try remote(limit: nil, options), 0, into: &discard)
    try epoch(third, 0, into: &discard)
    var totals = [Total(), Total(), Total()]
    var round = 1
    while totals.map(\.seconds).min()! < max(benchSeconds, 3) * 2 {
        progress("stream: round \(round): folder, cold cache, a third cached")
        try epoch(local, round, into: &totals[0])
        try epoch(try remote(limit: nil, options), round, into: &totals[1])  // a new, empty cache every epoch
        try epoch(third, round, into: &totals[2])
        round += 1
    }
    progress("stream: a third cached, global order (one epoch)")
    var global = Total()
    try epoch(thirdGlobal, 1, into: &global)

    let rates = (totals + [global]).map { Double($0.images) / $0.seconds }
    func fetched(_ total: Total) -> String {
        String(
            format: "%.1f MB/epoch (%.2f× the set)", Double(total.bytes) / Double(max(total.epochs, 1)) / 1e6,
            Double(total.bytes) / Double(max(total.epochs, 1)) / Double(setBytes))
    }
    func stall(_ total: Total) -> String { String(format: "stall %.1f%%", 100 * total.stall / total.seconds) }
    return Section(
        title: "Streaming — train tutorial, 150x150x3, batch \(batch), \(count) samples ("
            + String(format: "%.1f MB", Double(setBytes) / 1e6)
            + " in \(manifest.shards.count) shards) from a loopback HTTP server; reader: 1 thread, prefetch 4",
        rows: [
            Row(stage: "train from the folder", rate: rates[0], throughput: stall(totals[0])),
            Row(
                stage: "train from http://, cold cache (global order)", rate: rates[1], throughput: stall(totals[1]),
                note: String(format: "%.1f%% of the folder's (target ≥ 90%%); ", 100 * rates[1] / rates[0]) + fetched(totals[1])),
            Row(
                stage: "train from http://, a third cached, --shuffle shards:1", rate: rates[2], throughput: stall(totals[2]),
                note: String(format: "%.1f%% of the folder's (target ≥ 80%%); ", 100 * rates[2] / rates[0]) + fetched(totals[2])),
            Row(
                stage: "train from http://, a third cached, global order", rate: rates[3], throughput: stall(global),
                note: String(format: "%.1f%% of the folder's; ", 100 * rates[3] / rates[0]) + fetched(global)),
        ])
}
