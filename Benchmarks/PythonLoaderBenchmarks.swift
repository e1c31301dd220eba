import Augment
import Codecs
import Dispatch
import Foundation
import Preparation
import Shards
import Support
import TestSupport

/// `make bench ONLY=python`: the engine's batches in Python against the Swift reader doing the same
/// work, and against what Python users run today. 2,000 photo-like JPEGs (300–500 px a side, two
/// class folders) are packed to 150×150; the Swift reader and `dataprep_shards.Loader` render them
/// with rotation 45°, shifts 0.15, zoom 0.5 and flips into float32 NCHW batches of 32 on 2 threads.
/// Keras 3's `ImageDataGenerator.flow_from_directory` (same arguments) and torchvision (`ImageFolder`
/// + `transforms.v2`, and the same transforms over `ShardDataset`, `DataLoader` with 2 workers) run
/// where `make bench-keras` / `make test-torch` installed them. Targets: the loader ≥ 95 % of the
/// Swift reader, ≥ 20× Keras, ≥ 10× torchvision from JPEGs, ≥ 3× torchvision over shards.
func pythonLoaderBenchmarks() throws -> Section {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-bench-python-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    let count = 2000, threads = 2, batch = 32
    let spec = ImageSpec(width: 150, height: 150, channels: 3)
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path

    progress("python: writing \(count) photo-like JPEGs and packing them to 150x150")
    let paths = try writePhotoJPEGs(count: count, into: root + "/images", classes: ["cats", "dogs"], threads: threads)
    let shards = root + "/shards"
    let writer = try ShardWriter(directory: shards, split: "train", spec: spec)
    _ = try ShardPreparation.run(
        items: paths.enumerated().map { PreparationItem(path: $1, label: $0 % 2) }, copies: 1, writer: writer, threads: threads,
        onError: .fail
    ) { ResizingPreparer(spec: spec) }
    try writer.finish(
        classNames: ["cats", "dogs"], sources: paths, provenance: .init(dataset: "bench", tool: "bench", options: [:], seed: nil))

    // The Swift reader: the engine's own BatchLoader with the same transformation the loader builds.
    let set = try ShardSet(directory: shards)
    let input = TrainingInput(
        random: RandomTransform(
            rotation: 45, widthShift: .uniform(0.15), heightShift: .uniform(0.15), zoom: try RandomTransform.zoomRange(0.5),
            horizontalFlip: true))
    let reader = try BatchLoader(
        set: set, options: BatchOptions(batchSize: batch, layout: .nchw, seed: 1, threads: threads),
        transformation: input.transformation(stored: spec, model: spec, seed: 1))
    var epochNumber = 0
    func swiftReaderRate() throws -> Double {
        try rate(batch: count) {
            let epoch = reader.epoch(epochNumber)
            epochNumber += 1
            while try epoch.next() != nil {}
        }
    }

    /// One Python pipeline's (images/s, peak RSS in MB), or why it did not run.
    func python(_ interpreter: String, _ pipeline: String, _ path: String) -> Result<(Double, Double), BenchSkip> {
        guard FileManager.default.isExecutableFile(atPath: interpreter) else { return .failure(BenchSkip("\(interpreter) is missing")) }
        progress("python: \(pipeline) with \(interpreter)")
        let arguments = [
            repository + "/scripts/bench_python.py", pipeline, path, "--batch", "\(batch)", "--threads", "\(threads)",
            "--seconds", "\(max(benchSeconds, 3))",
        ]
        setenv("PYTHONPATH", repository + "/python", 1)
        setenv("DATAPREP_ENGINE", binaries + "/libDataPrepEngine.so", 1)
        guard let run = try? runProgram(interpreter, arguments), run.status == 0,
            let line = run.output.split(separator: "\n").last,
            let json = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double],
            let rate = json["rate"], let rss = json["rss_mb"]
        else { return .failure(BenchSkip("\(pipeline) failed under \(interpreter)")) }
        return .success((rate, rss))
    }
    let keras = repository + "/.build-keras/venv/bin/python", torch = repository + "/.build-torch/venv/bin/python"
    // The Swift reader and the loader alternate, three rounds, best of each: a load from elsewhere
    // (this machine is shared) then hits both alike.
    var swiftRate = 0.0
    var loader: Result<(Double, Double), BenchSkip> = .failure(BenchSkip("not run"))
    for round in 1...3 {
        progress("python: round \(round), the Swift reader")
        swiftRate = max(swiftRate, try swiftReaderRate())
        let measured = python("/usr/bin/python3", "loader", shards)
        if case .success(let (rate, _)) = measured, rate >= ((try? loader.get().0) ?? 0) { loader = measured }
        if case .failure = measured { loader = measured }
    }
    var rows = [Row(stage: "Swift reader (BatchLoader), fresh augmentation", rate: swiftRate, note: "best of 3 rounds")]
    if case .success(let (rate, rss)) = loader {
        rows.append(
            Row(
                stage: "Python Loader (engine, ctypes), same work", rate: rate, throughput: String(format: "RSS %.0f MB", rss),
                note: String(format: "%.1f%% of the Swift reader (target ≥ 95%%), best of 3 rounds", 100 * rate / swiftRate)))
    }
    let loaderRate = (try? loader.get().0) ?? 0
    for (stage, interpreter, pipeline, path, target) in [
        ("Keras 3 ImageDataGenerator.flow_from_directory", keras, "keras", root + "/images", 20.0),
        ("torchvision ImageFolder + v2 transforms, 2 workers", torch, "torchvision", root + "/images", 10),
        ("torchvision v2 transforms over ShardDataset, 2 workers", torch, "torchvision-shards", shards, 3),
    ] {
        switch python(interpreter, pipeline, path) {
        case .success(let (rate, rss)):
            rows.append(
                Row(
                    stage: stage, rate: rate, throughput: String(format: "RSS %.0f MB", rss),
                    note: String(format: "Loader %.1fx this (target ≥ %.0fx)", loaderRate / rate, target)))
        case .failure(let skip):
            rows.append(Row(stage: stage, rate: 0, note: "not run: \(skip.reason) (make bench-keras / make test-torch install it)"))
        }
    }
    return Section(
        title:
            "Python loader — \(count) JPEGs packed to 150x150, rotate 45, shift 0.15, zoom 0.5, flip; batch \(batch), \(threads) threads",
        rows: rows)
}

/// Why a benchmark row did not run.
struct BenchSkip: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Writes `count` photo-like JPEGs (300–500 px a side) into `classes` folders under `directory`,
/// image `i` in class `i mod classes.count`, on `threads` threads; returns their paths in order.
func writePhotoJPEGs(count: Int, into directory: String, classes: [String], threads: Int) throws -> [String] {
    for name in classes { try FileManager.default.createDirectory(atPath: directory + "/" + name, withIntermediateDirectories: true) }
    let paths = (0..<count).map { "\(directory)/\(classes[$0 % classes.count])/\($0).jpg" }
    DispatchQueue.concurrentPerform(iterations: threads) { worker in
        let encoder = try! JPEGEncoder()
        for i in stride(from: worker, to: count, by: threads) {
            var rng = SplitMix64(seed: UInt64(i))
            let photo = SyntheticImages.photoLike(
                width: Int.random(in: 300...500, using: &rng), height: Int.random(in: 300...500, using: &rng), seed: UInt64(i))
            try! Data(try! encoder.encode(photo)).write(to: URL(fileURLWithPath: paths[i]))
        }
    }
    return paths
}
