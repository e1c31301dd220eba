import Dispatch
import Foundation
import Shards
public import Support
import Transfer

/// Copies a shard set written into a local staging folder to an S3 prefix: each shard as soon as
/// it is finished (while the next one is written), the manifest last, so a reader never finds a
/// manifest whose shards are not all there.
///
/// ``begin()`` deletes the destination's manifest first (an older set there no longer reads as
/// complete); ``upload(_:)`` queues one finished shard (a single PUT, or a multipart upload in
/// ``partSize`` parts above it) on a background queue; ``finish(manifests:)`` waits for them and
/// uploads the manifests. A shard already at the destination with the same size and digest
/// (recorded as the object's `x-amz-meta-dataprep-digest`) is skipped, so a failed run is resumed
/// by running it again (or `dataprep push STAGING URL`). A failure leaves no manifest, and its
/// message says how to resume.
public final class SetUploader: @unchecked Sendable {
    /// Shards larger than this go up in parts of this size (S3 allows at most 5 GiB per PUT and
    /// 10,000 parts): 64 MiB, or `DATAPREP_S3_PART_SIZE` bytes (5 MiB ... 5 GiB, S3's limits).
    public let partSize: Int

    /// What the uploads did.
    public struct Summary: Sendable {
        public var uploaded = 0
        public var skipped = 0
        public var bytes = 0
    }

    /// The S3 prefix the set goes to.
    public let destination: SetLocation
    /// The local folder the set is written in first.
    public let staging: String
    private let client: ObjectClient
    private let queue = DispatchQueue(label: "dataprep.upload")
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: (any Error)?
    private var done = Summary()

    /// - Throws: ``RemoteSetError`` `invalidArgument` for a destination that is not `s3://` (web
    ///   servers are read-only here), `credentials`.
    public init(destination: SetLocation, staging: String, options: RemoteOptions) throws {
        guard case .s3 = destination else {
            throw RemoteSetError(
                .invalidArgument, "sets are written to local folders or s3:// prefixes; http(s):// servers are read-only",
                subject: destination.description)
        }
        self.destination = destination
        self.staging = staging
        client = try ObjectClient(location: destination, options: options)
        if let text = ProcessInfo.processInfo.environment["DATAPREP_S3_PART_SIZE"] {
            guard let size = Int(text), ((5 << 20)...(5 << 30)).contains(size) else {
                throw RemoteSetError(.invalidArgument, "DATAPREP_S3_PART_SIZE must be \(5 << 20)...\(5 << 30) bytes, got '\(text)'")
            }
            partSize = size
        } else {
            partSize = 64 << 20
        }
    }

    /// The local staging folder for `destination`: `$DATAPREP_HOME/staging/<hash of the URL>`.
    public static func stagingFolder(for destination: SetLocation, home: String = DataPrepHome.path()) -> String {
        let key = Array(destination.description.utf8).withUnsafeBytes { XXHash64.hash($0) }
        return home + "/staging/" + String(format: "%016llx", key)
    }

    /// Deletes the destination's `manifest.json` (and `validation/manifest.json` when
    /// `validation`), so no reader takes the set there for complete while it is replaced.
    /// - Throws: ``RemoteSetError``.
    public func begin(validation: Bool = false) throws {
        if validation { try client.delete("validation/manifest.json") }
        try client.delete("manifest.json")
    }

