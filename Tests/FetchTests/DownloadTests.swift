import Datasets
import Fetch
import Foundation
import TestSupport
import Testing

/// Downloads from a misbehaving ``LoopbackHTTPServer`` (and file:// URLs): resume, restart,
/// retries, checksums. Timeouts and backoff are shrunk so the whole suite takes a few seconds.
@Suite final class DownloadTests {
    /// 2.5 MB of deterministic bytes: several of the downloader's 1 MiB buffers.
    static let content: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<2_500_000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }()
    static let sha256 = sha256Hex(content)

    /// Small delays and timeouts: a retry waits 10 ms, a stalled transfer is dropped after 1 s.
    static let fastOptions = DownloadOptions(
        maximumAttempts: 4, initialRetryDelay: 0.01, maximumRetryDelay: 0.05,
        connectTimeout: 2, lowSpeedLimit: 1000, lowSpeedTime: 1)

    let server: LoopbackHTTPServer
    let folder: String
    var destination: String { folder + "/data.bin" }
    var partial: String { destination + ".partial" }

    /// A server of its own serving ``content`` at `/data.bin`, and a fresh folder name for each test.
    init() throws {
        server = try LoopbackHTTPServer()
        server.setFile(Self.content, at: "/data.bin")
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dp-download-\(UUID())").path
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    var url: String { server.baseURL + "/data.bin" }

    func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    // MARK: - Success paths

    @Test func fullDownloadHasTheRightContentAndSHA256() throws {
        var reports: [DownloadProgress] = []
        let result = try download(
            from: url, to: destination,
            options: DownloadOptions(expectedSize: Self.content.count, expectedSHA256: Self.sha256.uppercased()),
            progress: { reports.append($0) })
        #expect(result.size == Self.content.count)
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 0)
        #expect(result.attempts == 1)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: destination))) == Self.content)
        #expect(!fileExists(partial))
        #expect(reports.last?.receivedBytes == Self.content.count)
        #expect(reports.last?.totalBytes == Self.content.count)
        #expect(server.requests.map(\.range) == [nil])
    }

    @Test func droppedConnectionIsResumedWithARangeRequest() throws {
        server.inject(.dropConnection(afterBodyBytes: 300_000), at: "/data.bin")
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 300_000)
        #expect(result.attempts == 2)
        #expect(server.requests.map(\.range) == [nil, "bytes=300000-"])
    }

    @Test func serverIgnoringRangeMakesTheDownloadStartOverCleanly() throws {
        server.inject(.dropConnection(afterBodyBytes: 300_000), at: "/data.bin")
        server.inject(.ignoreRange, at: "/data.bin", times: 10)
        var reports: [DownloadProgress] = []
        let result = try download(from: url, to: destination, options: Self.fastOptions, progress: { reports.append($0) })
        #expect(result.size == Self.content.count)
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 0)
        #expect(result.attempts == 3)
        #expect(server.requests.map(\.range) == [nil, "bytes=300000-", nil])
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: destination))) == Self.content)
        #expect(reports.allSatisfy { $0.receivedBytes <= Self.content.count })
    }

    /// Runs a download of `url` that the server cuts after `bytes` bytes, with no retry, so its
    /// partial file (and the record of its source) is left for the next run.
    func interruptedDownload(after bytes: Int, from url: String? = nil) {
        server.inject(.dropConnection(afterBodyBytes: bytes), at: "/data.bin")
        var once = Self.fastOptions
        once.maximumAttempts = 1
        expectFetchError(.transferFailed) { _ = try download(from: url ?? self.url, to: destination, options: once) }
    }

    @Test func anInterruptedRunIsResumedByTheNext() throws {
        interruptedDownload(after: 400_000)
        let result = try download(
            from: url, to: destination,
            options: DownloadOptions(expectedSHA256: Self.sha256))
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 400_000)
        #expect(result.attempts == 1)
        #expect(server.requests.map(\.range) == [nil, "bytes=400000-"])
        #expect(!fileExists(partial) && !fileExists(partial + ".json"))
    }

    @Test func aPartialFileOfUnknownOriginIsNotResumed() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(Self.content.prefix(400_000)).write(to: URL(fileURLWithPath: partial))
        let result = try download(from: url, to: destination, options: DownloadOptions(expectedSHA256: Self.sha256))
        #expect(result.resumedBytes == 0)
        #expect(server.requests.map(\.range) == [nil])
    }

    @Test func anotherURLsPartialFileIsNeverSplicedOn() throws {
        interruptedDownload(after: 300_000)
        let other = Array(Self.content.reversed())
        server.setFile(other, at: "/other/data.bin")
        let result = try download(from: server.baseURL + "/other/data.bin", to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256Hex(other))
        #expect(result.resumedBytes == 0)
        #expect(server.requests.map(\.range) == [nil, nil])
    }

    @Test func aSourceThatChangedSinceThePartialFileStartsOver() throws {
        interruptedDownload(after: 300_000)
        var changed = Self.content
        changed[2_000_000] ^= 0xFF  // same size, same first 300,000 bytes: only the ETag tells
        server.setFile(changed, at: "/data.bin")
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256Hex(changed))
        #expect(result.resumedBytes == 0)
        #expect(server.requests.map(\.range) == [nil, "bytes=300000-", nil])
    }

    /// Issue 23, class 8: without an ETag or a modification time a changed file of the same size
    /// cannot be told from the one the partial bytes came from: they are never resumed.
    @Test func aPartialFileWithoutValidatorsIsNotResumed() throws {
        server.setFile(Self.content, at: "/data.bin", validators: false)
        interruptedDownload(after: 300_000)
        var changed = Self.content
        changed[2_000_000] ^= 0xFF  // same size, same first 300,000 bytes, and no ETag to tell
        server.setFile(changed, at: "/data.bin", validators: false)
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256Hex(changed))
        #expect(result.resumedBytes == 0)
        #expect(server.requests.map(\.range) == [nil, nil])
        // Within one run too: a retry after a cut connection starts over.
        try FileManager.default.removeItem(atPath: destination)
        server.inject(.dropConnection(afterBodyBytes: 300_000), at: "/data.bin")
        let retried = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(retried.sha256 == Self.sha256Hex(changed) && retried.resumedBytes == 0 && retried.attempts == 2)
        #expect(server.requests.map(\.range).suffix(2) == [nil, nil])
    }

    /// Issue 23, class 8: a 206 from byte 0 for a `Range: bytes=N-` request is not the continuation:
    /// libcurl would take one of N bytes as "already complete" and keep a cut file.
    @Test func aRangeAnsweredFromByteZeroIsNotAContinuation() throws {
        interruptedDownload(after: 300_000)
        server.inject(.rangeFromStart, at: "/data.bin")
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.size == Self.content.count)
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 0)
        #expect(server.requests.map(\.range) == [nil, "bytes=300000-", nil])
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: destination))) == Self.content)
    }

    @Test func aFIFOGivenAsAFileURLIsRefusedAtOnce() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fifo = folder + "/pipe.zip"
        #expect(mkfifo(fifo, 0o644) == 0)
        let error = expectFetchError(.fileSystem) { _ = try download(from: URL(fileURLWithPath: fifo).absoluteString, to: destination) }
        #expect(error?.message.contains("FIFO") == true, "\(String(describing: error))")
    }

    @Test func partialFileLongerThanTheSourceStartsOver() throws {
        interruptedDownload(after: 300_000)
        try Data(Self.content + [1, 2, 3]).write(to: URL(fileURLWithPath: partial))
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256)
        #expect(server.requests.map(\.range) == [nil, "bytes=\(Self.content.count + 3)-", nil])
    }

    @Test func serviceUnavailableIsRetriedUntilItPasses() throws {
        server.inject(.status(503), at: "/data.bin", times: 2)
        let result = try download(from: url, to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256)
        #expect(result.attempts == 3)
        #expect(server.requests.count == 3)
    }

    @Test func stalledTransferTimesOutAndTheRetryResumes() throws {
        server.inject(.stall(afterBodyBytes: 100_000, seconds: 10), at: "/data.bin")
        // libcurl averages the speed over up to the last 5 s, so after a fast start only a
        // limit above the burst's average (100 kB/s over the first second) gives up within
        // the 1 s asked.
        var options = Self.fastOptions
        options.lowSpeedLimit = 500_000
        let start = Date()
        let result = try download(from: url, to: destination, options: options)
        #expect(result.sha256 == Self.sha256)
        #expect(result.resumedBytes == 100_000)
        #expect(result.attempts == 2)
        #expect(server.requests.map(\.range) == [nil, "bytes=100000-"])
        #expect(Date().timeIntervalSince(start) < 4)
    }

    @Test func redirectIsFollowed() throws {
        server.inject(.redirect(to: "/data.bin"), at: "/old-name.bin")
        let result = try download(from: server.baseURL + "/old-name.bin", to: destination, options: Self.fastOptions)
        #expect(result.sha256 == Self.sha256)
        #expect(server.requests.map(\.path) == ["/old-name.bin", "/data.bin"])
    }

    @Test func fileURLIsCopiedAndResumed() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = folder + "/source.bin"
        try Data(Self.content).write(to: URL(fileURLWithPath: source))
        let whole = try download(from: "file://" + source, to: destination)
        #expect(whole.sha256 == Self.sha256)
        #expect(whole.resumedBytes == 0)

        // A partial file recorded as coming from this file, at its size and modification time.
        let second = folder + "/second.bin"
        try Data(Self.content.prefix(123_456)).write(to: URL(fileURLWithPath: second + ".partial"))
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: source)[.modificationDate] as? Date)
        let record =
            #"{"url":"file://\#(source)","identity":{"size":\#(Self.content.count),"modified":\#(Int(modified.timeIntervalSince1970))}}"#
        try Data(record.utf8).write(to: URL(fileURLWithPath: second + ".partial.json"))
        let resumed = try download(from: "file://" + source, to: second)
        #expect(resumed.sha256 == Self.sha256)
        #expect(resumed.resumedBytes == 123_456)
    }

    // MARK: - Failures

    @Test func notFoundFailsAtOnceWithoutRetrying() throws {
        let missing = server.baseURL + "/missing.bin"
        let error = try #require(
            expectFetchError(.httpStatus) {
                _ = try download(from: missing, to: destination, options: Self.fastOptions)
            })
        #expect(error.message.hasPrefix("HTTP 404 Not Found"))
        #expect(error.subject == missing)
        #expect(server.requests.count == 1)
        #expect(!fileExists(destination) && !fileExists(partial))
    }

    @Test func persistentServerErrorIsAnHTTPStatusAfterTheLastAttempt() throws {
        server.inject(.status(500), at: "/data.bin", times: 100)
        let error = try #require(
            expectFetchError(.httpStatus) {
                _ = try download(from: url, to: destination, options: Self.fastOptions)
            })
        #expect(error.message.contains("HTTP 500"))
        #expect(server.requests.count == Self.fastOptions.maximumAttempts)
    }

    @Test func corruptBytesAreAChecksumMismatchAndLeaveNothingBehind() throws {
        server.inject(.corruptBody, at: "/data.bin")
        let error = try #require(
            expectFetchError(.checksumMismatch) {
                _ = try download(from: url, to: destination, options: DownloadOptions(expectedSHA256: Self.sha256))
            })
        var corrupt = Self.content
        for i in stride(from: 0, to: corrupt.count, by: 4096) { corrupt[i] = ~corrupt[i] }
        #expect(error.message.contains(Self.sha256))
        #expect(error.message.contains(Self.sha256Hex(corrupt)))
        #expect(!fileExists(destination) && !fileExists(partial))
    }

    /// A file of another size is another file: refused when the server announces its size, before
    /// the body, and the message does not suggest running again.
    @Test func wrongSizeIsAChecksumMismatch() throws {
        let error = try #require(
            expectFetchError(.checksumMismatch) {
                _ = try download(from: url, to: destination, options: DownloadOptions(expectedSize: 999))
            })
        #expect(error.message.hasPrefix("expected 999 bytes, and the server announces \(Self.content.count)"), "\(error.message)")
        #expect(error.message.contains("running again would fail the same way") && !error.message.contains("run again"))
        #expect(server.requests.count == 1)
        #expect(!fileExists(destination) && !fileExists(partial))
    }

    @Test func refusedConnectionIsATransferFailureAfterTheRetries() throws {
        server.stop()  // nothing listens on its port any more
        let error = try #require(
            expectFetchError(.transferFailed) {
                _ = try download(from: url, to: destination, options: Self.fastOptions)
            })
        #expect(error.message.contains("connect"))
        #expect(error.message.contains("after 4 attempts"))
        #expect(!fileExists(partial))
    }

    @Test func unsupportedSchemeFailsAtOnce() throws {
        let error = try #require(
            expectFetchError(.transferFailed) {
                _ = try download(from: "ftp://127.0.0.1/data.bin", to: destination, options: Self.fastOptions)
            })
        #expect(!error.message.contains("attempts"))
    }

    // MARK: - Helpers

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = SHA256Digest()
        bytes.withUnsafeBytes { digest.update($0) }
        return digest.hex()
    }
}
