public import Support

/// The one error type of the Codecs module: a code to switch on, the decoder's own message, and the
/// file it concerns when known.
public struct CodecError: CodedError, Hashable, Sendable {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// The bytes are a known image format that dataprep does not decode (GIF, BMP, WebP, ...).
        case unsupportedFormat
        /// The bytes do not start like any image format dataprep knows.
        case unknownFormat
        /// The data ends before the image does.
        case truncated
        /// The data is damaged in a way the decoder cannot recover from.
        case corrupt
        /// The header declares more pixels than the decoder is allowed to allocate.
        case tooLarge
        /// The file could not be read.
        case readFailed
        /// The encoder failed or was given arguments it cannot honour.
        case encodeFailed
        /// The codec library could not set itself up (out of memory).
        case libraryFailure
    }

    /// What went wrong.
    public var code: Code
    /// The library's own message (TurboJPEG, libpng) or ours, saying what is wrong.
    public var message: String
    /// The file the error concerns, when the bytes came from a file.
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// The file, as every error's place.
    public var place: String? { path }

    /// The same error, attributed to `path`.
    func at(_ path: String) -> CodecError {
        var copy = self
        copy.path = path
        return copy
    }
}
