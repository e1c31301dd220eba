import Foundation
import RemoteShards
import Shards
import TestSupport
import Testing
import Transfer

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []

    func add(_ error: String) { lock.withLock { errors.append(error) } }
    var all: [String] { lock.withLock { errors } }
}

/// A set served by the tests' loopback HTTP server, read through the shard cache: the same batches
/// as from the folder, whatever the cache, and every fault named.
@Suite struct RemoteReadingTests {
    /// 60 samples of 8×8×1 in shards of 10 (six shards), labels i % 3.
    static func writeSet(at directory: String) throws -> ShardManifest {
        let writer = try ShardWriter(
            directory: directory, split: "train", spec: ImageSpec(width: 8, height: 8, channels: 1), rotation: .init(maxSamples: 10))
        for i in 0..<60 {
            let image = (0..<64).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0 &* 7) }
            try image.withUnsafeBytes { try writer.append(image: $0, label: i % 3, source: UInt32(i)) }
        }
        return try writer.finish(
            classNames: ["a", "b", "c"], sources: (0..<60).map { "\($0).png" },
            provenance: .init(dataset: "synthetic", tool: "test", options: [:], seed: nil))
    }

    /// Options that retry at once, so fault tests take milliseconds.
    static let quick = RemoteOptions(initialRetryDelay: 0.01, maximumRetryDelay: 0.02)

    /// A served set: its local folder, the server, and a fresh cache folder.
    struct Served {
        let folder: String
        let manifest: ShardManifest
        let server: LoopbackHTTPServer
        let cache: String
        var url: String { server.baseURL + "/set" }

        func open(limit: Int? = nil) throws -> ShardSet {
            try RemoteSet.open(try SetLocation(url), cache: CacheSettings(folder: cache, limit: limit), options: RemoteReadingTests.quick)
        }

        func shardPath(_ k: Int) -> String { "/set/" + manifest.shards[k].file }
    }

    /// Verifies each of `sets` `rounds` times from two threads at once per set; expects no failure
    /// and no temporary file left in their shared cache folder `cache`.
    func verifyConcurrently(
        _ sets: [ShardSet], rounds: Int, sharing cache: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2 * sets.count) { k in
            do {
                for _ in 0..<rounds { try sets[k % sets.count].verify() }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)", sourceLocation: sourceLocation)
        let names = try FileManager.default.contentsOfDirectory(atPath: cache)
        #expect(names.allSatisfy { $0.hasSuffix(".dps") }, "\(names)", sourceLocation: sourceLocation)  // no temporary file left
    }

    func withServedSet(_ body: (Served) throws -> Void) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let manifest = try Self.writeSet(at: folder + "/set")
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        try server.serveFolder(folder + "/set", at: "/set")
        try body(Served(folder: folder + "/set", manifest: manifest, server: server, cache: folder + "/cache"))
    }

    /// Every batch of `epochs` epochs: (samples, image bytes, labels).
    func batches(_ set: ShardSet, _ options: BatchOptions, epochs: Range<Int>) throws -> [[Int]: [UInt8]] {
        let loader = try BatchLoader(set: set, options: options)
        var seen: [[Int]: [UInt8]] = [:]
        for epoch in epochs {
            let batches = loader.epoch(epoch)
            while let batch = try batches.next() {
                seen[Array(batch.samples)] = Array(batch.imageBytes) + batch.labels!.flatMap { withUnsafeBytes(of: $0) { Array($0) } }
            }
        }
        return seen
    }

    @Test func aServedSetGivesTheFoldersBatchesWhateverTheCacheAndOrder() throws {
        try withServedSet { served in
            let local = try ShardSet(directory: served.folder)
            let setBytes = served.manifest.shards.map(\.bytes).reduce(0, +)
            for window in [nil, 1] as [Int?] {
                let options = BatchOptions(batchSize: 7, element: .uint8, seed: 5, prefetch: 2, threads: 1, shardWindow: window)
                let expected = try batches(local, options, epochs: 0..<3)
                // No limit, then a third of the set: the same batches, with evictions.
                for limit in [nil, setBytes / 3] as [Int?] {
                    try? FileManager.default.removeItem(atPath: served.cache)
                    let remote = try served.open(limit: limit)
                    #expect(
                        try batches(remote, options, epochs: 0..<3) == expected,
                        "window \(String(describing: window)), limit \(String(describing: limit))")
                    let statistics = try #require(remote.cacheStatistics)
                    #expect(statistics.fetches >= served.manifest.shards.count)
                    if limit != nil { #expect(statistics.evictions > 0) } else { #expect(statistics.evictions == 0) }
                    if limit != nil, window != nil {
                        // Shard by shard, each shard is fetched about once per epoch.
                        #expect(statistics.fetches <= 3 * served.manifest.shards.count + 2, "\(statistics)")
                    }
                }
            }
        }
    }

    @Test func aSecondRunReadsTheCacheAndFetchesNothing() throws {
        try withServedSet { served in
            try served.open().verify()
            let requests = served.server.requests.count
            let again = try served.open()
            try again.verify()
            #expect(again.cacheStatistics?.fetches == 0)
            #expect(served.server.requests.count == requests + 1)  // the manifest only
        }
    }

    @Test func aConnectionDroppedMidShardResumesAtTheByteItReached() throws {
        try withServedSet { served in
            served.server.inject(.dropConnection(afterBodyBytes: 300), at: served.shardPath(1))
            let set = try served.open()
            try set.verify()
            let ranges = served.server.requests.filter { $0.path == served.shardPath(1) }.compactMap(\.range)
            #expect(ranges == ["bytes=0-\(served.manifest.shards[1].bytes - 1)", "bytes=300-\(served.manifest.shards[1].bytes - 1)"])
            #expect(set.cacheStatistics?.retries == 1)
        }
    }

    @Test func aStalledTransferTimesOutAndResumes() throws {
        try withServedSet { served in
            served.server.inject(.stall(afterBodyBytes: 200, seconds: 10), at: served.shardPath(1))
            var options = Self.quick
            options.limits = TransferLimits(connectTimeout: 5, lowSpeedLimit: 100_000, lowSpeedTime: 1)
            let set = try RemoteSet.open(try SetLocation(served.url), cache: CacheSettings(folder: served.cache), options: options)
            try set.verify()
            #expect(set.cacheStatistics?.retries == 1)
            let ranges = served.server.requests.filter { $0.path == served.shardPath(1) }.compactMap(\.range)
            #expect(ranges.last == "bytes=200-\(served.manifest.shards[1].bytes - 1)")
        }
    }

    @Test func twoReadersSharingACacheFolderNeverSeeEachOthersHalfFiles() throws {
        try withServedSet { served in
            let sets = try (0..<2).map { _ in try served.open(limit: served.manifest.shards.map(\.bytes).reduce(0, +) / 2) }
            try verifyConcurrently(sets, rounds: 3, sharing: served.cache)
        }
    }

    /// The race of readers sharing a folder, made frequent: three readers whose limit holds two
    /// shards, so each evicts (unlinks) the files the others have just fetched under the same names.
    /// A file that vanishes before it is opened is a miss fetched again, never a `missingShard`.
    @Test func readersEvictingEachOthersFilesRefetchWhatVanishes() throws {
        try withServedSet { served in
            let limit = 2 * served.manifest.shards.map(\.bytes).max()!
            let sets = try (0..<3).map { _ in try served.open(limit: limit) }
            try verifyConcurrently(sets, rounds: 8, sharing: served.cache)
            #expect(sets.allSatisfy { $0.cacheStatistics!.evictions > 0 })
        }
    }

    @Test func aServerErrorThenSuccessIsRetried() throws {
        try withServedSet { served in
            served.server.inject(.status(500), at: served.shardPath(2))
            served.server.inject(.status(429), at: served.shardPath(2))
            let set = try served.open()
            try set.verify()
            #expect(set.cacheStatistics?.retries == 2)
        }
    }

    @Test func aMissingShardNamesItsURLAndWhatTheServerSaid() throws {
        try withServedSet { served in
            served.server.inject(.status(404), at: served.shardPath(3), times: 10)
            let set = try served.open()
            let error = expectError(RemoteSetError.self, .httpStatus) { try set.verify() }
            #expect(error?.subject == served.server.baseURL + served.shardPath(3))
            #expect(error?.message.hasPrefix("HTTP 404 Not Found: injected status 404") == true, "\(String(describing: error))")
            // No retry for a 404.
            #expect(served.server.requests.filter { $0.path == served.shardPath(3) }.count == 1)
        }
    }

    @Test func aSetRewrittenUnderTheRunIsAnErrorNamingTheShardNeverAMix() throws {
        try withServedSet { served in
            var other = try #require(served.server.file(at: served.shardPath(0)))
            other[200] ^= 0xFF
            served.server.inject(.dropAndReplace(afterBodyBytes: 150, with: other), at: served.shardPath(0))
            let set = try served.open()
            let error = expectError(RemoteSetError.self, .setChanged) { try set.verify() }
            #expect(error?.subject == served.server.baseURL + served.shardPath(0))
            #expect(error?.message.contains("ETag") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: served.cache).isEmpty)  // nothing of either version kept
        }
    }

    @Test func aFlippedRecordByteIsFoundNamingTheShardURLAndSample() throws {
        try withServedSet { served in
            var damaged = try #require(served.server.file(at: served.shardPath(4)))
            damaged[128 + 3 * served.manifest.layout.stride + 5] ^= 0x01  // record 3's image
            served.server.setFile(damaged, at: served.shardPath(4))
            let set = try served.open()
            let loader = try BatchLoader(set: set, options: BatchOptions(batchSize: 60, shuffle: false))
            let error = expectError(ShardError.self, .checksumMismatch) { _ = try loader.epoch(0).next() }
            #expect(error?.file == served.server.baseURL + served.shardPath(4) && error?.sample == 3)
        }
    }

    @Test(arguments: ["x%2e%2e%2fy.dps", "x?y.dps", "x#y.dps", "x y.dps"])
    func aShardNameAServerCouldDecodeIntoAnotherPathIsRefused(_ name: String) throws {
        try withServedSet { served in
            let text = try #require(served.server.file(at: "/set/manifest.json").map { String(decoding: $0, as: UTF8.self) })
            let renamed = text.replacingOccurrences(of: "\"\(served.manifest.shards[0].file)\"", with: "\"\(name)\"")
            #expect(renamed != text)
            served.server.setFile(Array(renamed.utf8), at: "/set/manifest.json")
            let error = expectError(ShardError.self, .manifestMismatch) { _ = try served.open() }
            #expect(error?.message.contains("shard '\(name)'") == true, "\(error?.message ?? "")")
            #expect(!served.server.requests.contains { $0.path.contains("y.dps") })  // nothing asked for
        }
    }

    @Test func aCacheLimitBelowTheLargestShardIsRefused() throws {
        try withServedSet { served in
            expectError(RemoteSetError.self, .invalidArgument) { _ = try served.open(limit: served.manifest.shards[0].bytes - 1) }
        }
    }

    @Test func aURLWithoutManifestIsNotAShardSet() throws {
        try withServedSet { served in
            let error = expectError(ShardError.self, .manifestMismatch) {
                _ = try RemoteSet.open(
                    try SetLocation(served.server.baseURL + "/nothing"), cache: CacheSettings(folder: served.cache), options: Self.quick)
            }
            #expect(error?.message.hasPrefix("not a shard set") == true)
        }
    }
}
