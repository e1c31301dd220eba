import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Writes a shard set: samples in order into `<split>-00000.dps`, `<split>-00001.dps`, ... rotated by
/// sample count or bytes, then `manifest.json`.
///
/// Each shard is written as `<name>.partial`, fsynced and renamed to its final name only when
/// complete; the manifest is written last, atomically. Interrupted runs restart cleanly: creating a
/// writer first deletes the folder's manifest (so the old set no longer reads as complete), then
/// every shard and partial shard of the same split. A killed writer therefore leaves either
/// complete, fully checksummed shards or `.partial` files, and never a manifest.
///
/// Not thread-safe: one thread appends (producers hand it samples in order).
public final class ShardWriter {
    /// When to start a new shard.
    public struct Rotation: Sendable, Hashable {
        /// Most samples per shard (nil: no limit).
        public var maxSamples: Int?
        /// Most bytes per shard (default 256 MiB); a shard always holds at least one sample.
        public var maxBytes: Int

        public init(maxSamples: Int? = nil, maxBytes: Int = 256 << 20) {
            self.maxSamples = maxSamples
            self.maxBytes = maxBytes
        }
    }

    public let directory: String
    public let split: String
    /// What every image is and how it was made; recorded in the manifest.
    public let spec: ImageSpec
    public let layout: RecordLayout
    private let rotation: Rotation
    /// Called with each shard's path as soon as the shard is complete (renamed to its name).
    private let shardFinished: (@Sendable (String) -> Void)?
    private var shards: [ShardManifest.Shard] = []
    private var current: OpenShard?
    private var record: UnsafeMutableRawBufferPointer
    private var total = 0

    /// Prepares `directory` (created if needed) for a new set of `split` samples of `spec`.
    /// - Parameters:
    ///   - hasSource: whether records carry a source id (an index into the manifest's `sources`).
    ///   - parameterCount: float32 parameters per record (augmentation parameters; 0 when none).
    ///   - shardFinished: called on the appending thread with the path of each shard as soon as it
    ///     is complete (an uploader sends it on while the next one is written).
    /// - Throws: ``ShardError`` `invalidArgument` for a spec out of its limits; `fileSystem` when the
    ///   folder cannot be created or cleaned.
    public init(
        directory: String, split: String, spec: ImageSpec, hasSource: Bool = true, parameterCount: Int = 0,
        rotation: Rotation = Rotation(), shardFinished: (@Sendable (String) -> Void)? = nil
    ) throws {
        try spec.validate()
        guard (0...64).contains(parameterCount) else {
            throw ShardError(.invalidArgument, "\(parameterCount) parameters per record; at most 64 are supported")
        }
        self.directory = directory
        self.split = split
        self.spec = spec
        let layout = RecordLayout(spec: spec, hasSource: hasSource, parameterCount: parameterCount)
        self.layout = layout
        self.rotation = rotation
        self.shardFinished = shardFinished
        record = .allocate(byteCount: layout.stride, alignment: 16)
        record.initializeMemory(as: UInt8.self, repeating: 0)  // padding stays zero: nothing writes it
        do {
            try FileIO.createFolder(directory)
            let manifest = directory + "/manifest.json"
            if FileManager.default.fileExists(atPath: manifest) { try FileManager.default.removeItem(atPath: manifest) }
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where name.hasPrefix(split + "-") && (name.hasSuffix(".dps") || name.hasSuffix(".dps.partial")) {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot prepare the output folder: \(error.localizedDescription)", file: directory)
        }
    }

    deinit {
        record.deallocate()
        current?.abandon()
    }

    /// Samples appended so far.
    public var count: Int { total }

    /// Appends one sample.
    /// - Parameters:
    ///   - image: exactly `layout.imageBytes` bytes, row-major HWC.
    ///   - label: the class index.
    ///   - source: the source id (index into the manifest's `sources`), required when the layout
    ///     has one.
    ///   - parameters: exactly `layout.parameterCount` values.
    /// - Throws: ``ShardError`` `invalidArgument` for wrong sizes, `fileSystem` when writing fails.
    public func append(image: UnsafeRawBufferPointer, label: Int, source: UInt32? = nil, parameters: [Float] = []) throws {
        guard image.count == layout.imageBytes, parameters.count == layout.parameterCount,
            (source != nil) == (layout.sourceOffset != nil)
        else {
            throw ShardError(
                .invalidArgument,
                "sample has \(image.count) image bytes, \(parameters.count) parameters, "
                    + "source \(source.map(String.init) ?? "none"); the layout wants \(layout.imageBytes), "
                    + "\(layout.parameterCount), \(layout.sourceOffset == nil ? "none" : "one")")
        }
        record.copyMemory(from: image)
        record.storeBytes(of: Int32(label).littleEndian, toByteOffset: layout.labelOffset, as: Int32.self)
        if let offset = layout.sourceOffset, let source {
            record.storeBytes(of: source.littleEndian, toByteOffset: offset, as: UInt32.self)
        }
        if let offset = layout.parametersOffset {
            for (i, value) in parameters.enumerated() {
                record.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self)
            }
        }
        if let open = current,
            open.count == rotation.maxSamples
                || (open.count > 0 && ShardHeader.size + (open.count + 1) * (layout.stride + 8) > rotation.maxBytes)
        {
            try close(open)
        }
        if current == nil {
            current = try OpenShard(path: directory + "/" + String(format: "%@-%05d.dps", split, shards.count))
        }
        try current!.append(UnsafeRawBufferPointer(record))
        total += 1
    }

