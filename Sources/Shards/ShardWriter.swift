import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

/// Writes a shard set: samples in order into `<split>-00000.dps`, `<split>-00001.dps`, ... rotated by
/// sample count or bytes, then `manifest.json`.
///
/// The new set is written beside the set it replaces, in the hidden folder ``stagingName`` of
/// `directory`: each shard as `<name>.partial`, fsynced and renamed to its final name only when
/// complete, then the manifest. Only once the whole new set is there does ``StagedShardSet/commit()``
/// replace the old one (its manifest first, so it stops reading as complete, then its shards, then
/// the new shards and manifest are renamed in). A run that fails, or is killed, before the commit
/// leaves the old set as it was; creating a writer removes what a killed run left in the staging
/// folder. A set is replaced only where the ``Replacement`` policy allows it.
///
/// Records go to the file through one 4 MiB buffer, allocated once per writer, with direct I/O
/// (`O_DIRECT`) where the file system takes it: the data is not copied into the page cache (whose
/// fresh pages are slow to touch on these VMs, see `shared/reference/toolchain.md`) and is on the
/// disk as it is written, so the fsync that closes a shard has only the last few kilobytes and the
/// metadata left.
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

    /// Which complete set already in the folder a writer may replace.
    public enum Replacement: Sendable, Hashable {
        /// Only a set of the same split, image spec, class names and record parameters (a rerun);
        /// any other set is refused (``checkReplacing(in:with:)``).
        case sameShape
        /// Any set (`--overwrite`).
        case anything
    }

    /// The hidden folder of `directory` a new set is written into before it replaces the old one.
    public static let stagingName = ".dataprep-staging"

    public let directory: String
    public let split: String
    /// What every image is and how it was made; recorded in the manifest.
    public let spec: ImageSpec
    public let layout: RecordLayout
    /// Which set already in `directory` the new one may replace.
    public let replacing: Replacement
    private let rotation: Rotation
    /// Where the new set is written until it is committed.
    private let staging: String
    /// Called with each shard's path (in the staging folder) as soon as the shard is complete.
    private let shardFinished: (@Sendable (String) -> Void)?
    private var shards: [ShardManifest.Shard] = []
    private var current: OpenShard?
    private var record: UnsafeMutableRawBufferPointer
    /// The write buffer and the first block of the shard, lent to each shard in turn.
    private let buffers: WriteBuffers
    private var total = 0
    /// Set once ``stage(classNames:parameterNames:copies:sources:provenance:part:)`` hands the
    /// staging folder to a ``StagedShardSet``.
    private var staged = false
    /// Whether shards opened from now on try direct I/O (the tests turn it off to compare).
    var triesDirectIO = true

    /// Prepares `directory` (created if needed) for a new set of `split` samples of `spec`. The
    /// set already there is not touched until the new one is committed.
    /// - Parameters:
    ///   - hasSource: whether records carry a source id (an index into the manifest's `sources`).
    ///   - parameterCount: float32 parameters per record (augmentation parameters; 0 when none).
    ///   - replacing: which set already in `directory` the new one may replace.
    ///   - shardFinished: called on the appending thread with the path of each shard as soon as it
    ///     is complete, in the staging folder (an uploader sends it on while the next one is
    ///     written; its name in the set is the file's name).
    /// - Throws: ``ShardError`` `invalidArgument` for a spec out of its limits; `fileSystem` when the
    ///   folder cannot be created or cleaned.
    public init(
        directory: String, split: String, spec: ImageSpec, hasSource: Bool = true, parameterCount: Int = 0,
        rotation: Rotation = Rotation(), replacing: Replacement = .sameShape,
        shardFinished: (@Sendable (String) -> Void)? = nil
    ) throws {
        try spec.validate()
        guard (0...ShardManifest.maximumParameters).contains(parameterCount) else {
            throw ShardError(
                .invalidArgument, "\(parameterCount) parameters per record; at most \(ShardManifest.maximumParameters) are supported")
        }
        do throws(SupportError) { try PathComponent.validate(split, what: "the split name") } catch {
            throw ShardError(.invalidArgument, error.message, file: error.path)
        }
        self.directory = directory
        self.split = split
        self.spec = spec
        let layout = RecordLayout(spec: spec, hasSource: hasSource, parameterCount: parameterCount)
        self.layout = layout
        self.rotation = rotation
        self.replacing = replacing
        self.shardFinished = shardFinished
        staging = directory + "/" + Self.stagingName
        record = .allocate(byteCount: layout.stride, alignment: 16)
        record.initializeMemory(as: UInt8.self, repeating: 0)  // padding stays zero: nothing writes it
        buffers = WriteBuffers()
        do {
            try FileIO.createFolder(directory)
            FileIO.removeTree(staging)  // what a killed run left
            // Partial shards of a version that wrote them beside the set.
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".dps.partial") {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
            try FileIO.createFolder(staging)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot prepare the output folder: \(error.localizedDescription)", file: directory)
        }
    }

    deinit {
        record.deallocate()
        current?.abandon()
        if !staged { FileIO.removeTree(staging) }
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
        layout.completeRecord(record, label: label, source: source, parameters: parameters)
        try append(record: UnsafeRawBufferPointer(record), checksum: XXHash64.hash(UnsafeRawBufferPointer(record)))
    }

    /// Appends one whole record, built by its producer (``RecordLayout/completeRecord(_:label:source:parameters:)``
    /// after the image) and checksummed there, so that the checksum pass runs where the record is
    /// still in cache, on the producer's thread.
    /// - Parameters:
    ///   - record: exactly `layout.stride` bytes, laid out as the layout says.
    ///   - checksum: `XXHash64.hash(record)`; a wrong one makes a record every reader rejects.
    /// - Throws: ``ShardError`` `invalidArgument` for a wrong size, `fileSystem` when writing fails.
    public func append(record: UnsafeRawBufferPointer, checksum: UInt64) throws {
        guard record.count == layout.stride else {
            throw ShardError(.invalidArgument, "a record of \(record.count) bytes; the layout's records are \(layout.stride)")
        }
        if let open = current,
            open.count == rotation.maxSamples
                || (open.count > 0 && ShardHeader.size + (open.count + 1) * (layout.stride + 8) > rotation.maxBytes)
        {
            try close(open)
        }
        if current == nil {
            current = try OpenShard(
                path: staging + "/" + String(format: "%@-%05d.dps", split, shards.count), buffers: buffers,
                tryDirect: triesDirectIO)
        }
        try current!.append(record, checksum: checksum)
        total += 1
    }

    /// Closes the last shard, writes `manifest.json` and commits the set: the set in `directory`
    /// is replaced now (``stage(classNames:parameterNames:copies:sources:provenance:part:)``, then
    /// ``StagedShardSet/commit()``).
    /// - Returns: the manifest written.
    /// - Throws: as those two.
    @discardableResult
    public func finish(
        classNames: [String], parameterNames: [String] = [], copies: Int = 1, sources: [String] = [],
        provenance: ShardManifest.Provenance, part: ShardManifest.Part? = nil
    ) throws -> ShardManifest {
        let staged = try stage(
            classNames: classNames, parameterNames: parameterNames, copies: copies, sources: sources, provenance: provenance,
            part: part)
        try staged.commit()
        return staged.manifest
    }

    /// Closes the last shard and writes `manifest.json` beside the set in `directory`, which stays
    /// as it was until ``StagedShardSet/commit()`` replaces it (dropping the staged set instead
    /// leaves it untouched).
    /// - Parameters:
    ///   - copies: augmented copies per image; `count` must be a multiple of it.
    ///   - sources: source file paths by id (empty when records carry none).
    ///   - part: which part of a split preparation the set holds, if it is one.
    /// - Returns: the complete new set, not yet in place.
    /// - Throws: ``ShardError`` `invalidArgument` for inconsistent arguments, or (with
    ///   ``Replacement/sameShape``) when `directory` holds a set of another shape; `fileSystem`.
    public func stage(
        classNames: [String], parameterNames: [String] = [], copies: Int = 1, sources: [String] = [],
        provenance: ShardManifest.Provenance, part: ShardManifest.Part? = nil
    ) throws -> StagedShardSet {
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
        do throws(ShardError) { try manifest.validate() } catch {
            throw ShardError(.invalidArgument, "the set would not be readable: \(error.message)", file: directory)
        }
        if replacing == .sameShape { try Self.checkReplacing(in: directory, with: manifest) }
        let path = staging + "/manifest.json"
        do {
            try FileIO.writeAtomically(try manifest.encoded(), to: path)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot encode the manifest: \(error)", file: path)
        }
        staged = true
        return StagedShardSet(directory: directory, staging: staging, manifest: manifest)
    }

    /// Refuses to replace the complete set in `directory` when it differs from `manifest` in split,
    /// image spec, class names or record parameters (what makes a rerun a rerun). A folder
    /// without a readable manifest holds no complete set and is not refused.
    /// - Throws: ``ShardError`` `invalidArgument` naming both sets (split, spec, classes) and what
    ///   differs.
    public static func checkReplacing(in directory: String, with manifest: ShardManifest) throws(ShardError) {
        try checkReplacing(
            in: directory, split: manifest.split, spec: manifest.spec, classNames: manifest.classNames,
            parameterNames: manifest.parameterNames)
    }

    /// ``checkReplacing(in:with:)`` for a set of `split`, `spec`, `classNames` and
    /// `parameterNames`, before it is written.
    public static func checkReplacing(
        in directory: String, split: String, spec: ImageSpec, classNames: [String], parameterNames: [String]
    ) throws(ShardError) {
        guard let existing = try? ShardManifest.read(from: directory) else { return }
        var differences: [String] = []
        if existing.split != split { differences.append("split") }
        if existing.spec != spec { differences.append("image spec") }
        if existing.classNames != classNames { differences.append("classes") }
        if existing.parameterNames != parameterNames { differences.append("record parameters") }
        guard !differences.isEmpty else { return }
        func describe(_ split: String, _ spec: ImageSpec, _ classNames: [String], _ parameters: [String]) -> String {
            "\(split) set \(spec), classes \(classNames.joined(separator: ", "))"
                + (parameters.isEmpty ? "" : ", \(parameters.count) record parameters")
        }
        throw ShardError(
            .invalidArgument,
            "already holds the \(describe(existing.split, existing.spec, existing.classNames, existing.parameterNames)); "
                + "this run writes the \(describe(split, spec, classNames, parameterNames)) "
                + "(they differ in \(differences.joined(separator: ", "))): give --overwrite to replace it, or another output folder",
            file: directory)
    }

    private func close(_ open: OpenShard) throws {
        let (name, bytes, digest) = try open.finish(layout: layout)
        shards.append(.init(file: name, count: open.count, bytes: bytes, digest: String(format: "%016llx", digest)))
        current = nil
        shardFinished?(open.path)
    }
}

