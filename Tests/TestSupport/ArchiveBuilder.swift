// Builds archives and compressed files with libarchive's writer, for tests and benchmarks. The only
// file outside Fetch that imports CArchive; it is test support, not product.
// - SeeAlso: https://github.com/libarchive/libarchive/wiki/ManualPages (archive_write(3))
//
// The writer is told exactly what to store, so tests can build the archives an attacker would:
// absolute and `..` paths, links to anywhere, device files. libarchive's *writer* keeps such names
// as given (only bsdtar's command line strips them).
import CArchive

#if canImport(Glibc)
import Glibc
#endif

/// Writes test archives with libarchive.
public enum ArchiveBuilder {
    /// An archive format and compression, as a test or benchmark asks for it.
    public enum Format: String, Sendable, CaseIterable {
        /// Zip, each file deflated (what most dataset zips are).
        case zip
        /// Zip, each file stored uncompressed (`zip -0`).
        case zipStored
        /// Uncompressed tar (pax interchange format, ustar headers where they suffice).
        case tar
        /// tar + gzip.
        case tarGzip
        /// tar + bzip2.
        case tarBzip2
        /// tar + xz.
        case tarXz

        /// The usual file-name suffix, e.g. `tar.gz`.
        public var fileExtension: String {
            switch self {
            case .zip, .zipStored: "zip"
            case .tar: "tar"
            case .tarGzip: "tar.gz"
            case .tarBzip2: "tar.bz2"
            case .tarXz: "tar.xz"
            }
        }
    }

    /// One archive member, stored with exactly the path, type and link target given.
    public struct Entry: Sendable {
        /// What the member is.
        public enum Content: Sendable {
            /// A regular file with these bytes.
            case bytes([UInt8])
            /// A regular file of `count` zero bytes, streamed to the writer in 1 MiB chunks (for
            /// archive bombs: nothing of that size is held in memory).
            case zeros(count: Int)
            case directory
            /// A symbolic link whose target is stored verbatim.
            case symbolicLink(target: String)
            /// A hard link to another member, stored verbatim (tar only; zip has no hard links).
            case hardLink(target: String)
            /// A character device (major 1, minor 3, i.e. /dev/null).
            case characterDevice
            /// A block device (major 8, minor 0).
            case blockDevice
            /// A named pipe.
            case fifo
        }

        /// The member name as stored, e.g. `train/cats/1.jpg`, `../evil` or `/etc/passwd`.
        public var path: String
        public var content: Content
        /// Permission bits, e.g. 0o644; the writer stores them as given (setuid included).
        public var permissions: UInt32
        /// Modification time stored in the header, seconds since 1970.
        public var modificationTime: Int

        public init(path: String, content: Content, permissions: UInt32, modificationTime: Int = Entry.defaultModificationTime) {
            self.path = path
            self.content = content
            self.permissions = permissions
            self.modificationTime = modificationTime
        }

        /// 2023-11-14 22:13:20 UTC, the time every entry carries unless told otherwise.
        public static let defaultModificationTime = 1_700_000_000

        /// A regular file holding `bytes`.
        public static func file(_ path: String, _ bytes: [UInt8], permissions: UInt32 = 0o644) -> Entry {
            Entry(path: path, content: .bytes(bytes), permissions: permissions)
        }

        /// A regular file holding `text` as UTF-8.
        public static func file(_ path: String, text: String, permissions: UInt32 = 0o644) -> Entry {
            file(path, Array(text.utf8), permissions: permissions)
        }

        /// A regular file of `count` zero bytes.
        public static func zeros(_ path: String, count: Int) -> Entry {
            Entry(path: path, content: .zeros(count: count), permissions: 0o644)
        }

        /// A folder.
        public static func directory(_ path: String, permissions: UInt32 = 0o755) -> Entry {
            Entry(path: path, content: .directory, permissions: permissions)
        }

