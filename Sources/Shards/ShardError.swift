public import Support

/// The one error type of the Shards module: a code to switch on, what is wrong, and the place
/// (shard file, and sample index when one sample is at fault).
public struct ShardError: CodedError, Hashable, Sendable {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// The file does not start with the shard magic.
        case badMagic
        /// The shard's format version is not one this build reads.
        case unsupportedVersion
        /// The header's own checksum does not match: the header is damaged.
        case badHeader
        /// The file is shorter than its header says.
        case truncated
        /// A record's checksum does not match its bytes.
        case checksumMismatch
        /// A shard named by the manifest is not there.
        case missingShard
        /// The manifest and a shard disagree (count, shape, digest), or the manifest is unreadable.
        case manifestMismatch
        /// An argument does not fit the shard set (wrong sample size, bad option).
        case invalidArgument
        /// A file operation failed.
        case fileSystem
        /// The reader was cancelled.
        case cancelled
    }

    public var code: Code
    public var message: String
    /// The shard file (or manifest) concerned.
    public var file: String?
    /// The sample index within that shard, when one sample is at fault.
    public var sample: Int?

    public init(_ code: Code, _ message: String, file: String? = nil, sample: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.sample = sample
    }

    /// A file-system failure from the support layer, as a `fileSystem` error (`invalidArgument` for
    /// a held lock) naming the same path.
    public init(_ error: SupportError) {
        self.init(error.code == .locked ? .invalidArgument : .fileSystem, error.message, file: error.path)
    }

    /// Runs `body`, turning a ``SupportError`` it throws into a ``ShardError``.
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as SupportError { throw ShardError(error) }
    }

    /// `file, sample N`, `file` or `sample N`, as every error's place.
    public var place: String? {
        switch (file, sample) {
        case let (file?, sample?): "\(file), sample \(sample)"
        case let (file?, nil): file
        case let (nil, sample?): "sample \(sample)"
        case (nil, nil): nil
        }
    }
}
