import Foundation
import Support

// MARK: - Messages on stderr

/// Diagnostics go to stderr so that stdout carries results only.
enum Diagnostics {
    /// Writes `warning: message` to stderr.
    static func warning(_ message: String) { write("warning: \(message)\n") }

    /// Writes `error: message` to stderr.
    static func error(_ message: String) { write("error: \(message)\n") }

    /// `text` with control characters (a newline in a file name, an escape sequence) shown as
    /// escapes, so a name from input cannot break or forge a line of output.
    static func escaped(_ text: String) -> String { PathComponent.escaped(text) }

    /// `n` and its noun, singular for one: `1 class`, `2 classes`, `1 shard`.
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
    }

    /// Writes `text` to stderr as is.
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

// MARK: - Failures

/// How a library's typed error is printed: `<code>: <place>: <message>`.
enum Failure {
    /// The line for `error` (any ``CodedError``, or a Foundation file error), or nil for errors
    /// argument-parser reports itself (usage errors, exit codes, help requests). Control
    /// characters in the place and message (a file name from input) are escaped, so the failure
    /// stays one line.
    static func line(for error: any Error) -> String? {
        func joined(_ code: String, _ place: String?, _ message: String) -> String {
            [code, place, message].compactMap { $0 }.map(Diagnostics.escaped).joined(separator: ": ")
        }
        switch error {
        case let error as any CodedError: return joined(error.codeName, error.place, error.message)
        case let error as CocoaError:
            return joined(
                "fileSystem", error.filePath ?? error.url?.path, error.underlying?.localizedDescription ?? error.localizedDescription)
        default: return nil
        }
    }
}

extension CocoaError {
    /// The POSIX error beneath a Foundation file error, when there is one.
    fileprivate var underlying: (any Error)? { userInfo[NSUnderlyingErrorKey] as? any Error }
}
