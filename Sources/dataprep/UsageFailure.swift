import ArgumentParser
import Foundation

// MARK: - Usage errors found outside the parser

/// A usage error argument-parser does not report itself: a `ValidationError` thrown once the
/// command runs (a set of another shape in `--out`, an option `--resume` refuses), or a Keras
/// argument name typed as a flag. It is printed as argument-parser prints its own, with the usage
/// of the subcommand it concerns (not the root's `dataprep <subcommand>`), and exits with status
/// 64.
enum UsageFailure {
    /// `Error: message`, the usage of `command` and where its help is, as argument-parser writes
    /// them.
    static func text(_ message: String, command: any ParsableCommand.Type) -> String {
        let name = command == DataPrep.self ? "dataprep" : "dataprep \(command._commandName)"
        let usage = command == DataPrep.self ? DataPrep.usageString() : DataPrep.usageString(for: command)
        return "Error: \(message)\nUsage: \(usage)\n  See '\(name) --help' for more information.\n"
    }

    /// Writes ``text(_:command:)`` to stderr and exits with status 64.
    static func exit(_ message: String, command: any ParsableCommand.Type) -> Never {
        Diagnostics.write(text(message, command: command))
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }

    /// The subcommand `arguments` (the command line without the program name) runs: the one named
    /// by the first argument, or the root command.
    static func command(for arguments: [String]) -> any ParsableCommand.Type {
        DataPrep.configuration.subcommands.first { $0._commandName == arguments.first } ?? DataPrep.self
    }
}
