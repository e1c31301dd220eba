// HTTP(S), S3 and file:// transfers with libcurl 7.88's easy API. The only file that imports CCurl.
// - SeeAlso: https://curl.se/libcurl/c/libcurl-easy.html, https://curl.se/libcurl/c/curl_easy_setopt.html,
//   https://curl.se/libcurl/c/CURLOPT_AWS_SIGV4.html
//
// curl_easy_setopt and curl_easy_getinfo are variadic, so they are called through the typed
// one-line forwards in Sources/CCurl/shim.h. The C callbacks are closures that capture nothing:
// they reach the transfer in progress through an `Unmanaged` pointer passed as their user data.
// Every CURLcode goes through `CurlEasy.check(_:url:)`, which turns a failure into a
// ``TransferFailure`` carrying a ``TransferError`` with curl's own words (curl_easy_strerror plus
// the CURLOPT_ERRORBUFFER text), or the server's own words for an HTTP error status.
//
// This file knows libcurl, not policy: resuming, retrying, hashing and caching are the callers'
// (Fetch's Downloader, RemoteShards' object client).
import CCurl
import Foundation
public import Support

/// curl_global_init's result. Swift runs a global's initialiser once, lazily and thread-safely,
/// so libcurl is initialised exactly once per process, on the first ``CurlEasy``.
private let globalInitCode: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// Bytes libcurl asks the socket for per read (CURLOPT_BUFFERSIZE), allocated once per handle:
/// fewer, larger reads. libcurl still hands them to the write callback 16 KiB at a time
/// (CURL_MAX_WRITE_SIZE).
private let receiveBufferSize = 1 << 20

/// The body of a POST without one (libcurl needs a pointer).
nonisolated(unsafe) private let emptyBody = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// The most bytes of an HTTP error response's body kept to quote what the server said.
private let errorBodyLimit = 4096

// MARK: - Requests

/// Timeouts and limits of one transfer. The defaults suit real servers; tests shrink them.
public struct TransferLimits: Sendable, Hashable {
    /// Seconds allowed to establish the connection (TCP and TLS).
    public var connectTimeout: Double
    /// With ``lowSpeedTime``: a transfer slower than this many bytes per second for that many
    /// seconds is abandoned (a transient failure). This is what catches a server that stalls.
    public var lowSpeedLimit: Int
    /// Seconds (whole, libcurl's resolution) a transfer may stay below ``lowSpeedLimit``.
    public var lowSpeedTime: Int
    /// The most redirects followed for one transfer.
    public var maximumRedirects: Int

    public init(connectTimeout: Double = 30, lowSpeedLimit: Int = 1, lowSpeedTime: Int = 30, maximumRedirects: Int = 10) {
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.maximumRedirects = maximumRedirects
    }
}

/// Credentials libcurl signs an S3 request with (AWS Signature Version 4, `CURLOPT_AWS_SIGV4`).
public struct AWSSignature: Sendable, Hashable {
    /// The region the signature is for.
    public var region: String
    /// The access key id and its secret.
    public var accessKey: String
    public var secretKey: String
    /// A temporary credential's session token, sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(region: String, accessKey: String, secretKey: String, sessionToken: String? = nil) {
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
    }
}

/// One request: what to ask for, and how.
public struct TransferRequest {
    /// The HTTP method.
    public enum Method: String, Sendable {
        case get = "GET", head = "HEAD", put = "PUT", post = "POST", delete = "DELETE"
    }

    /// Which bytes of the body a GET asks for.
    public enum Range: Sendable, Hashable {
        /// The whole body.
        case all
        /// `Range: bytes=offset-`, checked by libcurl (CURLOPT_RESUME_FROM_LARGE): a server that
        /// answers 200 fails with ``TransferFailure/Reason/rangeNotDelivered``.
        case from(Int)
        /// `Range: bytes=offset-(offset+length-1)`; the caller checks the answer's
        /// ``TransferResponse/rangeStart`` (a server may answer 200 with the whole body).
        case slice(offset: Int, length: Int)
    }

    /// The URL (http, https, or file when ``protocols`` allows it).
    public var url: String
    public var method: Method
    /// The bytes a GET asks for.
    public var range: Range
    /// Extra header lines (`Name: value`).
    public var headers: [String]
    /// The body of a PUT or POST (empty: none); it must stay valid during the transfer.
    public var body: UnsafeRawBufferPointer?
    /// Sign the request for S3.
    public var signature: AWSSignature?
    public var limits: TransferLimits
    /// A PEM file of certificate authorities to trust instead of the system's (`--cacert`).
    public var caBundle: String?
    /// The schemes allowed (CURLOPT_PROTOCOLS_STR); redirects may only go to http and https.
    public var protocols: String

