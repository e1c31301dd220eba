import Foundation
import Shards
import TestSupport
import Testing

/// Messages that send a newcomer the right way: what to run instead, the usage of the command
/// they typed, and one line per failure.
@Suite struct GuidingMessageTests {
    @Test func trainOnASplitImageFolderSuggestsThePackCommands() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        for split in ["train", "validation"] { try TrainCommandTests.writeClasses(at: URL(fileURLWithPath: data + "/" + split)) }
        let result = try runDataprep(["train", "--shards", data, "--run-dir", dir.path + "/run"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "not a shard set: no manifest.json; it is a split dataset (train, validation): make one shard set per split with "
                    + "`dataprep pack \(data)/train --size WxH --out OUT` and `dataprep pack \(data)/validation --size WxH --out OUT/validation`, "
                    + "then `dataprep train --shards OUT` (it validates on OUT/validation)"), "\(result.stderr)")
    }

    @Test func aMirrorServingAnotherFileIsRefusedOnceBeforeItsBody() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.setFile([UInt8](repeating: 7, count: 100_000), at: "/mledu-datasets/cats_and_dogs_filtered.zip")
        let environment = ["DATAPREP_HOME": dir.path + "/home", "DATAPREP_SEARCH_PATH": ""]
        for _ in 0..<2 {  // a rerun fails the same way, and says so
            let result = try runDataprep(["fetch", "cats_and_dogs_filtered", "--mirror", server.baseURL], environment: environment)
            #expect(result.status == 1)
            let failures = result.stderr.split(separator: "\n").filter { $0.contains("68606236") }
            #expect(failures.count == 1, "printed once: \(result.stderr)")
            #expect(!result.stderr.contains("warning:") && !result.stderr.contains("run again to download"), "\(result.stderr)")
            #expect(
                result.stderr.contains(
                    "error: checksumMismatch: \(server.baseURL)/mledu-datasets/cats_and_dogs_filtered.zip: expected 68606236 bytes, "
                        + "and the server announces 100000: it serves another file than the one expected (running again would fail "
                        + "the same way); nothing was downloaded; \(server.baseURL)/mledu-datasets/cats_and_dogs_filtered.zip is the "
                        + "mirror's copy of the registry's https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip "
                        + "(check --mirror or DATAPREP_MIRROR: a mirror must serve the registry's files as they are)"), "\(result.stderr)")
        }
    }

    @Test func aValidationErrorFoundWhileRunningShowsTheSubcommandsUsage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TrainCommandTests.writeClasses(at: dir)
        let result = try runDataprep(["pack", dir.path, "--size", "8x8", "--out", dir.path + "/dark/out"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: --out \(dir.path)/dark/out and the source \(dir.path) overlap"), "\(result.stderr)")
        #expect(result.stderr.contains("\nUsage: dataprep pack <directory> --size <size>"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("\n  See 'dataprep pack --help' for more information.\n"))
        #expect(!result.stderr.contains("dataprep <subcommand>"))
    }

    @Test func aMissingMergePartIsNamedAndNoPartIsBlamed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TrainCommandTests.writeClasses(at: dir.appendingPathComponent("data"))
        var parts: [String] = []
        for index in [0, 1, 3] {
            let part = dir.path + "/parts/\(index)"
            let pack = try runDataprep(["pack", dir.path + "/data", "--size", "8x8", "--out", part, "--part", "\(index)/4"])
            #expect(pack.status == 0, "\(pack.stderr)")
            parts.append(part)
        }
        let result = try runDataprep(["merge", dir.path + "/merged"] + parts + [parts[1]])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "error: manifestMismatch: part 2 of 4 is missing; part 1 is given 2 times (\(parts[1]), \(parts[1])); "
                + "merge takes every part 0 ..< 4 once (given: \(parts[0]) = 0/4, \(parts[1]) = 1/4, \(parts[1]) = 1/4, "
                + "\(parts[2]) = 3/4)\n", "\(result.stderr)")
    }

    @Test func evaluateOnASetOfAnotherSpecSaysHowToRepack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, shards, run) = try TrainCommandTests.packedGrayClasses(in: dir)
        let trained = try runDataprep(["train", "--shards", shards, "--model", "mlp", "--epochs", "1", "--run-dir", run])
        #expect(trained.status == 0, "\(trained.stderr)")
        let other = dir.path + "/rgb"
        #expect(try runDataprep(["pack", data.path, "--size", "16x16", "--out", other]).status == 0)
        let result = try runDataprep(["evaluate", "--model", run, "--shards", other])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "the shards in \(other) hold images of the spec 16x16x3 bilinear, rescale 0.003921569; the model was trained on "
                    + "24x24x1 bilinear, rescale 0.003921569: repack the images with `dataprep pack \(data.path) --size 24x24 "
                    + "--channels 1 --out OUT` and evaluate OUT"), "\(result.stderr)")
    }

    @Test func packOfOneClassSaysSoAndWarns() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TrainCommandTests.writeClasses(at: dir.appendingPathComponent("data"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("data/bright"))
        let result = try runDataprep(["pack", dir.path + "/data", "--size", "8x8", "--out", dir.path + "/out"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("packed 40 images of 1 class into 1 shard in \(dir.path)/out"), "\(result.stdout)")
        #expect(
            result.stderr.contains(
                "warning: \(dir.path)/data holds one class (dark): a classifier needs at least two, and train refuses a set of one "
                    + "class; give pack the folder that holds all the class folders"), "\(result.stderr)")
    }

    @Test func theRootHelpShowsTheTypicalPipeline() throws {
        let help = try runDataprep(["--help"], environment: ["COLUMNS": "100"]).stdout
        let steps = [
            "dataprep fetch ", "dataprep pack DATA/train", "dataprep train --shards out", "dataprep evaluate --model run",
            "dataprep predict --model run",
        ]
        let positions = steps.map { help.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(help)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "in pipeline order")
    }
}
