import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// A complete shard set opened for reading: the manifest plus every shard memory-mapped, so sample
/// `i` is found in O(1) and read straight from the page cache.
///
/// Opening checks each shard's header against the manifest (count, layout, digest) and its size;
/// ``verify()`` checks every record. Immutable after opening, so it is safely shared by threads.
public final class ShardSet: @unchecked Sendable {
    /// The folder holding `manifest.json` and the shards.
    public let directory: String
    public let manifest: ShardManifest
    private let mappings: [Mapping]
    /// `starts[k]` is the global index of shard k's first sample (plus a final total).
    private let starts: [Int]

    /// Opens the set in `directory`.
    /// - Throws: ``ShardError`` — `manifestMismatch` (no or bad manifest, or a shard disagreeing with
    ///   it), `missingShard`, `truncated`, `badMagic`, `unsupportedVersion`, `badHeader`, each naming
    ///   the file.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try ShardManifest.read(from: directory)
        var mappings: [Mapping] = [], starts = [0]
        for shard in manifest.shards {
            let mapping = try Mapping(path: directory + "/" + shard.file)
            let header = try ShardHeader(decoding: mapping.bytes, file: mapping.path)
            guard header.count == shard.count, header.layout == manifest.layout,
                String(format: "%016llx", header.digest) == shard.digest
            else {
                throw ShardError(
                    .manifestMismatch,
                    "the shard holds \(header.count) samples with digest "
                        + String(format: "%016llx", header.digest) + " but the manifest says \(shard.count) and "
                        + "\(shard.digest) (or the layouts differ)", file: mapping.path)
            }
            guard mapping.bytes.count >= header.fileSize else {
                throw ShardError(
                    .truncated, "\(mapping.bytes.count) bytes; the header needs \(header.fileSize)",
                    file: mapping.path)
            }
            guard mapping.bytes.count == shard.bytes else {  // the manifest's bytes are the header's size (validated)
                throw ShardError(
                    .manifestMismatch,
                    "\(mapping.bytes.count) bytes, more than the \(shard.bytes) its header and the manifest say: bytes were added",
                    file: mapping.path)
            }
            mappings.append(mapping)
            starts.append(starts.last! + shard.count)
        }
        guard starts.last == manifest.count else {
            throw ShardError(
                .manifestMismatch, "shards hold \(starts.last!) samples, the manifest says \(manifest.count)",
                file: directory + "/manifest.json")
        }
        self.mappings = mappings
        self.starts = starts
    }

    /// Samples in the set.
    public var count: Int { manifest.count }

    public var layout: RecordLayout { manifest.layout }

    /// Record `index` (0..<count): its whole stride of bytes, valid as long as the set is alive.
    public func record(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < count, "sample \(index) is outside 0..<\(count)")
        let (shard, local) = locate(index)
        let stride = manifest.layout.stride
        let start = ShardHeader.size + local * stride
        return UnsafeRawBufferPointer(rebasing: mappings[shard].bytes[start..<start + stride])
    }

    /// The label of record `index`, checked to be one of the manifest's classes (a crafted shard
    /// can hold any int32 with a valid checksum).
    /// - Throws: ``ShardError`` `manifestMismatch` naming the shard and sample when the label is
    ///   outside `0 ..< classNames.count`.
    public func label(_ index: Int) throws(ShardError) -> Int {
        let label = Int(Int32(littleEndian: record(index).loadUnaligned(fromByteOffset: layout.labelOffset, as: Int32.self)))
        guard label >= 0 && label < manifest.classNames.count else {
            let (shard, local) = locate(index)
            throw ShardError(
                .manifestMismatch, "the record's label \(label) is not one of the manifest's \(manifest.classNames.count) classes",
                file: directory + "/" + manifest.shards[shard].file, sample: local)
        }
        return label
    }

    /// The image bytes (H·W·C, HWC) of record `index`.
    public func image(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: record(index)[0..<layout.imageBytes])
    }

    /// The source id of record `index`, when records carry one.
    public func source(_ index: Int) -> UInt32? {
        layout.sourceOffset.map { UInt32(littleEndian: record(index).loadUnaligned(fromByteOffset: $0, as: UInt32.self)) }
    }

    /// The float32 parameters of record `index` (empty when records carry none).
    public func parameters(_ index: Int) -> [Float] {
        guard let offset = layout.parametersOffset else { return [] }
        let bytes = record(index)
        return (0..<layout.parameterCount).map {
            Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 * $0, as: UInt32.self)))
        }
    }

    /// Whether record `index` matches its stored checksum.
    public func recordIsIntact(_ index: Int) -> Bool {
        let (shard, local) = locate(index)
        return XXHash64.hash(record(index))
            == mappings[shard].checksum(
                local, count: manifest.shards[shard].count,
                stride: layout.stride)
    }

    /// Checks every record checksum and label, and every shard digest.
    /// - Throws: ``ShardError`` `checksumMismatch` naming the first damaged shard and sample (the
    ///   sample index within that shard), `manifestMismatch` for a label outside the class list,
    ///   or `badHeader` when a checksum table is damaged.
    public func verify() throws {
        for (k, shard) in manifest.shards.enumerated() {
            let mapping = mappings[k]
            let tableStart = ShardHeader.size + shard.count * layout.stride
            let table = UnsafeRawBufferPointer(rebasing: mapping.bytes[tableStart..<tableStart + 8 * shard.count])
            guard String(format: "%016llx", XXHash64.hash(table)) == shard.digest else {
                throw ShardError(.badHeader, "the checksum table does not match the shard digest", file: mapping.path)
            }
            for local in 0..<shard.count {
                guard recordIsIntact(starts[k] + local) else {
                    throw ShardError(
                        .checksumMismatch, "record bytes do not match their checksum", file: mapping.path,
                        sample: local)
                }
                _ = try label(starts[k] + local)
            }
        }
    }

    /// Which shard holds global sample `index`, and its index there.
    func locate(_ index: Int) -> (shard: Int, local: Int) {
        var low = 0, high = mappings.count - 1
        while low < high {  // last shard whose start ≤ index
            let mid = (low + high + 1) / 2
            if starts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return (low, index - starts[low])
    }
}

// MARK: - Memory mapping

/// A read-only `mmap` of one shard, unmapped in `deinit`.
private final class Mapping {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO never waits for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw errno == ENOENT
                ? ShardError(.missingShard, "the manifest lists it but it is not there", file: path)
                : ShardError(.system("cannot open", path: path))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw ShardError(.system("cannot stat", path: path)) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ShardError(.fileSystem, "not a regular file (a shard is a file)", file: path)
        }
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

    /// The stored checksum of record `local`.
    func checksum(_ local: Int, count: Int, stride: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: ShardHeader.size + count * stride + 8 * local, as: UInt64.self))
    }
}
