// Streaming the fixed-size records of the importers' binary dataset files, and the checks on those
// files that the importers share.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Reading fixed-size records

/// Cuts a (possibly compressed) file into a header and fixed-size records, and hands the records
/// on in batches of about 8 MiB, so memory holds one batch whatever the file size.
enum RecordReader {
    static let batchBytes = 8 << 20

    /// How many records were read, and how many bytes were left after the last complete one.
    struct Outcome {
        var complete: Int
        var leftoverBytes: Int
    }

    /// - Parameters:
    ///   - headerSize: bytes before the first record.
    ///   - recordSize: checks the header and returns the record size in bytes (> 0).
    ///   - body: receives whole records (a multiple of the record size) and the index of the
    ///     first.
    /// - Throws: `badDatasetFile` when the file ends inside the header; whatever the closures
    ///   throw; `badArchive` for damaged compressed data.
    static func read(
        _ path: String, headerSize: Int, recordSize: ([UInt8]) throws -> Int,
        body: (_ records: [UInt8], _ firstIndex: Int) throws -> Void
    ) throws -> Outcome {
        var header: [UInt8] = []
        var size = headerSize == 0 ? try recordSize([]) : 0
        var batch: [UInt8] = []
        var delivered = 0
        func deliver(_ bytes: Int) throws {
            let records = bytes == batch.count ? batch : Array(batch[..<bytes])
            batch = Array(batch[bytes...])  // the leftover, in a buffer of its own
            try body(records, delivered)
            delivered += bytes / size
        }
        try forEachDecompressedChunk(ofFile: path) { chunk in
            var rest = chunk[...]
            if header.count < headerSize {
                let take = min(headerSize - header.count, rest.count)
                header += rest.prefix(take)
                rest = rest.dropFirst(take)
                guard header.count == headerSize else { return }
                size = try recordSize(header)
            }
            let capacity = max(1, batchBytes / size) * size
            while !rest.isEmpty {
                let take = min(capacity - batch.count, rest.count)
                batch += rest.prefix(take)
                rest = rest.dropFirst(take)
                if batch.count == capacity { try deliver(capacity) }
            }
        }
        guard header.count == headerSize else {
            throw badFile(path, "the file ends inside the \(headerSize)-byte header")
        }
        let whole = batch.count - batch.count % size
        if whole > 0 { try deliver(whole) }
        return Outcome(complete: delivered, leftoverBytes: batch.count)
    }
}

// MARK: - Dataset-file checks

/// A ``FetchError`` `badDatasetFile` about `path`.
func badFile(_ path: String, _ message: String) -> FetchError {
    FetchError(.badDatasetFile, message, subject: path)
}

/// - Throws: ``FetchError`` `badDatasetFile` when `path` is not a regular file.
func requireFile(_ path: String) throws {
    var status = stat()
    guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
        throw badFile(path, "missing (or not a file)")
    }
}