        /// A symbolic link `path -> target`.
        public static func symbolicLink(_ path: String, to target: String) -> Entry {
            Entry(path: path, content: .symbolicLink(target: target), permissions: 0o777)
        }

        /// A hard link `path` to the member named `target`.
        public static func hardLink(_ path: String, to target: String) -> Entry {
            Entry(path: path, content: .hardLink(target: target), permissions: 0o644)
        }
    }

    /// A libarchive writer call that failed, with libarchive's message.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: - Building

    /// The archive of `entries` in `format`, in memory.
    /// - Throws: ``Failure`` when libarchive refuses an entry (e.g. a device file in a zip).
    public static func archive(_ entries: some Sequence<Entry>, format: Format) throws -> [UInt8] {
        try withUTF8Names { try archiveInCurrentLocale(entries, format: format) }
    }

    private static func archiveInCurrentLocale(_ entries: some Sequence<Entry>, format: Format) throws -> [UInt8] {
        let sink = MemorySink()
        // The writer may still flush into the sink when it is freed, so the sink must outlive it.
        try withExtendedLifetime(sink) {
            let writer = try Writer(format: format)
            let status = archive_write_open2(
                writer.raw, Unmanaged.passUnretained(sink).toOpaque(), nil,
                { _, context, bytes, count in
                    guard let context, let bytes else { return 0 }
                    let sink = Unmanaged<MemorySink>.fromOpaque(context).takeUnretainedValue()
                    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
                    return count
                }, nil, nil)
            try writer.check(status, "open memory output")
            try writer.add(entries)
        }
        return sink.bytes
    }

    /// Writes the archive of `entries` in `format` to the file at `path` (created or replaced),
    /// streaming: the file's size does not matter.
    /// - Throws: ``Failure`` when the file cannot be written or libarchive refuses an entry.
    public static func write(_ entries: some Sequence<Entry>, format: Format, to path: String) throws {
        try withUTF8Names {
            let writer = try Writer(format: format)
            try writer.check(archive_write_open_filename(writer.raw, path), "open \(path)")
            try writer.add(entries)
        }
    }

    /// `bytes` compressed as a gzip file (what `gzip -c` would write).
    public static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        let writer = archive_write_new()!
        defer { archive_write_free(writer) }
        precondition(archive_write_set_format_raw(writer) == ARCHIVE_OK)
        precondition(archive_write_add_filter_gzip(writer) == ARCHIVE_OK)
        var output = [UInt8](repeating: 0, count: bytes.count + bytes.count / 100 + 4096)
        var used = 0
        precondition(archive_write_open_memory(writer, &output, output.count, &used) == ARCHIVE_OK)
        let entry = archive_entry_new()!
        defer { archive_entry_free(entry) }
        archive_entry_set_filetype(entry, 0o100000)  // AE_IFREG: a cast macro Swift does not import
        archive_entry_set_size(entry, la_int64_t(bytes.count))
        precondition(archive_write_header(writer, entry) == ARCHIVE_OK)
        precondition(bytes.withUnsafeBytes { archive_write_data(writer, $0.baseAddress, $0.count) } == bytes.count)
        precondition(archive_write_close(writer) == ARCHIVE_OK)
        return Array(output[..<used])
    }
}

// MARK: - libarchive writer

/// Runs `body` with this thread's character-type locale set to C.UTF-8: in the C locale Swift
/// programs start in, libarchive's writer cannot store non-ASCII names (and its pax writer crashes).
private func withUTF8Names<T>(_ body: () throws -> T) rethrows -> T {
    guard let utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil) else { return try body() }
    let previous = uselocale(utf8)
    defer {
        uselocale(previous)
        freelocale(utf8)
    }
    return try body()
}

/// Collects the output of an in-memory archive.
private final class MemorySink {
    var bytes: [UInt8] = []
}

/// An `archive_write` handle set up for one ``ArchiveBuilder/Format``; frees it in `deinit`.
private final class Writer {
    let raw: OpaquePointer

