import ArgumentParser
import Fetch
import Foundation

/// `dataprep fetch NAME|URL`: download (resumable, verified) and extract safely, once.
struct FetchDataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download a dataset (resumable, verified) and turn it into class folders, once.",
        discussion: """
            NAME is a registry dataset (see --list); a URL (http, https, file) or a path to a local \
            archive works too, and so does a local cifar-10-batches-bin folder (an archive holding \
            the CIFAR-10 binary batches is imported to PNG class folders too). Files are looked for first under the search path (Debian's dataset \
            packages install under /usr/share/datasets), then in the cache, then downloaded with \
            resume and retries, and checked against their sha256 (recorded on first download when \
            the registry has none). The dataset lands in $DATAPREP_HOME/datasets/NAME \
            (default ~/.cache/dataprep; --name chooses NAME, for a registry dataset too), whose \
            path is printed on stdout; a second fetch of the same source under the same name only \
            verifies it, and another source under that name is refused.
            """
    )

    @Argument(help: "A registry name, a URL, or an archive path.")
    var dataset: String?

    @Flag(help: "List the registry and exit.")
    var list = false

    @Flag(help: "Fetch and build again even if the dataset is there.")
    var force = false

    @Option(help: "Base URL replacing the origin of registry URLs (or set DATAPREP_MIRROR).")
    var mirror: String?

    @Option(help: "The dataset folder's name (default: the registry name, or the archive's name without extensions).")
    var name: String?

    @Option(
        name: .customLong("search-path"),
        help: "Colon-separated folders searched before the network (or DATAPREP_SEARCH_PATH; default /usr/share/datasets).")
    var searchPath: String?

    @Option(name: .customLong("max-bytes"), help: "Largest total size an archive may expand to (default 64GiB).")
    var maxBytes: ByteCount?

    @Option(name: .customLong("max-ratio"), help: "Largest compression ratio an archive may have (default 100).")
    var maxRatio: Double?

    func validate() throws {
        guard list || dataset != nil else { throw ValidationError("give a dataset name or URL, or --list") }
        if let maxRatio, !(maxRatio.isFinite && maxRatio >= 1 && maxRatio <= 1e6) {
            throw ValidationError("--max-ratio must be 1...1000000, got \(maxRatio)")
        }
    }

    func run() throws {
        if list {
            printRegistry()
            return
        }
        let environment = ProcessInfo.processInfo.environment
        var options = FetchOptions(home: FetchOptions.defaultHome(), force: force, name: name)
        options.mirror = mirror ?? environment["DATAPREP_MIRROR"]
        if let paths = searchPath ?? environment["DATAPREP_SEARCH_PATH"] {
            options.searchPaths = paths.split(separator: ":").map(String.init)
        }
        if let maxBytes { options.limits.maximumTotalBytes = Int64(maxBytes.bytes) }
        if let maxRatio { options.limits.maximumCompressionRatio = maxRatio }

        let fetcher = DatasetFetcher(options: options, tool: "dataprep \(DataPrep.version)")
        let bar = ProgressLine()
        defer { bar.finish() }
        let result: FetchResult
        do {
            result = try fetcher.fetch(dataset!) { event in report(event, bar: bar) }
        } catch var error as FetchError {
            if let remedy = error.remedy { error.message += " (\(Self.flag(for: remedy)))" }
            throw error
        }
        bar.finish()
        if result.alreadyPresent { Diagnostics.write("\(result.name): already fetched; sources and folder verified\n") }
        print(result.path)
    }

    /// The command-line form of what the library suggests.
    static func flag(for remedy: FetchError.Remedy) -> String {
        switch remedy {
        case .chooseName: "--name NAME"
        case .force: "--force"
        case .listRegistry: "dataprep fetch --list"
        case .checkMirror: "check --mirror or DATAPREP_MIRROR: a mirror must serve the registry's files as they are"
        }
    }

    private func report(_ event: FetchEvent, bar: ProgressLine) {
        let escaped = Diagnostics.escaped
        switch event {
        case .usingLocalCopy(let file, let path):
            Diagnostics.write("\(file): using the local copy \(escaped(path))\n")
        case .usingCachedDownload(let file, _):
            Diagnostics.write("\(file): using the verified download in the cache\n")
        case .rejected(let file, let path, let sha256):
            Diagnostics.warning("\(file): \(escaped(path)) has sha256 \(sha256), not the expected one; not using it")
        case .downloading(let file, let url):
            Diagnostics.write("\(file): downloading \(escaped(url))\n")
        case .progress(let file, let progress):
            bar.update(Self.describe(progress, file: file))
        case .downloaded(let file, let result):
            bar.finish()
            Diagnostics.write(
                "\(file): \(Self.megabytes(result.size)) verified (sha256 \(result.sha256.prefix(16))…)"
                    + (result.resumedBytes > 0 ? ", resumed at \(Self.megabytes(result.resumedBytes))" : "") + "\n")
        case .urlFailed(_, _, _, 0):
            bar.finish()  // the last URL's failure is the error the command ends with
        case .urlFailed(let file, let url, let error, _):
            bar.finish()
            Diagnostics.warning(
                "\(file): \(escaped(url)) failed (\(error.code.rawValue): \(escaped(error.message))); "
                    + "trying the next URL")
        case .recordedChecksum(let file, let sha256, let replacing):
            Diagnostics.write(
                "\(file): no published sha256; recorded \(sha256)" + (replacing.map { " in place of \($0)" } ?? "")
                    + " and will check it from now on\n")
        case .extracting(let file):
            Diagnostics.write("\(file): extracting\n")
        case .importing(let what):
            Diagnostics.write("importing \(what)\n")
        }
    }

    /// `cats_and_dogs_filtered.zip  45.2 MB / 68.6 MB  66%  12.3 MB/s  ETA 2s`
    static func describe(_ progress: DownloadProgress, file: String) -> String {
        var text = "\(file)  \(megabytes(progress.receivedBytes))"
        if let total = progress.totalBytes, total > 0 {
            let filled = Int(min(1, Double(progress.receivedBytes) / Double(total)) * 24)
            text =
                "\(file) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: 24 - filled) + "] "
                + "\(megabytes(progress.receivedBytes)) / \(megabytes(total))  \(100 * progress.receivedBytes / total)%"
        }
        text += String(format: "  %.1f MB/s", progress.bytesPerSecond / 1e6)
        if let total = progress.totalBytes, progress.bytesPerSecond > 0 {
            text += String(format: "  ETA %.0fs", Double(total - progress.receivedBytes) / progress.bytesPerSecond)
        }
        return text
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    private func printRegistry() {
        let width = Registry.entries.map(\.name.count).max() ?? 0
        for entry in Registry.entries {
            let size = entry.files.compactMap(\.size).reduce(0, +)
            let checked = entry.files.allSatisfy { $0.sha256 != nil } ? "sha256" : "sha256 recorded on first download"
            print(
                entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + Self.megabytes(size).padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + entry.summary)
            for file in entry.files { print(String(repeating: " ", count: width + 2) + "  " + file.urls[0]) }
            print(
                String(repeating: " ", count: width + 2) + "  " + checked
                    + (entry.localCopy.map { ", local copy from \($0.package)" } ?? ""))
        }
    }
}
