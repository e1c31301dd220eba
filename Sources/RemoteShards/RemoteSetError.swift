public import Support
public import Transfer

/// The one error type of the RemoteShards module: a code to switch on, what failed and what to do,
/// and the URL (or cache file) concerned.
public struct RemoteSetError: CodedError, Hashable, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// The text given as a set is not a URL dataprep reads (scheme, host, bucket or key).
        case invalidLocation
        /// The server answered with an HTTP error status (4xx, or 5xx after the retries); the
        /// message quotes what it said.
        case httpStatus
        /// The transfer failed (DNS, TLS, refused, reset, timeout) after the retries.
        case transferFailed
        /// An object changed while the run read it (its ETag or size is not the one first seen, or
        /// not the manifest's): the set was rewritten under the run.
        case setChanged
        /// The S3 credentials or configuration cannot be read.
        case credentials
        /// An upload failed: the set at the destination has no manifest (the message says how to
        /// resume).
        case uploadFailed
        /// The cache folder cannot be used (permissions, disk full).
        case fileSystem
        /// An option does not fit (a cache limit below the largest shard, a scheme that cannot be
        /// written).
        case invalidArgument
    }

    public var code: Code
    public var message: String
    /// The URL, or cache file, concerned.
    public var subject: String?

    public init(_ code: Code, _ message: String, subject: String? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
    }

    /// A failed transfer: `httpStatus` or `transferFailed`, naming the URL.
    public init(_ error: TransferError) {
        self.init(error.code == .httpStatus ? .httpStatus : .transferFailed, error.message, subject: error.url)
    }

    /// A failed file operation of the cache.
    public init(_ error: SupportError) {
        self.init(.fileSystem, error.message, subject: error.path)
    }

    public var place: String? { subject }
}
