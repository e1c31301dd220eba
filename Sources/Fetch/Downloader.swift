// Resumable, verified downloads: the policy (resume, restart, retry with backoff, sha256, atomic
// rename) over the libcurl bridge in Curl.swift.
//
// The bytes go to `destination + ".partial"`, whose size and running sha256 describe the same
// bytes whenever no transfer is running; only a complete, verified file is renamed into place.
// While libcurl receives a chunk, the previous ones are written and hashed on two background
// queues, so the three costs overlap instead of adding up. `destination + ".partial.json"`
// records which URL the partial bytes came from and the response's validators (size, ETag,
// modification time); a partial file is resumed only from the same URL with the same
// validators, and downloaded afresh otherwise.
import Datasets
import Foundation
import Support
import Transfer

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Options, progress, result

/// How ``download(from:to:options:progress:)`` verifies, retries and times out. The defaults suit
/// real servers; tests shrink the delays and timeouts.
public struct DownloadOptions: Sendable, Hashable {
    /// The size the file must have, in bytes; nil accepts any size.
    public var expectedSize: Int?
    /// The sha256 the file must have, as 64 hex digits (either case); nil accepts any content.
    public var expectedSHA256: String?
    /// Failed transfers in a row, without the partial file growing past the most it ever held,
    /// after which the download gives up (values below 1 count as 1). A transfer that adds new
    /// bytes before failing starts the count again, so a flaky connection still finishes a large
    /// file.
    public var maximumAttempts: Int
    /// Seconds before the first retry; each further retry waits twice as long as the one before,
    /// up to ``maximumRetryDelay``.
    public var initialRetryDelay: Double
    /// The longest wait between two attempts, in seconds.
    public var maximumRetryDelay: Double
    /// Seconds allowed to establish the connection (TCP and TLS).
    public var connectTimeout: Double
    /// With ``lowSpeedTime``: a transfer slower than this many bytes per second for that many
    /// seconds is abandoned and retried. This is what catches a server that stalls. libcurl
    /// measures the speed over the last few seconds (up to 5), so a stall right after a fast
    /// burst is noticed later than ``lowSpeedTime`` unless the limit is above the burst's average.
    public var lowSpeedLimit: Int
    /// Seconds (whole, libcurl's resolution) a transfer may stay below ``lowSpeedLimit``.
    public var lowSpeedTime: Int
    /// The most redirects followed for one transfer.
    public var maximumRedirects: Int

    public init(
        expectedSize: Int? = nil, expectedSHA256: String? = nil, maximumAttempts: Int = 5,
        initialRetryDelay: Double = 0.5, maximumRetryDelay: Double = 8, connectTimeout: Double = 30,
        lowSpeedLimit: Int = 1, lowSpeedTime: Int = 30, maximumRedirects: Int = 10
    ) {
        self.expectedSize = expectedSize
        self.expectedSHA256 = expectedSHA256
        self.maximumAttempts = maximumAttempts
        self.initialRetryDelay = initialRetryDelay
        self.maximumRetryDelay = maximumRetryDelay
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maximumRedirects = maximumRedirects
    }
}

/// Where a download stands, counted from the start of the file.
public struct DownloadProgress: Sendable, Hashable {
    /// Bytes of the file held so far, including those resumed from the partial file.
    public var receivedBytes: Int
    /// The file's size in bytes, when the server said it or ``DownloadOptions/expectedSize`` gives it.
    public var totalBytes: Int?
    /// The current transfer's average speed, in bytes per second.
    public var bytesPerSecond: Double
}

/// A completed, verified download.
public struct DownloadResult: Sendable, Hashable {
    /// The destination path, where the file now is.
    public var path: String
    /// The file's size in bytes.
    public var size: Int
    /// The file's sha256, 64 lowercase hex digits.
    public var sha256: String
    /// Bytes the final transfer did not fetch because the partial file (from an earlier run or an
    /// earlier attempt) already held them: the offset it resumed at, 0 if it fetched everything.
    public var resumedBytes: Int
    /// Transfers made: 1 when the first succeeded; each retry, and a restart from byte 0 after a
    /// server ignored the range, adds one.
    public var attempts: Int
}

