import Foundation
import Support

/// A complete shard set opened for reading: the manifest, and a ``ShardStore`` that makes each
/// shard's bytes resident when a reader pins it (a local folder's shards are memory-mapped; a
/// remote set's come through a local cache), so sample `i` is found in O(1) once its shard is.
///
/// Records are read through ``withShard(_:_:)`` (one pin for many records, what ``BatchLoader``
/// and `merge` do) or one at a time through the throwing accessors (``label(_:)``, ``image(_:)``,
/// ...), which pin and release the shard around each call. Immutable after opening, so it is
/// safely shared by threads.
public final class ShardSet: @unchecked Sendable {
    /// The set's folder, or its URL for a remote set: what messages name.
    public let directory: String
    /// What the set holds: its shards' sizes and digests are what the store's bytes are checked against.
    public let manifest: ShardManifest
    /// Where the shards' bytes come from.
    public let store: any ShardStore
    /// `starts[k]` is the global index of shard k's first sample (plus a final total).
    public let starts: [Int]

    /// Opens the set in the local folder `directory`: every shard is memory-mapped and its header
    /// and size checked against the manifest.
    /// - Throws: ``ShardError`` — `manifestMismatch` (no or bad manifest, or a shard disagreeing with
    ///   it), `missingShard`, `truncated`, `badMagic`, `unsupportedVersion`, `badHeader`, each naming
    ///   the file.
    public convenience init(directory: String) throws {
        let manifest = try ShardManifest.read(from: directory)
        try self.init(manifest: manifest, location: directory, store: try LocalShardStore(directory: directory, manifest: manifest))
    }

    /// A set whose shards `store` provides.
    /// - Parameter location: the set's folder or URL, for messages.
    /// - Throws: ``ShardError`` `manifestMismatch` when the shards' counts do not add up to the
    ///   manifest's.
    public init(manifest: ShardManifest, location: String, store: any ShardStore) throws {
        directory = location
        self.manifest = manifest
        self.store = store
        var starts = [0]
        for shard in manifest.shards { starts.append(starts.last! + shard.count) }
        guard starts.last == manifest.count else {
            throw ShardError(
                .manifestMismatch, "shards hold \(starts.last!) samples, the manifest says \(manifest.count)",
                file: location + "/manifest.json")
        }
        self.starts = starts
    }

    /// Samples in the set.
    public var count: Int { manifest.count }

    public var layout: RecordLayout { manifest.layout }

