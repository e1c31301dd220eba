public import Support

/// The error type of the Augment module for everything that is not a decode failure (those stay
/// ``Codecs/CodecError``): options that cannot be honoured.
public struct AugmentError: CodedError, Hashable, Sendable {
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
    /// What the value must be, and what it was.
    public var message: String
    /// The parameter at fault, named as the Swift property that holds it (`rotation`,
    /// `widthShift`, `cval`, `zx`), so a caller can name it in its own terms (a command-line flag).
    public var parameter: String?

    /// An error of kind `code` about `parameter`, described by `message`.
    public init(_ code: Code, _ message: String, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    /// The parameter, as every error's place.
    public var place: String? { parameter }
}
