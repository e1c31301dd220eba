import Augment
import RemoteShards
import Shards

/// An error on its way out through the C interface: the engine's code, the option or place at
/// fault, and what is wrong (the fields of `dp_error`).
struct EngineError: Error {
    /// The engine's error code: a ``ShardError/Code`` name, `invalidArgument`, or `misuse`.
    var code: String
    /// For `invalidArgument`: the option at fault, as the configuration names it.
    var argument = ""
    /// The file concerned.
    var file = ""
    /// The sample within `file`, or -1.
    var sample = -1
    var message: String

    /// An option that is missing, mistyped or out of range.
    static func invalid(_ argument: String, _ message: String) -> EngineError {
        EngineError(code: ShardError.Code.invalidArgument.rawValue, argument: argument, message: message)
    }

    /// A call the loader's state does not allow (a batch before an epoch was started, say).
    static func misuse(_ message: String) -> EngineError { EngineError(code: "misuse", message: message) }

    /// Any error a library below throws, with its code and place.
    init(_ error: any Error) {
        switch error {
        case let error as EngineError:
            self = error
        case let error as ShardError:
            self.init(code: error.code.rawValue, file: error.file ?? "", sample: error.sample ?? -1, message: error.message)
        case let error as RemoteSetError:
            self.init(code: error.code.rawValue, file: error.subject ?? "", message: error.message)
        case let error as AugmentError:
            self.init(code: ShardError.Code.invalidArgument.rawValue, message: error.message)
        default:
            self.init(code: "internal", message: "\(error)")
        }
    }

    init(code: String, argument: String = "", file: String = "", sample: Int = -1, message: String) {
        self.code = code
        self.argument = argument
        self.file = file
        self.sample = sample
        self.message = message
    }
}
