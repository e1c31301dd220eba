import Foundation
public import Shards
public import Support
import Transfer

#if canImport(Glibc)
import Glibc
#endif

/// The cache a remote set's shards are kept in: a folder of whole, verified shard files and a
/// limit on the bytes it may hold.
public struct CacheSettings: Sendable, Hashable {
    /// The folder (default `$DATAPREP_HOME/cache`).
    public var folder: String
    /// The most bytes of shard files the folder may hold (nil: no limit); it must hold the largest
    /// shard of a set read through it.
    public var limit: Int?

    /// - Parameters:
    ///   - folder: the cache folder, created when missing.
    ///   - limit: the most bytes of shard files it may hold; nil: no limit.
    public init(folder: String = DataPrepHome.path() + "/cache", limit: Int? = nil) {
        self.folder = folder
        self.limit = limit
    }
}

/// A ``ShardStore`` for a set on a web server or in S3: each shard is fetched whole into the
/// cache folder, verified, memory-mapped, and kept there until it must make room.
///
/// - **Fetching.** A shard is fetched with Range requests of at most ``chunkSize`` bytes into a
///   file of a unique temporary name, mapped and verified under that name, then renamed into place
///   (two processes sharing the folder never see each other's half-written files, and a fetch
///   never opens its shard by the shared name, which another reader may unlink at any time). A
///   dropped connection, a timeout, a 5xx, 408 or 429 is retried with backoff and resumes at the
///   last byte received. Every response must be the object first seen: its size the manifest's,
///   its ETag the one recorded at the shard's first response in this run; otherwise the run stops
///   with `setChanged`, naming the shard, and no byte of the other version is kept.
/// - **Verifying.** A cached file is used only when its size is the manifest's and its header and
///   the XXH64 of its checksum table give the manifest's digest (the reader checks every record's
///   XXH64 as it reads it). Files are named after the shard's URL and digest, so a set rewritten
///   under the same URL never reads stale files.
/// - **Evicting.** With a limit, room is made by deleting the least recently used shard files of
///   the folder (this set's or others') that no reader has pinned, sparing the shards about to be
///   read; a pin waits when every file in the way is pinned. Each store counts the files it found
///   and fetched, so readers sharing a folder may evict each other's files: a deleted name never
///   takes bytes from a reader that mapped the file (the mapping holds the file, not its name), and
///   a cached file that is gone by the time it is opened is a miss, fetched again (once: a fetch
///   maps its own file before it has a shared name).
/// - **Prefetching.** Two threads fetch the shards of the reader's hint (``prefetch(_:)``) in order
///   while they fit without evicting one needed sooner.
public final class RemoteShardStore: ShardStore, @unchecked Sendable {
    /// Bytes asked for by one Range request.
    public static let chunkSize = 16 << 20
    /// Threads fetching ahead of the reader.
    static let prefetchThreads = 2

    /// Requests for the set's objects.
    public let client: ObjectClient
    /// The manifest the run read: each shard's size and digest are pinned by it.
    public let manifest: ShardManifest
    /// The cache folder and its limit.
    public let cache: CacheSettings
    private let entries: [Entry]
    /// Files of other sets (or other versions) in the cache folder: name → (bytes, last use).
    private var foreign: [String: (bytes: Int, used: Double)] = [:]
    /// Bytes of the files in the folder, counting the fetches under way.
    private var used = 0
    private var upcoming: [Int] = []
    private var counters = ShardStoreStatistics()
    private var closed = false
    private let condition = NSCondition()
    private static let temporaryCounter = Counter()

    /// One shard's state; guarded by `condition`.
    private final class Entry {
        let shard: ShardManifest.Shard
        let url: String
        let path: String
        var mapping: ShardMapping?
        /// The file is in the folder (verified when mapped).
        var onDisk = false
        var fetching = false
        var pins = 0
        /// Wall-clock seconds of the last release (or of the file's modification).
        var used = 0.0
        /// The ETag and size of the object's first response in this run.
        var etag: String?

        init(shard: ShardManifest.Shard, url: String, path: String) {
            self.shard = shard
            self.url = url
            self.path = path
        }
    }

