import Foundation
import Shards
import TestSupport
import Testing
import Trainer

@testable import dataprep

/// The Python loader (`python/dataprep_shards/loader.py`, over libDataPrepEngine) against the
/// batches `dataprep train` feeds its model: this test parses `train` command lines, takes the
/// reader `Fitting.fit` trains from (`Fitting.trainingLoader`, built from the command's own model
/// and options), writes its batches, then runs `python/tests/test_loader.py`, which must read the
/// same bytes through the loader with the matching Python arguments.
@Suite struct PythonLoaderTests {
    /// libDataPrepEngine.so, which `make test` builds (in debug) before `swift test`.
    static let engine = dataprepExecutable().deletingLastPathComponent().appendingPathComponent("libDataPrepEngine.so").path

    /// One comparison: a `train` command line and the `Loader` arguments that must give its batches.
    struct Case: Encodable {
        var name: String
        /// The shard set (relative to the fixtures folder).
        var set: String
        var train: [String]
        /// `Loader` keyword arguments, besides the set and `batch_size`.
        var loader: [String: LoaderArgument]
        var epochs: [Int]
        var batchSize: Int
        var layout: String
    }

    /// A JSON value for a Python argument.
    enum LoaderArgument: Encodable {
        case number(Double), integer(Int), flag(Bool), text(String), list([Double])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            case .flag(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .list(let value): try container.encode(value)
            }
        }
    }

    /// Writes epoch `epoch` of what `train arguments` feeds its model into `folder`: the raw
    /// little-endian `images.f32`, `labels.i32` and `indices.i64` of every batch in order.
    static func writeTrainBatches(_ arguments: [String], epoch: Int, into folder: URL) throws -> String {
        let command = try Train.parse(arguments)
        let training = try ShardSet(directory: try #require(command.shards))
        let network = try command.makeModel(training: training)
        let options = try command.trainingOptions(for: network, training: training, validation: nil)
        let loader = try Fitting.trainingLoader(for: network, training: training, options: options)
        var images = Data(), labels = Data(), indices = Data()
        let batches = loader.epoch(epoch)
        while let batch = try batches.next() {
            images.append(Data(buffer: batch.images))
            labels.append(Data(buffer: try #require(batch.labels)))
            for sample in batch.samples { withUnsafeBytes(of: Int64(sample).littleEndian) { indices.append(contentsOf: $0) } }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try images.write(to: folder.appendingPathComponent("images.f32"))
        try labels.write(to: folder.appendingPathComponent("labels.i32"))
        try indices.write(to: folder.appendingPathComponent("indices.i64"))
        return network.imageLayout.rawValue
    }

    @Test(.enabled(if: PythonReaderTests.pythonHasNumpy, "python3 lacks numpy: make deps installs python3-numpy"))
    func loaderGivesWhatTrainFeeds() throws {
        try #require(
            FileManager.default.fileExists(atPath: Self.engine),
            "\(Self.engine) is missing: `make test` builds it (swift build --product DataPrepEngine)")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data"), fixtures = dir.appendingPathComponent("fixtures")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs", "fish"], count: 9)
        func set(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
        for arguments in [
            ["pack", data.path, "--size", "40x30", "--out", set("rgb"), "--shard-size", "8KB"],
            ["pack", data.path, "--size", "40x30", "--channels", "1", "--out", set("gray")],
            ["pack", data.path, "--size", "40x30", "--keras-compat", "--out", set("keras")],
        ] {
            let result = try runDataprep(arguments)
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }

        let fresh: [String: LoaderArgument] = [
            "rotation_range": .integer(45), "width_shift_range": .number(0.15), "height_shift_range": .number(0.15),
            "zoom_range": .number(0.5), "horizontal_flip": .flag(true), "brightness_range": .list([0.8, 1.2]),
            "channel_shift_range": .number(20), "fill_mode": .text("reflect"),
        ]
        let freshFlags = [
            "--rotate", "45", "--shift", "0.15", "--zoom", "0.5", "--flip", "--brightness", "0.8,1.2", "--channel-shift", "20",
            "--fill", "reflect",
        ]
        var cases = [
            Case(
                name: "plain", set: "rgb", train: ["--seed", "4"], loader: ["seed": .integer(4)], epochs: [0, 1], batchSize: 5, layout: ""),
            Case(
                name: "fresh", set: "rgb", train: ["--seed", "7"] + freshFlags, loader: ["seed": .integer(7), "augment": .text("fresh")],
                epochs: [0, 2], batchSize: 4, layout: ""),
            Case(
                name: "keras_compat", set: "keras",
                train: ["--seed", "2", "--keras-compat", "--rotate", "30", "--shift", "0.1", "--shear", "10", "--zoom", "0.2", "--flip"],
                loader: ["seed": .integer(2), "keras_compat": .flag(true), "augment": .text("keras")], epochs: [0, 1], batchSize: 6,
                layout: ""),
            Case(
                name: "size", set: "rgb", train: ["--seed", "5", "--size", "24x20", "--rotate", "10", "--flip"],
                loader: ["seed": .integer(5), "size": .list([20, 24]), "augment": .text("size")], epochs: [1], batchSize: 8, layout: ""),
            Case(
                name: "resize_only", set: "rgb", train: ["--seed", "5", "--size", "52x36"],
                loader: ["seed": .integer(5), "size": .list([36, 52])], epochs: [0], batchSize: 7, layout: ""),
            Case(
                name: "gray", set: "gray", train: ["--seed", "9", "--model", "mlp"] + freshFlags,
                loader: ["seed": .integer(9), "augment": .text("fresh")], epochs: [0, 1], batchSize: 5, layout: ""),
            Case(
                name: "shard_window", set: "rgb", train: ["--seed", "4", "--shuffle", "shards:2"],
                loader: ["seed": .integer(4), "shuffle": .text("shards:2")], epochs: [0, 1], batchSize: 5, layout: ""),
        ]
        for k in cases.indices {
            let c = cases[k]
            let arguments = ["--shards", set(c.set), "--batch-size", "\(c.batchSize)"] + c.train
            for epoch in c.epochs {
                cases[k].layout = try Self.writeTrainBatches(
                    arguments, epoch: epoch, into: fixtures.appendingPathComponent("expected/\(c.name)/\(epoch)"))
            }
        }
        // The augmentation each case's `augment` names, in ImageDataGenerator's words.
        let augment: [String: [String: LoaderArgument]] = [
            "fresh": fresh,
            "keras": [
                "rotation_range": .integer(30), "width_shift_range": .number(0.1), "height_shift_range": .number(0.1),
                "shear_range": .integer(10), "zoom_range": .number(0.2), "horizontal_flip": .flag(true),
            ],
            "size": ["rotation_range": .integer(10), "horizontal_flip": .flag(true)],
        ]
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(cases).write(to: fixtures.appendingPathComponent("cases.json"))
        try encoder.encode(augment).write(to: fixtures.appendingPathComponent("augment.json"))

        // The same sets served over HTTP by the tests' loopback server, for the loader and reader from a URL.
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        try server.serveFolder(fixtures.path, at: "/fixtures")
        let run = try PythonReaderTests.runPython(
            ["-m", "unittest", "-v", "test_loader"],
            environment: [
                "PYTHONPATH": PythonReaderTests.repository.path + "/python:" + PythonReaderTests.repository.path + "/python/tests",
                "DATAPREP_ENGINE": Self.engine, "DATAPREP_LOADER_FIXTURES": fixtures.path,
                "DATAPREP_LOADER_URL": server.baseURL + "/fixtures", "DATAPREP_HOME": dir.appendingPathComponent("home").path,
            ])
        #expect(run.status == 0, "\(run.output)")
        // The comparison with train ran (it is skipped only without the fixtures), for every case.
        #expect(run.output.contains("test_batches_are_what_train_feeds (test_loader.TrainParityTests"))
        #expect(!run.output.contains("skipped 'DATAPREP_LOADER_FIXTURES"), "\(run.output)")
        print(run.output)
    }
}

/// libDataPrepEngine from C, through its one header: a program compiled against
/// `Sources/CDataPrepEngine/include/dataprep_engine.h` and linked with the library reads a set in
/// order and must see the batches `BatchLoader` gives, and the error codes the header documents.
@Suite struct EngineCInterfaceTests {
    /// A C compiler: the toolchain's clang next to `swift`, else `cc`.
    static var compiler: String? {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/clang" } + ["/usr/bin/cc"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func aCProgramReadsTheBatchesBatchLoaderGives() throws {
        let compiler = try #require(Self.compiler, "no C compiler (clang or cc) on PATH")
        try #require(
            FileManager.default.fileExists(atPath: PythonLoaderTests.engine), "\(PythonLoaderTests.engine) is missing: make test builds it")
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PackCommandTests.makeDataset(at: dir.appendingPathComponent("data"), classes: ["a", "b"], count: 5)
        let set = dir.appendingPathComponent("set").path
        let pack = try runDataprep(["pack", dir.appendingPathComponent("data").path, "--size", "12x10", "--out", set])
        try #require(pack.status == 0, "\(pack.stderr)")

        let repository = PythonReaderTests.repository.path,
            library = URL(fileURLWithPath: PythonLoaderTests.engine).deletingLastPathComponent().path
        let program = dir.appendingPathComponent("smoke").path
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: compiler)
        compile.arguments = [
            "-std=c11", "-Wall", "-Werror", "-I", repository + "/Sources/CDataPrepEngine/include",
            repository + "/Tests/dataprepTests/EngineC/smoke.c", "-o", program, "-L", library, "-lDataPrepEngine", "-Wl,-rpath," + library,
        ]
        try compile.run()
        compile.waitUntilExit()
        try #require(compile.terminationStatus == 0, "\(compiler) could not build the C program against the header")
        let run = Process(), output = Pipe()
        run.executableURL = URL(fileURLWithPath: program)
        run.arguments = [set]
        run.standardOutput = output
        try run.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 0, "\(printed)")

        let shards = try ShardSet(directory: set)
        let loader = try BatchLoader(set: shards, options: BatchOptions(batchSize: 4, layout: .nhwc, shuffle: false))
        var expected = ["abi 2"]
        let epoch = loader.epoch(0)
        while let batch = try epoch.next() {
            expected.append(String(format: "batch %d %d %.6f", batch.index, batch.count, batch.images.reduce(0.0) { $0 + Double($1) }))
        }
        expected += ["end", "error invalidArgument batch_size"]
        #expect(printed.split(separator: "\n").map(String.init) == expected)
    }
}
