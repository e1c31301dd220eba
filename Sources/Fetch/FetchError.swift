public import Datasets
public import Support
public import Transfer

/// The one error type of the Fetch module: a code to switch on, a message that says what failed and
/// what to do, and the URL, file or archive entry it concerns.
public struct FetchError: CodedError, Hashable, Sendable {
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
        /// Another process holds the lock of the dataset folder or download being written; the
        /// message names its pid.
        case locked
        /// A name taken from input (the URL's file name, `name`, a class name) is not a single
        /// file or folder name: it is empty, `..`, or holds `/`, NUL or a control character.
        case badName
        /// The dataset name already holds a dataset fetched from another source.
        case nameInUse
    }

    /// What the user can change to get past the error, for a caller to phrase in its own terms
    /// (a command-line tool names its flag). The message already says it in words.
    public enum Remedy: String, Sendable, CaseIterable {
        /// Choose another dataset name (``FetchOptions/name``).
        case chooseName
        /// Fetch again with ``FetchOptions/force``, which downloads and builds afresh.
        case force
        /// Look the name up in the registry (``Registry/entries``).
        case listRegistry
        /// Check the mirror (``FetchOptions/mirror``): it serves another file than the registry's.
        case checkMirror
    }

    /// What went wrong.
    public var code: Code
    /// The library's or system's own message, or ours, saying what failed and what to do.
    public var message: String
    /// The URL, file path or archive entry the error concerns, when there is one.
    public var subject: String?
    /// What to change to get past the error, when the message suggests something.
    public var remedy: Remedy?

    public init(_ code: Code, _ message: String, subject: String? = nil, remedy: Remedy? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
        self.remedy = remedy
    }

    /// The Fetch error for a failed step of the Support module: `locked` and `badName` keep their
    /// code; the others (`fileSystem`, `tooLarge`) become ``Code/fileSystem``. The message is kept
    /// and the path becomes the subject.
    public init(_ error: SupportError) {
        let code: Code =
            switch error.code {
            case .locked: .locked
            case .badName: .badName
            case .fileSystem, .tooLarge: .fileSystem
            }
        self.init(code, error.message, subject: error.path)
    }

    /// The Fetch error for a failed step of the Datasets module (reading or writing a dataset
    /// folder's layout), keeping its code, message and path.
    public init(_ error: DatasetError) {
        let code: Code =
            switch error.code {
            case .badLayout: .badLayout
            case .fileSystem: .fileSystem
            }
        self.init(code, error.message, subject: error.path)
    }

    /// The Fetch error for a failed transfer: `httpStatus` or `transferFailed`, with the URL as
    /// subject.
    public init(_ error: TransferError) {
        self.init(error.code == .httpStatus ? .httpStatus : .transferFailed, error.message, subject: error.url.isEmpty ? nil : error.url)
    }

    /// The subject, as every error's place.
    public var place: String? { subject }
}

// MARK: - Wrapping file-system failures

extension FetchError {
    /// What `body` returns; a ``SupportError`` or ``DatasetError`` it throws is rethrown as a
    /// ``FetchError`` (see ``init(_:)-(SupportError)`` and ``init(_:)-(DatasetError)``), so Fetch's
    /// functions throw only their own error type. Other errors pass through unchanged.
    static func converting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SupportError {
            throw FetchError(error)
        } catch let error as DatasetError {
            throw FetchError(error)
        }
    }
}