    /// A store for the set `manifest` describes at `client`'s location, cached in `cache`.
    /// - Throws: ``RemoteSetError`` `invalidArgument` when the limit is smaller than the largest
    ///   shard, `fileSystem` when the folder cannot be made or read.
    public init(client: ObjectClient, manifest: ShardManifest, cache: CacheSettings) throws {
        self.client = client
        self.manifest = manifest
        self.cache = cache
        if let limit = cache.limit, let largest = manifest.shards.map(\.bytes).max(), largest > limit {
            throw RemoteSetError(
                .invalidArgument,
                "the cache limit of \(limit < 100_000 ? "\(limit) bytes" : Self.megabytes(limit)) is smaller than the largest shard (\(Self.megabytes(largest))): "
                    + "give --cache-limit at least that", subject: client.location.description)
        }
        do { try FileIO.createFolder(cache.folder) } catch { throw RemoteSetError(error) }
        entries = manifest.shards.map { shard in
            let url = client.url(of: shard.file)
            let name = String(format: "%016llx", Array(url.utf8).withUnsafeBytes { XXHash64.hash($0) }) + "-" + shard.digest + ".dps"
            return Entry(shard: shard, url: url, path: cache.folder + "/" + name)
        }
        scanFolder()
        for _ in 0..<Self.prefetchThreads {
            Thread { [weak self] in
                while let store = self, store.prefetchStep() {}
            }.start()
        }
    }

    deinit {
        condition.withLock { closed = true }
        condition.broadcast()
    }

