public import Support

/// The one error type of the Trainer module: a code to switch on and a message that says what is
/// wrong and, where it helps, what to do about it.
public struct TrainerError: CodedError, Hashable, Sendable {
    /// What went wrong, coarse enough for tests and callers to switch on.
    public enum Code: String, Sendable, CaseIterable {
        /// A layer-spec string or preset name that does not parse.
        case invalidSpec
        /// An architecture that does not fit its input shape or class count: a size that shrinks to
        /// nothing, a dense layer on an image, a last layer that does not match the classes.
        case invalidArchitecture
        /// An argument that does not fit the model: image or label count, a label outside the
        /// classes, a loss that does not match the output, a bad learning rate.
        case invalidArgument
        /// A weights or checkpoint file that is damaged or not one (magic, version, checksum, index).
        case badWeightsFile
        /// A weights file written for another architecture (array names or shapes differ), or a
        /// weights-only file where a checkpoint is needed.
        case incompatibleWeights
        /// A file operation failed.
        case fileSystem
        /// oneDNN refused or failed; its status is in the message.
        case library
        /// The training loss became NaN or infinite (the message names the epoch and batch).
        case nonFiniteLoss
    }

    /// What went wrong.
    public var code: Code
    /// What is wrong, naming the layer, file or argument concerned.
    public var message: String
    /// The file concerned, for an error that came from Support's file steps.
    public var place: String?

    /// An error of kind `code`, described by `message`.
    public init(_ code: Code, _ message: String, place: String? = nil) {
        self.code = code
        self.message = message
        self.place = place
    }

    /// A ``Code/fileSystem`` error from Support's file steps (``FileIO``, ``OutputFile``), keeping
    /// the path as the place and the system's reason: `cannot write: No space left on device`.
    public init(_ error: SupportError) {
        self.init(.fileSystem, error.message, place: error.path)
    }
}
