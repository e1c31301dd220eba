import Foundation

// MARK: - Commands in messages

/// Quoting for commands that messages suggest, so that they run as printed in a POSIX shell.
enum ShellWords {
    /// `word` as the shell must be given it: unchanged when it holds only characters the shell
    /// takes literally, otherwise in single quotes (a `'` inside written `'\''`).
    static func quoted(_ word: String) -> String {
        let literal = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%")
        guard word.isEmpty || !word.allSatisfy(literal.contains) else { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `words` quoted and joined with spaces.
    static func command(_ words: [String]) -> String { words.map(quoted).joined(separator: " ") }
}
