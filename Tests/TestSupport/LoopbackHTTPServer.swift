// A small HTTP/1.1 server on 127.0.0.1 that serves in-memory files and misbehaves on request, for
// download tests and benchmarks.
//
// Hand-written on POSIX sockets on purpose: a library server cannot misbehave at byte level (drop
// the connection after exactly N body bytes, stall mid-body, send wrong bytes, ignore Range).
// One thread accepts; each connection gets its own thread, answers one request, and closes
// (`Connection: close`). Bodies are sent with large `send` calls straight from the stored bytes,
// so the server is not the bottleneck of a loopback benchmark. `stop()` wakes every thread (a
// pipe they all poll, plus `shutdown` of open connections), joins them and closes every socket.
import Dispatch
import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP/1.1 server with per-path injected faults, for testing downloads.
///
/// Files are registered by path (`/data.bin`); `GET` answers 200 with the whole file, or 206 with
/// `Content-Range` for `Range: bytes=N-` (and `bytes=N-M`), 416 for a range past the end, 404 for
/// an unknown path. Every file is served with an `ETag` derived from its bytes, so replacing a
/// file changes it. Faults injected for a path apply to its next requests, in the order injected,
/// each for the number of requests given; then the path is served normally again.
///
/// Call ``stop()`` when done: the server's threads keep it alive until then.
public final class LoopbackHTTPServer: @unchecked Sendable {
    /// A way to misbehave on one request.
    public enum Fault: Sendable, Hashable {
        /// Send the headers and the first `afterBodyBytes` bytes of the body, then close.
        case dropConnection(afterBodyBytes: Int)
        /// Answer this status (e.g. 503, 404) with a short text body instead of the file.
        case status(Int)
        /// Send the right headers and length but with every 4096th byte inverted.
        case corruptBody
        /// Send the first `afterBodyBytes` bytes, wait `seconds`, then close.
        case stall(afterBodyBytes: Int, seconds: Double)
        /// Answer 200 with the whole file even when a range was asked.
        case ignoreRange
        /// Answer 302 with `Location:` this path on the same server.
        case redirect(to: String)
        /// Answer a `Range: bytes=N-` request with 206 and the first N bytes of the file
        /// (`Content-Range: bytes 0-(N-1)/size`): a range from byte 0, not the one asked for.
        case rangeFromStart
        /// Send the first `afterBodyBytes` bytes, then serve `bytes` at the path from now on (a new
        /// ETag), then close: a file rewritten while it is read.
        case dropAndReplace(afterBodyBytes: Int, with: [UInt8])
    }

    /// A request as received.
    public struct Request: Sendable, Hashable {
        /// `GET` or `HEAD` (HEAD gets the headers GET would, without the body).
        public var method: String = "GET"
        /// The request target, e.g. `/data.bin`.
        public var path: String
        /// The `Range` header's value (`bytes=100-`), nil when there was none.
        public var range: String?
    }

    /// The port the server listens on, chosen by the system.
    public let port: UInt16
    /// `http://127.0.0.1:PORT`, to which a registered path is appended.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    /// Written once by `stop()`; every thread polls the read end, so all of them wake up.
    private let wakeRead: Int32, wakeWrite: Int32
    private let threads = DispatchGroup()
    private let lock = NSLock()
    // Guarded by `lock`:
    private var files: [String: (bytes: [UInt8], etag: String?)] = [:]
    private var faults: [String: [(fault: Fault, remaining: Int)]] = [:]
    private var log: [Request] = []
    private var openConnections: Set<Int32> = []
    private var stopped = false

