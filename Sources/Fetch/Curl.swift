// HTTP(S) and file:// transfers with libcurl 7.88's easy API. The only file that imports CCurl.
// - SeeAlso: https://curl.se/libcurl/c/libcurl-easy.html, https://curl.se/libcurl/c/curl_easy_setopt.html
//
// curl_easy_setopt and curl_easy_getinfo are variadic, so they are called through the typed
// one-line forwards in Sources/CCurl/shim.h. The C callbacks are closures that capture nothing:
// they reach the transfer in progress through an `Unmanaged` pointer passed as their user data.
// Every CURLcode goes through `CurlEasy.check(_:url:)`, which turns a failure into a
// ``TransferFailure`` carrying a ``FetchError`` with curl's own words (curl_easy_strerror plus
// the CURLOPT_ERRORBUFFER text).
//
// This file knows libcurl, not download policy: resuming, retrying, hashing and renaming are in
// Downloader.swift.
import CCurl
import Foundation

/// curl_global_init's result. Swift runs a global's initialiser once, lazily and thread-safely,
/// so libcurl is initialised exactly once per process, on the first ``CurlEasy``.
private let globalInitCode: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// Bytes libcurl asks the socket for per read (CURLOPT_BUFFERSIZE), allocated once per handle:
/// fewer, larger reads. libcurl still hands them to the write callback 16 KiB at a time
/// (CURL_MAX_WRITE_SIZE).
private let receiveBufferSize = 1 << 20

// MARK: - Failures

/// Why a transfer did not complete, in the terms the download policy decides on, and the error to
/// report if it gives up.
struct TransferFailure: Error {
    enum Reason: Equatable {
        /// The server did not deliver the requested byte range: it ignored `Range` (answered 200),
        /// answered another range, or the offset is past the end of a file:// source
        /// (CURLE_RANGE_ERROR, CURLE_BAD_DOWNLOAD_RESUME).
        case rangeNotDelivered
        /// The server answered this HTTP error status (CURLOPT_FAILONERROR: nothing was written).
        case httpStatus(Int)
        /// The receiver returned false for a chunk (CURLE_WRITE_ERROR); it holds its own error.
        case refusedByReceiver
        /// The response's validators (size, ETag, modification time) were refused before any of
        /// its body was received: the source is not the one the resumed bytes came from.
        case sourceChanged
        /// A failure that may pass on a later attempt: connection refused or reset, send or receive
        /// error, partial file, timeout (including the low-speed one), empty reply.
        case transient
        /// Anything else: malformed URL, unsupported protocol, unknown host, TLS, missing file.
        case permanent
    }

    var reason: Reason
    /// `httpStatus` ("HTTP 404 Not Found (curl: ...)") or `transferFailed` with curl's message,
    /// the URL as subject.
    var error: FetchError
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

    /// Whether bytes of this response may be resumed later: only with a validator (an ETag or a
    /// modification time) that a later response can be compared with. The size alone is not one:
    /// a file changed upstream to one of the same size would be spliced with the old bytes.
    var canBeResumed: Bool { etag != nil || modified != nil }
}

/// One transfer's progress as libcurl counts it: bytes of this transfer only (a resumed transfer
/// starts at 0).
struct TransferProgress {
    /// Bytes received so far by this transfer.
    var received: Int
    /// Bytes this transfer expects in all, when the server said (Content-Length).
    var expected: Int?
    /// This transfer's average speed so far, in bytes per second.
    var bytesPerSecond: Double
}

// MARK: - Easy handle

