import Codecs
import Foundation
import Shards
import TestSupport
import Testing

/// train → evaluate → predict through the command line, on a small generated dataset.
@Suite struct TrainCommandTests {
    @Test func summaryNeedsNoShards() throws {
        let result = try runDataprep(["train", "--summary", "--size", "150x150", "--channels", "3", "--classes", "2"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Total params: 10,641,441"))
    }

    @Test func trainResumeEvaluateAndPredict() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two visually distinct classes: dark discs and bright stripes (PNG, 24×24).
        let data = dir.appendingPathComponent("data")
        for (name, bright) in [("dark", false), ("bright", true)] {
            let folder = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<40 {
                let image = Image(width: 24, height: 24, format: .gray) { px in
                    for y in 0..<24 {
                        for x in 0..<24 {
                            px[y * 24 + x] =
                                bright
                                ? UInt8(((x + i) / 3) % 2 * 200 + 40) : UInt8((x - 12) * (x - 12) + (y - 12) * (y - 12) < 40 + i ? 10 : 90)
                        }
                    }
                }
                try Data(try PNGEncoder().encode(image)).write(to: folder.appendingPathComponent("\(i).png"))
            }
        }
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        #expect(try runDataprep(["pack", data.path, "--size", "24x24", "--channels", "1", "--out", shards]).status == 0)
        #expect(
            try runDataprep([
                "pack", data.path, "--size", "24x24", "--channels", "1", "--out", shards + "/validation",
                "--split", "validation",
            ]).status == 0)

        let arguments = [
            "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16",
            "--run-dir", run, "--seed", "3", "--checkpoint", "w.{epoch:02d}.dpw",
        ]
        let first = try runDataprep(arguments + ["--epochs", "2"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.split(separator: "\n").map { $0.prefix(10) } == ["Epoch 1/2 ", "Epoch 2/2 "])
        #expect(first.stdout.contains("val_accuracy"))
        let resumed = try runDataprep(arguments + ["--epochs", "4", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.split(separator: "\n").map { $0.prefix(10) } == ["Epoch 3/4 ", "Epoch 4/4 "])
        #expect(resumed.stderr.contains("resuming after epoch 2"))
        let history = try String(contentsOfFile: run + "/history.csv", encoding: .utf8)
        #expect(history.split(separator: "\n").count == 5)
        #expect(FileManager.default.fileExists(atPath: run + "/w.04.dpw"))

        let evaluate = try runDataprep(["evaluate", "--model", run + "/checkpoint.dpc", "--shards", shards + "/validation"])
        #expect(evaluate.status == 0)
        #expect(evaluate.stdout.hasPrefix("loss "))
        #expect(evaluate.stdout.contains("confusion matrix"))
        let accuracy = Double(evaluate.stdout.split(separator: " ")[3]) ?? 0
        #expect(accuracy > 0.9)  // the classes differ at a glance

        let predict = try runDataprep([
            "predict", "--model", run + "/w.04.dpw", data.path + "/bright/0.png", data.path + "/dark/1.png",
            dir.path + "/missing.png",
        ])
        #expect(predict.status == 1)
        let lines = predict.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains(" bright "))
        #expect(lines[1].contains(" dark "))
        #expect(predict.stderr.contains("error: readFailed: ") && predict.stderr.contains("missing.png: cannot open"))
    }
}

/// dataprep sets OpenMP's passive wait policy itself for the commands that run oneDNN, unless the
/// user chose one: spinning threads make training several times slower on a shared machine.
@Suite struct WaitPolicyTests {
    /// The environment of the running process `pid` (what it was exec'd with), polled until
    /// `done` says so or the process ends.
    static func environment(of process: Process, until done: ([String]) -> Bool) -> [String] {
        var last: [String] = []
        while process.isRunning {
            if let data = FileManager.default.contents(atPath: "/proc/\(process.processIdentifier)/environ") {
                last = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if done(last) { return last }
            }
            usleep(2000)
        }
        return last
    }

    static func start(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = dataprepExecutable()
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func trainingGetsThePassivePolicyUnlessTheUserChoseOne() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["a", "b"], count: 40, size: PixelSize(width: 32, height: 32))
        let shards = dir.appendingPathComponent("shards").path
        #expect(try runDataprep(["pack", data.path, "--size", "32x32", "--out", shards]).status == 0)
        var base = ProcessInfo.processInfo.environment
        base["OMP_WAIT_POLICY"] = nil
        for (chosen, expected) in [(nil, "OMP_WAIT_POLICY=PASSIVE"), ("ACTIVE", "OMP_WAIT_POLICY=ACTIVE")] as [(String?, String)] {
            var environment = base
            environment["OMP_WAIT_POLICY"] = chosen
            let process = try Self.start(
                [
                    "train", "--shards", shards, "--model", "tutorial", "--epochs", "50", "--batch-size", "8",
                    "--run-dir", dir.appendingPathComponent("run-\(chosen ?? "default")").path,
                ], environment: environment)
            let seen = Self.environment(of: process) { $0.contains(expected) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(seen.contains(expected), "\(seen.filter { $0.hasPrefix("OMP") })")
        }
    }
}