// MARK: - Download

/// Downloads `url` to `destination`, resuming where an earlier attempt or run stopped, and puts the
/// file there only once it is complete and verified.
///
/// The bytes are streamed to `destination + ".partial"` and hashed as they arrive (memory does
/// not grow with the file). An existing partial file is resumed with an HTTP `Range: bytes=N-`
/// request only when its record (`destination + ".partial.json"`, written before the first byte)
/// names the same URL, the response it started from had a validator (an ETag or a modification
/// time: without one a changed file of the same size cannot be told apart), and the resumed
/// response has the same size, ETag and modification time; otherwise it is emptied first, so
/// bytes of two sources or two versions are never spliced. If the server does not send the range
/// asked for (answers 200, or a 206 that does not start at the partial file's end, such as one
/// from byte 0) or the partial file is longer than the source, the partial file is emptied and the
/// download starts over from byte 0: a whole body is never appended to a partial one. Transient failures (connection refused or
/// reset, send or receive errors, a cut or empty reply, timeouts including the low-speed one,
/// HTTP 5xx, 408 and 429) are retried with exponential backoff, each retry resuming from the
/// partial file. On success the file is fsynced and atomically renamed over `destination`; its
/// folder is created if missing. Redirects are followed; an HTTP error's body is never written.
///
/// Blocks the calling thread until done. Never prints: `progress` is how a caller shows it.
/// - Parameters:
///   - url: an `http://`, `https://` or `file://` URL.
///   - destination: the file to create or replace.
///   - options: expected size and sha256, retries, timeouts.
///   - progress: called on the calling thread, before this function returns, as bytes arrive
///     and at least once a second while a transfer runs; throttle any drawing.
/// - Returns: the file's size and sha256, the bytes resumed, and the number of transfers.
/// - Throws: ``FetchError`` with the URL as subject:
///   - `httpStatus` at once, with no retry, for a 4xx status other than 408 and 429; or for a
///     5xx, 408 or 429 still answered after the last attempt. The message starts with the status,
///     e.g. "HTTP 404 Not Found".
///   - `transferFailed` with curl's message, at once for a permanent failure (malformed URL,
///     unsupported scheme, unknown host, TLS, missing file) or after the last attempt for a
///     transient one. The partial file is kept (unless empty), so the next run resumes.
///   - `checksumMismatch` when the size or sha256 is not the expected one. The message holds both
///     sha256s; the partial file is deleted and nothing is put at `destination`.
///   - `fileSystem` when the partial file cannot be opened, written, synced or renamed.
public func download(
    from url: String, to destination: String, options: DownloadOptions = DownloadOptions(),
    progress: (DownloadProgress) -> Void = { _ in }
) throws -> DownloadResult {
    if let local = URL(string: url), local.isFileURL {  // libcurl would wait forever on a FIFO
        try FetchError.converting { close(try FileIO.openRegularFile(at: local.path)) }
    }
    let folder = (destination as NSString).deletingLastPathComponent
    if !folder.isEmpty { try FetchError.converting { try FileIO.createFolder(folder) } }
    let partial = try PartialFile(path: destination + ".partial")
    let source = PartialSource(path: destination + ".partial.json")
    if source.read()?.url != url {
        try partial.truncate()  // bytes of unknown origin, or of another URL: never resumed
        source.remove()
    }
    let writer = try HashingWriter(appendingTo: partial)
    let transfers: (resumedAt: Int, attempts: Int)
    do {
        transfers = try withoutActuallyEscaping(progress) { progress in
            try fill(writer, from: url, recordingIn: source, options: options, progress: progress)
        }
    } catch {
        if writer.size == 0 {
            partial.remove()
            source.remove()
        }
        throw error
    }

    let sha256 = writer.sha256
    if let mismatch = mismatch(size: writer.size, sha256: sha256, options: options) {
        partial.remove()
        source.remove()
        throw FetchError(.checksumMismatch, mismatch, subject: url)
    }
    try partial.syncAndClose()
    try FetchError.converting { try FileIO.durableRename(partial.path, to: destination) }
    source.remove()
    return DownloadResult(
        path: destination, size: writer.size, sha256: sha256,
        resumedBytes: transfers.resumedAt, attempts: transfers.attempts)
}