/// One libcurl easy handle with its error buffer, reused for the attempts of one download. Not
/// `Sendable`: one thread at a time; ``perform(url:resumingAt:options:receive:progress:)`` blocks.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl writes its detailed message here when a call fails.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// - Throws: ``FetchError`` `transferFailed` when libcurl cannot initialise (out of memory,
    ///   TLS library failure).
    init() throws {
        guard globalInitCode == CURLE_OK else {
            throw FetchError(.transferFailed, "curl_global_init failed: \(String(cString: curl_easy_strerror(globalInitCode)))")
        }
        guard let handle = curl_easy_init() else {
            throw FetchError(.transferFailed, "curl_easy_init failed (out of memory)")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// GETs `url` from byte `offset` on, handing every received chunk to `receive` in order, and
    /// returns when the body is complete. Redirects are followed; an HTTP error status fails the
    /// transfer before any of its body reaches `receive`.
    /// - Parameters:
    ///   - offset: 0 for the whole body; otherwise a `Range: bytes=offset-` request
    ///     (CURLOPT_RESUME_FROM_LARGE), and libcurl checks that the server honoured it.
    ///   - options: the timeouts and redirect limit to use.
    ///   - receive: gets each chunk (valid only during the call); returning false aborts the
    ///     transfer with ``TransferFailure/Reason/refusedByReceiver``.
    ///   - progress: when given, called on this thread as bytes arrive and at least once a second.
    ///   - accept: called once per transfer with the final response's identity, before its first
    ///     body byte reaches `receive` (or at the end when the body is empty); returning false
    ///     aborts the transfer with ``TransferFailure/Reason/sourceChanged``.
    /// - Throws: ``TransferFailure`` saying why the transfer stopped.
    func perform(
        url: String, resumingAt offset: Int, options: DownloadOptions,
        receive: @escaping (UnsafeRawBufferPointer) -> Bool,
        progress: ((TransferProgress) -> Void)?,
        accept: @escaping (ResponseIdentity) -> Bool
    ) throws(TransferFailure) {
        let transfer = TransferContext(handle: handle, offset: offset, receive: receive, progress: progress, accept: accept)
        let userData = Unmanaged.passUnretained(transfer).toOpaque()
        errorBuffer[0] = 0

        for (option, value) in [
            (CURLOPT_URL, url),
            (CURLOPT_PROTOCOLS_STR, "http,https,file"),
            (CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),  // a server must not redirect to file://
            (CURLOPT_USERAGENT, "dataprep (libcurl)"),
        ] {
            try check(dp_curl_setopt_string(handle, option, value), url: url)
        }
        for (option, value) in [
            (CURLOPT_NOSIGNAL, 1),  // no SIGALRM for timeouts: we may be on any thread
            (CURLOPT_FAILONERROR, 1),  // an HTTP error's body never reaches `receive`
            (CURLOPT_FOLLOWLOCATION, 1),
            (CURLOPT_MAXREDIRS, options.maximumRedirects),
            (CURLOPT_CONNECTTIMEOUT_MS, Int((options.connectTimeout * 1000).rounded(.up))),
            (CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit),
            (CURLOPT_LOW_SPEED_TIME, options.lowSpeedTime),
            (CURLOPT_BUFFERSIZE, receiveBufferSize),
            (CURLOPT_NOPROGRESS, progress == nil ? 1 : 0),
            (CURLOPT_FILETIME, 1),  // Last-Modified (or a file's mtime) for ResponseIdentity
        ] {
            try check(dp_curl_setopt_long(handle, option, value), url: url)
        }
        try check(dp_curl_setopt_off(handle, CURLOPT_RESUME_FROM_LARGE, offset), url: url)
        try check(dp_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), url: url)

        try check(
            dp_curl_setopt_write_callback(handle) { data, size, count, userData in
                guard let data, let userData else { return 0 }
                let transfer = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
                guard transfer.accepted() else { return 0 }
                return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
            }, url: url)
        try check(
            dp_curl_setopt_header_callback(handle) { data, size, count, userData in
                guard let data, let userData else { return 0 }
                let transfer = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
                transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }, url: url)
        try check(
            dp_curl_setopt_xferinfo_callback(handle) { userData, expected, received, _, _ in
                guard let userData else { return 0 }
                Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
                    .reportProgress(received: received, expected: expected)
                return 0
            }, url: url)
        for option in [CURLOPT_WRITEDATA, CURLOPT_HEADERDATA, CURLOPT_XFERINFODATA] {
            try check(dp_curl_setopt_pointer(handle, option, userData), url: url)
        }

        // `transfer` must outlive curl_easy_perform: the callbacks hold it unretained.
        let code = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        if code == CURLE_OK { _ = transfer.accepted() }  // asked once, also for an empty body
        if transfer.rangeRefused {
            throw TransferFailure(
                reason: .rangeNotDelivered,
                error: FetchError(
                    .transferFailed, "the server did not send the requested range (\(transfer.statusLine)): downloading from the start",
                    subject: url))
        }
        if code == CURLE_WRITE_ERROR && transfer.refused {
            throw TransferFailure(
                reason: .sourceChanged,
                error: FetchError(.transferFailed, "the source changed since the partial download was made", subject: url))
        }
        try check(code, url: url, statusLine: transfer.statusLine)
        guard transfer.accepted() else {
            throw TransferFailure(
                reason: .sourceChanged,
                error: FetchError(.transferFailed, "the source changed since the partial download was made", subject: url))
        }
    }

    // MARK: CURLcode funnel

    /// Returns when `code` is CURLE_OK; otherwise throws the classified failure with curl's message.
    /// - Parameter statusLine: the last HTTP status line received, for the reason phrase.
    private func check(_ code: CURLcode, url: String, statusLine: String = "") throws(TransferFailure) {
        guard code != CURLE_OK else { return }
        var message = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty && detail != message { message += ": " + detail }

        let reason: TransferFailure.Reason
        switch code {
        case CURLE_HTTP_RETURNED_ERROR:
            var status = 0  // stays 0 if libcurl cannot say, which it always can after this code
            _ = dp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            // "HTTP/1.1 404 Not Found" → "Not Found"; HTTP/2 has no reason phrase.
            let phrase = statusLine.split(separator: " ", maxSplits: 2).dropFirst(2).first.map { " " + $0 } ?? ""
            throw TransferFailure(
                reason: .httpStatus(status),
                error: FetchError(.httpStatus, "HTTP \(status)\(phrase) (curl: \(message))", subject: url))
        case CURLE_RANGE_ERROR, CURLE_BAD_DOWNLOAD_RESUME:
            reason = .rangeNotDelivered
        case CURLE_WRITE_ERROR:
            reason = .refusedByReceiver
        case CURLE_COULDNT_CONNECT, CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT, CURLE_GOT_NOTHING,
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            reason = .transient
        default:
            reason = .permanent
        }
        throw TransferFailure(reason: reason, error: FetchError(.transferFailed, message, subject: url))
    }
}

