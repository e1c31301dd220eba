import Foundation
import Shards
import Support
import Trainer

/// Training and evaluation throughput of the `tutorial` preset at 150×150×3, 2 classes, batch 100,
/// on random input (generated once, outside the timing), with NHWC input (BatchLoader's default)
/// and NCHW (which the first convolution reads without a reorder); then where the time of one
/// training step goes. oneDNN's thread count is `OMP_NUM_THREADS`. The targets were set on the CPU
/// of shared/reference/toolchain.md (AMD family 26, where TensorFlow 2.21 trains this model at
/// 460 images/s and evaluates at ~750); the section title names the CPU the numbers come from.
func trainerBenchmarks() throws -> Section {
    let shape = ImageSpec(width: 150, height: 150, channels: 3), batch = 100
    var generator = SplitMix64(seed: 42)
    let images = (0..<batch * shape.elementCount).map { _ in Float(generator.next() >> 40) * 0x1p-24 }
    let labels = (0..<batch).map { Int32($0 % 2) }
    var rows: [Row] = []
    var profiled: Model?

    for layout in [BatchOptions.ImageLayout.nhwc, .nchw] {
        let model = try Model(architecture: Preset.tutorial.architecture, inputSpec: shape, classes: 2, seed: 1, imageLayout: layout)
        let name = layout.rawValue.uppercased()
        try images.withUnsafeBufferPointer { images in
            try labels.withUnsafeBufferPointer { labels in
                progress("tutorial training, \(name)")
                let train = try rate(batch: batch) { _ = try model.trainStep(images: images, labels: .indices(labels)) }
                rows.append(
                    Row(
                        stage: "tutorial train step, batch \(batch), \(name) input", rate: train,
                        throughput: String(format: "%.1f ms/step", 1000 * Double(batch) / train),
                        note: layout == .nhwc
                            ? "target ≥ 575 images/s (TensorFlow 2.21 on family 26: 460)"
                            : "the model's preferredImageLayout: no input reorder"))
                progress("tutorial evaluation, \(name)")
                let evaluate = try rate(batch: batch) { _ = try model.evaluate(images: images, labels: .indices(labels)) }
                rows.append(
                    Row(
                        stage: "tutorial evaluate (forward only), \(name) input", rate: evaluate,
                        throughput: String(format: "%.1f ms/batch", 1000 * Double(batch) / evaluate),
                        note: layout == .nhwc ? "TensorFlow 2.21 on family 26: ~750 images/s" : ""))
            }
        }
        profiled = model
    }

    // Per step of the NCHW model: the median over 7 profiled steps of each primitive or Swift step.
    guard let model = profiled else { return Section(title: "Trainer", rows: rows) }
    progress("tutorial training, per primitive")
    var samples: [String: (implementation: String, seconds: [Double])] = [:], order: [String] = []
    try images.withUnsafeBufferPointer { images in
        try labels.withUnsafeBufferPointer { labels in
            for _ in 0..<7 {
                for timing in try model.profileTrainStep(images: images, labels: .indices(labels)).timings {
                    if samples[timing.label] == nil { order.append(timing.label) }
                    samples[timing.label, default: (timing.implementation, [])].seconds.append(timing.seconds)
                }
            }
        }
    }
    let medians = order.map { label in (label, samples[label]!.implementation, samples[label]!.seconds.sorted()[3] * 1000) }
    let total = medians.reduce(0) { $0 + $1.2 }
    for (label, implementation, milliseconds) in medians where milliseconds >= 0.05 {
        rows.append(
            Row(
                stage: "  " + label, rate: milliseconds, unit: "ms",
                throughput: String(format: "%.1f%%", 100 * milliseconds / total), note: implementation))
    }
    rows.append(
        Row(
            stage: "  total of the profiled steps (NCHW)", rate: total, unit: "ms",
            note: String(format: "%.0f images/s if run back to back", 1000 * Double(batch) / total)))
    let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "unset (all cores)"
    return Section(
        title: "Trainer — tutorial preset, 150x150x3, 2 classes, batch \(batch), fp32; OMP_NUM_THREADS=\(threads); "
            + "\(cpuDescription()); per-primitive rows ≥ 0.05 ms", rows: rows)
}

/// "AMD EPYC, family 25" from /proc/cpuinfo (Linux), or "CPU unknown".
private func cpuDescription() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "CPU unknown" }
    func field(_ name: String) -> String? {
        info.split(separator: "\n").first { $0.hasPrefix(name) }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces)
    }
    return "\(field("model name") ?? "CPU"), family \(field("cpu family") ?? "?")"
}
