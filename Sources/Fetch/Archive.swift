// Reading archives and compressed files with libarchive 3.6. The only file that imports CArchive.
// - SeeAlso: https://github.com/libarchive/libarchive/wiki/ManualPages (archive_read(3),
//   archive_read_data(3), archive_entry(3))
//
// libarchive reports errors as return codes plus archive_error_string; nothing here unwinds
// through Swift frames. Every status goes through `ArchiveReadHandle.check`.
//
// This file only *reads*: entry headers and data blocks. What may be written, and where, is decided
// in Extraction.swift, which writes with plain POSIX calls.
import CArchive

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Handles

/// An `archive_read` handle: owns it, frees it in `deinit`, and turns failures into ``FetchError``.
final class ArchiveReadHandle {
    let raw: OpaquePointer
    /// The file being read, for error messages.
    let path: String

    init(path: String) throws {
        guard let raw = archive_read_new() else {
            throw FetchError(.badArchive, "archive_read_new failed (out of memory)", subject: path)
        }
        self.raw = raw
        self.path = path
    }

    deinit { archive_read_free(raw) }

    /// libarchive's message for the last failure, or `fallback` when it has none.
    func message(_ fallback: String) -> String {
        archive_error_string(raw).map { String(cString: $0) } ?? fallback
    }

    /// Throws `badArchive` with libarchive's message unless `status` is `ARCHIVE_OK` or
    /// `ARCHIVE_EOF`, or `ARCHIVE_WARN` when `acceptingWarnings` (header warnings such as a name in
    /// an unexpected character set are harmless; a data warning such as a bad CRC is not).
    /// `ARCHIVE_RETRY` is a failure: the entry it concerns is unusable.
    func check(_ status: Int32, _ operation: String, acceptingWarnings: Bool = true) throws {
        guard status == ARCHIVE_OK || status == ARCHIVE_EOF || (acceptingWarnings && status == ARCHIVE_WARN) else {
            throw FetchError(.badArchive, "\(operation): \(message("error \(status)"))", subject: path)
        }
    }
}

// MARK: - Entry names

/// Runs `body` with this thread's character-type locale set to C.UTF-8. libarchive converts entry
/// names between the archive's character set and the *current locale*, and Swift programs run in
/// the C (ASCII) locale, where libarchive returns no name at all for `café.jpg` in a zip. The
/// locale is per thread (`uselocale`), so nothing else in the process is affected; every
/// libarchive handle that reads names must be created, used and freed inside `body`.
func withUTF8Names<T>(_ body: () throws -> T) rethrows -> T {
    guard let utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil) else { return try body() }
    let previous = uselocale(utf8)
    defer {
        uselocale(previous)
        freelocale(utf8)
    }
    return try body()
}

// MARK: - Single compressed files