// MARK: - A complete set waiting to replace the old one

/// A complete new shard set written beside the set it replaces (``ShardWriter/stage(classNames:parameterNames:copies:sources:provenance:part:)``).
/// ``commit()`` puts it in place; dropping it without a commit removes it and leaves the old set
/// as it was. Commit the staged sets of one command together, after all of them are complete.
public final class StagedShardSet {
    /// The folder the set replaces the set of.
    public let directory: String
    /// The new set's manifest.
    public let manifest: ShardManifest
    private let staging: String
    private var committed = false

    init(directory: String, staging: String, manifest: ShardManifest) {
        self.directory = directory
        self.staging = staging
        self.manifest = manifest
    }

    deinit { if !committed { FileIO.removeTree(staging) } }

    /// Replaces the set in `directory` with this one: the old manifest goes first (the old set no
    /// longer reads as complete), then the old set's shards and any of this split's, then the new
    /// shards are renamed in and the new manifest last, each rename made durable. Only a crash
    /// within these renames (milliseconds) can leave the folder without a complete set.
    /// - Throws: ``ShardError`` `fileSystem`.
    public func commit() throws {
        guard !committed else { return }
        do {
            let old = try? ShardManifest.read(from: directory)
            let manifestPath = directory + "/manifest.json"
            if unlink(manifestPath) == 0 { try FileIO.syncFolder(containing: manifestPath) }
            let oldFiles = Set(old?.shards.map(\.file) ?? [])
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where oldFiles.contains(name)
                || (name.hasPrefix(manifest.split + "-") && (name.hasSuffix(".dps") || name.hasSuffix(".dps.partial")))
            {
                unlink(directory + "/" + name)
            }
            for shard in manifest.shards {
                guard rename(staging + "/" + shard.file, directory + "/" + shard.file) == 0 else {
                    throw SupportError.system("cannot move the new shard \(shard.file) into place", path: directory)
                }
            }
            try FileIO.durableRename(staging + "/manifest.json", to: manifestPath)
            committed = true
            FileIO.removeTree(staging)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch let error as ShardError {
            throw error
        } catch {
            throw ShardError(.fileSystem, "cannot replace the set: \(error.localizedDescription)", file: directory)
        }
    }
}

// MARK: - One shard being written

/// What a writer lends each of its shards in turn, allocated once: the 4 MiB write buffer and a
/// copy of the shard's first block (to put the header in at the end). Both are aligned for direct
/// I/O.
private final class WriteBuffers {
    let buffer: UnsafeMutableRawBufferPointer
    let firstBlock: UnsafeMutableRawBufferPointer

