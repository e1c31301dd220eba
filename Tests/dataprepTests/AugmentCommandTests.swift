import Codecs
import Foundation
import Shards
import TestSupport
import Testing

@Suite struct AugmentCommandTests {
    static let options = [
        "--size", "32x24", "--rotate", "30", "--shift", "0.15", "--shear", "10", "--zoom", "0.2", "--flip",
        "--brightness", "0.8,1.2", "--copies", "2", "--seed", "5",
    ]

    @Test func augmentsTrainingCopiesAndPacksValidation() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("train"), classes: ["cats", "dogs"], count: 3)
        try PackCommandTests.makeDataset(at: data.appendingPathComponent("validation"), classes: ["cats", "dogs"], count: 2)
        try Data("not an image".utf8).write(to: data.appendingPathComponent("train/dogs/broken.jpg"))
        let out = dir.appendingPathComponent("out").path

        let run = try runDataprep(["augment", data.path, "--out", out, "--threads", "2"] + Self.options)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("augmented 6 training images × 2 copies of 2 classes into 1 shard in \(out)"))
        #expect(run.stdout.contains("packed 4 validation images into 1 shard in \(out)/validation"))
        #expect(run.stderr.contains("skipped 1 images"))
        #expect(run.stderr.contains("train/dogs/broken.jpg: unknownFormat"))

        let train = try ShardSet(directory: out)
        #expect(train.manifest.split == "train" && train.count == 12 && train.manifest.copies == 2)
        #expect(
            train.manifest.parameterNames == [
                "theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
                "channel_shift", "brightness",
            ])
        #expect(train.manifest.provenance.seed == 5 && train.manifest.provenance.options["rotate"] == "30.0")
        #expect(train.manifest.sources.first == "train/cats/0.jpg")
        for sample in 0..<train.count {
            let p = try train.parameters(sample)
            #expect(abs(p[0]) <= 30 && abs(p[1]) <= 0.15 * 32 && abs(p[2]) <= 0.15 * 24 && (0.8...1.2).contains(p[9]))
        }
        let validation = try ShardSet(directory: out + "/validation")
        #expect(validation.manifest.split == "validation" && validation.count == 4 && validation.layout.parameterCount == 0)
        #expect(validation.manifest.classNames == ["cats", "dogs"])
        #expect(try runDataprep(["verify", out]).status == 0)

        // One thread gives the same bytes.
        let single = dir.appendingPathComponent("single").path
        #expect(try runDataprep(["augment", data.path, "--out", single, "--threads", "1"] + Self.options).status == 0)
        for shard in train.manifest.shards {
            #expect(
                FileManager.default.contents(atPath: out + "/" + shard.file)
                    == FileManager.default.contents(atPath: single + "/" + shard.file))
        }
    }

    @Test func anUnsplitDatasetIsNamedWithTheFix() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PackCommandTests.makeDataset(at: dir.appendingPathComponent("pets"), classes: ["cats", "dogs"], count: 1)
        let run = try runDataprep([
            "augment", dir.appendingPathComponent("pets").path, "--out", dir.appendingPathComponent("o").path,
            "--size", "16x16",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("is not split: it holds class folders (cats, dogs)"))
        #expect(run.stderr.contains("dataprep split"))
    }

    @Test func badRangesAreRejectedBeforeAnyWork() throws {
        let run = try runDataprep(["augment", "/nonexistent", "--out", "/tmp/x", "--size", "8x8", "--zoom", "1.5"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--zoom must be 0...0.99 as a single value Z"))
        let compat = try runDataprep([
            "transform", "/nonexistent.png", "--keras-compat", "--interpolation", "nearest", "--out", "/tmp/x.png",
        ])
        #expect(compat.status == 64)
        #expect(compat.stderr.contains("nearest is not available"))
    }

    @Test func previewWritesASheetAndEachCopy() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("cat.jpg")
        try Data(try JPEGEncoder().encode(SyntheticImages.photoLike(width: 60, height: 40))).write(to: image)
        let sheet = dir.appendingPathComponent("grid.png").path, saved = dir.appendingPathComponent("saved").path
        let run = try runDataprep([
            "preview", image.path, "--rotate", "45", "--zoom", "0.5", "--flip", "--count", "3",
            "--size", "20x16", "--out", sheet, "--save-to-dir", saved,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 3 && run.stdout.hasPrefix("0: theta="))
        let decoded = try ImageDecoder().decode(fileAt: sheet).image
        #expect(decoded.size == PixelSize(width: 4 + 3 * 24, height: 24))
        #expect(try FileManager.default.contentsOfDirectory(atPath: saved).sorted() == ["cat_00.png", "cat_01.png", "cat_02.png"])
        // Copy 1 on the sheet is copy 1 in the folder.
        let copy = try ImageDecoder().decode(fileAt: saved + "/cat_01.png").image
        #expect(Array(decoded.pixel(x: 28 + 5, y: 4 + 7)) == Array(copy.pixel(x: 5, y: 7)))
    }

    @Test func transformAppliesOneExplicitParameterSet() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let square = SyntheticImages.ramp(width: 5, height: 5, format: .rgb)
        let input = dir.appendingPathComponent("in.png").path, output = dir.appendingPathComponent("out.png").path
        try Data(try PNGEncoder().encode(square)).write(to: URL(fileURLWithPath: input))
        let run = try runDataprep(["transform", input, "--theta", "90", "--tx", "0", "--ty", "-0", "--out", output])
        #expect(run.status == 0 && run.stdout == "wrote \(output) (5x5)\n")
        let turned = try ImageDecoder().decode(fileAt: output).image
        for y in 0..<5 { for x in 0..<5 { #expect(turned.pixel(x: x, y: y) == square.pixel(x: 4 - y, y: x)) } }
        let compat = try runDataprep([
            "transform", input, "--theta", "-30", "--shear", "10", "--zx", "1.2", "--zy", "0.9",
            "--flip-h", "--brightness", "1.1", "--channel-shift", "-20", "--fill", "reflect",
            "--keras-compat", "--size", "8x6", "--out", output,
        ])
        #expect(compat.status == 0 && compat.stdout == "wrote \(output) (8x6)\n")
    }
}

// MARK: - Suggested commands, linked splits, replacing a set

extension AugmentCommandTests {
    @Test func theSplitCommandAnUnsplitDatasetSuggestsRunsAsPrinted() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pets = dir.appendingPathComponent("my pets")
        try PackCommandTests.makeDataset(at: pets, classes: ["cats", "dogs"], count: 5, size: PixelSize(width: 16, height: 16))
        let run = try runDataprep(["augment", pets.path + "/", "--out", dir.appendingPathComponent("o").path, "--size", "8x8"])
        #expect(run.status == 64)
        let parts = run.stderr.components(separatedBy: "`")
        try #require(parts.count >= 3, "\(run.stderr)")
        let suggested = parts[1]
        #expect(suggested.hasPrefix("dataprep split "))

        // Run it with a POSIX shell, exactly as printed but for the path of the binary.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "dataprep() { \"$DATAPREP\" \"$@\"; }; " + suggested]
        shell.environment = ProcessInfo.processInfo.environment.merging(["DATAPREP": dataprepExecutable().path]) { $1 }
        shell.standardOutput = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0, "\(suggested)")
        let split = pets.path + "-split"
        #expect(FileManager.default.fileExists(atPath: split + "/train/cats"))
        let augmented = try runDataprep(["augment", split, "--out", dir.appendingPathComponent("o").path, "--size", "8x8"])
        #expect(augmented.status == 0, "\(augmented.stderr)")
    }

    @Test func linkedSplitFoldersAreAugmentedAndAnotherShapeIsNotReplaced() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("store")
        try PackCommandTests.makeDataset(
            at: store.appendingPathComponent("t"), classes: ["cats", "dogs"], count: 2, size: PixelSize(width: 16, height: 16))
        try PackCommandTests.makeDataset(
            at: store.appendingPathComponent("v"), classes: ["cats", "dogs"], count: 1, size: PixelSize(width: 16, height: 16))
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data.path + "/train", withDestinationPath: store.path + "/t")
        try FileManager.default.createSymbolicLink(atPath: data.path + "/validation", withDestinationPath: "../store/v")
        let out = dir.appendingPathComponent("out").path

        let run = try runDataprep(["augment", data.path, "--out", out, "--size", "8x8", "--flip"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try ShardSet(directory: out).count == 4)
        #expect(try ShardSet(directory: out + "/validation").count == 2)

        let other = try runDataprep(["augment", data.path, "--out", out, "--size", "10x10"])
        #expect(other.status == 64)
        #expect(other.stderr.contains("already holds the train set 8x8x3 bilinear"), "\(other.stderr)")
        #expect(try runDataprep(["augment", data.path, "--out", out, "--size", "10x10", "--overwrite"]).status == 0)
    }
}