    /// Closes the last shard and writes `manifest.json`, which makes the set complete.
    /// - Parameters:
    ///   - copies: augmented copies per image; `count` must be a multiple of it.
    ///   - sources: source file paths by id (empty when records carry none).
    ///   - part: which part of a split preparation the set holds, if it is one.
    /// - Returns: the manifest written.
    /// - Throws: ``ShardError`` `invalidArgument` or `fileSystem`.
    @discardableResult
    public func finish(
        classNames: [String], parameterNames: [String] = [], copies: Int = 1, sources: [String] = [],
        provenance: ShardManifest.Provenance, part: ShardManifest.Part? = nil
    ) throws -> ShardManifest {
        guard copies >= 1, total % copies == 0, parameterNames.count == layout.parameterCount else {
            throw ShardError(
                .invalidArgument,
                "\(total) samples do not make \(copies) equal copies, or "
                    + "\(parameterNames.count) parameter names for \(layout.parameterCount) parameters")
        }
        if let open = current { try close(open) }
        let manifest = ShardManifest(
            split: split, classNames: classNames, spec: spec, layout: layout, parameterNames: parameterNames,
            copies: copies, imagesPerCopy: total / copies, count: total, shards: shards,
            sources: sources, provenance: provenance, part: part)
        let path = directory + "/manifest.json"
        do {
            try FileIO.writeAtomically(try manifest.encoded(), to: path)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot encode the manifest: \(error)", file: path)
        }
        return manifest
    }

    private func close(_ open: OpenShard) throws {
        let (name, bytes, digest) = try open.finish(layout: layout)
        shards.append(.init(file: name, count: open.count, bytes: bytes, digest: String(format: "%016llx", digest)))
        current = nil
        shardFinished?(open.path)
    }
}

// MARK: - One shard being written

/// A `.partial` file receiving records through a reused 4 MiB buffer, with their checksums.
private final class OpenShard {
    let path: String
    private let file: OutputFile
    private var checksums: [UInt64] = []
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var written = 0  // bytes handed to the kernel so far

    var count: Int { checksums.count }

    init(path: String) throws {
        self.path = path
        file = try ShardError.wrapping { try OutputFile(creating: path + ".partial") }
        buffer = .allocate(byteCount: 4 << 20, alignment: 64)
        // The header is written last, once the digest is known; its place is held by zeros.
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffered = ShardHeader.size
    }

    deinit { buffer.deallocate() }

    func append(_ record: UnsafeRawBufferPointer) throws {
        checksums.append(XXHash64.hash(record))
        try write(record)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffered + bytes.count > buffer.count { try flush() }
        if bytes.count > buffer.count {
            try ShardError.wrapping { try file.write(bytes) }
            written += bytes.count
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered...]).copyMemory(from: bytes)
            buffered += bytes.count
        }
    }

    private func flush() throws {
        try ShardError.wrapping { try file.write(UnsafeRawBufferPointer(rebasing: buffer[..<buffered])) }
        file.startWriteback(offset: written, length: buffered)
        written += buffered
        buffered = 0
    }

    /// Writes the checksum table and the header, fsyncs, and renames the file to its final name.
    func finish(layout: RecordLayout) throws -> (name: String, bytes: Int, digest: UInt64) {
        let table = checksums.map(\.littleEndian)
        let digest = table.withUnsafeBytes { XXHash64.hash($0) }
        try table.withUnsafeBytes { try write($0) }
        try flush()
        let header = ShardHeader(count: checksums.count, layout: layout, digest: digest)
        try ShardError.wrapping {
            try file.write(header.encoded(), at: 0)
            try file.sync()
            try file.close()
            try FileIO.durableRename(path + ".partial", to: path)
        }
        return ((path as NSString).lastPathComponent, header.fileSize, digest)
    }

    /// Removes the partial file after a failure (the writer was dropped before `finish`).
    func abandon() {
        try? file.close()
        unlink(path + ".partial")
    }
}
