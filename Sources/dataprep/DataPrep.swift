public import ArgumentParser
public import Augment
public import Codecs
import Dispatch
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
        subcommands: [FetchDataset.self, Split.self, Scan.self, Info.self, AugmentCommand.self, Pack.self,
                      Preview.self, Transform.self, Inspect.self, Verify.self, Train.self, Evaluate.self, Predict.self, Visualize.self]
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

/// A one-line progress display on stderr, redrawn at most ten times a second, shown only when
/// stderr is a terminal (quiet in pipes, logs and CI).
final class ProgressLine {
    private let enabled = isatty(STDERR_FILENO) != 0
    private var last: UInt64 = 0
    private let started = DispatchTime.now().uptimeNanoseconds

    /// Seconds since the line was created.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

    /// Redraws the line with `text` (throttled unless `force`).
    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 100_000_000 else { return }
        last = now
        Diagnostics.write("\r\u{1B}[K" + text())
    }

    /// Ends the line.
    func finish() {
        if enabled { Diagnostics.write("\r\u{1B}[K") }
    }
}

// MARK: - Argument types shared by the subcommands

extension PixelSize: ExpressibleByArgument {
    /// `WIDTHxHEIGHT`, e.g. `150x150`, or one number for a square.
    public init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x").compactMap { Int($0) }
        switch parts.count {
        case 1 where parts[0] > 0: self.init(width: parts[0], height: parts[0])
        case 2 where parts[0] > 0 && parts[1] > 0: self.init(width: parts[0], height: parts[1])
        default: return nil
        }
    }
}

/// A byte count such as `256MB`, `1.5GiB`, `4096` (decimal and binary units both accepted).
struct ByteCount: ExpressibleByArgument {
    var bytes: Int

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6),
                                         ("KB", 1e3), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024), ("B", 1)]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
        bytes = Int(value * scale)
    }

    var defaultValueDescription: String {
        bytes % 1_048_576 == 0 ? "\(bytes / 1_048_576)MiB" : "\(bytes) bytes"
    }
}

extension ErrorPolicy: ExpressibleByArgument {}

/// How `pack` and `augment` write their shards.
struct PreparationOptions: ParsableArguments {
    @Option(help: "Channels: 3 (RGB) or 1 (grayscale).")
    var channels: Int = 3

    @Option(help: "Worker threads (default: all cores). The output is the same whatever the number.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .customLong("on-error"), help: "What to do with an image that cannot be decoded: fail or skip.")
    var onError: ErrorPolicy = .skip

    @Option(name: .customLong("shard-size"), help: "Largest shard, e.g. 256MB.")
    var shardSize: ByteCount = ByteCount(argument: "256MiB")!

    func validate() throws {
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }
}
