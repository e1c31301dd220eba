import Foundation
import Shards
import TestSupport
import Testing

/// The Python reader (`python/dataprep_shards`) against sets the real `dataprep` writes and the
/// batches `BatchLoader` gives: this test writes both, then runs `python/tests` with unittest.
@Suite struct PythonReaderTests {
    /// The repository root (this file is `Tests/dataprepTests/PythonReaderTests.swift`).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Debian's python3 (`make deps` installs python3-numpy for it); `make test-torch` sets
    /// `DATAPREP_PYTHON` to its virtualenv's python, a path relative to the repository root, made
    /// absolute here because the documentation's examples run in folders of their own.
    static let python: String = {
        let given = ProcessInfo.processInfo.environment["DATAPREP_PYTHON"] ?? "/usr/bin/python3"
        return given.hasPrefix("/") ? given : repository.appendingPathComponent(given).path
    }()

    /// Runs `python arguments` with `environment` added, from the repository root; stdout and
    /// stderr together.
    static func runPython(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The ShardError code `body` throws, nil when it returns.
    static func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as ShardError { return error.code.rawValue } catch { return "\(error)" }
        return nil
    }

    static var pythonHasNumpy: Bool { (try? runPython(["-c", "import numpy"]).status) == 0 }

    /// Writes what `BatchLoader` gives for the set in `directory` (shuffle off, one batch per epoch,
    /// NHWC, epochs 0..<copies in order) as raw little-endian `indices.i32`, `labels.i32` and
    /// `images.f32` in `output`.
    static func writeExpectedBatches(of directory: String, to output: URL) throws {
        let set = try ShardSet(directory: directory)
        let loader = try BatchLoader(
            set: set, options: BatchOptions(batchSize: set.manifest.imagesPerCopy, layout: .nhwc, shuffle: false, threads: 1))
        var indices: [Int32] = [], labels: [Int32] = [], images: [Float] = []
        for epoch in 0..<set.manifest.copies {
            let batches = loader.epoch(epoch)
            while let batch = try batches.next() {
                indices += batch.samples.map { Int32($0) }
                labels += Array(batch.labels!)
                images += Array(batch.images)
            }
        }
        #expect(indices.count == set.count)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        func write<T: FixedWidthInteger>(_ values: [T], _ name: String) throws {
            try Data(values.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } }).write(to: output.appendingPathComponent(name))
        }
        try write(indices, "indices.i32")
        try write(labels, "labels.i32")
        try write(images.map(\.bitPattern), "images.f32")
    }

    @Test(.enabled(if: PythonReaderTests.pythonHasNumpy, "python3 lacks numpy: make deps installs python3-numpy"))
    func pythonReadsWhatBatchLoaderGives() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), fixtures = dir.appendingPathComponent("fixtures")
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 5)
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("validation"), classes: ["cats", "dogs"], count: 3)
        func out(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
        // Several shards per set (tiny --shard-size), gray and RGB, augmented copies with parameters.
        for arguments in [
            ["pack", data.path + "/train", "--size", "16x12", "--out", out("packed"), "--shard-size", "2KB"],
            ["pack", data.path + "/validation", "--size", "16x12", "--channels", "1", "--out", out("gray"), "--shard-size", "1KB"],
            [
                "augment", data.path, "--out", out("augmented"), "--size", "16x12",
                "--rotate", "20", "--flip", "--copies", "2", "--seed", "7",
            ],
        ] {
            let result = try runDataprep(arguments)
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        for set in ["packed", "gray", "augmented", "augmented/validation"] {
            try Self.writeExpectedBatches(of: out(set), to: fixtures.appendingPathComponent("expected/" + set))
        }
        // The hostile sets both readers must refuse with the same codes: what the Swift reader
        // says is checked here and written beside each set for the Python reader.
        for (index, damage) in ManifestDamage.cases.enumerated() {
            let folder = out(String(format: "damaged/%02d", index))
            try FileManager.default.createDirectory(atPath: out("damaged"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: out("packed"), toPath: folder)
            try damage.apply(to: folder)
            var opened: ShardSet?
            let open = Self.code { opened = try ShardSet(directory: folder) }
            let verify = try opened.map { set in Self.code { try set.verify() } } ?? nil
            #expect(
                open == damage.open?.rawValue && verify == damage.verify?.rawValue,
                "\(damage.name): \(String(describing: open)), \(String(describing: verify))")
            let expected: [String: Any] = [
                "name": damage.name, "open": damage.open?.rawValue ?? NSNull(), "verify": damage.verify?.rawValue ?? NSNull(),
            ]
            try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: folder + ".json"))
        }

        let run = try Self.runPython(
            ["-m", "unittest", "discover", "-v", "-s", "python/tests"],
            environment: ["PYTHONPATH": Self.repository.path + "/python", "DATAPREP_FIXTURES": fixtures.path])
        #expect(run.status == 0, "\(run.output)")
        // The comparison ran (it is skipped only without the sets), and so did the checksum checks
        // when Debian's python3-xxhash is there.
        #expect(run.output.contains("test_reads_back_what_batch_loader_gives_byte_for_byte (test_reader.ReaderTests"))
        #expect(!run.output.contains("DATAPREP_FIXTURES is not set"))
        print(run.output)
    }
}
