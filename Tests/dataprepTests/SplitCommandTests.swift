import Foundation
import TestSupport
import Testing

/// `dataprep split` run as a user would, on class folders built in the test.
@Suite struct SplitCommandTests {
    /// `DIR/data/<class>/NN.png` with distinct bytes, plus `cat/07.png` repeated as `dog/copy.png`.
    private static func makeDataset(in dir: URL) throws -> String {
        let data = dir.appendingPathComponent("data")
        for (name, count) in [("cat", 10), ("dog", 5)] {
            let folder = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<count {
                try Data("\(name) \(i)".utf8).write(to: folder.appendingPathComponent(String(format: "%02d.png", i)))
            }
        }
        try Data("cat 7".utf8).write(to: data.appendingPathComponent("dog/copy.png"))
        return data.path
    }

    @Test func splitPrintsCountsPerClassAndTheDuplicates() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.makeDataset(in: dir)
        let out = dir.appendingPathComponent("out").path

        let result = try runDataprep(["split", data, "--val", "0.2", "--test", "0.2", "--seed", "4", "--out", out])

        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].split(separator: " ") == ["class", "train", "validation", "test"])
        #expect(lines[1].split(separator: " ") == ["cat", "6", "2", "2"])
        #expect(lines[3].split(separator: " ") == ["total", "10", "3", "3"])
        #expect(lines[4] == "duplicates: 1 group of byte-identical images, each kept in one split:")
        #expect(
            lines[5].hasSuffix("/cat/07.png = " + lines[5].split(separator: "/")[0].dropFirst(2) + "/dog/copy.png  (different classes)"))
        #expect(result.stderr.contains("wrote \(out) (16 hard links, 0 copies) and \(out)/split.json"))
        #expect(result.stderr.contains("warning: identical images in different classes (cat, dog): "))
        #expect(FileManager.default.fileExists(atPath: out + "/split.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["split.json", "test", "train", "validation"])

        // The same command again with another OUT gives the same manifest.
        let again = try runDataprep(["split", data, "--val", "0.2", "--test", "0.2", "--seed", "4", "--out", out + "2"])
        #expect(again.status == 0)
        #expect(FileManager.default.contents(atPath: out + "/split.json") == FileManager.default.contents(atPath: out + "2/split.json"))
    }

    @Test func anAlreadySplitFolderIsLeftAloneWithStatusZero() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.makeDataset(in: dir)
        let out = dir.appendingPathComponent("out").path
        #expect(try runDataprep(["split", data, "--val", "0.5", "--seed", "1", "--out", out]).status == 0)

        let result = try runDataprep(["split", out, "--val", "0.5", "--seed", "1", "--out", out + "-again"])

        #expect(result.status == 0)
        #expect(result.stdout == "\(out) is already split (train, validation); nothing written\n")
        #expect(!FileManager.default.fileExists(atPath: out + "-again"))
    }

    @Test func anExistingOutputIsAnErrorAndLeftUntouched() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.makeDataset(in: dir)
        let out = dir.appendingPathComponent("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)

        let result = try runDataprep(["split", data, "--val", "0.2", "--seed", "1", "--out", out])

        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("error: badLayout: \(out): already exists"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["data", "out"])
    }

    @Test func aMissingDatasetIsAnError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runDataprep([
            "split", dir.appendingPathComponent("nothing").path, "--val", "0.2", "--seed", "1",
            "--out", dir.appendingPathComponent("out").path,
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: badLayout: \(dir.appendingPathComponent("nothing").path): not a folder"))
    }

    @Test(arguments: [
        (["--val", "1.0"], "--val and --test must add up to less than 1"),
        (["--val", "0.5", "--test", "0.5"], "--val and --test must add up to less than 1"),
        (["--val=-0.1"], "--val must be at least 0"),
        (["--val", "0.1", "--test=-1"], "--test must be at least 0"),
        (["--val", "0.1", "--threads", "0"], "--threads must be 1...256, got 0"),
    ])
    func badFractionsAreUsageErrors(options: [String], message: String) throws {
        let result = try runDataprep(["split", "/nonexistent", "--seed", "1", "--out", "/nonexistent-out"] + options)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func outIsRequired() throws {
        let result = try runDataprep(["split", "/nonexistent", "--val", "0.2"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Missing expected argument '--out <out>'"))  // --seed defaults to 0, as everywhere
    }
}
