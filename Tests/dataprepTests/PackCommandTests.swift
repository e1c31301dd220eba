import Codecs
import Foundation
import Shards
import Support
import TestSupport
import Testing

@Suite struct PackCommandTests {
    /// `root/<class>/<n>.jpg`, `count` photo-like JPEGs per class.
    static func makeDataset(at root: URL, classes: [String], count: Int, size: PixelSize = PixelSize(width: 80, height: 60)) throws {
        let encoder = try JPEGEncoder()
        for (c, name) in classes.enumerated() {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<count {
                let photo = SyntheticImages.photoLike(width: size.width, height: size.height, seed: UInt64(c * 1000 + i))
                try Data(try encoder.encode(photo)).write(to: folder.appendingPathComponent("\(i).jpg"))
            }
        }
    }

    @Test func packInspectAndVerify() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("validation")
        try Self.makeDataset(at: data, classes: ["cats", "dogs"], count: 3)
        try Data("not an image".utf8).write(to: data.appendingPathComponent("dogs/broken.jpg"))
        let out = dir.appendingPathComponent("shards").path

        let pack = try runDataprep(["pack", data.path, "--size", "32x24", "--out", out, "--threads", "2"])
        #expect(pack.status == 0)
        #expect(pack.stdout.hasPrefix("packed 6 images of 2 classes into 1 shard in"))
        #expect(pack.stderr.contains("skipped 1 images"))
        #expect(pack.stderr.contains("dogs/broken.jpg: unknownFormat"))

        let set = try ShardSet(directory: out)
        #expect(set.manifest.split == "validation")
        #expect(set.manifest.classNames == ["cats", "dogs"])
        #expect(set.layout.height == 24 && set.layout.width == 32 && set.layout.channels == 3)

        let inspect = try runDataprep(["inspect", out])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("samples     6 (6 images × 1 copy)"))
        #expect(inspect.stdout.contains("cats   3 images"))

        #expect(try runDataprep(["verify", out]).status == 0)
        // Damage one byte of sample 4's image: verify names the shard and the sample.
        let shard = out + "/validation-00000.dps"
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: shard))
        try handle.seek(toOffset: UInt64(128 + 4 * set.layout.stride + 10))
        try handle.write(contentsOf: [0xAA, 0x55])
        try handle.close()
        let damaged = try runDataprep(["verify", out])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("error: checksumMismatch: ") && damaged.stderr.contains("validation-00000.dps, sample 4: "))
    }

    /// A pack killed while it replaces a set leaves the old set complete and untouched (the new one
    /// is written beside it, in the staging folder, and only a complete one replaces it), never a
    /// half-written set; the next run cleans up and replaces it.
    @Test func aKilledPackLeavesTheOldSetAsItWasAndRerunsCleanly() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("train")
        try Self.makeDataset(at: data, classes: ["a", "b"], count: 40, size: PixelSize(width: 160, height: 120))
        let out = dir.appendingPathComponent("shards").path
        let staging = out + "/" + ShardWriter.stagingName
        // Small shards (two samples each), one thread: the run takes long enough to be killed mid-way.
        let arguments = ["pack", data.path, "--size", "150x150", "--out", out, "--threads", "1", "--shard-size", "140KB"]
        #expect(try runDataprep(arguments).status == 0)
        // The lock file is left out: a killed writer's pid stays in it (the kernel drops the lock).
        func set() throws -> [String: Data] {
            try ReliabilityRoundTwoTests.snapshot(out).filter {
                !$0.key.hasPrefix(ShardWriter.stagingName + "/") && $0.key != FolderLock.fileName
            }
        }
        let old = try set()

        let process = Process()
        process.executableURL = dataprepExecutable()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
            if names.filter({ $0.hasSuffix(".dps") }).count >= 2 { break }
            usleep(2_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        // The old set is there, byte for byte; beside it, the killed run's complete shards only.
        #expect(try set() == old)
        let names = try FileManager.default.contentsOfDirectory(atPath: staging)
        #expect(!names.contains("manifest.json"))
        for name in names where name.hasSuffix(".dps") {
            // A file with a final name is complete: as long as its header says, header intact.
            let bytes = try #require(FileManager.default.contents(atPath: staging + "/" + name))
            let count = bytes[16..<24].withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            let stride = bytes[36..<40].withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
            #expect(count > 0 && bytes.count == 128 + count * (stride + 8), "\(name)")
        }
        try ShardSet(directory: out).verify()

        let rerun = try runDataprep(["pack", data.path, "--size", "150x150", "--out", out, "--shard-size", "140KB"])
        #expect(rerun.status == 0)
        let set = try ShardSet(directory: out)
        #expect(set.count == 80)
        try set.verify()
        #expect(!FileManager.default.fileExists(atPath: staging))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).allSatisfy { !$0.hasSuffix(".partial") })
    }
}

// MARK: - Class order and replacing a set

extension PackCommandTests {
    @Test func packFollowsTheClassOrderFileOfTheDatasetAndSplitKeepsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("clothes")
        try Self.makeDataset(at: data, classes: ["Ankle_boot", "T-shirt_top", "Trouser"], count: 2, size: PixelSize(width: 16, height: 16))
        try Data("T-shirt_top\nTrouser\nAnkle_boot\n".utf8).write(to: data.appendingPathComponent("classes.txt"))

        let split = dir.appendingPathComponent("split").path
        let run = try runDataprep(["split", data.path, "--val", "0.5", "--out", split])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.contents(atPath: split + "/classes.txt") == Data("T-shirt_top\nTrouser\nAnkle_boot\n".utf8))

        let out = dir.appendingPathComponent("shards").path
        let pack = try runDataprep(["pack", split + "/train", "--size", "8x8", "--out", out])
        #expect(pack.status == 0, "\(pack.stderr)")
        let set = try ShardSet(directory: out)
        #expect(set.manifest.classNames == ["T-shirt_top", "Trouser", "Ankle_boot"])
        #expect(set.manifest.sources.first?.hasPrefix("T-shirt_top/") == true)
        #expect(try set.label(0) == 0)
    }

    @Test func aSetOfAnotherShapeIsOnlyReplacedWithOverwrite() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("validation")
        try Self.makeDataset(at: data, classes: ["cats", "dogs"], count: 1, size: PixelSize(width: 16, height: 16))
        let out = dir.appendingPathComponent("shards").path

        #expect(try runDataprep(["pack", data.path, "--size", "8x8", "--out", out]).status == 0)
        #expect(try runDataprep(["pack", data.path, "--size", "8x8", "--out", out]).status == 0)  // the same shape: a rerun
        let other = try runDataprep(["pack", data.path, "--size", "12x12", "--out", out])
        #expect(other.status == 64)
        #expect(other.stderr.contains("already holds the validation set 8x8x3 bilinear, classes cats, dogs"), "\(other.stderr)")
        #expect(other.stderr.contains("this run writes the validation set 12x12x3 bilinear"))
        #expect(other.stderr.contains("(they differ in image spec): give --overwrite to replace it, or another output folder"))
        #expect(try ShardSet(directory: out).manifest.spec.width == 8)  // untouched

        let replaced = try runDataprep(["pack", data.path, "--size", "12x12", "--out", out, "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try ShardSet(directory: out).manifest.spec.width == 12)
    }
}