/// Runs transfers into `writer` until one completes and its bytes are settled: resumes after
/// transient failures (with backoff), restarts from byte 0 when the server does not deliver the
/// range or the source is not the one the partial bytes came from. A transfer from byte 0
/// records its URL and response identity in `source` before its first byte is kept; a resumed
/// one must match that record.
/// - Returns: the offset the successful transfer started at, and the number of transfers.
/// - Throws: ``FetchError`` (see ``download(from:to:options:progress:)``).
private func fill(
    _ writer: HashingWriter, from url: String, recordingIn source: PartialSource, options: DownloadOptions,
    progress: @escaping (DownloadProgress) -> Void
) throws -> (resumedAt: Int, attempts: Int) {
    let easy: CurlEasy
    do { easy = try CurlEasy() } catch { throw FetchError(error) }
    var backoff = Backoff(initial: options.initialRetryDelay, maximum: options.maximumRetryDelay)
    var attempts = 0, failuresInARow = 0
    var mostHeld = writer.size
    var serverResumes = true
    var recorded = source.read()
    while true {
        // Without a validator (an ETag or a modification time) nothing tells whether the source
        // changed since the partial bytes came: they are never resumed, the download starts over.
        if writer.size > 0 && (!serverResumes || !(recorded?.identity.canBeResumed ?? false)) { try writer.restart() }
        let offset = writer.size
        attempts += 1
        var recordFailure: FetchError?
        var rangeRefused = false
        do {
            try easy.perform(
                TransferRequest(url: url, range: offset > 0 ? .from(offset) : .all, limits: options.transferLimits),
                receive: { writer.append($0) },
                progress: {
                    progress(
                        DownloadProgress(
                            transfer: $0, resumedAt: offset,
                            expectedSize: options.expectedSize))
                },
                accept: { response in
                    // A whole file of another size than expected is another file: refused before its body.
                    if let expected = options.expectedSize, let size = response.size, size != expected {
                        recordFailure = FetchError(
                            .checksumMismatch,
                            "expected \(expected) bytes, and the server announces \(size): it serves another file than the one "
                                + "expected (running again would fail the same way); nothing was downloaded", subject: url)
                        return false
                    }
                    let record = PartialSource.Record(url: url, identity: ResponseIdentity(response))
                    guard offset == 0 else {
                        // A resumed HTTP transfer continues the partial file only when answered with
                        // a 206 for the range asked: libcurl takes a 206 from byte 0 as long as the
                        // offset as "already downloaded", which would keep a cut file.
                        if response.status != 0 && (response.status != 206 || response.rangeStart != offset) {
                            rangeRefused = true
                            return false
                        }
                        return record == recorded
                    }
                    do {
                        try source.write(record)
                        recorded = record
                        return true
                    } catch {
                        recordFailure = error as? FetchError ?? FetchError(.fileSystem, "\(error)", subject: source.path)
                        return false
                    }
                })
        } catch {
            try writer.settle()  // throws the write error behind a refusedByReceiver
            if let recordFailure { throw recordFailure }
            if rangeRefused {
                serverResumes = false  // not the range asked for: start over at once
                continue
            }
            switch error.reason {
            case .rangeNotDelivered where offset > 0, .httpStatus(416) where offset > 0:
                serverResumes = false  // start over at once: this is not a failure
                continue
            case .sourceChanged:
                try writer.restart()  // other bytes than the partial file's: start over at once
                continue
            case .transient:
                break
            case .httpStatus(let status) where status >= 500 || status == 408 || status == 429:
                break
            case .rangeNotDelivered, .httpStatus, .refusedByReceiver, .permanent:
                throw FetchError(error.error)
            }
            if writer.size > mostHeld {
                mostHeld = writer.size
                failuresInARow = 0
                backoff.reset()
            }
            failuresInARow += 1
            guard failuresInARow < max(1, options.maximumAttempts) else {
                var final = FetchError(error.error)
                final.message +=
                    "; gave up after \(attempts) attempts"
                    + (writer.size > 0 ? ", keeping \(writer.size) bytes in \(writer.file.path): run again to resume" : "")
                throw final
            }
            Thread.sleep(forTimeInterval: backoff.next())
            continue
        }
        try writer.settle()
        return (offset, attempts)
    }
}

