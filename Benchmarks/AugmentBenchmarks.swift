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
    // Each run notes where its threads waited (thread-seconds): the writer's set-up and its finish
    // (one thread works, the others wait), and what ShardPreparation reports.
    var waits = Waits()
    func prepareAll() throws {
        var writer: ShardWriter!
        waits.setUp =
            Double(threads)
            * (try seconds {
                writer = try ShardWriter(
                    directory: dir + "/shards", split: "train", spec: spec,
                    parameterCount: TransformParameters.recordedNames.count)
            })
        waits.preparation = try ShardPreparation.run(items: items, copies: 1, writer: writer, threads: threads, onError: .fail) {
            AugmentingPreparer(size: size, format: .rgb, random: random, settings: settings, seed: 1)
        }.idle
        waits.finish =
            Double(threads)
            * (try seconds {
                try writer.finish(
                    classNames: ["a", "b"], parameterNames: TransformParameters.recordedNames, sources: paths,
                    provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: 1))
            })
    }
    func packAll() throws {  // what validation data gets: decode + resize + shard write, no augmentation
        var writer: ShardWriter!
        waits.setUp =
            Double(threads) * (try seconds { writer = try ShardWriter(directory: dir + "/packed", split: "validation", spec: spec) })
        waits.preparation = try ShardPreparation.run(items: items, copies: 1, writer: writer, threads: threads, onError: .fail) {
            ResizingPreparer(spec: spec)
        }.idle
        waits.finish =
            Double(threads)
            * (try seconds {
                try writer.finish(
                    classNames: ["a", "b"], sources: paths, provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: nil))
            })
    }
    // Alternate the three so that load from elsewhere hits all alike; keep each one's best round.
    var decodeBest = Stage(), prepBest = Stage(), packBest = Stage()
    for round in 0..<max(2, Int(benchSeconds)) {
        progress("augment: round \(round + 1), decode alone, the whole prep, then pack")
        decodeBest.keep(timed(decodeAll), images: count)
        prepBest.keep(try timed(prepareAll), images: count, waits: waits)
        packBest.keep(try timed(packAll), images: count, waits: waits)
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

    progress("augment: resample alone, each kernel path")
    let augmenter = ImageAugmenter(settings: settings)
    let source = try augmenter.decode(fileAt: paths[0], for: size)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: spec.byteCount, alignment: 64)
    defer { output.deallocate() }
    // The same draws through each build of the bilinear loop (`.baseline`: the portable Swift
    // loop, what CPUs without AVX2 run); a path this CPU lacks gets a row saying so.
    let resamples = BilinearKernel.Path.allCases.map { path -> (path: BilinearKernel.Path, rate: Double?) in
        guard path.isSupported else { return (path, nil) }
        var copy = 0
        return source.image.pixels.withUnsafeBufferPointer { pixels in
            (
                path,
                rate(batch: 1) {
                    let parameters = random.parameters(
                        outputSize: size, random: SampleRandom(seed: 1, index: 0, copy: copy), convention: .corrected)
                    let map = TransformGeometry.fused(parameters, output: size, stored: source.image.size, orientation: source.orientation)
                    AffineSampler.render(
                        pixels, of: source.image.size, format: .rgb, map: map, size: size, fill: settings.fill, cval: settings.cval,
                        interpolation: settings.interpolation, color: .identity, into: output, path: path)  // the tutorial draws no colour change
                    copy += 1
                }
            )
        }
    }
    let baselineRate = resamples.first { $0.path == .baseline }!.rate!
    // The same draws resampled nearest with fill `nearest` (`--interpolation nearest`): the Swift
    // loop and the AVX-512 build.
    let nearest = [BilinearKernel.Path.baseline, .avx512].map { path -> (path: BilinearKernel.Path, rate: Double?) in
        guard path.isSupported else { return (path, nil) }
        var copy = 0
        return source.image.pixels.withUnsafeBufferPointer { pixels in
            (
                path,
                rate(batch: 1) {
                    let parameters = random.parameters(
                        outputSize: size, random: SampleRandom(seed: 1, index: 0, copy: copy), convention: .corrected)
                    let map = TransformGeometry.fused(parameters, output: size, stored: source.image.size, orientation: source.orientation)
                    AffineSampler.render(
                        pixels, of: source.image.size, format: .rgb, map: map, size: size, fill: .nearest, cval: 0,
                        interpolation: .nearest, color: .identity, into: output, path: path)
                    copy += 1
                }
            )
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
                throughput: String(format: "%.0f µs CPU/image", 1e6 * decodeBest.cpu),
                note: decodeBest.idleNote(threads: threads)),
            Row(
                stage: "pack: decode+resize+shard write, no augmentation", rate: packBest.rate,
                throughput: String(format: "%.0f µs CPU/image", 1e6 * packBest.cpu),
                note: String(
                    format: "%.0f%% of decode alone (%.0f%% by CPU time; target ≥ 85%%, and not slower than the whole prep); %@",
                    100 * packBest.rate / decodeBest.rate, 100 * decodeBest.cpu / packBest.cpu, packBest.idleNote(threads: threads))),
            Row(
                stage: "whole prep: decode+augment+resize+shard write", rate: prepBest.rate,
                throughput: String(format: "%.0f µs CPU/image", 1e6 * prepBest.cpu),
                note: String(
                    format: "%.0f%% of decode alone (%.0f%% by CPU time; target ≥ 85%%); %@; make bench-keras: ÷ Keras",
                    100 * prepBest.rate / decodeBest.rate, 100 * decodeBest.cpu / prepBest.cpu, prepBest.idleNote(threads: threads))),
        ]
            + resamples.map { path, rate in
                let stage =
                    path == .baseline
                    ? "  one resample \(source.image.size)→150x150, portable Swift loop"
                    : "  the same, \(path == .avx2 ? "AVX2" : "AVX-512") kernel"
                guard let rate else { return Row(stage: stage, rate: 0, note: "skipped: \(path.missingReason ?? "")") }
                return Row(
                    stage: stage, rate: rate, throughput: String(format: "%.1f µs/image", 1e6 / rate),
                    note: (path == .baseline ? "1 thread" : String(format: "%.1fx the Swift loop; target ≤ 40 µs", rate / baselineRate))
                        + (path == BilinearKernel.selected ? "; what prep runs here" : ""))
            }
            + nearest.map { path, rate in
                let stage = "  the same nearest, \(path == .baseline ? "portable Swift loop" : "AVX-512 kernel")"
                guard let rate else { return Row(stage: stage, rate: 0, note: "skipped: \(path.missingReason ?? "")") }
                return Row(
                    stage: stage, rate: rate, throughput: String(format: "%.1f µs/image", 1e6 / rate),
                    note: path == .baseline
                        ? "pack --interpolation nearest" : String(format: "%.1fx the Swift loop", rate / nearest[0].rate!))
            })
}

