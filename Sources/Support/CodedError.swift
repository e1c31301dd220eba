/// The shape every module's error has: a code to switch on, the place it concerns, and a message
/// that says what failed and what to do. Each module has one error type that conforms
/// (``SupportError``, and `CodecError`, `ShardError`, `DatasetError`, `FetchError`,
/// `AugmentError`, `TrainerError` above it), so the command-line tool prints them all one way and
/// the tests check them all by code.
public protocol CodedError: Error, CustomStringConvertible {
    /// What went wrong, coarse enough for tests and callers to switch on; the raw value is the
    /// name printed.
    associatedtype Code: RawRepresentable, Hashable, Sendable where Code.RawValue == String

    /// What went wrong.
    var code: Code { get }
    /// Where: the file, URL, archive entry, shard and sample, or option the error concerns; nil
    /// when there is none.
    var place: String? { get }
    /// What failed and what to do about it, without the place.
    var message: String { get }
}

extension CodedError {
    /// The code's name, as printed (`fileSystem`, `badMagic`).
    public var codeName: String { code.rawValue }

    /// `place: code: message`, or `code: message` without a place.
    public var description: String {
        place.map { "\($0): \(codeName): \(message)" } ?? "\(codeName): \(message)"
    }
}