/// nil when `size` and `sha256` are what `options` expects; otherwise the message saying what
/// was expected and what arrived, both sha256s included.
private func mismatch(size: Int, sha256: String, options: DownloadOptions) -> String? {
    let expectedSHA256 = options.expectedSHA256?.lowercased()
    let sizeMatches = options.expectedSize.map { $0 == size } ?? true
    let sha256Matches = expectedSHA256.map { $0 == sha256 } ?? true
    guard !(sizeMatches && sha256Matches) else { return nil }
    let expected = [options.expectedSize.map { "\($0) bytes" }, expectedSHA256.map { "sha256 \($0)" }]
        .compactMap { $0 }.joined(separator: ", ")
    guard sizeMatches else {
        return "expected \(expected), got \(size) bytes, sha256 \(sha256): the server sends another file than the one expected "
            + "(running again would fail the same way); the download was deleted"
    }
    return "expected \(expected), got \(size) bytes, sha256 \(sha256); the download was deleted: "
        + "run again to download it afresh, and check the expected checksum if this repeats"
}

extension DownloadOptions {
    /// The timeouts and redirect limit of each transfer.
    var transferLimits: TransferLimits {
        TransferLimits(
            connectTimeout: connectTimeout, lowSpeedLimit: lowSpeedLimit, lowSpeedTime: lowSpeedTime,
            maximumRedirects: maximumRedirects)
    }
}

/// What identifies the version of a source a response serves, for deciding whether bytes from an
/// earlier transfer may be resumed: the whole file's size, the ETag, the modification time
/// (Last-Modified, or a file's mtime for file://). Each is nil when the response does not say.
struct ResponseIdentity: Codable, Hashable {
    /// The size of the whole file in bytes (not only of this transfer's part).
    var size: Int?
    var etag: String?
    /// Seconds since 1970.
    var modified: Int?

    init(_ response: TransferResponse) {
        size = response.size
        etag = response.etag
        modified = response.modified
    }

    /// Whether bytes of this response may be resumed later: only with a validator (an ETag or a
    /// modification time) that a later response can be compared with. The size alone is not one:
    /// a file changed upstream to one of the same size would be spliced with the old bytes.
    var canBeResumed: Bool { etag != nil || modified != nil }
}

extension DownloadProgress {
    /// One transfer's progress counted from the start of the file.
    fileprivate init(transfer: TransferProgress, resumedAt offset: Int, expectedSize: Int?) {
        self.init(
            receivedBytes: offset + transfer.received,
            totalBytes: transfer.expected.map { offset + $0 } ?? expectedSize,
            bytesPerSecond: transfer.bytesPerSecond)
    }
}

// MARK: - Retry timing

/// Exponential backoff: `initial`, then doubling on each call, capped at `maximum` (seconds).
private struct Backoff {
    let initial: Double
    let maximum: Double
    private var current: Double

    init(initial: Double, maximum: Double) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// The delay to wait now; the next call returns twice as much (up to `maximum`).
    mutating func next() -> Double {
        defer { current = min(current * 2, maximum) }
        return min(current, maximum)
    }

    /// Starts again from `initial`.
    mutating func reset() { current = initial }
}

// MARK: - Streaming into the partial file

/// Appends a download's bytes to its ``PartialFile`` and keeps the sha256 of the file's content.
///
/// ``append(_:)`` copies the bytes into one of a few buffers and returns, so libcurl can receive
/// more while two background queues write each full buffer at its offset and then hash it: the
/// three steps overlap instead of adding up. A third queue flushes the file every
/// ``writebackInterval`` bytes, so the disk writes during the download rather than all in the
/// final fsync. Once ``settle()`` has returned, ``size``, ``sha256`` and the file describe the
/// same bytes. Memory is fixed: ``bufferCount`` buffers of ``bufferSize`` bytes.
private final class HashingWriter: @unchecked Sendable {
    static let bufferSize = 1 << 20
    static let bufferCount = 8
    /// Bytes written between two background flushes.
    static let writebackInterval = 32 << 20

