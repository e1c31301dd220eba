import ArgumentParser
import Foundation

/// The `dataprep` command: image archives → training-ready shards → a trained CNN.
@main
struct DataPrep: ParsableCommand {
    /// The tool's version, printed by `--version` and recorded in what it writes.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "dataprep",
        abstract: "Turn image archives into training-ready data and train a small CNN from it.",
        version: version,
        subcommands: [Info.self, Split.self, Scan.self]
    )
}

// MARK: - Output shared by the subcommands

/// Diagnostics go to stderr so that stdout carries results only.
enum Diagnostics {
    /// Writes `warning: message` to stderr.
    static func warning(_ message: String) { write("warning: \(message)\n") }

    /// Writes `error: message` to stderr.
    static func error(_ message: String) { write("error: \(message)\n") }

    /// Writes `text` to stderr as is.
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