    /// Queues the finished shard at `path` (inside ``staging``) for upload; returns at once.
    public func upload(_ path: String) {
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            guard lock.withLock({ failure == nil }) else { return }
            do { try uploadShard(path) } catch { lock.withLock { failure = failure ?? error } }
        }
    }

    /// Waits until the shards queued so far are uploaded (or failed: ``finish(manifests:)`` reports
    /// it). A shard is read from where it was queued, so its writer must not move it before.
    public func waitForShards() { group.wait() }

    /// Waits for the queued uploads; then, when all went up, uploads each manifest in
    /// `manifests` (paths inside ``staging``, the top-level one last).
    /// - Returns: what was uploaded and skipped.
    /// - Throws: ``RemoteSetError`` `uploadFailed` when a shard or manifest could not be uploaded:
    ///   the destination then has no manifest, and the message says to run the command again
    ///   (finished shards are skipped) or to push the staging folder.
    public func finish(manifests: [String]) throws -> Summary {
        group.wait()
        do {
            if let failure = lock.withLock({ failure }) { throw failure }
            for manifest in manifests {
                let bytes: [UInt8]
                do { bytes = try FileIO.readFile(at: manifest, limit: RemoteSet.manifestLimit) } catch { throw RemoteSetError(error) }
                try bytes.withUnsafeBytes { try put(name(of: manifest), body: $0, digest: nil) }
            }
        } catch {
            let summary = lock.withLock { done }
            throw RemoteSetError(
                .uploadFailed,
                "\(Failure.describe(error)); \(summary.uploaded + summary.skipped) shards are at the destination and no manifest: "
                    + "run the same command again (shards already uploaded are skipped), or `dataprep push \(staging) \(destination)` "
                    + "to upload what the staging folder holds",
                subject: destination.description)
        }
        return lock.withLock { done }
    }

    /// The object name of `path` relative to the staging folder (`train-00000.dps`,
    /// `validation/manifest.json`). A shard a ``ShardWriter`` has just finished lies in the
    /// writer's own staging subfolder (``ShardWriter/stagingName``) until its set is committed: its
    /// name is the one it has in the set.
    private func name(of path: String) -> String {
        let relative = path.hasPrefix(staging + "/") ? String(path.dropFirst(staging.count + 1)) : (path as NSString).lastPathComponent
        return relative.replacingOccurrences(of: ShardWriter.stagingName + "/", with: "")
    }

    // MARK: One shard

    /// Uploads the shard at `path` unless the destination already holds it (same size and digest).
    private func uploadShard(_ path: String) throws {
        let mapping = try ShardMapping(path: path)
        let digest = try ShardFileCheck.recordedDigest(of: mapping.bytes, location: path)
        let name = name(of: path)
        try SetLocation.checkKey(name, in: path)
        if let existing = try client.head(name), existing.size == mapping.bytes.count,
            existing.metadata["x-amz-meta-dataprep-digest"] == digest
        {
            lock.withLock { done.skipped += 1 }
            return
        }
        try put(name, body: mapping.bytes, digest: digest)
        lock.withLock {
            done.uploaded += 1
            done.bytes += mapping.bytes.count
        }
    }

    /// PUTs `body` as `name` (in parts when larger than ``partSize``), recording `digest` as its
    /// metadata.
    private func put(_ name: String, body: UnsafeRawBufferPointer, digest: String?) throws {
        let metadata = digest.map { ["x-amz-meta-dataprep-digest: \($0)"] } ?? []
        guard body.count > partSize else {
            _ = try client.send(client.request(name, method: .put, headers: metadata, body: body))
            return
        }
        let (_, created) = try client.send(
            client.request(name, method: .post, query: "uploads=", headers: metadata + ["Content-Type: application/octet-stream"]))
        guard let uploadID = Self.element("UploadId", in: created) else {
            throw RemoteSetError(
                .uploadFailed, "the server's answer to CreateMultipartUpload has no UploadId", subject: client.url(of: name))
        }
        let id = "uploadId=" + Self.percentEncoded(uploadID)
        do {
            var parts = "<CompleteMultipartUpload>"
            for (index, start) in stride(from: 0, to: body.count, by: partSize).enumerated() {
                let part = UnsafeRawBufferPointer(rebasing: body[start..<min(start + partSize, body.count)])
                let (response, _) = try client.send(
                    client.request(name, method: .put, query: "partNumber=\(index + 1)&" + id, body: part))
                guard let etag = response.etag else {
                    throw RemoteSetError(.uploadFailed, "part \(index + 1) was answered without an ETag", subject: client.url(of: name))
                }
                parts += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(etag)</ETag></Part>"
            }
            let xml = Array((parts + "</CompleteMultipartUpload>").utf8)
            let (_, answer) = try xml.withUnsafeBytes {
                try client.send(client.request(name, method: .post, query: id, headers: ["Content-Type: application/xml"], body: $0))
            }
            if let code = Self.element("Code", in: answer) {  // S3 may answer 200 with an error inside
                throw RemoteSetError(
                    .uploadFailed, "CompleteMultipartUpload: \(code): \(Self.element("Message", in: answer) ?? "")",
                    subject: client.url(of: name))
            }
        } catch {
            _ = try? client.send(client.request(name, method: .delete, query: id))  // abort: free the parts
            throw error
        }
    }

    /// The text of the first `<name>` element of an XML answer.
    static func element(_ name: String, in bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else {
            return nil
        }
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// `text` with every byte outside `A-Z a-z 0-9 - . _ ~` percent-encoded (SigV4's rule for a
    /// query value).
    static func percentEncoded(_ text: String) -> String {
        text.utf8.map { byte in
            let c = Character(Unicode.Scalar(byte))
            return c.isASCII && (c.isLetter || c.isNumber || "-._~".contains(c)) ? String(c) : String(format: "%%%02X", byte)
        }.joined()
    }
}

/// How an error reads inside another's message: `code: place: message` for a coded error.
enum Failure {
    static func describe(_ error: any Error) -> String {
        if let error = error as? any CodedError {
            return [error.codeName, error.place, error.message].compactMap { $0 }.joined(separator: ": ")
        }
        return "\(error)"
    }
}