    /// Starts listening on an ephemeral port of 127.0.0.1.
    /// - Throws: `POSIXError` when the socket or the wake-up pipe cannot be set up.
    public init() throws {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw Self.posixError() }
        for fd in pipeEnds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // keep them out of programs started later
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else {
            let error = Self.posixError()
            for end in pipeEnds { close(end) }
            throw error
        }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            let error = Self.posixError()
            close(listener)
            for end in pipeEnds { close(end) }
            throw error
        }
        self.listener = listener
        (wakeRead, wakeWrite) = (pipeEnds[0], pipeEnds[1])
        port = UInt16(bigEndian: address.sin_port)
        threads.enter()
        Thread { [self] in
            acceptLoop()
            threads.leave()
        }.start()
    }

    // MARK: Configuration and inspection

    /// Serves `bytes` at `path` (e.g. `/data.bin`), replacing what was there; without `validators`
    /// the answers carry no ETag (the server never sends Last-Modified), like a server that gives
    /// nothing to tell two versions of a file apart.
    public func setFile(_ bytes: [UInt8], at path: String, validators: Bool = true) {
        let etag = validators ? "\"" + String(bytes.withUnsafeBytes { XXHash64.hash($0) }, radix: 16) + "\"" : nil
        lock.withLock { files[path] = (bytes, etag) }
    }

    /// Serves every file under the folder `folder` at `prefix` + its relative path (e.g. a shard
    /// set's `manifest.json` and shards at `/set/manifest.json`, ...), read now into memory.
    public func serveFolder(_ folder: String, at prefix: String) throws {
        let root = URL(fileURLWithPath: folder)
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return }
        for case let relative as String in walker {
            var isFolder: ObjCBool = false
            let path = root.appendingPathComponent(relative).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            setFile(Array(try Data(contentsOf: URL(fileURLWithPath: path))), at: prefix + "/" + relative)
        }
    }

    /// The bytes served at `path`, nil when none.
    public func file(at path: String) -> [UInt8]? { lock.withLock { files[path]?.bytes } }

    /// Makes the next `times` requests for `path` misbehave as `fault`, after any faults injected
    /// before for that path.
    public func inject(_ fault: Fault, at path: String, times: Int = 1) {
        guard times > 0 else { return }
        lock.withLock { faults[path, default: []].append((fault, times)) }
    }

    /// Every request received so far, in order.
    public var requests: [Request] { lock.withLock { log } }

    /// Stops accepting, interrupts every connection (stalled ones included), waits for all the
    /// server's threads to end, and closes its sockets. Safe to call more than once.
    public func stop() {
        let isFirstStop = lock.withLock {
            guard !stopped else { return false }
            stopped = true
            for fd in openConnections { shutdown(fd, Int32(SHUT_RDWR)) }
            return true
        }
        guard isFirstStop else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        threads.wait()
        for fd in [listener, wakeRead, wakeWrite] { close(fd) }
    }

    // MARK: Accepting

    private func acceptLoop() {
        while waitReadable(listener, timeout: -1) {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let accepted = lock.withLock {
                guard !stopped else { return false }
                openConnections.insert(fd)
                threads.enter()
                return true
            }
            guard accepted else {
                close(fd)
                return
            }
            Thread { [self] in
                serve(fd)
                lock.withLock { _ = openConnections.remove(fd) }
                close(fd)
                threads.leave()
            }.start()
        }
    }

    /// Waits until `fd` is readable; false when `stop()` was called first or the wait failed.
    /// - Parameter timeout: milliseconds, -1 for no limit.
    private func waitReadable(_ fd: Int32, timeout: Int32) -> Bool {
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let n = poll(&fds, 2, timeout)
            if n < 0 && errno == EINTR { continue }
            return n > 0 && fds[1].revents == 0 && fds[0].revents != 0
        }
    }

    /// Sleeps `seconds`, or less if `stop()` is called meanwhile.
    private func pause(_ seconds: Double) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, Int32(seconds * 1000))
    }

    // MARK: Answering

    /// Reads one request on `fd` and answers it, applying the path's next fault if any.
    private func serve(_ fd: Int32) {
        guard let request = readRequest(fd) else { return }
        let (file, fault): ((bytes: [UInt8], etag: String?)?, Fault?) = lock.withLock {
            log.append(request)
            var fault: Fault?
            if var queue = faults[request.path], !queue.isEmpty {
                fault = queue[0].fault
                queue[0].remaining -= 1
                if queue[0].remaining == 0 { queue.removeFirst() }
                faults[request.path] = queue
            }
            return (files[request.path], fault)
        }

        switch fault {
        case .status(let status):
            let body = Array("injected status \(status)\n".utf8)
            send(fd, head(status, ["Content-Type": "text/plain", "Content-Length": "\(body.count)"]))
            send(fd, body[...])
            return
        case .redirect(let target):
            send(fd, head(302, ["Location": baseURL + target, "Content-Length": "0"]))
            return
        default:
            break
        }
        guard let (content, etag) = file else {
            send(fd, head(404, ["Content-Length": "0"]))
            return
        }

        var range = 0..<content.count
        var status = 200
        var headers = ["Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"]
        if let etag { headers["ETag"] = etag }
        if fault == .rangeFromStart, let asked = request.range.flatMap(Self.parseRange), asked.first > 0 {
            range = 0..<min(asked.first, content.count)
            status = 206
            headers["Content-Range"] = "bytes 0-\(range.upperBound - 1)/\(content.count)"
        } else if fault != .ignoreRange, let asked = request.range.flatMap(Self.parseRange) {
            guard asked.first < content.count else {
                send(fd, head(416, ["Content-Range": "bytes */\(content.count)", "Content-Length": "0"]))
                return
            }
            range = asked.first..<min(content.count, (asked.last ?? content.count - 1) + 1)
            status = 206
            headers["Content-Range"] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(content.count)"
        }
        headers["Content-Length"] = "\(range.count)"
        send(fd, head(status, headers))
        if request.method == "HEAD" { return }

        let body = content[range]
        switch fault {
        case .dropConnection(let count):
            send(fd, body.prefix(count))
        case .stall(let count, let seconds):
            send(fd, body.prefix(count))
            pause(seconds)
        case .dropAndReplace(let count, let bytes):
            send(fd, body.prefix(count))
            setFile(bytes, at: request.path)
        case .corruptBody:
            var wrong = Array(body)
            for i in stride(from: 0, to: wrong.count, by: 4096) { wrong[i] = ~wrong[i] }
            send(fd, wrong[...])
        default:
            send(fd, body)
        }
    }

    /// Reads up to the blank line ending the request head (at most 64 KiB) and parses its target
    /// and `Range` header; nil when the client goes away, the head is malformed, or the server
    /// stops.
    private func readRequest(_ fd: Int32) -> Request? {
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while head.count < 65536 {
            guard waitReadable(fd, timeout: 10_000) else { return nil }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            head += chunk[..<n]
            guard head.firstRange(of: end) != nil else { continue }
            let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
            let requestLine = lines[0].split(separator: " ")
            guard requestLine.count == 3 else { return nil }
            let range = lines.dropFirst().first { $0.lowercased().hasPrefix("range:") }
                .map { $0.dropFirst("range:".count).trimmingCharacters(in: .whitespaces) }
            return Request(method: String(requestLine[0]), path: String(requestLine[1]), range: range)
        }
        return nil
    }

    /// `bytes=N-` or `bytes=N-M` as (N, M); nil for any other form (which is then ignored, as
    /// servers do).
    private static func parseRange(_ value: String) -> (first: Int, last: Int?)? {
        guard value.hasPrefix("bytes=") else { return nil }
        let bounds = value.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int(bounds[0]) else { return nil }
        if bounds[1].isEmpty { return (first, nil) }
        guard let last = Int(bounds[1]), last >= first else { return nil }
        return (first, last)
    }

    /// A response head: status line, the given headers, `Connection: close`, blank line.
    private func head(_ status: Int, _ headers: [String: String]) -> ArraySlice<UInt8> {
        let reasons = [
            200: "OK", 206: "Partial Content", 302: "Found", 404: "Not Found", 408: "Request Timeout",
            416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable",
        ]
        var text = "HTTP/1.1 \(status) \(reasons[status] ?? "Status \(status)")\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)[...]
    }

    /// Sends all of `bytes` in as few calls as the socket allows; gives up silently when the
    /// client goes away or the server stops (the connection is then shut down).
    private func send(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { raw in
            guard let start = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let n = Glibc.send(fd, start + done, raw.count - done, Int32(MSG_NOSIGNAL))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                done += n
            }
        }
    }

    private static func posixError() -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
}
