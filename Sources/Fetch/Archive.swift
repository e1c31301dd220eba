// Reading archives and compressed files with libarchive 3.6. The only file that imports CArchive.
// - SeeAlso: https://github.com/libarchive/libarchive/wiki/ManualPages (archive_read(3))
//
// libarchive reports errors as return codes plus archive_error_string; nothing here unwinds
// through Swift frames.
import CArchive

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

    /// Throws `badArchive` with libarchive's message unless `status` is `ARCHIVE_OK` (or a warning).
    func check(_ status: Int32, _ operation: String) throws {
        guard status >= ARCHIVE_WARN else {
            throw FetchError(.badArchive, "\(operation): \(message("error \(status)"))", subject: path)
        }
    }
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
        guard n >= 0 else {
            throw FetchError(.badArchive, "decompress: \(handle.message("error \(n)"))", subject: path)
        }
        if n == 0 { return }
        try body(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
    }
}