    init() {
        // On 2 MiB boundaries and marked for transparent huge pages, so that each direct write
        // pins two pages of the buffer instead of 1,024.
        buffer = .allocate(byteCount: 4 << 20, alignment: 2 << 20)
        #if os(Linux)
        _ = madvise(buffer.baseAddress!, buffer.count, MADV_HUGEPAGE)
        #endif
        // Not cleared: every byte is written before it is read (a shard fills the buffer from
        // the front, the first block is copied from it), so its pages are first touched by the
        // writing thread as records arrive, not all at once here.
        firstBlock = .allocate(byteCount: OutputFile.directBlock, alignment: OutputFile.directBlock)
    }

    deinit {
        buffer.deallocate()
        firstBlock.deallocate()
    }
}

/// A `.partial` file receiving records through the writer's buffer, with their checksums.
///
/// With direct I/O the buffer goes to the file whole (4 MiB at a 4 MiB boundary) each time it
/// fills. At the end the checksum table follows the records, the whole blocks of what is left go
/// direct, the header goes into the kept copy of the first block, which is written again in place,
/// and the last part block goes through the page cache (direct I/O turned off). Where the file
/// system refuses direct I/O (at `open`, or at a write) the same bytes go through the page cache,
/// each buffer's writeback started as it is written.
private final class OpenShard {
    let path: String
    private let file: OutputFile
    private let buffers: WriteBuffers
    private var checksums: [UInt64] = []
    private var buffered = 0
    private var written = 0  // bytes on the file so far

