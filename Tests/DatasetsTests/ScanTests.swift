import Codecs
import Datasets
import Foundation
import Support
import TestSupport
import Testing

/// A dataset in a temporary folder with known problems planted in it.
private struct PlantedDataset {
    let root: URL

    /// Good 64×48 photos, distinct per seed.
    static func photo(seed: UInt64, progressive: Bool = false) throws -> [UInt8] {
        try JPEGEncoder().encode(
            SyntheticImages.photoLike(width: 64, height: 48, seed: seed),
            options: JPEGEncodeOptions(progressive: progressive))
    }

    /// The planted files, by path relative to the root.
    static func files() throws -> [(String, [UInt8])] {
        let good = try photo(seed: 1), leaked = try photo(seed: 2)
        let cut = try photo(seed: 3)
        var extraneous = try photo(seed: 4)
        let app0Length = Int(extraneous[4]) << 8 | Int(extraneous[5])
        extraneous.insert(contentsOf: [0x12, 0x34, 0x56], at: 4 + app0Length)
        let gray = try JPEGEncoder().encode(SyntheticImages.ramp(width: 20, height: 10, format: .gray))
        let deep = PNGBuilder.file(
            width: 4, height: 3, bitDepth: 16, colorType: .rgb,
            samples: (0..<36).map { $0 * 1_800 })
        var badCRC = try PNGEncoder().encode(SyntheticImages.ramp(width: 8, height: 8, format: .rgb))
        badCRC[29] ^= 0xFF  // the IHDR CRC (8 signature + 4 length + 4 type + 13 data)
        let palette = PNGBuilder.file(
            width: 2, height: 2, bitDepth: 8, colorType: .palette, samples: [0, 1, 1, 0],
            palette: [(255, 0, 0), (0, 0, 255)], transparency: [255, 0])
        return [
            ("train/cats/cat1.jpg", good),
            ("train/cats/cat2.jpg", leaked),
            ("train/cats/cut.jpg", Array(cut.prefix(cut.count / 2))),
            ("train/cats/notes.txt", Array("not an image".utf8)),
            ("train/cats/rotated.jpg", JPEGFixtures.withEXIF(orientation: 6, in: try photo(seed: 5))),
            ("train/cats/cmyk.jpg", JPEGFixtures.ycck(inks: [(c: 0, m: 128, y: 255, k: 200)])),
            ("train/cats/.ipynb_checkpoints/cat1-checkpoint.jpg", good),
            ("train/.ipynb_checkpoints/stray.jpg", good),
            ("train/dogs/text.jpg", Array("<html>404 Not Found</html>".utf8)),
            ("train/dogs/anim.gif", Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]),
            ("train/dogs/gray.jpg", gray),
            ("train/dogs/deep.png", deep),
            ("train/dogs/sub/warned.jpg", extraneous),
            ("train/dogs/conflict.jpg", good),
            ("validation/cats/leaked.jpg", leaked),
            ("validation/cats/badcrc.png", badCRC),
            ("validation/dogs/dog.jpg", try photo(seed: 6, progressive: true)),
            ("validation/dogs/palette.png", palette),
        ]
    }

    init() throws { root = try dataset(try Self.files()) }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func scan(threads: Int = 2, maximumPixels: Int? = nil) throws -> DatasetScanReport {
        try DatasetScanner(threads: threads, maximumPixels: maximumPixels)
            .scan(try DatasetDirectory(reading: root.path))
    }
}

/// A dataset of `files` (relative path → bytes) in a fresh temporary folder.
private func dataset(_ files: [(String, [UInt8])]) throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-scan-\(UUID().uuidString)")
    for (path, bytes) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
    return root
}

@Suite struct ScanTests {
    // MARK: - Findings

    @Test func countsFollowTheSplitsAndClassesAndIgnoreHiddenFolders() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let report = try planted.scan()

