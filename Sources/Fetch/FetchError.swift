public import Support
#if canImport(Glibc)
import Glibc
#endif

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

    /// The Fetch error for a failed step of the Support module: ``Code/badLayout`` stays
    /// `badLayout`; every other code (`fileSystem`, `locked`, `tooLarge`) becomes
    /// ``Code/fileSystem``. The message is kept and the path becomes the subject.
    public init(_ error: SupportError) {
        self.init(error.code == .badLayout ? .badLayout : .fileSystem, error.message, subject: error.path)
    }

    /// `subject: code: message`, or `code: message` without a subject.
    public var description: String {
        if let subject { "\(subject): \(code.rawValue): \(message)" } else { "\(code.rawValue): \(message)" }
    }
}

// MARK: - Wrapping file-system failures

extension FetchError {
    /// A ``Code/fileSystem`` error for the system call that just failed: `what: strerror(errno)`.
    static func system(_ what: String, path: String) -> FetchError {
        FetchError(.fileSystem, "\(what): \(String(cString: strerror(errno)))", subject: path)
    }

    /// What `body` returns; a ``SupportError`` it throws is rethrown as a ``FetchError`` (see
    /// ``init(_:)``), so Fetch's functions throw only their own error type. Other errors pass
    /// through unchanged.
    static func converting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SupportError {
            throw FetchError(error)
        }
    }
}