    let file: PartialFile
    /// Bytes in the file, counting those still on their way: its size once ``settle()`` returns.
    private(set) var size: Int
    /// Updated on `hashing`, or by ``restart()`` after ``settle()``.
    private var digest: SHA256Digest
    /// The buffer ``append(_:)`` is filling (libcurl hands over at most 16 KiB at a time), and
    /// how many bytes it holds.
    private var filling: UnsafeMutableRawBufferPointer?
    private var filled = 0
    private let buffers = BufferPool(count: bufferCount, size: bufferSize)
    private let writing = DispatchQueue(label: "dataprep.download.write")
    private let hashing = DispatchQueue(label: "dataprep.download.hash")
    private let flushing = DispatchQueue(label: "dataprep.download.flush")
    /// Bytes written since the last flush was started; touched only on `writing`.
    private var unflushed = 0
    /// Buffers queued and flushes started, not finished yet.
    private let inFlight = DispatchGroup()
    private let lock = NSLock()
    /// The first failed write or flush since the last ``settle()``; guarded by `lock`.
    private var failure: FetchError?

    /// Appends after what `file` already holds, which is hashed first (1 MiB at a time).
    /// - Throws: ``FetchError`` `fileSystem` when the file cannot be read.
    init(appendingTo file: PartialFile) throws {
        self.file = file
        (digest, size) = try file.hashContent(chunkSize: Self.bufferSize)
    }

    /// The sha256 of the file's content, 64 lowercase hex digits. Call ``settle()`` first.
    var sha256: String { digest.hex() }

    /// Copies `bytes` into the buffer being filled; each full buffer is queued to be written and
    /// then hashed. Waits only while every buffer is in use. False when an earlier write failed
    /// (``settle()`` throws its error).
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard lock.withLock({ failure == nil }) else { return false }
        var rest = bytes[...]
        while !rest.isEmpty {
            let buffer = filling ?? buffers.take()
            let count = min(rest.count, buffer.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + count])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(count)))
            rest = rest.dropFirst(count)
            filled += count
            size += count
            filling = buffer
            if filled == buffer.count { queueFilling() }
        }
        return true
    }

    /// Waits until every appended byte is written and hashed.
    /// - Throws: ``FetchError`` `fileSystem` when a write or flush failed (e.g. the disk is full).
    func settle() throws {
        queueFilling()
        inFlight.wait()
        if let error = lock.withLock({
            defer { failure = nil }; return failure
        }) {
            throw error
        }
    }

    /// Empties the file and the digest, to download from byte 0.
    /// - Throws: ``FetchError`` `fileSystem`.
    func restart() throws {
        try settle()
        try file.truncate()
        size = 0
        digest = SHA256Digest()
    }

    /// Sends the buffer being filled (if any) to `writing`, then `hashing`, then back to the pool.
    private func queueFilling() {
        guard let buffer = filling else { return }
        let chunk = Chunk(buffer: buffer, count: filled, offset: size - filled)
        filling = nil
        filled = 0
        inFlight.enter()
        writing.async { [self] in
            // After a failure nothing more is written, so the file stays a prefix of the body.
            if lock.withLock({ failure == nil }) {
                do {
                    try file.write(chunk.bytes, at: chunk.offset)
                    startWritebackEvery(Self.writebackInterval, after: chunk.count)
                } catch {
                    record(error)
                }
            }
            hashing.async { [self] in
                digest.update(chunk.bytes)
                buffers.give(chunk.buffer)
                inFlight.leave()
            }
        }
    }

    /// Starts a flush on `flushing` each time another `interval` bytes have been written (called
    /// on `writing`), so the disk works while the download goes on.
    private func startWritebackEvery(_ interval: Int, after written: Int) {
        unflushed += written
        guard unflushed >= interval else { return }
        unflushed = 0
        inFlight.enter()
        flushing.async { [self] in
            do { try file.flush() } catch { record(error) }
            inFlight.leave()
        }
    }

    /// Keeps the first failure until ``settle()`` throws it.
    private func record(_ error: any Error) {
        let error = error as? FetchError ?? FetchError(.fileSystem, "\(error)", subject: file.path)
        lock.withLock { failure = failure ?? error }
    }
}