    init(format: ArchiveBuilder.Format) throws {
        guard let raw = archive_write_new() else { throw ArchiveBuilder.Failure(description: "archive_write_new failed") }
        self.raw = raw
        switch format {
        case .zip, .zipStored:
            try check(archive_write_set_format_zip(raw), "zip format")
            try check(
                format == .zip
                    ? archive_write_zip_set_compression_deflate(raw)
                    : archive_write_zip_set_compression_store(raw), "zip compression")
        case .tar, .tarGzip, .tarBzip2, .tarXz:
            try check(archive_write_set_format_pax_restricted(raw), "tar format")
        }
        switch format {
        case .tarGzip: try check(archive_write_add_filter_gzip(raw), "gzip filter")
        case .tarBzip2: try check(archive_write_add_filter_bzip2(raw), "bzip2 filter")
        case .tarXz: try check(archive_write_add_filter_xz(raw), "xz filter")
        case .zip, .zipStored, .tar: break
        }
    }

    deinit { archive_write_free(raw) }

    func check(_ status: Int32, _ operation: String) throws {
        guard status == ARCHIVE_OK else { throw failure(operation, status: Int(status)) }
    }

    private func failure(_ operation: String, status: Int) -> ArchiveBuilder.Failure {
        let message = archive_error_string(raw).map { String(cString: $0) } ?? "status \(status)"
        return ArchiveBuilder.Failure(description: "\(operation): \(message)")
    }

    /// Writes every entry, then closes the archive (which flushes the compressor).
    func add(_ entries: some Sequence<ArchiveBuilder.Entry>) throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for entry in entries {
            let header = archive_entry_new()
            defer { archive_entry_free(header) }
            archive_entry_set_pathname_utf8(header, entry.path)
            archive_entry_set_perm(header, entry.permissions)
            archive_entry_set_mtime(header, time_t(entry.modificationTime), 0)
            // AE_IF* are cast macros Swift does not import; these are their values.
            switch entry.content {
            case .bytes(let bytes):
                archive_entry_set_filetype(header, 0o100000)
                archive_entry_set_size(header, la_int64_t(bytes.count))
            case .zeros(let count):
                archive_entry_set_filetype(header, 0o100000)
                archive_entry_set_size(header, la_int64_t(count))
            case .directory:
                archive_entry_set_filetype(header, 0o040000)
            case .symbolicLink(let target):
                archive_entry_set_filetype(header, 0o120000)
                archive_entry_set_symlink_utf8(header, target)
            case .hardLink(let target):
                archive_entry_set_filetype(header, 0o100000)
                archive_entry_set_hardlink_utf8(header, target)
            case .characterDevice:
                archive_entry_set_filetype(header, 0o020000)
                archive_entry_set_rdevmajor(header, 1)
                archive_entry_set_rdevminor(header, 3)
            case .blockDevice:
                archive_entry_set_filetype(header, 0o060000)
                archive_entry_set_rdevmajor(header, 8)
                archive_entry_set_rdevminor(header, 0)
            case .fifo:
                archive_entry_set_filetype(header, 0o010000)
            }
            try check(archive_write_header(raw, header), "header of \(entry.path)")
            switch entry.content {
            case .bytes(let bytes):
                try bytes.withUnsafeBytes { try writeData($0, of: entry.path) }
            case .zeros(var remaining):
                while remaining > 0 {
                    let count = min(remaining, zeros.count)
                    try zeros.withUnsafeBytes { try writeData(UnsafeRawBufferPointer(rebasing: $0[..<count]), of: entry.path) }
                    remaining -= count
                }
            case .directory, .symbolicLink, .hardLink, .characterDevice, .blockDevice, .fifo:
                break
            }
        }
        try check(archive_write_close(raw), "close")
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, of path: String) throws {
        guard !bytes.isEmpty else { return }
        let written = archive_write_data(raw, bytes.baseAddress, bytes.count)
        guard written == bytes.count else { throw failure("data of \(path)", status: written) }
    }
}
