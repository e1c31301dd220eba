import Codecs
import Foundation
import Support
import TestSupport
import Testing

/// One regression test per class of the reliability issue that the CLI owns: degenerate
/// transforms, nothing to learn from, one writer per output folder, output inside input, and runs
/// that would be replaced silently.
@Suite struct ReliabilityTests {
    @Test(arguments: [["--shear", "90"], ["--zx", "0"], ["--zy", "1e300"], ["--theta", "nan"], ["--tx", "inf"]])
    func aDegenerateTransformIsAUsageErrorNotALoop(options: [String]) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("a.png").path
        try Data(try PNGEncoder().encode(SyntheticImages.ramp(width: 8, height: 6, format: .rgb))).write(to: URL(fileURLWithPath: image))
        let result = try runDataprep(["transform", image, "--out", dir.appendingPathComponent("o.png").path] + options, timeLimit: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("must be a number in"), "\(result.stderr)")
    }

    @Test func packingAFolderWithoutImagesFailsNamingIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        for name in ["cats", "dogs"] {
            try FileManager.default.createDirectory(at: data.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try Data("notes".utf8).write(to: data.appendingPathComponent("cats/readme.txt"))
        let out = dir.appendingPathComponent("out").path
        let result = try runDataprep(["pack", data.path, "--size", "8x8", "--out", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: invalidArgument: \(data.path): no images to prepare"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/manifest.json"))
    }

    @Test func packingOnlyUndecodableImagesFails() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data.appendingPathComponent("cats"), withIntermediateDirectories: true)
        try Data("not a jpeg".utf8).write(to: data.appendingPathComponent("cats/0.jpg"))
        let result = try runDataprep(["pack", data.path, "--size", "8x8", "--out", dir.appendingPathComponent("out").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("none of the 1 images could be decoded"), "\(result.stderr)")
    }

    @Test func anOutputLargerThanTheFreeSpaceIsRefusedUpFront() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PackCommandTests.makeDataset(at: dir.appendingPathComponent("data/train"), classes: ["cats", "dogs"], count: 3)
        let out = dir.appendingPathComponent("out").path
        // 6 images × 1000 copies × 8192×8192×3 bytes ≈ 1.2 TB: more than any test machine has free.
        let result = try runDataprep(
            ["augment", dir.appendingPathComponent("data").path, "--size", "8192x8192", "--copies", "1000", "--out", out], timeLimit: 60)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: fileSystem: \(out): not enough free space"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/train-00000.dps"))
    }

    @Test func aSecondWriterFailsAtOnceNamingTheHolder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 2)
        let out = dir.appendingPathComponent("out").path
        let held = try FolderLock(out)  // as another `pack` into the same folder would hold it
        let result = try runDataprep(["pack", data.path, "--size", "16x12", "--out", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: locked: \(out): another dataprep process (pid \(getpid()))"), "\(result.stderr)")
        held.release()
        #expect(try runDataprep(["pack", data.path, "--size", "16x12", "--out", out]).status == 0)
        #expect(try runDataprep(["verify", out]).status == 0)
    }

    @Test func twoConcurrentPacksLeaveASetThatVerifies() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 20)
        let out = dir.appendingPathComponent("out").path
        let results = try ParallelRuns.map([
            ["pack", data.path, "--size", "40x30", "--out", out, "--threads", "1", "--overwrite"],
            ["pack", data.path, "--size", "24x24", "--out", out, "--threads", "1", "--overwrite"],
        ]) { try runDataprep($0) }
        #expect(results.contains { $0.status == 0 })
        for result in results where result.status != 0 { #expect(result.stderr.contains("error: locked: "), "\(result.stderr)") }
        #expect(try runDataprep(["verify", out]).status == 0)
    }

    @Test(arguments: ["inside", "around"])
    func anOutputFolderOverlappingTheSourceIsRefusedBeforeWriting(_ kind: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 1)
        let out = kind == "inside" ? data.appendingPathComponent("train/out").path : dir.path
        let before = try FileManager.default.subpathsOfDirectory(atPath: dir.path).sorted()
        let result = try runDataprep(["augment", data.path, "--size", "8x8", "--out", out])
        #expect(result.status == 64)
        #expect(result.stderr.contains("overlap"), "\(result.stderr)")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dir.path).sorted() == before)
    }

    @Test func trainRefusesSingleClassSetsAndRunFoldersThatHoldARun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, run) = try ReliabilityRoundTwoTests.packedCatsAndDogs(in: dir)
        let environment = ReliabilityRoundTwoTests.passive
        let train = ReliabilityRoundTwoTests.oneEpoch(shards, run) + ["--batch-size", "2"]
        #expect(try runDataprep(train, environment: environment).status == 0)
        let again = try runDataprep(train, environment: environment)
        #expect(again.status == 64)
        #expect(again.stderr.contains("already holds a run"), "\(again.stderr)")
        #expect(try runDataprep(train + ["--overwrite"], environment: environment).status == 0)

        let one = dir.appendingPathComponent("one")
        try PackCommandTests.makeDataset(at: one, classes: ["cats"], count: 2, size: PixelSize(width: 16, height: 12))
        let oneShards = dir.appendingPathComponent("one-shards").path
        #expect(try runDataprep(["pack", one.path, "--size", "8x6", "--out", oneShards]).status == 0)
        let single = try runDataprep(
            ["train", "--shards", oneShards, "--model", "mlp", "--run-dir", dir.appendingPathComponent("r1").path],
            environment: environment)
        #expect(single.status == 1)
        #expect(single.stderr.contains("class"), "\(single.stderr)")
    }

    @Test func aRunFolderThatIsAFileIsAClearError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, shards, _) = try ReliabilityRoundTwoTests.packedCatsAndDogs(in: dir, count: 1)
        let file = dir.appendingPathComponent("file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let result = try runDataprep(["train", "--shards", shards, "--model", "mlp", "--run-dir", file])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: fileSystem: \(file): cannot create the folder: it is a file"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }
}