// MARK: - Callback state

/// What the C callbacks of one transfer reach through `Unmanaged`: the receiver, the progress
/// observer, the identity check, and the current response's status line and headers.
private final class TransferContext {
    private let handle: UnsafeMutableRawPointer
    /// The byte the transfer starts at.
    private let offset: Int
    let receive: (UnsafeRawBufferPointer) -> Bool
    private let progress: ((TransferProgress) -> Void)?
    private let accept: (ResponseIdentity) -> Bool
    /// The last "HTTP/..." line received, without its line break; with redirects, the final
    /// response's.
    private(set) var statusLine = ""
    /// The current response's ETag, and the first byte and whole size from its Content-Range,
    /// when it sent them.
    private var etag: String?
    private var rangeStart: Int?
    private var rangeTotal: Int?
    /// Set when a resumed HTTP transfer's response is not the continuation asked for: not a 206,
    /// or a 206 whose range does not start at the offset (one starting at byte 0 is a whole body).
    private(set) var rangeRefused = false
    /// `accept`'s answer, once asked.
    private var verdict: Bool?

    init(
        handle: UnsafeMutableRawPointer, offset: Int, receive: @escaping (UnsafeRawBufferPointer) -> Bool,
        progress: ((TransferProgress) -> Void)?, accept: @escaping (ResponseIdentity) -> Bool
    ) {
        self.handle = handle
        self.offset = offset
        self.receive = receive
        self.progress = progress
        self.accept = accept
    }

    /// Whether `accept` refused the response.
    var refused: Bool { verdict == false }

    /// One header line as libcurl delivers it (status line included, with its CRLF). A status
    /// line starts a new response (after a redirect), whose headers replace the earlier ones.
    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.starts(with: "HTTP/".utf8) {
            statusLine = text
            etag = nil
            rangeStart = nil
            rangeTotal = nil
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if name == "etag" { etag = value }
        if name == "content-range" {  // bytes FIRST-LAST/TOTAL
            if let slash = value.lastIndex(of: "/") { rangeTotal = Int(value[value.index(after: slash)...]) }
            let range = value.drop(while: { !$0.isNumber }).prefix(while: { $0.isNumber })
            rangeStart = Int(range)
        }
    }

    /// Asks `accept` about the response once (on its first body byte, or at its end), then gives
    /// the same answer.
    func accepted() -> Bool {
        if let verdict { return verdict }
        // A resumed HTTP transfer continues the partial file only when the answer is a 206 for the
        // range asked: libcurl takes a 206 from byte 0 (or a body as long as the offset) as
        // "already complete", which would keep a cut file.
        if offset > 0, statusLine.hasPrefix("HTTP/") {
            var status = 0
            _ = dp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            if status != 206 || rangeStart != offset {
                rangeRefused = true
                verdict = false
                return false
            }
        }
        var length: curl_off_t = -1, modified: curl_off_t = -1  // stay -1 if libcurl cannot say
        _ = dp_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        _ = dp_curl_getinfo_off(handle, CURLINFO_FILETIME_T, &modified)
        let identity = ResponseIdentity(
            size: rangeTotal ?? (length >= 0 ? offset + Int(length) : nil), etag: etag,
            modified: modified >= 0 ? Int(modified) : nil)
        let answer = accept(identity)
        verdict = answer
        return answer
    }

    /// Forwards libcurl's counters (0 when unknown) with this transfer's average speed.
    func reportProgress(received: curl_off_t, expected: curl_off_t) {
        guard let progress else { return }
        var speed: curl_off_t = 0  // stays 0 if libcurl cannot say
        _ = dp_curl_getinfo_off(handle, CURLINFO_SPEED_DOWNLOAD_T, &speed)
        progress(
            TransferProgress(
                received: received, expected: expected > 0 ? expected : nil,
                bytesPerSecond: Double(speed)))
    }
}
