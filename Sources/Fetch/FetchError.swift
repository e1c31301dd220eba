/// The one error type of the Fetch module: a code to switch on, a message that says what failed and
/// what to do, and the URL, file or archive entry it concerns.
public struct FetchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// The name is neither a registry dataset nor a URL.
        case unknownDataset
        /// The server answered with an HTTP error status (4xx, or 5xx after the retries).
        case httpStatus
        /// The transfer failed (connection refused or reset, timeout, DNS, TLS) after the retries.
        case transferFailed
        /// The downloaded bytes do not have the expected sha256 (or size).
        case checksumMismatch
        /// The archive could not be read (not an archive, damaged, unsupported format).
        case badArchive
        /// An archive entry would land outside the target folder, or is a link or device file that
        /// is not allowed.
        case unsafeEntry
        /// The archive expands beyond the configured limits (total bytes, compression ratio or
        /// number of entries).
        case archiveBomb
        /// A dataset file (IDX, CIFAR-10 batch) does not have the structure it must have.
        case badDatasetFile
        /// The folder does not look like a dataset (no class folders) or an argument is invalid.
        case badLayout
        /// A file system operation failed (permissions, disk full, ...).
        case fileSystem
    }

    /// What went wrong.
    public var code: Code
    /// The library's or system's own message, or ours, saying what failed and what to do.
    public var message: String
    /// The URL, file path or archive entry the error concerns, when there is one.
    public var subject: String?

    public init(_ code: Code, _ message: String, subject: String? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
    }

    /// `subject: code: message`, or `code: message` without a subject.
    public var description: String {
        if let subject { "\(subject): \(code.rawValue): \(message)" } else { "\(code.rawValue): \(message)" }
    }
}
