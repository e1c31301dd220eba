import Augment
import Foundation
import Shards
import TestSupport
import Trainer

/// Training `tutorial` at 150×150×3 (batch 100) from shards, with the tutorial's augmentation
/// (`--rotate 40 --shift 0.2 --shear 0.2 --zoom 0.2 --flip`) rendered afresh in the reader's worker
/// for every sample, against the same shards without augmentation: the loop `Fitting.fit` runs
/// (its reader options: one worker thread, prefetch 4). Epochs of the two alternate, after one
/// warm-up epoch each, so drift hits both; the stall is the time the training loop waited for the
/// reader, as a share of the epoch. Target: ≥ 95 % of the images/s, stall < 1 %.
func freshAugmentationBenchmarks() throws -> Section {
    let spec = ImageSpec(width: 150, height: 150, channels: 3), count = 400, batch = 100
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-fresh-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    progress("fresh augmentation: writing \(count) photo-like 150x150 samples")
    let writer = try ShardWriter(directory: directory, split: "train", spec: spec, hasSource: false)
    for i in 0..<count {
        let image = SyntheticImages.photoLike(width: 150, height: 150, seed: UInt64(i + 1))
        try image.pixels.withUnsafeBytes { try writer.append(image: $0, label: i % 2) }
    }
    try writer.finish(classNames: ["cats", "dogs"], provenance: .init(dataset: "photo-like", tool: "bench", options: [:], seed: 1))
    let set = try ShardSet(directory: directory)

    let tutorial = RandomTransform(
        rotation: 40, widthShift: .uniform(0.2), heightShift: .uniform(0.2), shear: 0.2, zoom: 0.8...1.2,
        horizontalFlip: true)
    let fresh = EpochAugmenter.transformation(random: tutorial, settings: RenderSettings(), stored: spec, output: spec, seed: 1)
    let architecture = Preset.tutorial.architecture
    let model = try Model(
        architecture: architecture, inputSpec: spec, classes: 2, seed: 1, imageLayout: architecture.preferredImageLayout)
    let options = Fitting.batchOptions(for: model, batchSize: batch, seed: 1, shuffle: true, prefetch: 4)
    let loaders = [try BatchLoader(set: set, options: options), try BatchLoader(set: set, options: options, transformation: fresh)]

    /// One epoch: (images, seconds, stall seconds).
    func epoch(_ loader: BatchLoader, _ number: Int) throws -> (Int, Double, Double) {
        let start = Date()
        let batches = loader.epoch(number)
        var images = 0
        while let next = try batches.next() {
            _ = try model.trainStep(next)
            images += next.count
        }
        return (images, Date().timeIntervalSince(start), batches.stallSeconds)
    }

    var totals = [(images: 0, seconds: 0.0, stall: 0.0), (images: 0, seconds: 0.0, stall: 0.0)]
    for (which, loader) in loaders.enumerated() {
        progress("fresh augmentation: warm-up, \(which == 0 ? "stored" : "fresh")")
        _ = try epoch(loader, 0)
    }
    var round = 1
    while totals.map(\.seconds).min()! < max(benchSeconds, 3) * 2 {
        for (which, loader) in loaders.enumerated() {
            progress("fresh augmentation: epoch \(round), \(which == 0 ? "stored" : "fresh")")
            let (images, seconds, stall) = try epoch(loader, round)
            totals[which].images += images
            totals[which].seconds += seconds
            totals[which].stall += stall
        }
        round += 1
    }
    let rates = totals.map { Double($0.images) / $0.seconds }, stalls = totals.map { 100 * $0.stall / $0.seconds }
    return Section(
        title: "Fresh augmentation — train tutorial, 150x150x3, batch \(batch), \(count) samples, reader: 1 thread, prefetch 4",
        rows: [
            Row(
                stage: "train from shards, no augmentation", rate: rates[0],
                throughput: String(format: "stall %.2f%%", stalls[0])),
            Row(
                stage: "train, tutorial augmentation rendered afresh every epoch", rate: rates[1],
                throughput: String(format: "stall %.2f%%", stalls[1]),
                note: String(format: "%.1f%% of the images/s without (target ≥ 95%%, stall < 1%%)", 100 * rates[1] / rates[0])),
        ])
}