        #expect(report.root == planted.root.standardizedFileURL.path)
        #expect(report.classNames == ["cats", "dogs"])
        #expect(report.splits.map(\.name) == ["train", "validation"])
        let counts = report.splits.map { $0.classes.map { [$0.name: [$0.images, $0.bad]] } }
        #expect(counts == [[["cats": [5, 1]], ["dogs": [6, 2]]], [["cats": [2, 1]], ["dogs": [2, 0]]]])
        #expect(report.imageCount == 15)
        #expect(report.decodableCount == 11)
        #expect(report.ignoredFiles == ["train/cats/notes.txt"])
    }

    @Test func badFilesAndWarningsAreClassifiedByCause() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let report = try planted.scan()

        let bad = report.badFiles.map { [$0.path, $0.status.rawValue, $0.format ?? "-"] }
        #expect(
            bad == [
                ["train/cats/cut.jpg", "truncated", "JPEG"],
                ["train/dogs/anim.gif", "unsupportedFormat", "GIF"],
                ["train/dogs/text.jpg", "unknownFormat", "unknown"],
                ["validation/cats/badcrc.png", "corrupt", "PNG"],
            ])
        #expect(report.badFiles[1].message.contains("GIF"))
        #expect(report.warnings.map(\.path) == ["train/dogs/sub/warned.jpg"])
        #expect(report.warnings.first?.status == .warning)
        #expect(report.warnings.first?.message.contains("extraneous bytes") == true)
        #expect(report.formats == ["JPEG": 10, "PNG": 3, "GIF": 1, "unknown": 1])
    }

    @Test func storedFormsAreCounted() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let traits = try planted.scan().traits

        #expect(traits.cmyk == ["train/cats/cmyk.jpg"])
        #expect(traits.grayscale == ["train/dogs/gray.jpg"])
        #expect(traits.sixteenBit == ["train/dogs/deep.png"])
        #expect(traits.alpha == ["validation/dogs/palette.png"])
        #expect(traits.palette == ["validation/dogs/palette.png"])
        #expect(traits.exifRotated == ["train/cats/rotated.jpg"])
    }

    @Test func sizesAreOfTheUprightImages() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let sizes = try #require(try planted.scan().sizes)

        // Decodable: six 64×48 photos, one rotated to 48×64, cmyk 16×16, gray 20×10, deep 4×3,
        // palette 2×2. Widths sorted: 2 4 16 20 48 64 64 64 64 64 64 → median 64.
        #expect([sizes.width.min, sizes.width.median, sizes.width.max] == [2, 64, 64] as [Int])
        #expect([sizes.height.min, sizes.height.median, sizes.height.max] == [2, 48, 64] as [Int])
        #expect(
            sizes.mostCommon.map { "\($0.width)x\($0.height):\($0.count)" }
                == ["64x48:6", "2x2:1", "4x3:1", "16x16:1", "20x10:1"])
    }

    @Test func byteIdenticalFilesAreGroupedAcrossSplitsAndClasses() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let groups = try planted.scan().duplicates

        #expect(
            groups.map(\.paths) == [
                ["train/cats/cat1.jpg", "train/dogs/conflict.jpg"],
                ["train/cats/cat2.jpg", "validation/cats/leaked.jpg"],
            ])
        #expect(groups.map(\.acrossSplits) == [false, true])
        #expect(groups.map(\.acrossClasses) == [true, false])
        let expected = try SHA256Digest.ofFile(at: planted.root.appendingPathComponent("train/cats/cat2.jpg").path)
        #expect(groups[1].sha256 == expected)
    }

    @Test func theReportDoesNotDependOnTheThreadCount() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let one = try planted.scan(threads: 1)
        #expect(try planted.scan(threads: 4) == one)
        #expect(try planted.scan(threads: 64) == one)
    }

    @Test func theReportSurvivesAJSONRoundTrip() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let report = try planted.scan()
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(DatasetScanReport.self, from: json) == report)
    }

    // MARK: - Individual causes

    @Test func truncatedJPEGsAreFoundAtTheSmallestDCTScale() throws {
        // The scan decodes JPEGs at 1/8 scale; the entropy-coded data is still read to its end,
        // so a cut anywhere is found, in baseline and progressive files alike. One thread: each
        // file after a failed one is decoded by the same worker, which must not be disturbed by it.
        var files: [(String, [UInt8])] = []
        for progressive in [false, true] {
            let jpeg = try JPEGEncoder().encode(
                SyntheticImages.photoLike(width: 320, height: 240, seed: 7),
                options: JPEGEncodeOptions(progressive: progressive))
            let kind = progressive ? "p" : "b"
            for bytes in [10, 100, 300] {  // inside the header and tables
                files.append(("cut/\(kind)-header\(bytes).jpg", Array(jpeg.prefix(bytes))))
                files.append(("cut/\(kind)-header\(bytes)z.jpg", jpeg))  // a good file right after it
            }
            for percent in [20, 40, 60, 80, 95, 99] {
                files.append(("cut/\(kind)\(percent).jpg", Array(jpeg.prefix(jpeg.count * percent / 100))))
            }
        }
        let root = try dataset(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try DatasetScanner(threads: 1).scan(try DatasetDirectory(reading: root.path))
        #expect(report.badFiles.map(\.path) == files.map(\.0).filter { !$0.hasSuffix("z.jpg") }.sorted())
        #expect(report.badFiles.allSatisfy { $0.status == .truncated }, "\(report.badFiles)")
        #expect(report.warnings.isEmpty)
    }

    @Test func aFileThatCannotBeReadIsUnreadable() throws {
        let root = try dataset([("a/x.jpg", try PlantedDataset.photo(seed: 1)), ("a/y.jpg", try PlantedDataset.photo(seed: 2))])
        defer { try? FileManager.default.removeItem(at: root) }
        let layout = try DatasetDirectory(reading: root.path)
        try FileManager.default.removeItem(at: root.appendingPathComponent("a/y.jpg"))  // gone after listing
        let report = try DatasetScanner(threads: 1).scan(layout)
        #expect(report.badFiles.map(\.path) == ["a/y.jpg"])
        #expect(report.badFiles.first?.status == .unreadable)
        #expect(report.badFiles.first?.format == nil)
        #expect(report.badFiles.first?.message.contains("No such file") == true)
        #expect(report.formats == ["JPEG": 1])
    }

    @Test func imagesOverThePixelLimitAreTooLarge() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let report = try planted.scan(maximumPixels: 64 * 48 - 1)
        let tooLarge = report.badFiles.filter { $0.status == .tooLarge }.map(\.path)
        #expect(
            tooLarge == [
                "train/cats/cat1.jpg", "train/cats/cat2.jpg", "train/cats/cut.jpg", "train/cats/rotated.jpg",
                "train/dogs/conflict.jpg", "train/dogs/sub/warned.jpg", "validation/cats/leaked.jpg",
                "validation/dogs/dog.jpg",
            ])
    }

    // MARK: - Quarantine

    @Test func quarantineMovesExactlyTheBadFiles() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let quarantine = planted.root.appendingPathComponent(".quarantine")
        let report = try planted.scan()

        let outcome = try DatasetQuarantine.moveBadFiles(of: report, to: quarantine.path)

        let badPaths = report.badFiles.map(\.path)
        #expect(outcome.folder == quarantine.path)
        #expect(outcome.moved == badPaths)
        #expect(outcome.failed.isEmpty)
        let originals = Dictionary(uniqueKeysWithValues: try PlantedDataset.files())
        for path in badPaths {
            #expect(!FileManager.default.fileExists(atPath: planted.root.appendingPathComponent(path).path))
            let moved = try Data(contentsOf: quarantine.appendingPathComponent(path))
            #expect(Array(moved) == originals[path])
        }
        let rescan = try planted.scan()
        #expect(rescan.badFiles.isEmpty)
        #expect(rescan.imageCount == report.imageCount - badPaths.count)
        #expect(rescan.warnings == report.warnings)
    }

    @Test func quarantineNeverOverwritesAFile() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let quarantine = FileManager.default.temporaryDirectory.appendingPathComponent("dataprep-q-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: quarantine) }
        let occupied = quarantine.appendingPathComponent("train/cats/cut.jpg")
        try FileManager.default.createDirectory(at: occupied.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("already here".utf8).write(to: occupied)

        let outcome = try DatasetQuarantine.moveBadFiles(of: try planted.scan(), to: quarantine.path)

        #expect(outcome.failed.map(\.path) == ["train/cats/cut.jpg"])
        #expect(outcome.moved.count == 3)
        #expect(try Data(contentsOf: occupied) == Data("already here".utf8))
        #expect(FileManager.default.fileExists(atPath: planted.root.appendingPathComponent("train/cats/cut.jpg").path))
    }

    @Test func quarantineInsideTheDatasetMustBeHidden() throws {
        let planted = try PlantedDataset()
        defer { planted.remove() }
        let report = try planted.scan()
        for inside in ["", "quarantine", "train/bad", "train/cats"] {
            let folder = planted.root.appendingPathComponent(inside).path
            expectError(DatasetError.self, .badLayout, "\(inside)") {
                _ = try DatasetQuarantine.moveBadFiles(of: report, to: folder)
            }
        }
        #expect(FileManager.default.fileExists(atPath: planted.root.appendingPathComponent("train/cats/cut.jpg").path))
        try DatasetQuarantine.checkFolder(
            planted.root.appendingPathComponent("train/.bad").path,
            datasetRoot: planted.root.path)
        try DatasetQuarantine.checkFolder(
            planted.root.deletingLastPathComponent().appendingPathComponent("q").path,
            datasetRoot: planted.root.path)
    }
}
