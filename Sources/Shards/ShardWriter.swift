import Dispatch
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Writes a shard set: samples in order into `<split>-00000.dps`, `<split>-00001.dps`, ... rotated by
/// sample count or bytes, then `manifest.json`.
///
/// Each shard is written as `<name>.partial`, fsynced and renamed to its final name only when
/// complete; the manifest is written last, atomically. Records go to the file through one 4 MiB
/// buffer, allocated once per writer, with direct I/O (`O_DIRECT`) where the file system takes it:
/// the data is not copied into the page cache (whose fresh pages are slow to touch on these VMs,
/// see `shared/reference/toolchain.md`) and is on the disk as it is written, so the fsync that
/// closes a shard has only the last few kilobytes and the metadata left.
///
/// Interrupted runs restart cleanly: creating a writer first deletes the folder's manifest (so the
/// old set no longer reads as complete), then renames every shard and partial shard of the same
/// split aside (`<name>.removing-<pid>`) and unlinks them on a background thread (unlinking a large
/// file waits tens of milliseconds for the file system), which `finish` waits for before it writes
/// the manifest; files left aside by a killed writer go the same way. A killed writer therefore
/// leaves either complete, fully checksummed shards or `.partial` files, and never a manifest.
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
    private var shards: [ShardManifest.Shard] = []
    private var current: OpenShard?
    private var record: UnsafeMutableRawBufferPointer
    /// The write buffer and the first block of the shard, lent to each shard in turn.
    private let staging: ShardStaging
    private var total = 0
    /// Whether shards opened from now on try direct I/O (the tests turn it off to compare).
    var triesDirectIO = true
    /// The old shards of the split being unlinked in the background.
    private let removal: BackgroundRemoval

    /// Prepares `directory` (created if needed) for a new set of `split` samples of `spec`.
    /// - Parameters:
    ///   - hasSource: whether records carry a source id (an index into the manifest's `sources`).
    ///   - parameterCount: float32 parameters per record (augmentation parameters; 0 when none).
    /// - Throws: ``ShardError`` `invalidArgument` for a spec out of its limits; `fileSystem` when the
    ///   folder cannot be created or cleaned.
    public init(
        directory: String, split: String, spec: ImageSpec, hasSource: Bool = true, parameterCount: Int = 0,
        rotation: Rotation = Rotation()
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
        record = .allocate(byteCount: layout.stride, alignment: 16)
        record.initializeMemory(as: UInt8.self, repeating: 0)
        staging = ShardStaging()
        let (aside, failure) = Self.clear(split: split, in: directory)
        removal = BackgroundRemoval(aside)  // what was moved aside goes, even after a failure
        if let failure { throw failure }
    }

    /// Creates `directory` if needed, deletes its manifest and moves the split's shards and partial
    /// shards aside. Returns the paths to unlink (those moved, and any left aside by a writer that
    /// was killed), and the failure that stopped it, if one did.
    private static func clear(split: String, in directory: String) -> (aside: [String], failure: ShardError?) {
        var aside: [String] = []
        do {
            try FileIO.createFolder(directory)
            let manifest = directory + "/manifest.json"
            if FileManager.default.fileExists(atPath: manifest) { try FileManager.default.removeItem(atPath: manifest) }
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix(split + "-") {
                let path = directory + "/" + name
                if name.hasSuffix(".dps") || name.hasSuffix(".dps.partial") {
                    let moved = path + ".removing-\(getpid())"
                    guard rename(path, moved) == 0 else {
                        let reason = String(cString: strerror(errno))
                        return (
                            aside,
                            ShardError(
                                .fileSystem, "cannot prepare the output folder: cannot move \(name) aside: \(reason)", file: directory)
                        )
                    }
                    aside.append(moved)
                } else if name.contains(".dps.removing-") || name.contains(".dps.partial.removing-") {
                    aside.append(path)
                }
            }
            return (aside, nil)
        } catch let error as SupportError {
            return (aside, ShardError(error))
        } catch {
            return (aside, ShardError(.fileSystem, "cannot prepare the output folder: \(error.localizedDescription)", file: directory))
        }
    }

    deinit {
        record.deallocate()
        current?.abandon()
        try? removal.wait()
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
                path: directory + "/" + String(format: "%@-%05d.dps", split, shards.count), staging: staging, tryDirect: triesDirectIO)
        }
        try current!.append(record, checksum: checksum)
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
        try removal.wait()
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
    }
}

// MARK: - Old shards

/// Unlinks files on a background thread; ``wait()`` returns when they are gone.
private final class BackgroundRemoval: @unchecked Sendable {
    private let group = DispatchGroup()
    /// The first failure; written by the background thread before it leaves the group.
    private var failure: ShardError?

    init(_ paths: [String]) {
        guard !paths.isEmpty else { return }
        DispatchQueue.global(qos: .utility).async(group: group) { [self] in
            for path in paths where unlink(path) != 0 && errno != ENOENT && failure == nil {
                let reason = String(cString: strerror(errno))
                failure = ShardError(.fileSystem, "cannot remove an old shard: \(reason)", file: path)
            }
        }
    }

    /// Waits until every file is unlinked.
    /// - Throws: ``ShardError`` `fileSystem` for the first one that could not be.
    func wait() throws {
        group.wait()
        if let failure { throw failure }
    }
}

// MARK: - One shard being written