    /// Notes every shard file of the folder: this set's as on disk, the others' as foreign; and
    /// removes temporary files of fetches that ended more than an hour ago.
    private func scanFolder() {
        let own = Dictionary(entries.enumerated().map { (($1.path as NSString).lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.folder)) ?? []
        let now = Date().timeIntervalSince1970
        for name in names {
            var status = stat()
            guard stat(cache.folder + "/" + name, &status) == 0 else { continue }
            let modified = Double(status.st_mtim.tv_sec)
            if name.contains(".partial-") {
                if now - modified > 3600 { unlink(cache.folder + "/" + name) }
                continue
            }
            guard name.hasSuffix(".dps") else { continue }
            if let k = own[name] {
                entries[k].onDisk = true
                entries[k].used = modified
            } else {
                foreign[name] = (Int(status.st_size), modified)
            }
            used += Int(status.st_size)
        }
    }

    // MARK: ShardStore

    public func location(of shard: Int) -> String { entries[shard].url }

    /// The cache file of shard `shard` (there once it has been pinned, until it is evicted).
    public func cachedFile(of shard: Int) -> String { entries[shard].path }

    public func pin(_ shard: Int) throws -> UnsafeRawBufferPointer {
        let entry = entries[shard]
        let started = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        // The hint is consumed as the reader goes: the shards before this one are behind it.
        if let position = upcoming.firstIndex(of: shard), position > 0 { upcoming.removeFirst(position) }
        defer {
            counters.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            condition.unlock()
        }
        var waited = false
        while true {
            if let mapping = entry.mapping {
                entry.pins += 1
                if waited { counters.misses += 1 } else { counters.hits += 1 }
                return mapping.bytes
            }
            if entry.fetching {
                waited = true
                condition.wait()
                continue
            }
            if entry.onDisk {
                // A file of an earlier run (or another process): verified before it is used.
                switch unlocked(marking: entry, { try verifiedMapping(of: entry.path, entry) }) {
                case .success(let mapping):
                    entry.mapping = mapping
                    continue
                case .failure(let error):
                    entry.onDisk = false
                    used -= entry.shard.bytes
                    // Gone (a reader sharing the folder evicted it): a miss, fetched below. A file
                    // that is not the manifest's shard is deleted (a fetch would replace it anyway).
                    if (error as? ShardError)?.code != .missingShard { unlink(entry.path) }
                }
            }
            waited = true
            guard makeRoom(entry.shard.bytes, sparing: []) else {
                condition.wait()  // every file in the way is pinned: wait for a release
                continue
            }
            try fetchLocked(entry)
        }
    }

    public func release(_ shard: Int) {
        condition.withLock {
            let entry = entries[shard]
            entry.pins -= 1
            entry.used = Date().timeIntervalSince1970
        }
        condition.broadcast()
    }

    public func prefetch(_ upcoming: [Int]) {
        condition.withLock { self.upcoming = upcoming.filter { entries.indices.contains($0) } }
        condition.broadcast()
    }

    public var statistics: ShardStoreStatistics {
        condition.withLock {
            var counters = counters
            counters.retries = client.retries
            return counters
        }
    }

    // MARK: Room in the cache

    /// Deletes unpinned files until `bytes` more fit under the limit, least recently used first:
    /// files not in the reader's hint before those in it, and of those the ones needed last first;
    /// never a shard of `sparing`. False when not enough can be deleted. Called holding the lock.
    private func makeRoom(_ bytes: Int, sparing: Set<Int>) -> Bool {
        guard let limit = cache.limit else { return true }
        let position = Dictionary(upcoming.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        while used + bytes > limit {
            // (in the hint, how soon it is needed or how long ago it was used): smallest first.
            var victim: (key: (Int, Double), evict: () -> Void)?
            for (k, entry) in entries.enumerated()
            where entry.onDisk && entry.pins == 0 && !entry.fetching && !sparing.contains(k) {
                let key = position[k].map { (1, -Double($0)) } ?? (0, entry.used)
                if victim == nil || key < victim!.key {
                    victim = (
                        key,
                        { [self] in
                            entry.mapping = nil
                            entry.onDisk = false
                            used -= entry.shard.bytes
                            unlink(entry.path)
                        }
                    )
                }
            }
            for (name, file) in foreign where victim == nil || (0, file.used) < victim!.key {
                victim = (
                    (0, file.used),
                    { [self] in
                        foreign[name] = nil
                        used -= file.bytes
                        unlink(cache.folder + "/" + name)
                    }
                )
            }
            guard let victim else { return false }
            victim.evict()
            counters.evictions += 1
        }
        return true
    }

    // MARK: Fetching

    /// Fetches `entry` with the lock held on entry and exit (released meanwhile), reserving its
    /// bytes first; on success the shard is on disk and mapped.
    private func fetchLocked(_ entry: Entry) throws {
        used += entry.shard.bytes
        switch unlocked(marking: entry, { try fetch(entry) }) {
        case .success(let mapping):
            entry.mapping = mapping
            entry.onDisk = true
            entry.used = Date().timeIntervalSince1970
            counters.fetches += 1
        case .failure(let error):
            used -= entry.shard.bytes
            throw error
        }
    }

    /// Runs `body` with the lock released and `entry` marked as being fetched meanwhile (its pins
    /// wait, and no other thread fetches or evicts it); called holding the lock, held again on return.
    private func unlocked(marking entry: Entry, _ body: () throws -> ShardMapping) -> Result<ShardMapping, any Error> {
        entry.fetching = true
        condition.unlock()
        let result = Result(catching: body)
        condition.lock()
        entry.fetching = false
        condition.broadcast()
        return result
    }

    /// One prefetch: the first shard of the hint that is not cached, when it fits without evicting
    /// a shard needed before it. False once the store is gone.
    private func prefetchStep() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        for (position, k) in upcoming.enumerated() {
            let entry = entries[k]
            guard entry.mapping == nil, !entry.fetching, !entry.onDisk else { continue }
            guard makeRoom(entry.shard.bytes, sparing: Set(upcoming[...position])) else { break }
            try? fetchLocked(entry)  // a failure is met again, and reported, by the pin
            return true
        }
        _ = condition.wait(until: Date(timeIntervalSinceNow: 0.5))
        return !closed
    }

    /// Downloads `entry`'s object into a temporary file in Range requests, maps and checks it, and
    /// renames it into the folder. The mapping is made under the temporary name, which no other
    /// reader knows: once renamed, the name may be unlinked by a reader sharing the folder (evicting
    /// its own copy) without taking the bytes, and a file that fails the checks never gets the name.
    /// - Throws: ``RemoteSetError`` (`setChanged` naming the shard's URL, `httpStatus`,
    ///   `transferFailed`, `fileSystem`) or ``ShardError`` for bytes that are not the manifest's.
    private func fetch(_ entry: Entry) throws -> ShardMapping {
        let size = entry.shard.bytes
        let temporary = entry.path + ".partial-\(getpid())-\(Self.temporaryCounter.next())"
        let file: OutputFile
        do { file = try OutputFile(creating: temporary, options: [.exclusive]) } catch { throw RemoteSetError(error) }
        var keep = false
        defer {
            try? file.close()
            if !keep { unlink(temporary) }
        }
        var received = 0, mostReceived = 0
        var writeFailure: SupportError?
        var changed: String?
        var restart = false
        while received < size {
            try client.withRetries(progressed: {
                defer { mostReceived = max(mostReceived, received) }
                return received > mostReceived
            }) { easy in
                let start = received
                let length = min(Self.chunkSize, size - start)
                do {
                    try perform(easy, entry: entry, start: start, length: length)
                } catch let failure as TransferFailure where failure.reason == .sourceChanged || failure.reason == .refusedByReceiver {
                    if let writeFailure { throw RemoteSetError(writeFailure) }
                    if let changed {
                        throw RemoteSetError(
                            .setChanged,
                            "the shard changed while this run read the set (\(changed)): the set was rewritten; start the run again",
                            subject: entry.url)
                    }
                    if restart {  // the server sent the whole object: take it from byte 0
                        restart = false
                        received = 0
                        return
                    }
                    throw failure
                }
            }
        }
        do {
            try file.close()
        } catch { throw RemoteSetError(error) }
        let mapping = try verifiedMapping(of: temporary, entry)
        guard rename(temporary, entry.path) == 0 else {
            throw RemoteSetError(SupportError.system("cannot rename a fetched shard", path: entry.path))
        }
        keep = true
        return mapping

        /// One Range request for bytes `start ..< start + length`, written into the file as they come.
        func perform(_ easy: CurlEasy, entry: Entry, start: Int, length: Int) throws(TransferFailure) {
            try easy.perform(
                client.request(entry.shard.file, range: .slice(offset: start, length: length)),
                receive: { chunk in
                    guard received + chunk.count <= start + length else {
                        changed = "the server sent more bytes than the range asked for"
                        return false
                    }
                    do throws(SupportError) { try file.write(chunk, at: received) } catch {
                        writeFailure = error
                        return false
                    }
                    received += chunk.count
                    self.condition.withLock { self.counters.bytesFetched += chunk.count }
                    return true
                },
                accept: { response in
                    if response.status == 200 && response.rangeStart == nil {
                        // The whole object, although a range was asked for.
                        guard response.contentLength == size else {
                            changed =
                                "the object is \(response.contentLength.map(String.init) ?? "of unknown size") bytes; the manifest says \(size)"
                            return false
                        }
                        guard start == 0 else {
                            restart = true
                            return false
                        }
                    } else if response.rangeStart != start {
                        changed = "the server answered another range than bytes \(start)-\(start + length - 1)"
                        return false
                    }
                    if let total = response.size, total != size {
                        changed = "the object is \(total) bytes; the manifest says \(size)"
                        return false
                    }
                    return self.condition.withLock {
                        guard let etag = response.etag else { return true }
                        if let recorded = entry.etag, recorded != etag {
                            changed = "its ETag was \(recorded) and is now \(etag)"
                            return false
                        }
                        entry.etag = etag
                        return true
                    }
                })
        }
    }

    /// Maps the file at `path` (`entry`'s cache file, or its fetch's temporary file) and checks it
    /// against the manifest (size, header, digest of the checksum table). The mapping stays valid
    /// whatever becomes of the name after.
    /// - Throws: ``ShardError`` naming the file (`missingShard` when it is not there) or, for
    ///   bytes that are not the manifest's shard, the shard's URL.
    private func verifiedMapping(of path: String, _ entry: Entry) throws -> ShardMapping {
        let mapping = try ShardMapping(path: path)
        try ShardFileCheck.check(mapping.bytes, against: entry.shard, layout: manifest.layout, location: entry.url, table: true)
        return mapping
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
}

/// A thread-safe counter, for unique temporary names.
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()

    func next() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
