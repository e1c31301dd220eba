/// The error type of the Augment module for everything that is not a decode failure (those stay
/// ``Codecs/CodecError``): options that cannot be honoured.
public struct AugmentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// An augmentation range or setting is out of its domain (e.g. a negative rotation range,
        /// a zoom bound ≤ 0, a brightness pair that is not two values).
        case invalidOption
        /// An explicit transform is degenerate or out of its documented bounds (a shear of ±90°, a
        /// zoom of 0, a non-finite value): it would make a singular or unbounded map.
        case degenerateTransform
    }

    /// What went wrong.
    public var code: Code
    /// Which option is wrong, what it was, and what it must be.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}
