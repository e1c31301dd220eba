public import Support

/// The one error type of the Datasets module: a folder that is not the dataset asked for, or a
/// file step that failed, with the path it concerns. Decode failures stay ``Codecs/CodecError``.
public struct DatasetError: CodedError, Hashable, Sendable {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// The folder does not have the layout asked for (not a folder, no class folders, a link
        /// loop, a bad class order file, already split), or an argument does not fit it (split
        /// fractions, an output folder that exists or lies inside the dataset).
        case badLayout
        /// A file-system call failed; the message says which and why.
        case fileSystem
    }

    /// What went wrong.
    public var code: Code
    /// What is wrong and what to do, without the path.
    public var message: String
    /// The folder or file concerned.
    public var path: String?

    /// An error of kind `code` about `path`, described by `message`.
    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// A failed file step of the Support module, as ``Code/fileSystem``, keeping its message and
    /// path.
    public init(_ error: SupportError) {
        self.init(.fileSystem, error.message, path: error.path)
    }

    /// The path, as every error's place.
    public var place: String? { path }

    /// What `body` returns; a ``SupportError`` it throws is rethrown as a ``DatasetError``, so the
    /// module's functions throw only their own error type. Other errors pass through unchanged.
    static func converting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SupportError {
            throw DatasetError(error)
        }
    }
}