    var count: Int { checksums.count }

    /// Creates the `.partial` file, with direct I/O when `tryDirect` and the file system takes it.
    init(path: String, buffers: WriteBuffers, tryDirect: Bool) throws {
        self.path = path
        self.buffers = buffers
        file = try ShardError.wrapping { try OutputFile(creating: path + ".partial", options: tryDirect ? .directIO : []) }
        // The header is written last, once the digest is known; its place is held by zeros.
        buffers.buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: ShardHeader.size)
        buffered = ShardHeader.size
    }

    func append(_ record: UnsafeRawBufferPointer, checksum: UInt64) throws {
        checksums.append(checksum)
        try write(record)
    }

    /// Copies `bytes` into the buffer, writing the buffer out each time it fills.
    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, buffers.buffer.count - buffered)
            (buffers.buffer.baseAddress! + buffered).copyMemory(from: rest.baseAddress!, byteCount: n)
            buffered += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if buffered == buffers.buffer.count { try flush(count: buffered) }
        }
    }

    /// Writes the buffer's first `count` bytes at `written` (whole blocks while direct), and moves
    /// the bytes after them to the buffer's start.
    private func flush(count: Int) throws {
        guard count > 0 else { return }
        if written == 0 && file.isDirect && count >= OutputFile.directBlock {
            buffers.firstBlock.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffers.buffer[..<OutputFile.directBlock]))
        }
        let wasDirect = file.isDirect
        try ShardError.wrapping { try file.write(UnsafeRawBufferPointer(rebasing: buffers.buffer[..<count]), at: written) }
        if !wasDirect { file.startWriteback(offset: written, length: count) }
        written += count
        buffered -= count
        if buffered > 0 { buffers.buffer.baseAddress!.copyMemory(from: buffers.buffer.baseAddress! + count, byteCount: buffered) }
    }

    /// Writes the checksum table and the header, fsyncs, and renames the file to its final name.
    func finish(layout: RecordLayout) throws -> (name: String, bytes: Int, digest: UInt64) {
        let table = checksums.map(\.littleEndian)
        let digest = table.withUnsafeBytes { XXHash64.hash($0) }
        try table.withUnsafeBytes { try write($0) }
        let header = ShardHeader(count: checksums.count, layout: layout, digest: digest)
        let headerBytes = header.encoded()
        if written == 0 {
            // Nothing is on the file yet: the header goes at the front of the buffer, with the rest.
            headerBytes.withUnsafeBytes { buffers.buffer.copyMemory(from: $0) }
        } else if file.isDirect {
            // The first block went out without it: its kept copy goes again, with the header.
            headerBytes.withUnsafeBytes { buffers.firstBlock.copyMemory(from: $0) }
            try ShardError.wrapping { try file.write(UnsafeRawBufferPointer(buffers.firstBlock), at: 0) }
        } else {
            try ShardError.wrapping { try file.write(headerBytes, at: 0) }
        }
        if file.isDirect { try flush(count: buffered / OutputFile.directBlock * OutputFile.directBlock) }
        try ShardError.wrapping {
            try file.endDirectIO()
        }
        try flush(count: buffered)
        try ShardError.wrapping {
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
