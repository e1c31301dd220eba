public import ArgumentParser
import Augment
public import Codecs
import Dispatch
import Fetch
import Foundation
public import Preparation
import Shards
import Support
import Trainer

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
            Preview.self, Transform.self, Inspect.self, Verify.self, Merge.self, Train.self, Evaluate.self, Predict.self, Visualize.self,
            Export.self,
        ]
    )

    /// Parses and runs the subcommand. Every failure a library reports ends the same way, whatever
    /// the command: `error: <code>: <place>: <message>` on stderr and exit status 1. Usage errors
    /// stay argument-parser's (the message, the usage, exit 64).
    static func main() {
        runWithPassiveOpenMPThreads()
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
}

// MARK: - OpenMP threads

extension DataPrep {
    /// The subcommands that run oneDNN kernels.
    static let oneDNNCommands: Set<String> = ["train", "evaluate", "predict", "visualize"]

    /// oneDNN's OpenMP threads (libgomp) spin while they wait for work unless `OMP_WAIT_POLICY`
    /// says otherwise, and spinning threads collapse training (3.5–4.7× slower) when another
    /// process takes a core. libgomp reads the environment when it is loaded, before `main`, so a
    /// command that runs oneDNN sets the passive policy and runs itself again once, unless the user
    /// chose a policy. If the exec fails, the command goes on with the spinning default.
    static func runWithPassiveOpenMPThreads() {
        let arguments = CommandLine.arguments
        guard arguments.count > 1, oneDNNCommands.contains(arguments[1]), getenv("OMP_WAIT_POLICY") == nil else { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}

// MARK: - Failures

/// How a library's typed error is printed: `<code>: <place>: <message>`.
enum Failure {
    /// The line for `error`, or nil for errors argument-parser reports itself (usage errors, exit
    /// codes, help requests). Control characters in the place and message (a file name from input)
    /// are escaped, so the failure stays one line.
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

// MARK: - Output shared by the subcommands

/// Diagnostics go to stderr so that stdout carries results only.
enum Diagnostics {
    /// Writes `warning: message` to stderr.
    static func warning(_ message: String) { write("warning: \(message)\n") }

    /// Writes `error: message` to stderr.
    static func error(_ message: String) { write("error: \(message)\n") }

    /// `text` with control characters (a newline in a file name, an escape sequence) shown as
    /// escapes, so a name from input cannot break or forge a line of output.
    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined()
    }

    /// Writes `text` to stderr as is.
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// A one-line progress display on stderr, redrawn at most ten times a second, shown only when
/// stderr is a terminal (quiet in pipes, logs and CI).
final class ProgressLine: @unchecked Sendable {
    private let enabled = isatty(STDERR_FILENO) != 0
    private var last: UInt64 = 0
    private var started = DispatchTime.now().uptimeNanoseconds
    private let lock = NSLock()

    /// Seconds since the line was created.
    var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }

    /// Redraws the line with `text` (throttled unless `force`). Safe from any thread.
    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 100_000_000 else { return }
        last = now
        Diagnostics.write("\r\u{1B}[K" + text())
    }

    /// Starts timing afresh (for the rate and ETA of a new stage).
    func restart() {
        lock.withLock { started = DispatchTime.now().uptimeNanoseconds }
    }

    /// Redraws the line as a bar: `label [#####.......] done/total unit  rate unit/s  ETA m:ss`.
    func bar(_ label: String, done: Int, total: Int, unit: String = "images", force: Bool = false) {
        update(Self.barText(label, done: done, total: total, unit: unit, seconds: elapsed), force: force)
    }

    /// The text of ``bar(_:done:total:unit:force:)`` after `seconds`.
    static func barText(_ label: String, done: Int, total: Int, unit: String, seconds: Double) -> String {
        let width = 24, fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(seconds, 1e-9)
        var text = "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        text += "\(done)/\(total) \(unit)  " + String(format: "%.0f %@/s", rate, unit)
        if done > 0, done < total {
            let remaining = Int((Double(total - done) / rate).rounded())
            text += String(format: "  ETA %d:%02d", remaining / 60, remaining % 60)
        }
        return text
    }

    /// Ends the line.
    func finish() {
        if enabled { Diagnostics.write("\r\u{1B}[K") }
    }
}

// MARK: - Argument types shared by the subcommands

extension PixelSize: ExpressibleByArgument {
    /// `WIDTHxHEIGHT`, e.g. `150x150`: the one size syntax of every command.
    public init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let width = parts[0], let height = parts[1], width > 0, height > 0 else { return nil }
        self.init(width: width, height: height)
    }

