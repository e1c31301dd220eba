import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

// MARK: - The storage seam

/// Where a ``ShardSet``'s shard bytes live: the seam between the reader and storage. A local set's
/// shards are memory-mapped files (``LocalShardStore``); a remote set's are fetched into a bounded
/// local cache (the RemoteShards module). The reader pins a shard while it reads records from
/// it and releases it after, so a store may evict what is not pinned.
///
/// Every shard a store hands out has been checked against the manifest: its size, its header
/// (count, layout, digest) and, for a store that fetched it, the digest of its checksum table.
/// Records are checked against their XXH64 by the reader. Implementations are thread-safe.
public protocol ShardStore: AnyObject, Sendable {
    /// Where shard `shard` lives, for messages: a file path or a URL.
    func location(of shard: Int) -> String

    /// Makes shard `shard`'s bytes (the whole file) resident and keeps them so until a matching
    /// ``release(_:)``; pins nest. Blocks while the shard is fetched.
    /// - Returns: the file's bytes, valid until the matching release.
    /// - Throws: the store's error naming the shard (``ShardError`` for a shard that disagrees with
    ///   the manifest; a remote store's transfer errors).
    func pin(_ shard: Int) throws -> UnsafeRawBufferPointer

    /// Ends one ``pin(_:)`` of `shard`: when none is left the store may evict it.
    func release(_ shard: Int)

    /// Tells the store which shards the reader will pin next, soonest first (replacing the last
    /// hint), so it can fetch them ahead. A hint only: it changes no byte read.
    func prefetch(_ upcoming: [Int])

    /// What reading has cost so far.
    var statistics: ShardStoreStatistics { get }
}

extension ShardStore {
    public func prefetch(_ upcoming: [Int]) {}
    public var statistics: ShardStoreStatistics { ShardStoreStatistics() }
}

/// What a store's reading has cost: how often a pinned shard was already there, and what was
/// fetched and evicted to make it so. All zero for a local set.
public struct ShardStoreStatistics: Sendable, Hashable {
    /// Pins that found the shard resident (in memory or in the cache folder).
    public var hits = 0
    /// Pins that had to wait for a fetch (their own, or one already under way).
    public var misses = 0
    /// Shards fetched from the source, and their bytes.
    public var fetches = 0
    public var bytesFetched = 0
    /// Cached shards removed to make room.
    public var evictions = 0
    /// Requests retried after a transient failure.
    public var retries = 0
    /// Seconds readers spent blocked in ``ShardStore/pin(_:)``.
    public var waitSeconds = 0.0

    public init() {}

    /// hits / (hits + misses), or 1 when nothing was pinned.
    public var hitRate: Double { hits + misses == 0 ? 1 : Double(hits) / Double(hits + misses) }
}

// MARK: - Checking a shard's bytes

/// The checks a store applies to a shard's bytes before handing them out.
public enum ShardFileCheck {
    /// The digest the header of the shard `bytes` records (the XXH64 of its checksum table), as
    /// the manifest writes it (16 hex digits), once the header is parsed and checked.
    /// - Throws: ``ShardError`` `truncated`, `badMagic`, `unsupportedVersion` or `badHeader`,
    ///   naming `location`.
    public static func recordedDigest(of bytes: UnsafeRawBufferPointer, location: String) throws -> String {
        String(format: "%016llx", try ShardHeader(decoding: bytes, file: location).digest)
    }

    /// Checks that `bytes` are the shard the manifest describes: its header parses and agrees
    /// (count, layout, digest), its size is the manifest's `bytes` (shorter: `truncated`; longer:
    /// `manifestMismatch`), and (when `table` is true) the XXH64 of its checksum table is the digest.
    /// - Throws: ``ShardError`` `truncated`, `badMagic`, `unsupportedVersion`, `badHeader` or
    ///   `manifestMismatch`, naming `location`.
    public static func check(
        _ bytes: UnsafeRawBufferPointer, against shard: ShardManifest.Shard, layout: RecordLayout, location: String, table: Bool
    ) throws {
        let header = try ShardHeader(decoding: bytes, file: location)
        guard header.count == shard.count, header.layout == layout, String(format: "%016llx", header.digest) == shard.digest
        else {
            throw ShardError(
                .manifestMismatch,
                "the shard holds \(header.count) samples with digest "
                    + String(format: "%016llx", header.digest) + " but the manifest says \(shard.count) and "
                    + "\(shard.digest) (or the layouts differ)", file: location)
        }
        guard bytes.count >= header.fileSize else {
            throw ShardError(.truncated, "\(bytes.count) bytes; the header needs \(header.fileSize)", file: location)
        }
        // The manifest's bytes are the header's size (validated): anything after is not the shard.
        guard bytes.count == shard.bytes else {
            throw ShardError(
                .manifestMismatch,
                "\(bytes.count) bytes, more than the \(shard.bytes) its header and the manifest say: bytes were added", file: location)
        }
        if table {
            let start = header.checksumTableOffset
            let digest = XXHash64.hash(UnsafeRawBufferPointer(rebasing: bytes[start..<start + 8 * header.count]))
            guard String(format: "%016llx", digest) == shard.digest else {
                throw ShardError(.badHeader, "the checksum table does not match the shard digest", file: location)
            }
        }
    }
}

// MARK: - Local sets

/// The store of a set in a local folder: every shard memory-mapped (read-only, shared) and checked
/// against the manifest when the store is made, so pins cost nothing and nothing is ever evicted.
public final class LocalShardStore: ShardStore, @unchecked Sendable {
    /// The set's folder.
    public let directory: String
    private let mappings: [ShardMapping]

    /// Maps every shard `manifest` lists in `directory` and checks each one's header and size.
    /// - Throws: ``ShardError`` `missingShard`, `truncated`, `badMagic`, `unsupportedVersion`,
    ///   `badHeader` or `manifestMismatch`, naming the file.
    public init(directory: String, manifest: ShardManifest) throws {
        self.directory = directory
        mappings = try manifest.shards.map { shard in
            let mapping = try ShardMapping(path: directory + "/" + shard.file)
            try ShardFileCheck.check(mapping.bytes, against: shard, layout: manifest.layout, location: mapping.path, table: false)
            return mapping
        }
    }

    public func location(of shard: Int) -> String { mappings[shard].path }

    public func pin(_ shard: Int) throws -> UnsafeRawBufferPointer { mappings[shard].bytes }

    public func release(_ shard: Int) {}
}

/// A read-only `mmap` of one shard file, unmapped in `deinit`.
public final class ShardMapping: @unchecked Sendable {
    /// The file mapped.
    public let path: String
    /// Its bytes, valid as long as the mapping is alive.
    public let bytes: UnsafeRawBufferPointer

    /// Maps the file at `path` (at least a header's worth of bytes).
    /// - Throws: ``ShardError`` `missingShard` when there is no file, `truncated` when it is
    ///   shorter than a header, `fileSystem` when it cannot be opened or mapped.
    public init(path: String) throws {
        self.path = path
        let fd: Int32
        do throws(SupportError) { fd = try FileIO.openRegularFile(at: path) } catch {
            throw error.errno == ENOENT
                ? ShardError(.missingShard, "the manifest lists it but it is not there", file: path) : ShardError(error)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw ShardError(.system("cannot stat", path: path)) }
        let size = Int(status.st_size)
        guard size >= ShardHeader.size else {
            throw ShardError(.truncated, "\(size) bytes, shorter than the \(ShardHeader.size)-byte header", file: path)
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw ShardError(.system("cannot mmap", path: path))
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}