/// One stage over its rounds: the fastest round's images per second by the clock, the least CPU
/// seconds per image (all threads) of any round, and how idle the threads were in the fastest round.
private struct Stage {
    var rate = 0.0
    var cpu = Double.infinity
    /// CPU ÷ wall of the fastest round, and where its threads waited.
    private var fastestCPUShare = 0.0
    private var fastestWall = 0.0
    private var fastestWaits: Waits?

    mutating func keep(_ run: (wall: Double, cpu: Double), images: Int, waits: Waits? = nil) {
        if Double(images) / run.wall > rate {
            rate = Double(images) / run.wall
            fastestCPUShare = run.cpu / run.wall
            fastestWall = run.wall
            fastestWaits = waits
        }
        cpu = min(cpu, run.cpu / Double(images))
    }

    /// The share of the threads' time they were not on a CPU in the fastest round (waiting for one
    /// another, for the disk, or for a CPU that another process held), and the parts of it that
    /// the preparation measures.
    func idleNote(threads: Int) -> String {
        let total = Double(threads) * fastestWall
        var note = String(format: "threads idle %.1f%%", max(0, 100 * (1 - fastestCPUShare / Double(threads))))
        if let waits = fastestWaits {
            note += String(
                format: " (writer set-up %.1f%%, at the end %.1f%%, waiting for the writer %.1f%%, finish %.1f%%)",
                100 * waits.setUp / total, 100 * waits.preparation.end / total, 100 * waits.preparation.writer / total,
                100 * waits.finish / total)
        }
        return note
    }
}

/// Where a preparation run's threads waited, in thread-seconds.
private struct Waits {
    /// Creating the ShardWriter (clearing the folder) and its finish (the last shard's fsync and
    /// rename, the manifest): one thread works while the others wait.
    var setUp = 0.0
    var finish = 0.0
    /// What ShardPreparation measures.
    var preparation = PreparationReport.Idle()
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
