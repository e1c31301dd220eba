import Dispatch
import Foundation
import Shards

/// Shard writer and reader throughput on 150×150×3 samples, and the stall time of a slow consumer.
func shardsBenchmarks() throws -> Section {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-shards-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let spec = ImageSpec(width: 150, height: 150, channels: 3)
    let layout = RecordLayout(spec: spec, hasSource: true, parameterCount: 0)
    let samples = 4000
    let megabytes = Double(samples * layout.stride) / 1e6
    // Distinct, incompressible-looking samples; generated once, outside the timing.
    let images = (0..<16).map { seed in (0..<layout.imageBytes).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 7 &+ seed) } }

    progress("shard writer")
    var writeSeconds = Double.infinity
    for _ in 0..<3 {
        writeSeconds = min(
            writeSeconds,
            try seconds {
                let writer = try ShardWriter(directory: dir, split: "train", spec: spec)
                for i in 0..<samples {
                    try images[i % images.count].withUnsafeBytes { try writer.append(image: $0, label: i % 2, source: UInt32(i)) }
                }
                try writer.finish(
                    classNames: ["a", "b"], sources: (0..<samples).map { "\($0).jpg" },
                    provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: nil))
            })
    }
    var rows = [
        Row(
            stage: "shard writer (XXH64 per record, fsync per shard)", rate: Double(samples) / writeSeconds,
            unit: "samples/s", throughput: String(format: "%.0f MB/s", megabytes / writeSeconds),
            note: "target ≥ 1000 MB/s")
    ]

    let set = try ShardSet(directory: dir)
    for verify in [true, false] {
        progress("reader, checksums \(verify ? "on" : "off")")
        let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 100, seed: 1, verifyChecksums: verify))
        var epoch = 0
        let perSecond = try rate(batch: samples) {
            let batches = loader.epoch(epoch)
            epoch += 1
            while try batches.next() != nil {}
        }
        rows.append(
            Row(
                stage: "reader → Float32 NHWC batches of 100, checksums \(verify ? "on" : "off")",
                rate: perSecond, throughput: String(format: "%.0f MB/s", perSecond * Double(layout.imageBytes) / 1e6),
                note: verify ? "target ≥ 30,000 images/s, \(ProcessInfo.processInfo.activeProcessorCount) threads" : ""))
    }

    progress("stall of a consumer that takes 50 ms per batch")
    let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 100, seed: 1))
    let batches = loader.epoch(0)
    let epochSeconds = try seconds { while try batches.next() != nil { usleep(50_000) } }
    rows.append(
        Row(
            stage: "stall, consumer spends 50 ms per batch of 100", rate: Double(samples) / epochSeconds,
            throughput: String(format: "%.3f s stalled", batches.stallSeconds),
            note: String(
                format: "%.2f%% of the %.1f s epoch (target < 1%%)", 100 * batches.stallSeconds / epochSeconds,
                epochSeconds)))
    return Section(title: "Shards — 150x150x3 uint8 samples, \(samples) per run (\(Int(megabytes)) MB), page cache", rows: rows)
}