    /// Throws a usage error naming `option` when a side is over ``ImageSpec/maximumSide`` or the
    /// area over ``ImageSpec/maximumPixels``.
    func check(_ option: String) throws {
        guard width <= ImageSpec.maximumSide, height <= ImageSpec.maximumSide, width * height <= ImageSpec.maximumPixels else {
            throw ValidationError(
                "\(option) \(self) is too large: each side at most \(ImageSpec.maximumSide) pixels, "
                    + "\(ImageSpec.maximumPixels) pixels in all")
        }
    }
}

/// A byte count such as `256MB`, `1.5GiB`, `4096` (decimal and binary units both accepted).
struct ByteCount: ExpressibleByArgument {
    var bytes: Int

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [
            ("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6),
            ("KB", 1e3), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024), ("B", 1),
        ]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0,
            value * scale <= Double(1 << 50)
        else { return nil }
        bytes = Int(value * scale)
    }

    var defaultValueDescription: String {
        bytes % 1_048_576 == 0 ? "\(bytes / 1_048_576)MiB" : "\(bytes) bytes"
    }
}

extension ErrorPolicy: ExpressibleByArgument {}

// MARK: - Option groups shared by the subcommands

/// `--seed`: the one seed option; the same seed gives the same bytes.
struct SeedOption: ParsableArguments {
    @Option(help: "Random seed: the same seed gives the same output on every machine and thread count.")
    var seed: UInt64 = 0
}

/// `--threads`: the one thread-count option.
struct ThreadsOption: ParsableArguments {
    /// The most threads accepted.
    static let maximum = 256

    @Option(
        help: ArgumentHelp(
            "Worker threads, 1-\(maximum) (default: all cores). "
                + "The output is the same whatever the number."))
    var threads: Int?

    /// The count to use.
    var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let threads, !(1...Self.maximum).contains(threads) {
            throw ValidationError("--threads must be 1...\(Self.maximum), got \(threads)")
        }
    }
}

/// `--size` and `--channels`: the image a shard set holds, `WIDTHxHEIGHT` and 1 or 3.
struct ImageSizeOptions: ParsableArguments {
    @Option(help: "Image size WIDTHxHEIGHT, e.g. 150x150.")
    var size: PixelSize

    @Option(help: "Channels: 3 (RGB) or 1 (grayscale).")
    var channels: Int = 3

    func validate() throws {
        try size.check("--size")
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
    }

    /// The spec of images of this size and channels, resized by `resize`.
    func spec(_ resize: ImageSpec.Resize) -> ImageSpec {
        ImageSpec(width: size.width, height: size.height, channels: channels, resize: resize)
    }
}

/// Where and how `pack` and `augment` write their shards.
struct ShardOutputOptions: ParsableArguments {
    @Option(help: "Output folder for the shard set (manifest.json and <split>-NNNNN.dps).")
    var out: String

    @Option(name: .customLong("on-error"), help: "What to do with an image that cannot be decoded: fail or skip.")
    var onError: ErrorPolicy = .skip

    @Option(name: .customLong("shard-size"), help: "Largest shard, e.g. 256MB (at most 1 PiB).")
    var shardSize: ByteCount = ByteCount(argument: "256MiB")!

    @OptionGroup var threads: ThreadsOption

    @Option(
        help: ArgumentHelp(
            "Prepare only part I of N of the images (I/N, 0 ≤ I < N ≤ \(PartArgument.maximumParts)), for dataprep merge; "
                + "N alone takes I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, 'auto' also N from SLURM_ARRAY_TASK_COUNT.",
            valueName: "I/N"))
    var part: PartArgument?

    /// Refuses an output folder inside any of `sources` (or a source inside the output), before
    /// anything is written: a set written into its own source becomes a class of the next run.
    func checkSeparate(from sources: [String]) throws {
        for source in sources where FileIO.isInside(out, folder: source) || FileIO.isInside(source, folder: out) {
            throw ValidationError("--out \(out) and the source \(source) overlap: write the shards outside the source folder")
        }
    }

    /// Takes the output folder's lock (creating the folder): a second writer fails at once.
    func lock() throws -> FolderLock { try FolderLock(out) }