    public init(
        url: String, method: Method = .get, range: Range = .all, headers: [String] = [], body: UnsafeRawBufferPointer? = nil,
        signature: AWSSignature? = nil, limits: TransferLimits = TransferLimits(), caBundle: String? = nil,
        protocols: String = "http,https,file"
    ) {
        self.url = url
        self.method = method
        self.range = range
        self.headers = headers
        self.body = body
        self.signature = signature
        self.limits = limits
        self.caBundle = caBundle
        self.protocols = protocols
    }
}

/// What a response said about itself, read from its status and headers.
public struct TransferResponse: Sendable, Hashable {
    /// The HTTP status (0 for file://).
    public var status: Int
    /// The `ETag`, as sent (quotes included).
    public var etag: String?
    /// The size of the whole object: the total of `Content-Range`, or, for a whole body, the
    /// `Content-Length` plus the resumed offset; nil when the response does not say.
    public var size: Int?
    /// Bytes of this response's body, when it said (`Content-Length`).
    public var contentLength: Int?
    /// The first byte a `206 Partial Content` holds (from `Content-Range`); nil for a whole body.
    public var rangeStart: Int?
    /// Seconds since 1970 (Last-Modified, or a file's mtime for file://).
    public var modified: Int?
    /// Headers whose name starts with `x-amz-meta-` (lowercased names), for object metadata.
    public var metadata: [String: String]
}

// MARK: - Failures

/// Why a transfer did not complete, in the terms a retry policy decides on, and the error to report
/// if it gives up.
public struct TransferFailure: Error {
    public enum Reason: Equatable, Sendable {
        /// The server did not deliver the requested byte range: it ignored `Range` (answered 200),
        /// answered another range, or the offset is past the end of a file:// source
        /// (CURLE_RANGE_ERROR, CURLE_BAD_DOWNLOAD_RESUME).
        case rangeNotDelivered
        /// The server answered this HTTP error status (nothing of its body was delivered).
        case httpStatus(Int)
        /// The receiver returned false for a chunk (CURLE_WRITE_ERROR); it holds its own error.
        case refusedByReceiver
        /// The response was refused by the caller's check before any of its body was received:
        /// the source is not the one expected.
        case sourceChanged
        /// A failure that may pass on a later attempt: connection refused or reset, send or receive
        /// error, partial file, timeout (including the low-speed one), empty reply.
        case transient
        /// Anything else: malformed URL, unsupported protocol, unknown host, TLS, missing file.
        case permanent
    }

    public var reason: Reason
    /// `httpStatus` ("HTTP 404 Not Found: what the server said") or `transferFailed` with curl's
    /// message, the URL as place.
    public var error: TransferError

    /// Whether a later attempt may succeed: transient failures, HTTP 5xx, 408 and 429.
    public var isTransient: Bool {
        switch reason {
        case .transient: true
        case .httpStatus(let status): status >= 500 || status == 408 || status == 429
        default: false
        }
    }
}

/// The one error type of the Transfer module.
public struct TransferError: CodedError, Hashable, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// The server answered with an HTTP error status.
        case httpStatus
        /// The transfer failed (connection refused or reset, timeout, DNS, TLS).
        case transferFailed
    }

    public var code: Code
    public var message: String
    /// The URL concerned.
    public var url: String
    /// The HTTP status, for `httpStatus`.
    public var status: Int?

    public init(_ code: Code, _ message: String, url: String, status: Int? = nil) {
        self.code = code
        self.message = message
        self.url = url
        self.status = status
    }

    public var place: String? { url }
}

/// One transfer's progress as libcurl counts it: bytes of this transfer only (a resumed transfer
/// starts at 0).
public struct TransferProgress: Sendable {
    /// Bytes received so far by this transfer.
    public var received: Int
    /// Bytes this transfer expects in all, when the server said (Content-Length).
    public var expected: Int?
    /// This transfer's average speed so far, in bytes per second.
    public var bytesPerSecond: Double
}

// MARK: - Easy handle

