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
        subcommands: [
            FetchDataset.self, Split.self, Scan.self, Info.self, AugmentCommand.self, Pack.self,
            Preview.self, Transform.self, Inspect.self, Verify.self, Merge.self, Push.self, Train.self, Evaluate.self, Predict.self, Visualize.self,
            Export.self,
        ]
    )

    /// Parses and runs the subcommand. Every failure a library reports ends the same way, whatever
    /// the command: `error: <code>: <place>: <message>` on stderr and exit status 1. Usage errors
    /// stay argument-parser's (the message, the usage, exit 64).
    static func main() {
        OpenMPThreads.runPassively(subcommands: oneDNNCommands)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let line = Failure.line(for: error) {
                Diagnostics.error(line)
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }

    /// The subcommands that run oneDNN kernels.
    static let oneDNNCommands: Set<String> = ["train", "evaluate", "predict", "visualize"]
}
