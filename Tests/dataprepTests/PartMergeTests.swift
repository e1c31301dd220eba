import Foundation
import TestSupport
import Testing

/// `pack`/`augment --part I/N` and `dataprep merge`: the merged set's shards are byte-identical to
/// one process's.
@Suite struct PartMergeTests {
    /// The `.dps` files of `folder`, by name.
    static func shards(_ folder: String) throws -> [String: Data] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".dps") }
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0))) })
    }

    @Test func augmentInThreePartsMergesToTheOneProcessBytes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        try PinnedBytesTests.makeDataset(at: URL(fileURLWithPath: data))
        let options = [
            "--size", "24x20", "--rotate", "20", "--zoom", "0.1", "--flip", "--copies", "2", "--seed", "9", "--shard-size", "12KB",
        ]
        let whole = dir.appendingPathComponent("whole").path
        #expect(try runDataprep(["augment", data, "--out", whole] + options).status == 0)
        var parts: [String] = []
        for index in [2, 0, 1] {  // any order
            let part = dir.appendingPathComponent("part-\(index)").path
            let run = try runDataprep(["augment", data, "--out", part, "--part", "\(index)/3", "--threads", "1"] + options)
            #expect(run.status == 0, "\(run.stderr)")
            parts.append(part)
        }
        let merged = dir.appendingPathComponent("merged").path
        let merge = try runDataprep(["merge", merged] + parts)
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("merged 3 parts: 16 samples"), "\(merge.stdout)")
        let expected = try Self.shards(whole)
        #expect(expected.count > 1)  // the shard size makes several shards
        #expect(try Self.shards(merged) == expected)
        #expect(try Self.shards(merged + "/validation") == (try Self.shards(whole + "/validation")))
        #expect(try runDataprep(["verify", merged]).status == 0)

        let missing = try runDataprep(["merge", dir.appendingPathComponent("m2").path, parts[0], parts[1]])
        #expect(missing.status == 1)
        #expect(
            missing.stderr.contains("error: manifestMismatch: ") && missing.stderr.contains("part 1 of 3 is missing"),
            "\(missing.stderr)")
        let notPart = try runDataprep(["merge", dir.appendingPathComponent("m3").path, whole])
        #expect(notPart.stderr.contains("not a part set"), "\(notPart.stderr)")
    }

    @Test func theSchedulersIndexIsTakenFromTheEnvironment() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        try PackCommandTests.makeDataset(at: URL(fileURLWithPath: data), classes: ["a", "b"], count: 5)
        let whole = dir.appendingPathComponent("whole").path
        #expect(try runDataprep(["pack", data, "--size", "16x12", "--out", whole, "--shard-size", "2KB"]).status == 0)
        var parts: [String] = []
        for index in 0..<4 {
            let part = dir.appendingPathComponent("p\(index)").path
            let environment =
                index % 2 == 0
                ? ["JOB_COMPLETION_INDEX": "\(index)"]
                : ["SLURM_ARRAY_TASK_ID": "\(index + 1)", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]
            let part4 = index % 2 == 0 ? "4" : "auto"
            let run = try runDataprep(
                ["pack", data, "--size", "16x12", "--out", part, "--shard-size", "2KB", "--part", part4],
                environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            parts.append(part)
        }
        let merged = dir.appendingPathComponent("merged").path
        #expect(try runDataprep(["merge", merged] + parts).status == 0)
        #expect(try Self.shards(merged) == (try Self.shards(whole)))
        let bad = try runDataprep(["pack", data, "--size", "16x12", "--out", dir.appendingPathComponent("x").path, "--part", "4/4"])
        #expect(bad.status == 64)
    }
}