/// One libcurl easy handle with its error buffer, reused for many transfers (libcurl keeps the
/// connection open between them). Not `Sendable`: one thread at a time;
/// ``perform(_:receive:progress:accept:)`` blocks.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    /// CURLOPT_ERRORBUFFER: libcurl writes its detailed message here when a call fails.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// - Throws: ``TransferError`` `transferFailed` when libcurl cannot initialise (out of memory,
    ///   TLS library failure).
    public init() throws(TransferError) {
        guard globalInitCode == CURLE_OK else {
            throw TransferError(
                .transferFailed, "curl_global_init failed: \(String(cString: curl_easy_strerror(globalInitCode)))", url: "")
        }
        guard let handle = curl_easy_init() else {
            throw TransferError(.transferFailed, "curl_easy_init failed (out of memory)", url: "")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Makes `request` and returns when its body is complete, handing every received chunk to
    /// `receive` in order. Redirects are followed. An HTTP error status (≥ 400) fails the
    /// transfer with ``TransferFailure/Reason/httpStatus(_:)`` before any of its body reaches
    /// `receive`; the error's message quotes what the server said (S3's `Code` and `Message`,
    /// or the first line of a text body).
    /// - Parameters:
    ///   - receive: gets each chunk (valid only during the call); returning false aborts the
    ///     transfer with ``TransferFailure/Reason/refusedByReceiver``.
    ///   - progress: when given, called on this thread as bytes arrive and at least once a second.
    ///   - accept: called once per transfer with the final response, before its first body byte
    ///     reaches `receive` (or at the end when the body is empty); returning false aborts the
    ///     transfer with ``TransferFailure/Reason/sourceChanged``.
    /// - Returns: what the final response said about itself.
    /// - Throws: ``TransferFailure`` saying why the transfer stopped.
    @discardableResult
    public func perform(
        _ request: TransferRequest,
        receive: @escaping (UnsafeRawBufferPointer) -> Bool = { _ in true },
        progress: ((TransferProgress) -> Void)? = nil,
        accept: @escaping (TransferResponse) -> Bool = { _ in true }
    ) throws(TransferFailure) -> TransferResponse {
        let url = request.url
        let offset: Int
        switch request.range {
        case .all: offset = 0
        case .from(let start): offset = start
        case .slice(let start, _): offset = start
        }
        let transfer = TransferContext(
            handle: handle, offset: offset, body: request.body, receive: receive, progress: progress, accept: accept)
        let userData = Unmanaged.passUnretained(transfer).toOpaque()
        curl_easy_reset(handle)  // every option back to its default; connections are kept
        errorBuffer[0] = 0

        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        var lines = request.headers
        if let token = request.signature?.sessionToken { lines.append("x-amz-security-token: \(token)") }
        if request.signature != nil { lines.append("x-amz-content-sha256: UNSIGNED-PAYLOAD") }
        // No 100-continue round trip; not for a signed request: libcurl would sign the empty header
        // it then leaves out.
        if request.signature == nil && (request.method == .put || request.method == .post) { lines.append("Expect:") }
        for line in lines {
            guard let appended = curl_slist_append(headers, line) else {
                throw TransferFailure(reason: .permanent, error: TransferError(.transferFailed, "out of memory for headers", url: url))
            }
            headers = appended
        }

        var strings: [(CURLoption, String?)] = [
            (CURLOPT_URL, url),
            (CURLOPT_PROTOCOLS_STR, request.protocols),
            (CURLOPT_REDIR_PROTOCOLS_STR, "http,https"),  // a server must not redirect to file://
            (CURLOPT_USERAGENT, "dataprep (libcurl)"),
        ]
        if let signature = request.signature {
            strings.append((CURLOPT_AWS_SIGV4, "aws:amz:\(signature.region):s3"))
            strings.append((CURLOPT_USERNAME, signature.accessKey))
            strings.append((CURLOPT_PASSWORD, signature.secretKey))
        }
        if let caBundle = request.caBundle { strings.append((CURLOPT_CAINFO, caBundle)) }
        if case .slice(let start, let length) = request.range { strings.append((CURLOPT_RANGE, "\(start)-\(start + max(length, 1) - 1)")) }
        if request.method == .delete { strings.append((CURLOPT_CUSTOMREQUEST, "DELETE")) }
        for (option, value) in strings { try check(dp_curl_setopt_string(handle, option, value), url: url) }

        let limits = request.limits
        var longs: [(CURLoption, Int)] = [
            (CURLOPT_NOSIGNAL, 1),  // no SIGALRM for timeouts: we may be on any thread
            (CURLOPT_FOLLOWLOCATION, 1),
            (CURLOPT_MAXREDIRS, limits.maximumRedirects),
            (CURLOPT_CONNECTTIMEOUT_MS, Int((limits.connectTimeout * 1000).rounded(.up))),
            (CURLOPT_LOW_SPEED_LIMIT, limits.lowSpeedLimit),
            (CURLOPT_LOW_SPEED_TIME, limits.lowSpeedTime),
            (CURLOPT_BUFFERSIZE, receiveBufferSize),
            (CURLOPT_NOPROGRESS, progress == nil ? 1 : 0),
            (CURLOPT_FILETIME, 1),  // Last-Modified (or a file's mtime) for TransferResponse
        ]
        switch request.method {
        case .get, .delete: break
        case .head: longs.append((CURLOPT_NOBODY, 1))
        case .put: longs.append((CURLOPT_UPLOAD, 1))
        case .post: longs.append((CURLOPT_POST, 1))
        }
        for (option, value) in longs { try check(dp_curl_setopt_long(handle, option, value), url: url) }
        if case .from(let start) = request.range { try check(dp_curl_setopt_off(handle, CURLOPT_RESUME_FROM_LARGE, start), url: url) }
        let bodySize = request.body?.count ?? 0
        if request.method == .put { try check(dp_curl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, bodySize), url: url) }
        if request.method == .post {
            // The body straight from the caller's memory (valid during the transfer).
            try check(dp_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, bodySize), url: url)
            try check(
                dp_curl_setopt_pointer(
                    handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: request.body?.baseAddress ?? UnsafeRawPointer(emptyBody))),
                url: url)
        }
        if request.method == .put {
            try check(
                dp_curl_setopt_read_callback(handle) { buffer, size, count, userData in
                    guard let buffer, let userData else { return Int(CURL_READFUNC_ABORT) }
                    return Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue().send(into: buffer, capacity: size * count)
                }, url: url)
            try check(dp_curl_setopt_pointer(handle, CURLOPT_READDATA, userData), url: url)
        }
        try check(dp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers), url: url)
        try check(dp_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), url: url)

        try check(
            dp_curl_setopt_write_callback(handle) { data, size, count, userData in
                guard let data, let userData else { return 0 }
                let transfer = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
                return transfer.deliver(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
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
        if let status = transfer.errorStatus {
            throw TransferFailure(
                reason: .httpStatus(status),
                error: TransferError(.httpStatus, transfer.errorMessage(status: status), url: url, status: status))
        }
        if code == CURLE_WRITE_ERROR && transfer.refused {
            throw TransferFailure(
                reason: .sourceChanged, error: TransferError(.transferFailed, "the response is not from the source expected", url: url))
        }
        try check(code, url: url)
        if let status = transfer.finalErrorStatus() {  // an error response with an empty body
            throw TransferFailure(
                reason: .httpStatus(status),
                error: TransferError(.httpStatus, transfer.errorMessage(status: status), url: url, status: status))
        }
        guard transfer.accepted() else {
            throw TransferFailure(
                reason: .sourceChanged, error: TransferError(.transferFailed, "the response is not from the source expected", url: url))
        }
        return transfer.response()
    }

    // MARK: CURLcode funnel

    /// Returns when `code` is CURLE_OK; otherwise throws the classified failure with curl's message.
    private func check(_ code: CURLcode, url: String) throws(TransferFailure) {
        guard code != CURLE_OK else { return }
        var message = String(cString: curl_easy_strerror(code))
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty && detail != message { message += ": " + detail }

        let reason: TransferFailure.Reason
        switch code {
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
        throw TransferFailure(reason: reason, error: TransferError(.transferFailed, message, url: url))
    }
}

// MARK: - Callback state

/// What the C callbacks of one transfer reach through `Unmanaged`: the receiver, the body being
/// sent, the progress observer, the identity check, and the current response's status line and
/// headers.
private final class TransferContext {
    private let handle: UnsafeMutableRawPointer
    /// The byte the transfer starts at.
    private let offset: Int
    private let body: UnsafeRawBufferPointer?
    private var sent = 0
    private let receive: (UnsafeRawBufferPointer) -> Bool
    private let progress: ((TransferProgress) -> Void)?
    private let accept: (TransferResponse) -> Bool
    /// The last "HTTP/..." line received, without its line break; with redirects, the final
    /// response's.
    private var statusLine = ""
    /// The current response's ETag, Content-Range and metadata headers, when it sent them.
    private var etag: String?
    private var rangeStart: Int?
    private var rangeTotal: Int?
    private var metadata: [String: String] = [:]
    /// `accept`'s answer, once asked.
    private var verdict: Bool?
    /// The error status of the response being received, and the start of its body.
    private(set) var errorStatus: Int?
    private var errorBody: [UInt8] = []

    init(
        handle: UnsafeMutableRawPointer, offset: Int, body: UnsafeRawBufferPointer?,
        receive: @escaping (UnsafeRawBufferPointer) -> Bool, progress: ((TransferProgress) -> Void)?,
        accept: @escaping (TransferResponse) -> Bool
    ) {
        self.handle = handle
        self.offset = offset
        self.body = body
        self.receive = receive
        self.progress = progress
        self.accept = accept
    }

    /// Whether `accept` refused the response.
    var refused: Bool { verdict == false }

    /// The final response's status (0 for file://, or when libcurl cannot say).
    private var status: Int {
        var status = 0
        _ = dp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    /// One header line as libcurl delivers it (status line included, with its CRLF). A status
    /// line starts a new response (after a redirect), whose headers replace the earlier ones.
    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line.prefix(8192), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.starts(with: "HTTP/".utf8) {
            statusLine = text
            etag = nil
            rangeStart = nil
            rangeTotal = nil
            metadata = [:]
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if name == "etag" { etag = value }
        if name.hasPrefix("x-amz-meta-") && metadata.count < 32 { metadata[name] = String(value.prefix(1024)) }
        if name == "content-range", value.hasPrefix("bytes "), let slash = value.lastIndex(of: "/") {
            rangeTotal = Int(value[value.index(after: slash)...])
            let span = value[value.index(value.startIndex, offsetBy: 6)..<slash]
            rangeStart = span.split(separator: "-").first.flatMap { Int($0) }
        }
    }

    /// One chunk of the body: an error response's is kept (its start) to quote, any other is
    /// checked once by `accept` and handed to `receive`.
    func deliver(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if verdict == nil, errorStatus == nil, status >= 400 { errorStatus = status }
        if errorStatus != nil {
            errorBody += chunk.prefix(max(0, errorBodyLimit - errorBody.count))
            return true
        }
        guard accepted() else { return false }
        return receive(chunk)
    }

    /// The status of a final response that is an HTTP error but sent no body.
    func finalErrorStatus() -> Int? {
        if let errorStatus { return errorStatus }
        let status = status
        return status >= 400 ? status : nil
    }

    /// `HTTP 404 Not Found: NoSuchKey: The specified key does not exist.` — the status, its reason
    /// phrase, and what the body says (S3's `Code` and `Message`, or the first line of text).
    func errorMessage(status: Int) -> String {
        // "HTTP/1.1 404 Not Found" → "Not Found"; HTTP/2 has no reason phrase.
        let phrase = statusLine.split(separator: " ", maxSplits: 2).dropFirst(2).first.map { " " + $0 } ?? ""
        let text = String(decoding: errorBody, as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
            else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        let said: String
        if let code = element("Code") {
            said = [code, element("Message")].compactMap { $0 }.joined(separator: ": ")
        } else if let title = element("title") {  // an HTML error page
            said = title
        } else {
            said = text.split(whereSeparator: \.isNewline).first.map { String($0.prefix(200)) } ?? ""
        }
        return "HTTP \(status)\(phrase)" + (said.isEmpty ? "" : ": " + said.filter { !$0.isNewline })
    }

    /// The response as it stands.
    func response() -> TransferResponse {
        var length: curl_off_t = -1, modified: curl_off_t = -1  // stay -1 if libcurl cannot say
        _ = dp_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        _ = dp_curl_getinfo_off(handle, CURLINFO_FILETIME_T, &modified)
        let contentLength = length >= 0 ? Int(length) : nil
        return TransferResponse(
            status: status, etag: etag, size: rangeTotal ?? contentLength.map { (rangeStart == nil ? offset : 0) + $0 },
            contentLength: contentLength, rangeStart: rangeStart, modified: modified >= 0 ? Int(modified) : nil,
            metadata: metadata)
    }

    /// Asks `accept` about the response once (on its first body byte, or at its end), then gives
    /// the same answer.
    func accepted() -> Bool {
        if let verdict { return verdict }
        let answer = accept(response())
        verdict = answer
        return answer
    }

    /// Copies the next bytes of the request body into libcurl's buffer; 0 at its end.
    func send(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        guard let body else { return 0 }
        let count = min(capacity, body.count - sent)
        guard count > 0 else { return 0 }
        UnsafeMutableRawPointer(buffer).copyMemory(from: body.baseAddress! + sent, byteCount: count)
        sent += count
        return count
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
