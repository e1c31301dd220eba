import Codecs
import Foundation
import TestSupport
import Testing

/// A split dataset under `dir`: two classes, a leaked duplicate, and optionally a truncated JPEG.
private func makeDataset(in dir: URL, withCutFile: Bool) throws -> URL {
    let root = dir.appendingPathComponent("pets")
    func photo(_ seed: UInt64) throws -> [UInt8] {
        try JPEGEncoder().encode(SyntheticImages.photoLike(width: 40, height: 30, seed: seed))
    }
    var files: [(String, [UInt8])] = [
        ("train/cats/a.jpg", try photo(1)),
        ("train/cats/b.jpg", try photo(2)),
        ("train/dogs/c.jpg", try photo(3)),
        ("train/dogs/notes.txt", Array("ignore me".utf8)),
        ("validation/cats/a-again.jpg", try photo(1)),
        ("validation/dogs/d.jpg", try photo(4)),
    ]
    if withCutFile {
        let cut = try photo(5)
        files.append(("train/dogs/cut.jpg", Array(cut.prefix(cut.count / 2))))
    }
    for (path, bytes) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
    return root
}

@Suite struct ScanCommandTests {
    @Test func textReportHasKerasCountsAndTheBadFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: true)

        let result = try runDataprep(["scan", root.path, "--threads", "2"])

        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("train: Found 4 images belonging to 2 classes."))
        #expect(lines.contains("validation: Found 2 images belonging to 2 classes."))
        #expect(lines.contains { $0.hasPrefix("  truncated  train/dogs/cut.jpg: ") })
        #expect(lines.contains { $0.hasPrefix("  leakage ") && $0.hasSuffix("  train/cats/a.jpg = validation/cats/a-again.jpg") })
        #expect(lines.contains("  train/dogs/notes.txt"))
        #expect(result.stderr.contains("error: 1 of 6 images cannot be used"))
    }

    @Test func jsonReportParsesAndIsTheSameForAnyThreadCount() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: true)

        let one = try runDataprep(["scan", "--json", "--threads", "1", root.path])
        let two = try runDataprep(["scan", "--json", "--threads", "2", root.path])

        #expect(one.status == 1)
        #expect(one.stdout == two.stdout)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect(json["root"] as? String == root.path)
        #expect(json["imageCount"] as? Int == 6)
        let splits = try #require(json["splits"] as? [[String: Any]])
        #expect(splits.map { $0["name"] as? String } == ["train", "validation"])
        #expect(splits.map { $0["imageCount"] as? Int } == [4, 2])
        #expect(json["classNames"] as? [String] == ["cats", "dogs"])
        let bad = try #require(json["badFiles"] as? [[String: Any]])
        #expect(bad.map { $0["path"] as? String } == ["train/dogs/cut.jpg"])
        #expect(bad.map { $0["status"] as? String } == ["truncated"])
        let duplicates = try #require(json["duplicates"] as? [[String: Any]])
        #expect(duplicates.map { $0["acrossSplits"] as? Bool } == [true])
        #expect(json["ignoredFiles"] as? [String] == ["train/dogs/notes.txt"])
        #expect(json["quarantine"] == nil)
    }

    @Test func quarantineMovesTheBadFileAndExitsZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: true)
        let quarantine = dir.appendingPathComponent("quarantine")

        let result = try runDataprep(["scan", root.path, "--quarantine", quarantine.path])

        #expect(result.status == 0)
        #expect(result.stdout.contains("  moved  train/dogs/cut.jpg"))
        #expect(result.stderr.contains("warning: 1 bad file moved to \(quarantine.path)"))
        #expect(FileManager.default.fileExists(atPath: quarantine.appendingPathComponent("train/dogs/cut.jpg").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("train/dogs/cut.jpg").path))
        #expect(try runDataprep(["scan", root.path]).status == 0)
    }

    @Test func aCleanDatasetExitsZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: false)

        let result = try runDataprep(["scan", root.path])

        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.contains("Decoded: 5 ok, 0 with a warning, 0 bad."))
    }

    @Test func usageAndLayoutErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: true)

        #expect(try runDataprep(["scan"]).status == 64)
        #expect(try runDataprep(["scan", root.path, "--threads", "0"]).status == 64)
        let missing = try runDataprep(["scan", dir.appendingPathComponent("nothing").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("badLayout"))
        let inside = try runDataprep(["scan", root.path, "--quarantine", root.appendingPathComponent("bad").path])
        #expect(inside.status == 1)
        #expect(inside.stderr.contains("badLayout"))
        #expect(inside.stdout.isEmpty)
    }
}

@Suite struct ScanNamesFromInputTests {
    @Test func aControlCharacterInAFileNameIsPrintedEscaped() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: false)
        try Data("not an image".utf8).write(to: root.appendingPathComponent("train/cats/forged\nline.jpg"))

        let result = try runDataprep(["scan", root.path])

        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.contains { $0.contains(#"train/cats/forged\nline.jpg: "#) })
        #expect(!lines.contains { $0.hasPrefix("line.jpg") })
    }

    @Test func aSymbolicLinkLoopIsUnreadableForScanAndSkippedByPack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeDataset(in: dir, withCutFile: false)
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("validation/dogs/loop.jpg").path, withDestinationPath: "loop.jpg")

        let scan = try runDataprep(["scan", root.path])
        #expect(scan.status == 1)
        #expect(scan.stdout.contains("validation: Found 3 images belonging to 2 classes."))
        #expect(scan.stdout.split(separator: "\n").contains { $0.hasPrefix("  unreadable  validation/dogs/loop.jpg: ") })

        let pack = try runDataprep([
            "pack", root.appendingPathComponent("validation").path, "--size", "16x16", "--out", dir.appendingPathComponent("out").path,
        ])
        #expect(pack.status == 0)
        #expect(pack.stderr.contains("skipped 1 images"))
        #expect(pack.stderr.contains("validation/dogs/loop.jpg: readFailed"))
    }
}
