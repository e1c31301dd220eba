import Augment
import Codecs
import Dispatch
import Foundation
import Preparation
import Shards
import Support
import TestSupport

/// The whole augment prep (decode + augment + resize + shard write) of 2,000 photo-like JPEGs
/// (300–500 px a side) to 150×150 with the Keras tutorial's augmentation, on 2 threads, beside
/// decode alone at the same DCT scale in the same run; `make bench-keras` runs Keras's
/// `flow_from_directory` with the same generator on the same files.
func augmentBenchmarks() throws -> Section {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-augment-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let count = 2000, threads = 2, size = PixelSize(width: 150, height: 150)

    progress("augment: writing \(count) photo-like JPEGs")
    let paths = (0..<count).map { "\(dir)/\($0).jpg" }
    nonisolated(unsafe) var bytes = [Int](repeating: 0, count: count)
    bytes.withUnsafeMutableBufferPointer { sizes in
        nonisolated(unsafe) let sizes = sizes
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let encoder = try! JPEGEncoder()
            for i in stride(from: worker, to: count, by: threads) {
                var rng = SplitMix64(seed: UInt64(i))
                let photo = SyntheticImages.photoLike(
                    width: Int.random(in: 300...500, using: &rng),
                    height: Int.random(in: 300...500, using: &rng), seed: UInt64(i))
                let jpeg = try! encoder.encode(photo)
                sizes[i] = jpeg.count
                try! Data(jpeg).write(to: URL(fileURLWithPath: paths[i]))
            }
        }
    }
    let items = paths.enumerated().map { PreparationItem(path: $1, label: $0 % 2) }
    let random = RandomTransform(
        rotation: 40, widthShift: .uniform(0.2), heightShift: .uniform(0.2), shear: 0.2,
        zoom: 0.8...1.2, horizontalFlip: true)
    let settings = RenderSettings()

    let decodeOptions = DecodeOptions(pixelFormat: .rgb, minimumSize: size, applyOrientation: false)
    func decodeAll() {
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let decoder = ImageDecoder()
            for i in stride(from: worker, to: count, by: threads) { _ = try? decoder.decode(fileAt: paths[i], options: decodeOptions) }
        }
    }
    let spec = ImageSpec(width: size.width, height: size.height, channels: 3)
    func prepareAll() throws {
        let writer = try ShardWriter(
            directory: dir + "/shards", split: "train", spec: spec,
            parameterCount: TransformParameters.recordedNames.count)
        _ = try ShardPreparation.run(items: items, copies: 1, writer: writer, threads: threads, onError: .fail) {
            AugmentingPreparer(size: size, format: .rgb, random: random, settings: settings, seed: 1)
        }
        try writer.finish(
            classNames: ["a", "b"], parameterNames: TransformParameters.recordedNames, sources: paths,
            provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: 1))
    }
    func packAll() throws {  // what validation data gets: decode + resize + shard write, no augmentation
        let writer = try ShardWriter(directory: dir + "/packed", split: "validation", spec: spec)
        _ = try ShardPreparation.run(items: items, copies: 1, writer: writer, threads: threads, onError: .fail) {
            ResizingPreparer(spec: spec)
        }
        try writer.finish(
            classNames: ["a", "b"], sources: paths, provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: nil))
    }
    // Alternate the three so that load from elsewhere hits all alike; keep each one's best round.
    var decodeBest = (rate: 0.0, cpu: Double.infinity), prepBest = (rate: 0.0, cpu: Double.infinity), packBest = 0.0
    for round in 0..<max(2, Int(benchSeconds)) {
        progress("augment: round \(round + 1), decode alone, the whole prep, then pack")
        let decode = timed(decodeAll)
        decodeBest = (max(decodeBest.rate, Double(count) / decode.wall), min(decodeBest.cpu, decode.cpu / Double(count)))
        let prep = try timed(prepareAll)
        prepBest = (max(prepBest.rate, Double(count) / prep.wall), min(prepBest.cpu, prep.cpu / Double(count)))
        packBest = max(packBest, Double(count) / (try timed(packAll)).wall)
    }
    // `make bench-keras` runs Keras on these same files: keep them as two class folders.
    if let keep = ProcessInfo.processInfo.environment["BENCH_KEEP_IMAGES"], !keep.isEmpty {
        for (i, path) in paths.enumerated() {
            let folder = keep + "/" + (i % 2 == 0 ? "a" : "b")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: folder + "/\(i).jpg")
            try FileManager.default.linkItem(atPath: path, toPath: folder + "/\(i).jpg")
        }
    }

    progress("augment: resample alone")
    let augmenter = ImageAugmenter(settings: settings)
    let source = try augmenter.decode(fileAt: paths[0], for: size)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: spec.byteCount, alignment: 64)
    defer { output.deallocate() }
    var copy = 0
    let resample = rate(batch: 1) {
        let parameters = random.parameters(outputSize: size, random: SampleRandom(seed: 1, index: 0, copy: copy), convention: .corrected)
        augmenter.render(source, parameters: parameters, size: size, into: output)
        copy += 1
    }
    // The same draws through the portable Swift loop (what CPUs without AVX2 run).
    copy = 0
    let baselineResample = source.image.pixels.withUnsafeBufferPointer { pixels in
        rate(batch: 1) {
            let parameters = random.parameters(outputSize: size, random: SampleRandom(seed: 1, index: 0, copy: copy), convention: .corrected)
            let map = TransformGeometry.fused(parameters, output: size, stored: source.image.size, orientation: source.orientation)
            AffineSampler.render(
                pixels, of: source.image.size, format: .rgb, map: map, size: size, fill: settings.fill, cval: settings.cval,
                interpolation: settings.interpolation, color: .identity, into: output, kernels: false)
            copy += 1
        }
    }

    let megabytes = Double(bytes.reduce(0, +)) / 1e6
    return Section(
        title: String(
            format: "Augment — %d photo-like JPEGs, 300-500 px a side, %.0f-%.0f KB (%.0f MB), to 150x150, %d threads",
            count, Double(bytes.min()!) / 1e3, Double(bytes.max()!) / 1e3, megabytes, threads),
        rows: [
            Row(
                stage: "decode alone, same DCT scale", rate: decodeBest.rate,
                throughput: String(format: "%.0f µs CPU/image", 1e6 * decodeBest.cpu)),
            Row(
                stage: "pack: decode+resize+shard write, no augmentation", rate: packBest,
                note: String(
                    format: "%.0f%% of decode alone (target ≥ 85%%, and not slower than the whole prep)",
                    100 * packBest / decodeBest.rate)),
            Row(
                stage: "whole prep: decode+augment+resize+shard write", rate: prepBest.rate,
                throughput: String(format: "%.0f µs CPU/image", 1e6 * prepBest.cpu),
                note: String(
                    format: "%.0f%% of decode alone (%.0f%% by CPU time; target ≥ 85%%); make bench-keras: ÷ Keras",
                    100 * prepBest.rate / decodeBest.rate, 100 * decodeBest.cpu / prepBest.cpu)),
            Row(
                stage: "  one resample \(source.image.size)→150x150, 1 thread", rate: resample,
                throughput: String(format: "%.1f µs/image", 1e6 / resample),
                note: BilinearKernel.isAvailable ? "AVX2 kernel (target ≤ 40 µs)" : "no AVX2: the Swift loop"),
            Row(
                stage: "  the same, portable Swift loop", rate: baselineResample,
                throughput: String(format: "%.1f µs/image", 1e6 / baselineResample),
                note: String(format: "the kernel is %.1fx", resample / baselineResample)),
        ])
}

/// Wall-clock and process CPU seconds (all threads) of one call of `body`.
private func timed(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    func cpuNow() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    let cpu = cpuNow()
    let wall = try seconds(body)
    return (wall, cpuNow() - cpu)
}
