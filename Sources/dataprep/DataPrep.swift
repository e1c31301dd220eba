import ArgumentParser
import Foundation
import Trainer

/// The `dataprep` command: image archives → training-ready shards → a trained CNN.
@main
struct DataPrep: ParsableCommand {
    /// The tool's version, printed by `--version` and recorded in what it writes.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "dataprep",
        abstract: "Turn image archives into training-ready data and train a small CNN from it.",
        discussion: """
            The typical pipeline, Keras's get_file, flow_from_directory, fit, evaluate and predict:

              dataprep fetch cats_and_dogs_filtered   # prints its folder: DATA
              dataprep pack DATA/train --size 150x150 --out out
              dataprep pack DATA/validation --size 150x150 --out out/validation
              dataprep train --shards out --model tutorial --epochs 15 --rotate 40 --flip
              dataprep evaluate --model run --shards out/validation
              dataprep predict --model run IMAGE...

            train's augmentation options keep the names of ImageDataGenerator's arguments where they \
            can (--rotate for rotation_range, --flip for horizontal_flip, ...); a Keras name typed \
            as a flag is answered with dataprep's.
            """,
        version: version,
        subcommands: [
            FetchDataset.self, Split.self, Scan.self, Info.self, AugmentCommand.self, Pack.self,
            Preview.self, Transform.self, Inspect.self, Verify.self, Merge.self, Push.self, Train.self, Evaluate.self, Predict.self,
            Visualize.self,
            Export.self,
        ]
    )

    /// Parses and runs the subcommand. Every failure a library reports ends the same way, whatever
    /// the command: `error: <code>: <place>: <message>` on stderr and exit status 1. Usage errors
    /// exit 64 with the subcommand's usage: argument-parser's own, a Keras argument name typed as
    /// a flag (``KerasArgumentNames``), and a `ValidationError` thrown while the command runs
    /// (``UsageFailure``).
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, oneDNNCommands.contains(first) {
            do { try OpenMPThreadBudget.validate(environment: ProcessInfo.processInfo.environment) } catch {
                UsageFailure.exit(error.message, command: UsageFailure.command(for: arguments))
            }
        }
        OpenMPThreads.runPassively(subcommands: oneDNNCommands)
        if let message = KerasArgumentNames.message(for: arguments) {
            UsageFailure.exit(message, command: UsageFailure.command(for: arguments))
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            UsageFailure.exit(error.message, command: type(of: command))
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
