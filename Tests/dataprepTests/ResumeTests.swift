import Foundation
import Support
import TestSupport
import Testing
import Trainer

/// `train --resume` reuses the options the checkpoint records: nothing needs retyping, an option
/// given again with the same value is fine, another value is refused naming only that option,
/// `--epochs` counts every epoch and may only be raised, and a missing run is not created.
@Suite struct ResumeTests {
    static let model = "conv8,pool,flatten,dense16,output"
    static let options = [
        "--model", model, "--batch-size", "16", "--seed", "3", "--lr", "0.002", "--rotate", "20", "--shift", "0.1", "--zoom", "0.1",
        "--flip", "--fill", "reflect",
    ]

    /// A run of 1 epoch in DIR/run with ``options`` on the gray classes, and the shard set.
    static func startedRun(in dir: URL) throws -> (shards: String, run: String) {
        let (_, shards, run) = try TrainCommandTests.packedGrayClasses(in: dir)
        let first = try runDataprep(["train", "--shards", shards, "--run-dir", run, "--epochs", "1"] + options)
        #expect(first.status == 0, "\(first.stderr)")
        return (shards, run)
    }

    @Test func resumeAloneReusesEveryRecordedOptionAndEndsAsAnUninterruptedRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shards, run) = try Self.startedRun(in: dir)
        let straight = try runDataprep(["train", "--shards", shards, "--run-dir", dir.path + "/straight", "--epochs", "3"] + Self.options)
        #expect(straight.status == 0, "\(straight.stderr)")

        // From another folder, with nothing but the run folder and the epochs.
        let resumed = try runDataprep(["train", "--resume", "--run-dir", run, "--epochs", "3"], in: "/")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming with the run's options: --shards \(shards)"), "\(resumed.stderr)")
        #expect(
            resumed.stderr.contains("--batch-size 16 --lr 0.002 --seed 3 --rotate 20.0 --width-shift 0.1 --height-shift 0.1"),
            "\(resumed.stderr)")
        #expect(resumed.stdout.split(separator: "\n").map { $0.prefix(10) } == ["Epoch 2/3 ", "Epoch 3/3 "])
        let a = try Model.load(from: run + "/checkpoint.dpc"), b = try Model.load(from: dir.path + "/straight/checkpoint.dpc")
        #expect(a.weights == b.weights)

        // The same values again are fine (--shift given as it was, the recorded --lr typed otherwise).
        let again = try runDataprep(
            ["train", "--shards", shards, "--run-dir", run, "--resume", "--epochs", "4", "--lr", "2e-3"] + Self.options)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.hasPrefix("Epoch 4/4 "))
    }

    @Test(arguments: [
        (["--seed", "4"], "--seed 4 (the run's: --seed 3)"),
        (["--lr", "0.01"], "--lr 0.01 (the run's: --lr 0.002)"),
        (["--batch-size", "8"], "--batch-size 8 (the run's: --batch-size 16)"),
        (["--model", "mlp"], "--model mlp (the run's: --model \(model))"),
        (["--optimizer", "sgd"], "--optimizer sgd (the run's: --optimizer adam)"),
        (["--rotate", "30"], "--rotate 30.0 (the run's: --rotate 20.0)"),
        (["--vertical-flip"], "--vertical-flip (the run's: without --vertical-flip)"),
        (["--brightness", "0.8,1.2"], "--brightness 0.8,1.2 (the run's: without --brightness)"),
        (["--fill", "nearest"], "--fill nearest (the run's: --fill reflect)"),
    ])
    func anotherValueIsRefusedNamingOnlyThatOption(arguments: [String], named: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, run) = try Self.startedRun(in: dir)
        let before = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.dpc"))
        let result = try runDataprep(["train", "--resume", "--run-dir", run, "--epochs", "2", "--flip"] + arguments)
        #expect(result.status == 64)
        #expect(
            result.stderr.contains(
                "Error: --resume continues the run in \(run) with the options it was trained with, and \(named) differs"),
            "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "(the run's:").count == 2, "only the option that differs is named: \(result.stderr)")
        #expect(result.stderr.contains("Usage: dataprep train <options>"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.dpc")) == before)
    }

    @Test func epochsCountEveryEpochAndAFinishedRunSaysHowToTrainOn() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, run) = try Self.startedRun(in: dir)
        #expect(try runDataprep(["train", "--resume", "--run-dir", run, "--epochs", "2"]).status == 0)

        let fewer = try runDataprep(["train", "--resume", "--run-dir", run, "--epochs", "1"])
        #expect(fewer.status == 64)
        #expect(!fewer.stdout.contains("Epoch"), "no 'Epoch 3/1': \(fewer.stdout)")
        #expect(
            fewer.stderr.contains(
                "Error: --epochs 1: the run in \(run) has trained 2 epochs already and --epochs counts them all "
                    + "(as Keras's fit(epochs=1, initial_epoch=2) would train none): give --epochs 3 or more to train on"),
            "\(fewer.stderr)")

        let finished = try runDataprep(["train", "--resume", "--run-dir", run])
        #expect(finished.status == 64)
        #expect(
            finished.stderr.contains("Error: the run in \(run) has trained all its 2 epochs: give --epochs 3 or more to train on"),
            "\(finished.stderr)")
    }

    @Test func resumingAMissingRunCreatesNothing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shards, _) = try Self.startedRun(in: dir)
        let missing = dir.path + "/no-such-run"
        let result = try runDataprep(["train", "--shards", shards, "--resume", "--run-dir", missing])
        #expect(result.status == 64)
        #expect(
            result.stderr.contains(
                "Error: --resume: \(missing) holds no run to continue (no checkpoint.dpc); leave out --resume to start one"),
            "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    /// A record read back from the checkpoint is checked as a command line is: a value the
    /// options refuse (here `--mode`, edited in the index, whose checksum is made to match) is
    /// refused before anything is trained.
    @Test func aRecordedValueIsCheckedAsAGivenOneIs() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, run) = try Self.startedRun(in: dir)
        let path = run + "/checkpoint.dpc"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func integer(_ at: Int, _ size: Int) -> Int { (0..<size).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let length = integer(12, 4), offset = integer(16, 8)
        let index = Array(bytes[offset..<offset + length]), recorded = Array(#""mode" : "auto""#.utf8)
        let at = try #require((0...index.count - recorded.count).first { Array(index[$0..<$0 + recorded.count]) == recorded })
        bytes.replaceSubrange(offset + at..<offset + at + recorded.count, with: Array(#""mode" : "upup""#.utf8))
        let hash = bytes[offset..<offset + length].withUnsafeBytes { XXHash64.hash($0) }
        for byte in 0..<8 { bytes[24 + byte] = UInt8(truncatingIfNeeded: hash >> (8 * UInt64(byte))) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let result = try runDataprep(["train", "--resume", "--run-dir", run, "--epochs", "2"])
        #expect(result.status == 64)
        #expect(
            result.stderr.contains("Error: \(run): the checkpoint records options that are refused: --mode must be auto, min or max"),
            "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func theCheckpointRecordsTheRunsOptionsWithTheirDefaults() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shards, run) = try Self.startedRun(in: dir)
        let record = try Model.checkpointRecord(at: run + "/checkpoint.dpc")
        #expect(record.epoch == 1)
        let options = try #require(record.options)
        #expect(options["shards"] == shards && options["val"] == shards + "/validation")
        #expect(options["seed"] == "3" && options["lr"] == "0.002" && options["batch-size"] == "16" && options["model"] == Self.model)
        #expect(options["width-shift"] == "0.1" && options["height-shift"] == "0.1" && options["shift"] == nil)
        #expect(options["optimizer"] == "adam" && options["epochs"] == "1" && options["shuffle"] == "global" && options["cval"] == "0.0")
        #expect(options["flip"] == "true" && options["vertical-flip"] == "false" && options["brightness"] == nil)
    }
}
