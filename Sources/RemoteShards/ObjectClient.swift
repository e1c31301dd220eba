import Foundation
import Support
public import Transfer

/// How remote sets are reached: timeouts, retries, and the certificate authorities to trust. The
/// defaults suit real servers; tests shrink the delays.
public struct RemoteOptions: Sendable, Hashable {
    /// Timeouts and limits of each request (a stalled transfer is abandoned after
    /// `lowSpeedTime` seconds below `lowSpeedLimit` bytes/s, then retried).
    public var limits: TransferLimits
    /// Failed requests in a row (without new bytes) after which a transfer gives up.
    public var maximumAttempts: Int
    /// Seconds before the first retry; each further retry waits twice as long, up to
    /// ``maximumRetryDelay``.
    public var initialRetryDelay: Double
    /// The longest wait between two attempts, in seconds.
    public var maximumRetryDelay: Double
    /// A PEM file of certificate authorities to trust instead of the system's (`--cacert`; libcurl
    /// also reads `CURL_CA_BUNDLE`).
    public var caBundle: String?

    public init(
        limits: TransferLimits = TransferLimits(connectTimeout: 30, lowSpeedLimit: 1024, lowSpeedTime: 30), maximumAttempts: Int = 6,
        initialRetryDelay: Double = 0.5, maximumRetryDelay: Double = 8, caBundle: String? = nil
    ) {
        self.limits = limits
        self.maximumAttempts = maximumAttempts
        self.initialRetryDelay = initialRetryDelay
        self.maximumRetryDelay = maximumRetryDelay
        self.caBundle = caBundle ?? ProcessInfo.processInfo.environment["CURL_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Requests for the objects of one remote set (a web folder or an S3 prefix): one place for URLs,
/// signing, retries with backoff, and turning failures into ``RemoteSetError``s that name the URL
/// and what the server said. Thread-safe: each request borrows an easy handle from a small pool
/// (libcurl keeps their connections open).
public final class ObjectClient: @unchecked Sendable {
    /// The set's folder on the server or prefix in the bucket.
    public let location: SetLocation
    /// Timeouts, retries and certificate authorities of every request.
    public let options: RemoteOptions
    private let s3: S3Configuration?
    private let lock = NSLock()
    private var idle: [CurlEasy] = []
    private var retryCount = 0

    /// - Throws: ``RemoteSetError`` `credentials` when an S3 location's configuration cannot be
    ///   read; `invalidArgument` for a local folder.
    public init(location: SetLocation, options: RemoteOptions, s3: S3Configuration? = nil) throws(RemoteSetError) {
        guard location.isRemote else { throw RemoteSetError(.invalidArgument, "not a remote location", subject: location.description) }
        self.location = location
        self.options = options
        if case .s3 = location {
            if let s3 { self.s3 = s3 } else { self.s3 = try S3Configuration.fromEnvironment() }
        } else {
            self.s3 = nil
        }
    }

    /// Requests retried after transient failures so far.
    public var retries: Int { lock.withLock { retryCount } }

    /// Whether the set is in S3 (so objects can be written).
    public var isS3: Bool { s3 != nil }

    /// The URL of `name` (a path relative to the set, e.g. `train-00000.dps`), with `query`.
    public func url(of name: String, query: String? = nil) -> String {
        switch location {
        case .folder(let path): return path + "/" + name
        case .web(let base): return base + "/" + name + (query.map { "?" + $0 } ?? "")
        case .s3(let bucket, let prefix):
            return s3!.url(bucket: bucket, key: prefix.isEmpty ? name : prefix + "/" + name, query: query)
        }
    }

    /// A request for `name` with this set's signing, limits and certificate authorities.
    public func request(
        _ name: String, method: TransferRequest.Method = .get, range: TransferRequest.Range = .all, query: String? = nil,
        headers: [String] = [], body: UnsafeRawBufferPointer? = nil
    ) -> TransferRequest {
        TransferRequest(
            url: url(of: name, query: query), method: method, range: range, headers: headers, body: body, signature: s3?.signature,
            limits: options.limits, caBundle: options.caBundle, protocols: "http,https")
    }

    // MARK: Running requests

    /// Runs `attempt` with a pooled handle, retrying transient failures (connection refused or
    /// reset, timeouts, HTTP 5xx, 408, 429) with exponential backoff. `attempt` returns normally
    /// or throws; `progressed` says whether the failed attempt made progress (new bytes), which
    /// starts the count of failures in a row again.
    /// - Throws: ``RemoteSetError`` for a permanent failure at once, or the last transient one
    ///   after ``RemoteOptions/maximumAttempts`` in a row ("gave up after N attempts"); errors
    ///   `attempt` throws other than ``TransferFailure`` pass through.
    public func withRetries<T>(progressed: () -> Bool = { false }, _ attempt: (CurlEasy) throws -> T) throws -> T {
        let easy = try borrow()
        defer { giveBack(easy) }
        var delay = options.initialRetryDelay, failures = 0, attempts = 0
        while true {
            attempts += 1
            do {
                return try attempt(easy)
            } catch let failure as TransferFailure {
                guard failure.isTransient else { throw RemoteSetError(failure.error) }
                if progressed() {
                    failures = 0
                    delay = options.initialRetryDelay
                }
                failures += 1
                guard failures < max(1, options.maximumAttempts) else {
                    var error = RemoteSetError(failure.error)
                    error.message += "; gave up after \(attempts) attempts"
                    throw error
                }
                lock.withLock { retryCount += 1 }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, options.maximumRetryDelay)
            }
        }
    }

    /// Fetches the whole (small) object `name`: its bytes (at most `limit`) and what the response
    /// said; nil when the server answers 404 (403 too for S3, which says so for a missing key
    /// in a bucket one may not list).
    /// - Throws: ``RemoteSetError`` `httpStatus`/`transferFailed` (retried first when transient),
    ///   `invalidArgument` for a body over `limit`.
    public func fetch(_ name: String, limit: Int) throws -> (bytes: [UInt8], response: TransferResponse)? {
        do {
            return try withRetries { easy in
                var bytes: [UInt8] = []
                var tooLarge = false
                let response = try easy.perform(
                    request(name),
                    receive: { chunk in
                        guard bytes.count + chunk.count <= limit else {
                            tooLarge = true
                            return false
                        }
                        bytes += chunk
                        return true
                    })
                if tooLarge { throw RemoteSetError(.invalidArgument, "larger than \(limit) bytes", subject: url(of: name)) }
                return (bytes, response)
            }
        } catch let error as RemoteSetError where error.code == .httpStatus && error.message.hasPrefix("HTTP 404") {
            return nil
        }
    }

    /// What the server says about `name` without its body (HEAD); nil for 404.
    /// - Throws: ``RemoteSetError`` as ``fetch(_:limit:)``.
    public func head(_ name: String) throws -> TransferResponse? {
        do {
            return try withRetries { easy in try easy.perform(request(name, method: .head)) }
        } catch let error as RemoteSetError where error.code == .httpStatus && error.message.hasPrefix("HTTP 404") {
            return nil
        }
    }

    /// Deletes `name` (S3; a missing object is fine).
    /// - Throws: ``RemoteSetError``.
    public func delete(_ name: String) throws {
        do {
            try withRetries { easy in _ = try easy.perform(request(name, method: .delete)) }
        } catch let error as RemoteSetError where error.code == .httpStatus && error.message.hasPrefix("HTTP 404") {}
    }

    /// Sends `request` once through a pooled handle, retrying transient failures, and returns the
    /// response and the body it received (at most 1 MiB: S3's XML answers).
    /// - Throws: ``RemoteSetError``.
    public func send(_ request: TransferRequest) throws -> (response: TransferResponse, body: [UInt8]) {
        try withRetries { easy in
            var body: [UInt8] = []
            let response = try easy.perform(
                request,
                receive: { chunk in
                    body += chunk.prefix(max(0, (1 << 20) - body.count))
                    return true
                })
            return (response, body)
        }
    }

    private func borrow() throws -> CurlEasy {
        if let easy = lock.withLock({ idle.popLast() }) { return easy }
        do { return try CurlEasy() } catch { throw RemoteSetError(error) }
    }

    private func giveBack(_ easy: CurlEasy) {
        lock.withLock { if idle.count < 8 { idle.append(easy) } }
    }
}
