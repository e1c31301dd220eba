import Codecs
import Foundation
import Shards
import TestSupport
import Testing
import Trainer

/// train → evaluate → predict through the command line, on a small generated dataset.
@Suite struct TrainCommandTests {
    @Test func summaryNeedsNoShards() throws {
        let result = try runDataprep(["train", "--summary", "--size", "150x150", "--channels", "3", "--classes", "2"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Total params: 10,641,441"))
    }

    /// Two visually distinct classes, 40 images each: dark discs and bright stripes (PNG, 24×24 gray).
    static func writeClasses(at data: URL) throws {
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
    }

    /// The classes of ``writeClasses(at:)`` under DIR/data, packed 24×24 gray into DIR/shards (and
    /// DIR/shards/validation), and the run folder DIR/run to train into.
    static func packedGrayClasses(in dir: URL) throws -> (data: URL, shards: String, run: String) {
        let data = dir.appendingPathComponent("data")
        try writeClasses(at: data)
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        for (out, split) in [(shards, "train"), (shards + "/validation", "validation")] {
            let pack = try runDataprep(["pack", data.path, "--size", "24x24", "--channels", "1", "--out", out, "--split", split])
            #expect(pack.status == 0, "\(pack.stderr)")
        }
        return (data, shards, run)
    }

    @Test func trainResumeEvaluateAndPredict() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, shards, run) = try Self.packedGrayClasses(in: dir)

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

    /// The token after `key` in a line of `key value` pairs separated by spaces.
    static func value(after key: String, in line: Substring) -> Double? {
        let tokens: [Substring] = line.split(separator: " ")
        guard let index = tokens.firstIndex(of: Substring(key)), index + 1 < tokens.count else { return nil }
        return Double(tokens[index + 1])
    }

    @Test func restoreBestEndsWithTheBestEpochWhichEvaluateOfTheRunFolderUses() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, shards, run) = try Self.packedGrayClasses(in: dir)
        // The "best" loss under --mode max is the first epoch's (training lowers it): epoch 1 is restored.
        let result = try runDataprep([
            "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16",
            "--run-dir", run, "--seed", "3", "--epochs", "3", "--monitor", "loss", "--mode", "max",
            "--early-stopping", "10", "--restore-best", "--checkpoint", "ckpt/w.{epoch:02d}.dpw",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let epochs = result.stdout.split(separator: "\n")
        #expect(epochs.count == 3)
        for expected in [
            "training conv8,pool,flatten,dense16,output (", "on 80 images per epoch, validating on 80 images\n",
            "history: \(run)/history.csv, curves: \(run)/learning-curves.svg\n",
            "checkpoint: \(run)/checkpoint.dpc (epoch 3, the last: --resume continues from it)\n",
            "best weights: \(run)/best-weights.dpw (epoch 1, the best loss)\n",
            "final weights: \(run)/final-weights.dpw (epoch 1, the best loss, restored by --restore-best; "
                + "evaluate, predict and visualize --model \(run) use them)\n",
            "final: \(epochs[0])\n",
        ] {
            #expect(result.stderr.contains(expected), "\(expected) not in \(result.stderr)")
        }
        for epoch in ["01", "02", "03"] { #expect(FileManager.default.fileExists(atPath: "\(run)/ckpt/w.\(epoch).dpw")) }

        let evaluate = try runDataprep(["evaluate", "--model", run, "--shards", shards + "/validation", "--batch-size", "16"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let loss = try #require(Self.value(after: "loss", in: Substring(evaluate.stdout)))
        let best = try #require(Self.value(after: "val_loss", in: epochs[0])),
            last = try #require(Self.value(after: "val_loss", in: epochs[2]))
        #expect(abs(loss - best) < 2e-4 && abs(loss - last) > 1e-3, "\(evaluate.stdout) vs \(epochs)")
        #expect(Self.value(after: "accuracy", in: Substring(evaluate.stdout)) == Self.value(after: "val_accuracy", in: epochs[0]))
        let predict = try runDataprep(["predict", "--model", run, data.path + "/bright/0.png"])
        #expect(predict.status == 0, "\(predict.stderr)")

        let notARun = try runDataprep(["evaluate", "--model", data.path, "--shards", shards])
        #expect(notARun.status == 1 && notARun.stderr.contains("is a folder without final-weights.dpw"), "\(notARun.stderr)")
    }

    @Test func badCheckpointTemplatesAreRefusedBeforeAnythingIsMade() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path
        for (template, named) in [("w.{acc}.dpw", "unknown field {acc}"), ("w.{epoch:02d.dpw", "'{' without a '}'")] {
            let result = try runDataprep(["train", "--shards", dir.path, "--run-dir", run, "--checkpoint", template])
            #expect(result.status == 64 && result.stderr.contains("--checkpoint: ") && result.stderr.contains(named), "\(result.stderr)")
        }
        let restore = try runDataprep(["train", "--shards", dir.path, "--run-dir", run, "--restore-best"])
        #expect(restore.status == 64 && restore.stderr.contains("--restore-best needs --early-stopping"), "\(restore.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run))
    }

    @Test func anImageFolderIsNotAShardSetAndPackIsSuggested() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        try Self.writeClasses(at: URL(fileURLWithPath: data))
        for arguments in [["train", "--shards", data, "--run-dir", dir.path + "/run"], ["inspect", data], ["verify", data]] {
            let result = try runDataprep(arguments)
            #expect(result.status == 1)
            #expect(result.stderr.contains("not a shard set: no manifest.json; its folders hold images"), "\(result.stderr)")
            #expect(result.stderr.contains("make one with `dataprep pack \(data) --size WxH --out OUT`"), "\(result.stderr)")
            #expect(!result.stderr.contains("interrupted"))
        }
    }

    @Test func freshAugmentationTrainsResumesIdenticallyAndRefusesOtherOptions() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("split")
        try Self.writeClasses(at: data.appendingPathComponent("train"))
        try Self.writeClasses(at: data.appendingPathComponent("validation"))
        let shards = dir.appendingPathComponent("shards").path
        for split in ["train", "validation"] {
            let out = split == "train" ? shards : shards + "/validation"
            #expect(try runDataprep(["pack", data.path + "/" + split, "--size", "24x24", "--channels", "1", "--out", out]).status == 0)
        }
        let augmentation = ["--rotate", "20", "--shift", "0.1", "--zoom", "0.1", "--flip"]
        func train(_ run: String, _ epochs: Int, _ extra: [String] = []) throws -> CommandResult {
            try runDataprep(
                [
                    "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16",
                    "--seed", "3", "--run-dir", dir.path + "/" + run, "--epochs", "\(epochs)",
                ] + augmentation + extra)
        }
        let straight = try train("a", 3)
        #expect(straight.status == 0, "\(straight.stderr)")
        #expect(straight.stderr.contains("augmented afresh every epoch"))
        #expect(try train("b", 1).status == 0)
        let resumed = try train("b", 3, ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let a = try Model.load(from: dir.path + "/a/checkpoint.dpc"), b = try Model.load(from: dir.path + "/b/checkpoint.dpc")
        #expect(a.weights == b.weights)
        #expect(a.augmentation["rotate"] == "20.0" && a.augmentation["flip"] == "true")

        let other = try runDataprep(
            [
                "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16", "--seed", "3",
                "--run-dir", dir.path + "/b", "--epochs", "4", "--resume", "--rotate", "30", "--shift", "0.1", "--zoom", "0.1",
                "--flip",
            ])
        #expect(other.status == 64)
        #expect(other.stderr.contains("--rotate 30.0 (the run's: --rotate 20.0) differs"), "\(other.stderr)")
        #expect(!other.stderr.contains("--zoom") && !other.stderr.contains("--flip"), "only the option that differs is named")

        // A model input smaller than the stored images: training, validation, evaluate and predict resample.
        let smaller = try train("c", 1, ["--size", "20x20"])
        #expect(smaller.status == 0, "\(smaller.stderr)")
        let model = try Model.load(from: dir.path + "/c/checkpoint.dpc")
        #expect(model.inputSpec.sizeDescription == "20x20" && model.storedSpec?.sizeDescription == "24x24")
        #expect(try runDataprep(["evaluate", "--model", dir.path + "/c/checkpoint.dpc", "--shards", shards + "/validation"]).status == 0)
        let predict = try runDataprep(["predict", "--model", dir.path + "/c/checkpoint.dpc", data.path + "/validation/bright/0.png"])
        #expect(predict.status == 0, "\(predict.stderr)")
    }

    @Test func preAugmentedSetsWarnWhenEpochsExceedCopiesAndRefuseFreshAugmentation() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("split")
        try Self.writeClasses(at: data.appendingPathComponent("train"))
        let shards = dir.appendingPathComponent("augmented").path
        let augment = try runDataprep([
            "augment", data.path, "--size", "24x24", "--channels", "1", "--rotate", "10", "--copies", "2", "--out", shards,
        ])
        #expect(augment.status == 0, "\(augment.stderr)")
        let arguments = [
            "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16",
            "--run-dir", dir.path + "/run", "--epochs", "3",
        ]
        let reused = try runDataprep(arguments)
        #expect(reused.status == 0, "\(reused.stderr)")
        #expect(reused.stderr.contains("warning: ") && reused.stderr.contains("epoch 3 reuses copy 0"), "\(reused.stderr)")
        #expect(reused.stderr.contains("on 80 images per epoch (160 samples: 80 images × 2 copies)"), "\(reused.stderr)")
        let fresh = try runDataprep(arguments + ["--flip", "--overwrite"])
        #expect(fresh.status == 64)
        #expect(fresh.stderr.contains("holds 2 pre-augmented copies"), "\(fresh.stderr)")
    }

    @Test func previewShowsWhatAnEpochFeeds() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = SyntheticImages.photoLike(width: 40, height: 30)
        let path = dir.appendingPathComponent("photo.png").path
        try Data(try PNGEncoder().encode(image)).write(to: URL(fileURLWithPath: path))
        let arguments = ["preview", path, "--rotate", "40", "--flip", "--size", "20x15", "--count", "2", "--seed", "4"]
        let result = try runDataprep(arguments + ["--epoch", "3", "--sample", "5", "--out", dir.path + "/sheet.png"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("epoch 3: theta=") && lines[1].hasPrefix("epoch 4: theta="))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/sheet.png"))
        #expect(try runDataprep(arguments + ["--epoch", "0", "--out", dir.path + "/x.png"]).status == 64)
        #expect(try runDataprep(arguments + ["--sample", "2", "--out", dir.path + "/x.png"]).status == 64)
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