/// Streams the decompressed content of a single file compressed with gzip, bzip2 or xz (or not
/// compressed at all) in chunks of up to 1 MiB, so memory does not grow with the file.
/// - Parameters:
///   - path: the compressed file, e.g. `train-images-idx3-ubyte.gz`.
///   - body: receives each chunk; the buffer is only valid during the call.
/// - Throws: ``FetchError`` `badArchive` with libarchive's message when the data is damaged or
///   truncated, or whatever `body` throws.
public func forEachDecompressedChunk(ofFile path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    let handle = try ArchiveReadHandle(path: path)
    try handle.check(archive_read_support_filter_all(handle.raw), "enable filters")
    try handle.check(archive_read_support_format_raw(handle.raw), "enable raw format")
    try handle.check(archive_read_open_filename(handle.raw, path, 1 << 20), "open")
    var entry: OpaquePointer?
    let status = archive_read_next_header(handle.raw, &entry)
    if status == ARCHIVE_EOF { return }  // empty input
    try handle.check(status, "read header")
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
    defer { buffer.deallocate() }
    while true {
        let n = archive_read_data(handle.raw, buffer.baseAddress, buffer.count)
        if n < 0 { try handle.check(Int32(truncatingIfNeeded: n), "decompress", acceptingWarnings: false) }
        if n <= 0 { return }
        try body(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
    }
}

// MARK: - Archive entries

/// One archive member's header, as libarchive reports it, before anything of it is written.
struct ArchiveEntryHeader {
    /// What the member is.
    enum Kind: Equatable {
        case regularFile
        case directory
        case symbolicLink(target: String)
        /// A hard link to the member named `target`.
        case hardLink(target: String)
        /// A device file, FIFO, socket or unknown type; `description` says which.
        case special(description: String)
    }

    /// The member name as stored (UTF-8; bytes that are not UTF-8 are replaced by U+FFFD).
    var name: String
    var kind: Kind
    /// Permission bits (`0o7777` at most), as stored.
    var permissions: UInt32
    /// The size the header declares for the data, when it declares one.
    var declaredSize: Int64?
    /// Whether the file is sparse (its data blocks leave holes, possibly at the end).
    var isSparse: Bool
    /// Modification time (seconds and nanoseconds since 1970), when the header has one.
    var modificationTime: (seconds: Int, nanoseconds: Int)?
}

/// Reads the members of a zip or tar archive (tar optionally compressed with gzip, bzip2, xz, lzma
/// or zstd) one by one, with their data in blocks, through fixed-size buffers. The format is
/// recognised from the bytes, never from the file name. Not thread-safe; create, use and free it
/// inside ``withUTF8Names(_:)`` so that names outside ASCII come through.
final class ArchiveEntryReader {
    private let handle: ArchiveReadHandle

    /// Bytes libarchive reads from the file per call.
    private static let readBlockSize = 1 << 20

    /// Opens `path`.
    /// - Throws: ``FetchError`` `badArchive` when the file is not a zip or tar archive (the message
    ///   is libarchive's, e.g. "Unrecognized archive format"), or cannot be opened.
    init(path: String) throws {
        handle = try ArchiveReadHandle(path: path)
        let raw = handle.raw
        // Formats and filters are listed one by one: `_all` would also enable filters that run
        // external programs (lrzip, lzop, grzip) and many formats datasets never use.
        try handle.check(archive_read_support_format_zip(raw), "enable zip")
        try handle.check(archive_read_support_format_tar(raw), "enable tar")
        try handle.check(archive_read_support_filter_gzip(raw), "enable gzip")
        try handle.check(archive_read_support_filter_bzip2(raw), "enable bzip2")
        try handle.check(archive_read_support_filter_xz(raw), "enable xz")
        try handle.check(archive_read_support_filter_lzma(raw), "enable lzma")
        try handle.check(archive_read_support_filter_zstd(raw), "enable zstd")
        try handle.check(archive_read_open_filename(raw, path, Self.readBlockSize), "open")
    }

    /// Bytes read from the archive file so far (compressed bytes, what
    /// `archive_filter_bytes(a, -1)` counts).
    var compressedBytesRead: Int64 { archive_filter_bytes(handle.raw, -1) }

    /// The next member's header, or nil after the last one. The data of the previous member, if
    /// not read, is skipped.
    /// - Throws: ``FetchError`` `badArchive` when the archive is damaged or truncated.
    func nextEntry() throws -> ArchiveEntryHeader? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle.raw, &entry)
        if status == ARCHIVE_EOF { return nil }
        try handle.check(status, "read header")
        guard let entry else { throw FetchError(.badArchive, "read header: no entry", subject: handle.path) }
        guard let name = Self.string(archive_entry_pathname_utf8(entry), archive_entry_pathname(entry)) else {
            throw FetchError(.badArchive, "an entry has no name", subject: handle.path)
        }
        return ArchiveEntryHeader(
            name: name,
            kind: Self.kind(of: entry),
            permissions: UInt32(archive_entry_perm(entry)) & 0o7777,
            declaredSize: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : nil,
            isSparse: archive_entry_sparse_count(entry) > 0,
            modificationTime: archive_entry_mtime_is_set(entry) != 0
                ? (Int(archive_entry_mtime(entry)), Int(archive_entry_mtime_nsec(entry))) : nil)
    }

    /// Passes the current member's data to `body` block by block, as `(offset, bytes)`: the offset
    /// in the file where the bytes go (blocks come in order; a jump means a hole in a sparse
    /// file). The bytes are libarchive's buffer, valid only during the call.
    /// - Throws: ``FetchError`` `badArchive` when the data is damaged or truncated (a CRC mismatch
    ///   included), or whatever `body` throws.
    func forEachDataBlock(of name: String, _ body: (_ offset: Int64, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws {
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(handle.raw, &block, &size, &offset)
            if status == ARCHIVE_EOF { return }
            try handle.check(status, "read data of \(name)", acceptingWarnings: false)
            try body(offset, UnsafeRawBufferPointer(start: block, count: size))
        }
    }

    /// The first of `utf8` and `native` that libarchive could provide, as a Swift string.
    private static func string(_ utf8: UnsafePointer<CChar>?, _ native: UnsafePointer<CChar>?) -> String? {
        (utf8 ?? native).map { String(cString: $0) }
    }

    private static func kind(of entry: OpaquePointer) -> ArchiveEntryHeader.Kind {
        if let target = string(archive_entry_hardlink_utf8(entry), archive_entry_hardlink(entry)) {
            return .hardLink(target: target)
        }
        // AE_IF* are cast macros Swift does not import; these are their values.
        switch UInt32(archive_entry_filetype(entry)) {
        case 0o100000: return .regularFile
        case 0o040000: return .directory
        case 0o120000: return .symbolicLink(target: string(archive_entry_symlink_utf8(entry), archive_entry_symlink(entry)) ?? "")
        case 0o020000: return .special(description: "a character device")
        case 0o060000: return .special(description: "a block device")
        case 0o010000: return .special(description: "a FIFO")
        case 0o140000: return .special(description: "a socket")
        case let type: return .special(description: "of unknown type 0o\(String(type, radix: 8))")
        }
    }
}
