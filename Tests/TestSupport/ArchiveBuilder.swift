// Builds archives and compressed files in memory with libarchive's writer, for tests and
// benchmarks. The only file outside Fetch that imports CArchive; it is test support, not product.
import CArchive

/// Writes test archives with libarchive.
public enum ArchiveBuilder {
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
