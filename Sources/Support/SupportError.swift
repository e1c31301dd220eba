#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the Support module: what failed, on which path, and the system's reason.
/// Each module above wraps it in its own typed error (its `fileSystem` code), keeping the message
/// and the path.
public struct SupportError: CodedError, Hashable, Sendable {
    /// What went wrong, coarse enough to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// A file-system call failed; `errno` says why.
        case fileSystem
        /// Another process holds the folder's advisory lock.
        case locked
        /// A file is larger than the caller's limit.
        case tooLarge
        /// A name from input cannot be a single file or folder name (``PathComponent/validate(_:what:)``).
        case badName
    }

    public var code: Code
    /// What failed and why, without the path: `cannot write: No space left on device`.
    public var message: String
    /// The file or folder concerned.
    public var path: String
    /// The system's error number, when a system call failed.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    /// The path, as every error's place.
    public var place: String? { path }

    /// A ``Code/fileSystem`` error for the system call that just failed: `what: strerror(errno)`,
    /// naming `path`. The one place where errno becomes an error: the modules above wrap it in
    /// their own error type.
    /// - Parameter number: the error number; nil for errno as the failed call left it.
    public static func system(_ what: String, path: String, errno number: Int32? = nil) -> SupportError {
        let number = number ?? Glibc.errno
        return SupportError(.fileSystem, "\(what): \(String(cString: strerror(number)))", path: path, errno: number)
    }
}