/// What a writer lends each of its shards in turn, allocated once: the 4 MiB write buffer and a
/// copy of the shard's first block (to put the header in at the end). Both are aligned for direct
/// I/O.
private final class ShardStaging {
    /// Direct I/O moves whole blocks: offsets, lengths and addresses are multiples of this.
    static let block = 4096
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
        firstBlock = .allocate(byteCount: Self.block, alignment: Self.block)
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
    private let partial: String
    private let staging: ShardStaging
    private var fd: Int32
    private var direct: Bool
    private var checksums: [UInt64] = []
    private var buffered = 0
    private var written = 0  // bytes on the file so far

    var count: Int { checksums.count }

    /// Creates the `.partial` file, with direct I/O when `tryDirect` and the file system takes it.
    init(path: String, staging: ShardStaging, tryDirect: Bool) throws {
        self.path = path
        partial = path + ".partial"
        self.staging = staging
        let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        fd = !tryDirect || Self.directFlag == 0 ? -1 : open(partial, flags | Self.directFlag, 0o644)
        direct = fd >= 0
        if fd < 0 { fd = open(partial, flags, 0o644) }
        guard fd >= 0 else { throw Self.systemError("cannot create", path: partial) }
        // The header is written last, once the digest is known; its place is held by zeros.
        staging.buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: ShardHeader.size)
        buffered = ShardHeader.size
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    func append(_ record: UnsafeRawBufferPointer, checksum: UInt64) throws {
        checksums.append(checksum)
        try write(record)
    }

    /// Copies `bytes` into the buffer, writing the buffer out each time it fills.
    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, staging.buffer.count - buffered)
            (staging.buffer.baseAddress! + buffered).copyMemory(from: rest.baseAddress!, byteCount: n)
            buffered += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if buffered == staging.buffer.count { try flush(count: buffered) }
        }
    }

    /// Writes the buffer's first `count` bytes at `written` (whole blocks while direct), and moves
    /// the bytes after them to the buffer's start.
    private func flush(count: Int) throws {
        guard count > 0 else { return }
        if written == 0 && direct && count >= ShardStaging.block {
            staging.firstBlock.copyMemory(from: UnsafeRawBufferPointer(rebasing: staging.buffer[..<ShardStaging.block]))
        }
        try put(UnsafeRawBufferPointer(rebasing: staging.buffer[..<count]), at: written)
        if !direct { startWriteback(offset: written, length: count) }
        written += count
        buffered -= count
        if buffered > 0 { staging.buffer.baseAddress!.copyMemory(from: staging.buffer.baseAddress! + count, byteCount: buffered) }
    }

    /// Writes all of `bytes` at `offset`. A direct write that the file system refuses (`EINVAL`) or
    /// takes only in part turns direct I/O off for this file, and the rest goes through the page cache.
    private func put(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        if direct {
            var n: Int
            repeat { n = pwrite(fd, bytes.baseAddress!, bytes.count, off_t(offset)) } while n < 0 && errno == EINTR
            if n == bytes.count { return }
            if n < 0 && errno != EINVAL { throw Self.systemError("cannot write", path: partial) }
            done = max(n, 0)
            try endDirectIO()
        }
        try ShardError.wrapping {
            try FileIO.writeAll(UnsafeRawBufferPointer(rebasing: bytes[done...]), to: fd, at: offset + done, path: partial)
        }
    }

    /// Turns direct I/O off for the rest of this file.
    private func endDirectIO() throws {
        guard direct else { return }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~Self.directFlag) == 0 else {
            throw Self.systemError("cannot turn off direct I/O", path: partial)
        }
        direct = false
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
            headerBytes.withUnsafeBytes { staging.buffer.copyMemory(from: $0) }
        } else if direct {
            // The first block went out without it: its kept copy goes again, with the header.
            headerBytes.withUnsafeBytes { staging.firstBlock.copyMemory(from: $0) }
            try put(UnsafeRawBufferPointer(staging.firstBlock), at: 0)
        } else {
            try headerBytes.withUnsafeBytes { try put($0, at: 0) }
        }
        if direct { try flush(count: buffered / ShardStaging.block * ShardStaging.block) }
        try endDirectIO()
        try flush(count: buffered)
        guard fsync(fd) == 0 else { throw Self.systemError("cannot fsync", path: partial) }
        let status = Glibc.close(fd)
        fd = -1
        guard status == 0 else { throw Self.systemError("cannot close", path: partial) }
        try ShardError.wrapping { try FileIO.durableRename(partial, to: path) }
        return ((path as NSString).lastPathComponent, header.fileSize, digest)
    }

    /// Removes the partial file after a failure (the writer was dropped before `finish`).
    func abandon() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        unlink(partial)
    }

    /// A `fileSystem` error for the system call that just failed, naming `path`.
    private static func systemError(_ what: String, path: String) -> ShardError {
        let number = errno
        return ShardError(SupportError(.fileSystem, "\(what): \(String(cString: strerror(number)))", path: path, errno: number))
    }

    /// Starts the writeback of bytes written through the page cache, without waiting (Linux
    /// `sync_file_range(SYNC_FILE_RANGE_WRITE)`), so the final fsync has little left to do.
    private func startWriteback(offset: Int, length: Int) {
        _ = Self.syncFileRange?(fd, Int64(offset), Int64(length), 2 /* SYNC_FILE_RANGE_WRITE */)
    }

    /// `sync_file_range(2)`, looked up at run time: Glibc's Swift module does not export it.
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    /// `O_DIRECT`, which Glibc's Swift module does not export (C declares it only under
    /// `_GNU_SOURCE`): Linux's value on this architecture, or 0 (no direct I/O) elsewhere.
    private static let directFlag: Int32 = {
        #if os(Linux) && (arch(x86_64) || arch(i386))
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return 0
        #endif
    }()
}