/// Bytes on their way to the file: a pool buffer, how much of it is used, and where it goes.
private struct Chunk: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer
    let count: Int
    let offset: Int

    /// The used part of the buffer.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[..<count]) }
}

/// A fixed set of equal buffers shared across threads: ``take()`` blocks while all are in use.
private final class BufferPool: @unchecked Sendable {
    private let all: [UnsafeMutableRawBufferPointer]
    private var free: [UnsafeMutableRawBufferPointer]
    private let lock = NSLock()
    private let available: DispatchSemaphore

    init(count: Int, size: Int) {
        all = (0..<count).map { _ in .allocate(byteCount: size, alignment: 64) }
        free = all
        available = DispatchSemaphore(value: count)
    }

    deinit { for buffer in all { buffer.deallocate() } }

    /// A buffer nobody else uses until it is given back.
    func take() -> UnsafeMutableRawBufferPointer {
        available.wait()
        return lock.withLock { free.removeLast() }
    }

    /// Returns a buffer from ``take()``.
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        lock.withLock { free.append(buffer) }
        available.signal()
    }
}

// MARK: - Where the partial bytes came from

/// `<destination>.partial.json`: the URL a partial file's bytes came from and the identity of the
/// response they started with, written (atomically) before the first byte is kept.
private struct PartialSource {
    /// What the file holds.
    struct Record: Codable, Hashable {
        var url: String
        var identity: ResponseIdentity
    }

    let path: String

    /// The record, or nil when there is none or it cannot be read (then nothing is resumed).
    func read() -> Record? {
        (try? FileIO.readFile(at: path, limit: 1 << 20)).flatMap { try? JSONDecoder().decode(Record.self, from: Data($0)) }
    }

    /// Replaces the record.
    /// - Throws: ``FetchError`` `fileSystem`.
    func write(_ record: Record) throws {
        let bytes = try JSONEncoder().encode(record)
        try FetchError.converting { try FileIO.writeAtomically(bytes, to: path) }
    }

    /// Deletes the record; a missing one is fine.
    func remove() { unlink(path) }
}

// MARK: - Partial file

/// The `.partial` file a download fills: Support's ``OutputFile`` opened to keep and read back
/// what an earlier attempt wrote, with each failure as a ``FetchError``. `write(_:at:)` and
/// `flush()` may run on different threads at once.
private final class PartialFile: @unchecked Sendable {
    private let file: OutputFile
    var path: String { file.path }

    /// Opens `path`, or creates it empty.
    /// - Throws: ``FetchError`` `fileSystem`.
    init(path: String) throws {
        file = try FetchError.converting { try OutputFile(creating: path, options: [.keepContents, .readable]) }
    }

    /// The sha256 digest and size of the content, read `chunkSize` bytes at a time.
    /// - Throws: ``FetchError`` `fileSystem`.
    func hashContent(chunkSize: Int) throws -> (SHA256Digest, Int) {
        var digest = SHA256Digest(), size = 0
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { chunk.deallocate() }
        while true {
            let n = try FetchError.converting { try file.read(at: size, into: chunk) }
            digest.update(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
            size += n
            if n < chunk.count { return (digest, size) }  // the end of the file
        }
    }

    /// Writes all of `bytes` at `offset`.
    /// - Throws: ``FetchError`` `fileSystem` (e.g. the disk is full).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        try FetchError.converting { try file.write(bytes, at: offset) }
    }

    /// Cuts the file to 0 bytes.
    /// - Throws: ``FetchError`` `fileSystem`.
    func truncate() throws {
        try FetchError.converting { try file.truncate(to: 0) }
    }

    /// Writes the file's data to disk (fdatasync), waiting until it is there.
    /// - Throws: ``FetchError`` `fileSystem`.
    func flush() throws {
        try FetchError.converting { try file.syncData() }
    }

    /// Writes the file to disk (fsync) and closes it.
    /// - Throws: ``FetchError`` `fileSystem`.
    func syncAndClose() throws {
        try FetchError.converting {
            try file.sync()
            try file.close()
        }
    }

    /// Closes and deletes the file.
    func remove() {
        try? file.close()
        unlink(path)
    }
}