    /// The library's settings for these options.
    var settings: PreparationSettings {
        get throws {
            PreparationSettings(threads: threads.count, onError: onError, shardBytes: shardSize.bytes, part: try part?.resolved())
        }
    }
}

/// `--part`: `I/N`, `N` (I from the scheduler), or `auto` (I and N from the scheduler).
struct PartArgument: ExpressibleByArgument {
    /// The most parts accepted.
    static let maximumParts = 100_000

    var index: Int?
    var count: Int?

    init?(argument: String) {
        if argument == "auto" { return }
        let fields = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let count = Int(fields[fields.count - 1]), (1...Self.maximumParts).contains(count) else {
            return nil
        }
        self.count = count
        if fields.count == 2 {
            guard let index = Int(fields[0]), (0..<count).contains(index) else { return nil }
            self.index = index
        }
    }

    /// The part, with what was omitted taken from the scheduler's variables: a Kubernetes Indexed
    /// Job's `JOB_COMPLETION_INDEX`, or a SLURM job array's `SLURM_ARRAY_TASK_ID` (counted from
    /// `SLURM_ARRAY_TASK_MIN`) and `SLURM_ARRAY_TASK_COUNT`.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PreparationSettings.Part {
        func number(_ name: String) -> Int? { environment[name].flatMap { Int($0) } }
        let slurm = number("SLURM_ARRAY_TASK_ID").map { $0 - (number("SLURM_ARRAY_TASK_MIN") ?? 0) }
        guard let count = count ?? number("SLURM_ARRAY_TASK_COUNT"), (1...Self.maximumParts).contains(count) else {
            throw ValidationError("--part auto needs SLURM_ARRAY_TASK_COUNT; give --part I/N or --part N")
        }
        guard let index = index ?? number("JOB_COMPLETION_INDEX") ?? slurm else {
            throw ValidationError("--part \(count) needs JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (SLURM); or give I/N")
        }
        guard (0..<count).contains(index) else { throw ValidationError("--part index \(index) is not in 0..<\(count)") }
        return PreparationSettings.Part(index: index, count: count)
    }
}

// MARK: - Shared preparation output

/// What `pack` and `augment` print about a prepared split.
enum PreparationSummary {
    /// The decoder warnings and the skipped images of `reports`, on stderr.
    static func reportProblems(_ reports: [PreparationReport]) {
        for report in reports {
            for (path, warning) in report.warnings { Diagnostics.warning("\(Diagnostics.escaped(path)): \(warning)") }
        }
        let skipped = reports.flatMap(\.skipped)
        if !skipped.isEmpty {
            Diagnostics.write("skipped \(skipped.count) images that could not be decoded:\n")
            for error in skipped { Diagnostics.write("  \(Diagnostics.escaped(error.description))\n") }
        }
    }

    /// A progress callback that draws a bar (`verb`, count, rate, ETA) on `line`, timed from now.
    static func progress(_ line: ProgressLine, _ verb: String) -> (Int, Int) -> Void {
        line.restart()
        return { done, total in line.bar(verb, done: done, total: total) }
    }

    /// The provenance of a set made by `command` from `dataset` with `options`.
    static func provenance(
        _ command: String, _ dataset: DatasetDirectory, options: [String: String], seed: UInt64?
    )
        -> ShardManifest.Provenance
    {
        .init(
            dataset: dataset.root, tool: "dataprep \(DataPrep.version)", options: options.merging(["command": command]) { $1 },
            seed: seed)
    }
}

// MARK: - Opening shard sets

/// The shard set in `directory`, for the commands that read one (train, evaluate, inspect,
/// verify). A folder without `manifest.json` whose subfolders hold images is a dataset, not a
/// shard set: the error then says how to make one with `pack`.
/// - Throws: ``ShardError`` as ``ShardSet/init(directory:)``, with the `pack` hint for a dataset.
func openShardSet(_ directory: String) throws -> ShardSet {
    do {
        return try ShardSet(directory: directory)
    } catch let error as ShardError where !FileIO.exists(directory + "/manifest.json") {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let holdsImages = folders.contains { folder in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + folder)) ?? []
            return files.contains(where: DatasetDirectory.isImageName)
        }
        guard holdsImages else { throw error }
        throw ShardError(
            error.code, error.message + "; its folders hold images: make one with `dataprep pack \(directory) --size WxH --out OUT`",
            file: error.file, sample: error.sample)
    }
}