    /// Which shard holds global sample `index` (0..<count), and its index there.
    public func locate(_ index: Int) -> (shard: Int, local: Int) {
        var low = 0, high = manifest.shards.count - 1
        while low < high {  // last shard whose start ≤ index
            let mid = (low + high + 1) / 2
            if starts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return (low, index - starts[low])
    }

    /// Runs `body` with shard `shard`'s records, pinned for the length of the call.
    /// - Throws: the store's error for a shard it cannot provide, or what `body` throws.
    public func withShard<T>(_ shard: Int, _ body: (ShardRecords) throws -> T) throws -> T {
        let bytes = try store.pin(shard)
        defer { store.release(shard) }
        return try body(
            ShardRecords(
                bytes: bytes, layout: manifest.layout, count: manifest.shards[shard].count, first: starts[shard],
                location: store.location(of: shard), classes: manifest.classNames.count))
    }

    // MARK: One sample at a time

    /// The label of record `index` (``ShardRecords/label(_:)``: one of the manifest's classes).
    public func label(_ index: Int) throws -> Int {
        let (shard, local) = locate(index)
        return try withShard(shard) { try $0.label(local) }
    }

    /// A copy of the image bytes (H·W·C, HWC) of record `index`.
    public func image(_ index: Int) throws -> [UInt8] {
        let (shard, local) = locate(index)
        return try withShard(shard) { Array($0.image(local)) }
    }

    /// The source id of record `index`, when records carry one.
    public func source(_ index: Int) throws -> UInt32? {
        let (shard, local) = locate(index)
        return try withShard(shard) { $0.source(local) }
    }

    /// The float32 parameters of record `index` (empty when records carry none).
    public func parameters(_ index: Int) throws -> [Float] {
        let (shard, local) = locate(index)
        return try withShard(shard) { $0.parameters(local) }
    }

    /// Whether record `index` matches its stored checksum.
    public func recordIsIntact(_ index: Int) throws -> Bool {
        let (shard, local) = locate(index)
        return try withShard(shard) { $0.recordIsIntact(local) }
    }

    /// The label of every sample `stride` apart from 0 (with `stride` = copies: one label per
    /// image), reading each shard once, in order.
    public func labels(stride step: Int = 1) throws -> [Int] {
        var labels: [Int] = []
        labels.reserveCapacity(count / max(step, 1) + 1)
        var index = 0
        for shard in manifest.shards.indices where index < starts[shard + 1] {
            try withShard(shard) { records in
                while index < starts[shard + 1] {
                    labels.append(try records.label(index - starts[shard]))
                    index += max(step, 1)
                }
            }
        }
        return labels
    }

    /// Checks every record checksum and label, and every shard digest, one shard at a time.
    /// - Throws: ``ShardError`` `checksumMismatch` naming the first damaged shard and sample (the
    ///   sample index within that shard), `manifestMismatch` for a label outside the class list,
    ///   or `badHeader` when a checksum table is damaged; or the store's error for a shard it
    ///   cannot provide.
    public func verify() throws {
        for (k, shard) in manifest.shards.enumerated() {
            try withShard(k) { records in
                guard String(format: "%016llx", XXHash64.hash(records.checksumTable)) == shard.digest else {
                    throw ShardError(.badHeader, "the checksum table does not match the shard digest", file: records.location)
                }
                for local in 0..<shard.count {
                    guard records.recordIsIntact(local) else {
                        throw ShardError(
                            .checksumMismatch, "record bytes do not match their checksum", file: records.location, sample: local)
                    }
                    _ = try records.label(local)
                }
            }
        }
    }
}

/// The records of one pinned shard: a view over its bytes, valid only inside the
/// ``ShardSet/withShard(_:_:)`` call (or between a store's pin and release) that made it.
public struct ShardRecords {
    /// The whole shard file.
    public let bytes: UnsafeRawBufferPointer
    public let layout: RecordLayout
    /// Records in the shard.
    public let count: Int
    /// The global index of its first record.
    public let first: Int
    /// The shard's file or URL, for messages.
    public let location: String
    /// The manifest's class count: a label is one of `0 ..< classes`.
    public let classes: Int

    /// Record `local` (0..<count): its whole stride of bytes.
    public func record(_ local: Int) -> UnsafeRawBufferPointer {
        let start = ShardHeader.size + local * layout.stride
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + layout.stride])
    }

    /// The image bytes (H·W·C, HWC) of record `local`.
    public func image(_ local: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: record(local)[0..<layout.imageBytes])
    }

    /// The label of record `local`, checked to be one of the manifest's classes (a crafted shard
    /// can hold any int32 under a valid checksum): one comparison per record.
    /// - Throws: ``ShardError`` `manifestMismatch` naming the shard and sample.
    public func label(_ local: Int) throws(ShardError) -> Int {
        let offset = ShardHeader.size + local * layout.stride + layout.labelOffset
        let label = Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
        guard label >= 0 && label < classes else {
            throw ShardError(
                .manifestMismatch, "the record's label \(label) is not one of the manifest's \(classes) classes", file: location,
                sample: local)
        }
        return label
    }

    /// The source id of record `local`, when records carry one.
    public func source(_ local: Int) -> UInt32? {
        layout.sourceOffset.map { UInt32(littleEndian: record(local).loadUnaligned(fromByteOffset: $0, as: UInt32.self)) }
    }

    /// The float32 parameters of record `local` (empty when records carry none).
    public func parameters(_ local: Int) -> [Float] {
        guard let offset = layout.parametersOffset else { return [] }
        let bytes = record(local)
        return (0..<layout.parameterCount).map {
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 * $0, as: UInt32.self)))
        }
    }

    /// The stored checksum of record `local`.
    public func checksum(_ local: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: ShardHeader.size + count * layout.stride + 8 * local, as: UInt64.self))
    }

    /// Whether record `local` matches its stored checksum.
    public func recordIsIntact(_ local: Int) -> Bool { XXHash64.hash(record(local)) == checksum(local) }

    /// The table of the records' checksums (`8 · count` bytes).
    public var checksumTable: UnsafeRawBufferPointer {
        let start = ShardHeader.size + count * layout.stride
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + 8 * count])
    }
}
