import Foundation
import Shards
import TestSupport
import Testing

/// The commands that read a set, given its URL on the tests' loopback HTTP server: the same
/// results as from the folder, and each fault printed naming what failed.
@Suite struct RemoteSetCommandTests {
    /// The gray classes of ``TrainCommandTests/writeClasses(at:)`` packed in shards of about 12 KB
    /// (80 training and 80 validation samples, 4 shards each) under DIR/shards, served at
    /// `/shards` (and `/shards/validation`).
    static func servedShards(in dir: URL) throws -> (shards: String, server: LoopbackHTTPServer) {
        let data = dir.appendingPathComponent("data")
        try TrainCommandTests.writeClasses(at: data)
        let shards = dir.appendingPathComponent("shards").path
        for (out, split) in [(shards, "train"), (shards + "/validation", "validation")] {
            let pack = try runDataprep([
                "pack", data.path, "--size", "24x24", "--channels", "1", "--out", out, "--split", split, "--shard-size", "12KB",
            ])
            try #require(pack.status == 0, "\(pack.stderr)")
        }
        let server = try LoopbackHTTPServer()
        try server.serveFolder(shards, at: "/shards")
        return (shards, server)
    }

    /// history.csv without its time column: epoch, loss, accuracy, val_loss, val_accuracy, lr.
    static func history(_ run: String) throws -> [String] {
        try String(contentsOfFile: run + "/history.csv", encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",").filter { !$0.contains("seconds") }.prefix(6).joined(separator: ",")
        }
    }

    @Test func trainingFromTheURLGivesTheFoldersHistoryWhateverTheCache() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shards, server) = try Self.servedShards(in: dir)
        defer { server.stop() }
        let train = ["train", "--model", "conv8,pool,flatten,dense16,output", "--batch-size", "16", "--seed", "3", "--epochs", "2"]
        let local = try runDataprep(train + ["--shards", shards, "--run-dir", dir.path + "/local"])
        try #require(local.status == 0, "\(local.stderr)")
        let setBytes = try ShardSet(directory: shards).manifest.shards.map(\.bytes).reduce(0, +)
        for (name, extra) in [
            ("cold", [String]()), ("third", ["--cache-limit", "\(setBytes / 3)"]),
        ] {
            let remote = try runDataprep(
                train + [
                    "--shards", server.baseURL + "/shards", "--run-dir", dir.path + "/" + name, "--cache", dir.path + "/cache-" + name,
                ]
                    + extra)
            #expect(remote.status == 0, "\(name): \(remote.stderr)")
            #expect(try Self.history(dir.path + "/" + name) == Self.history(dir.path + "/local"), "\(name)")
            #expect(remote.stderr.contains("\(server.baseURL)/shards: cache: "), "\(remote.stderr)")
            #expect(remote.stderr.contains("\(server.baseURL)/shards/validation: cache: "), "\(remote.stderr)")
            if name == "third" {
                #expect(remote.stderr.contains("warning: the cache limit"), "\(remote.stderr)")
                #expect(!remote.stderr.contains(" 0 evicted"), "\(remote.stderr)")
            }
            print("\(name):\n\(remote.stderr)")
        }
        // The shard-aware order with a third of the set cached: each shard about once per epoch.
        let windowed = try runDataprep(
            train + [
                "--shards", server.baseURL + "/shards", "--run-dir", dir.path + "/windowed", "--cache", dir.path + "/cache-windowed",
                "--cache-limit", "\(setBytes / 3)", "--shuffle", "shards:1",
            ])
        #expect(windowed.status == 0, "\(windowed.stderr)")
        #expect(!windowed.stderr.contains("warning: the cache limit"))
        print("windowed:\n\(windowed.stderr)")
    }

    @Test func inspectVerifyAndEvaluateTakeURLs() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shards, server) = try Self.servedShards(in: dir)
        defer { server.stop() }
        let url = server.baseURL + "/shards", cache = ["--cache", dir.path + "/cache"]
        let inspect = try runDataprep(["inspect", url] + cache)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.hasPrefix("shard set   \(url)\n") && inspect.stdout.contains("classes     2"))
        // A limit of 100 bytes was told as "0.0 MB".
        let tiny = try runDataprep(["inspect", url, "--cache-limit", "100"] + cache)
        #expect(
            tiny.status == 1 && tiny.stderr.contains("the cache limit of 100 bytes is smaller than the largest shard"), "\(tiny.stderr)")
        let verify = try runDataprep(["verify", url + "/validation"] + cache)
        #expect(
            verify.status == 0 && verify.stdout == "ok: \(url)/validation: 80 samples in 4 shards, every checksum matches\n",
            "\(verify.stderr)")

        let train = try runDataprep([
            "train", "--shards", shards, "--model", "conv8,pool,flatten,dense16,output", "--epochs", "1", "--run-dir", dir.path + "/run",
        ])
        try #require(train.status == 0, "\(train.stderr)")
        let local = try runDataprep(["evaluate", "--model", dir.path + "/run", "--shards", shards + "/validation"])
        let remote = try runDataprep(["evaluate", "--model", dir.path + "/run", "--shards", url + "/validation"] + cache)
        #expect(remote.status == 0 && remote.stdout == local.stdout, "\(remote.stderr)")
    }

    /// Each fault, as `verify URL` prints it (the lines are printed for the record). Everything
    /// stays on loopback: no name is resolved (a DNS failure is libcurl's CURLE_COULDNT_RESOLVE_HOST,
    /// a permanent failure reported at once with the URL).
    @Test func faultsAreRetriedOrNamed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, server) = try Self.servedShards(in: dir)
        defer { server.stop() }
        let url = server.baseURL + "/shards"
        var cacheNumber = 0
        func verify(_ set: String = url) throws -> CommandResult {
            cacheNumber += 1
            return try runDataprep(["verify", set, "--cache", dir.path + "/cache-\(cacheNumber)"])
        }
        let shard = "/shards/train-00001.dps"

        server.inject(.dropConnection(afterBodyBytes: 5000), at: shard)
        let dropped = try verify()
        #expect(dropped.status == 0 && dropped.stderr.contains("1 retries"), "\(dropped.stderr)")
        #expect(server.requests.filter { $0.path == shard }.compactMap(\.range).last?.hasPrefix("bytes=5000-") == true)

        server.inject(.status(500), at: shard)
        let retried = try verify()
        #expect(retried.status == 0 && retried.stderr.contains("1 retries"), "\(retried.stderr)")

        server.inject(.status(404), at: shard)
        let missing = try verify()
        #expect(missing.status == 1)
        #expect(
            missing.stderr == "error: httpStatus: \(server.baseURL)\(shard): HTTP 404 Not Found: injected status 404\n", "\(missing.stderr)"
        )

        let original = try #require(server.file(at: shard))
        var rewritten = original
        rewritten[300] ^= 0xFF
        server.inject(.dropAndReplace(afterBodyBytes: 200, with: rewritten), at: shard)
        let changed = try verify()
        #expect(
            changed.status == 1 && changed.stderr.hasPrefix("error: setChanged: \(server.baseURL)\(shard): the shard changed"),
            "\(changed.stderr)")

        var flipped = original
        let stride = try ShardSet(directory: dir.path + "/shards").layout.stride
        flipped[128 + 2 * stride + 10] ^= 0x01
        server.setFile(flipped, at: shard)
        let damaged = try verify()
        #expect(
            damaged.stderr == "error: checksumMismatch: \(server.baseURL)\(shard), sample 2: record bytes do not match their checksum\n",
            "\(damaged.stderr)")
        server.setFile(original, at: shard)

        let nothing = try verify(server.baseURL + "/nothing")
        #expect(
            nothing.status == 1
                && nothing.stderr.hasPrefix("error: manifestMismatch: \(server.baseURL)/nothing/manifest.json: not a shard set"))
        for result in [dropped, retried, missing, changed, damaged, nothing] { print(result.stdout + result.stderr) }
    }

    @Test func typedLimitsAndURLsAreRefusedBeforeAnythingIsFetched() throws {
        for (arguments, message) in [
            (["verify", "http://127.0.0.1:1/set", "--cache-limit", "0"], "--cache-limit"),
            (["verify", "http://127.0.0.1:1/set", "--cache-limit", "nan"], "--cache-limit"),
            (["verify", "http://127.0.0.1:1/set", "--cache-limit", "1e30"], "--cache-limit"),
            // Less than a byte rounded to a limit of 0 bytes.
            (["verify", "http://127.0.0.1:1/set", "--cache-limit=0.5"], "--cache-limit"),
            (["verify", "http://127.0.0.1:1/set", "--cache-limit=1e-4KB"], "--cache-limit"),
            (["merge", "", "a", "b"], "OUT: an empty path names no set"),
            (["train", "--shards", "http://127.0.0.1:1/set", "--shuffle", "shards:0"], "--shuffle"),
            (["train", "--shards", "http://127.0.0.1:1/set", "--shuffle", "window"], "--shuffle"),
            (["pack", "in", "--size", "8x8", "--out", "https://host/set"], "read-only"),
            (["pack", "in", "--size", "8x8", "--out", "s3://Bad_Bucket/set"], "bucket"),
            (["push", "in", "out"], "s3://"),
        ] {
            let result = try runDataprep(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let ftp = try runDataprep(["verify", "ftp://host/set"])
        #expect(ftp.status == 1 && ftp.stderr.contains("invalidLocation"), "\(ftp.stderr)")
        // An empty path was the working folder (merge: "OUT and the part  overlap") or `/manifest.json`.
        for arguments in [["verify", ""], ["inspect", ""], ["merge", "/nonexistent/merged", "", "/nonexistent/part"]] {
            let empty = try runDataprep(arguments)
            #expect(
                empty.status == 1 && empty.stderr.hasPrefix("error: invalidLocation: ")
                    && empty.stderr.contains("an empty path names no set"),
                "\(arguments): \(empty.stderr)")
        }
    }

    @Test func mergeReadsItsPartsFromURLs() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try TrainCommandTests.writeClasses(at: data)
        let pack = ["pack", data.path, "--size", "24x24", "--channels", "1", "--shard-size", "12KB", "--threads", "2"]
        try #require(try runDataprep(pack + ["--out", dir.path + "/one"]).status == 0)
        for part in 0..<3 {
            try #require(try runDataprep(pack + ["--out", dir.path + "/parts/\(part)", "--part", "\(part)/3"]).status == 0)
        }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        try server.serveFolder(dir.path + "/parts", at: "/parts")
        let merge = try runDataprep(
            ["merge", dir.path + "/merged"] + (0..<3).map { server.baseURL + "/parts/\($0)" } + ["--cache", dir.path + "/cache"])
        #expect(merge.status == 0, "\(merge.stderr)")
        let one = try ShardSet(directory: dir.path + "/one").manifest
        for shard in one.shards {
            #expect(
                FileManager.default.contents(atPath: dir.path + "/merged/" + shard.file)
                    == FileManager.default.contents(atPath: dir.path + "/one/" + shard.file), "\(shard.file)")
        }
    }
}
