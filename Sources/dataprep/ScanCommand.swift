import ArgumentParser
import Datasets
import Fetch
import Foundation
import Support

/// `dataprep scan DIR`: the preflight report of a dataset folder, and optionally the quarantine of
/// its bad files.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a dataset folder before training: counts, undecodable files, duplicates.",
        discussion: """
            Every image is read and decoded once, in parallel. The report starts with what Keras's \
            flow_from_directory prints ("Found N images belonging to K classes.") for each split, \
            with the images per class, then lists the files that would stop training (unreadable, \
            truncated, corrupt, unsupported or unknown format, too large), files decoded with a \
            warning, images converted on the way (CMYK, grayscale, 16-bit, alpha, palette, \
            EXIF-rotated), image sizes, byte-identical duplicates (across splits: leakage; across \
            classes: conflicting labels) and files ignored because their names are not images. \
            Hidden folders such as .ipynb_checkpoints are never classes. Paths are relative to DIR.

            Exit status: 0 when every image decodes; 1 when a bad file was found, unless \
            --quarantine moved every bad file; 1 also when DIR cannot be read; 64 for usage errors.
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The dataset folder: DIR/<class>/... or DIR/<split>/<class>/...",
            valueName: "dir"))
    var directory: String

    @OptionGroup var threads: ThreadsOption

    @Option(
        name: .customLong("max-pixels"),
        help: "Images declaring more pixels are reported as too large (default: 178956970, PIL's limit).")
    var maxPixels: Int?

    @Option(
        help: ArgumentHelp(
            "Move every bad file into this folder, keeping its path relative to the dataset folder.",
            valueName: "dir"))
    var quarantine: String?

    @Flag(help: "Print the report as one JSON document instead of text.")
    var json = false

    func validate() throws {
        if let maxPixels, !(1...(1 << 40)).contains(maxPixels) {
            throw ValidationError("--max-pixels must be 1...\(1 << 40), got \(maxPixels)")
        }
    }

    func run() throws {
        let dataset = try DatasetDirectory(reading: directory)
        if let quarantine { try DatasetQuarantine.checkFolder(quarantine, datasetRoot: dataset.root) }
        let line = ProgressLine()
        let progress = ScanProgress.reporter(line)
        defer { line.finish() }
        var report = try DatasetScanner(threads: threads.count, maximumPixels: maxPixels).scan(dataset, progress: progress)
        if let quarantine { report.quarantine = try DatasetQuarantine.moveBadFiles(of: report, to: quarantine) }

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(ScanReportText(report).rendered(), terminator: "")
        }
        fflush(nil)
        try exitForBadFiles(report)
    }

    /// Status 1 (with a line on stderr) when bad files remain in the dataset.
    private func exitForBadFiles(_ report: DatasetScanReport) throws {
        let bad = report.badFiles.count
        guard bad > 0 else { return }
        if let outcome = report.quarantine {
            guard outcome.failed.isEmpty else {
                Diagnostics.error(
                    "\(outcome.failed.count) of \(bad) bad files could not be moved to \(Diagnostics.escaped(outcome.folder))")
                throw ExitCode.failure
            }
            Diagnostics.warning("\(bad) bad \(bad == 1 ? "file" : "files") moved to \(Diagnostics.escaped(outcome.folder))")
        } else {
            Diagnostics.error("\(bad) of \(report.imageCount) images cannot be used; --quarantine DIR moves them out")
            throw ExitCode.failure
        }
    }
}

// MARK: - Progress

/// `scanning: done/total images` on stderr, redrawn in place, only when stderr is a terminal.
private enum ScanProgress {
    /// The callback for ``DatasetScanner/scan(_:progress:)`` drawing a bar on `line`, or `nil`
    /// when stderr is not a terminal.
    static func reporter(_ line: ProgressLine) -> (@Sendable (Int, Int) -> Void)? {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        return { done, total in line.bar("scanning", done: done, total: total) }
    }
}

// MARK: - Text report

/// The human-readable form of a ``DatasetScanReport``; the same report always gives the same text.
/// Names from the dataset (paths, class and split names) have control characters escaped, so a
/// newline in a file name cannot break or forge a line.
private struct ScanReportText {
    /// Paths listed per kind of converted image before "… and N more".
    static let examples = 5

    private let report: DatasetScanReport
    private var lines: [String] = []

    init(_ report: DatasetScanReport) { self.report = report }

    /// The whole report, one line per finding, ending with a newline.
    func rendered() -> String {
        var text = self
        text.counts()
        text.decodeResults()
        text.formatsAndTraits()
        text.sizes()
        text.duplicates()
        text.ignored()
        text.quarantine()
        return text.lines.joined(separator: "\n") + "\n"
    }

    private mutating func section(_ title: String) {
        lines.append("")
        lines.append(title)
    }

    private mutating func counts() {
        lines.append("Dataset \(escaped(report.root))")
        lines.append("")
        let nameWidth = report.classNames.map { escaped($0).count }.max() ?? 0
        for split in report.splits {
            let found = "Found \(split.imageCount) images belonging to \(split.classes.count) classes."
            lines.append(split.name.isEmpty ? found : "\(escaped(split.name)): \(found)")
            for folder in split.classes {
                let name = escaped(folder.name).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                lines.append("  \(name)  \(pad(folder.images, 7))" + (folder.bad > 0 ? "  (\(folder.bad) bad)" : ""))
            }
        }
        lines.append("Total: \(report.imageCount) images, \(report.classNames.count) classes.")
        for split in report.splits {
            let missing = Set(report.classNames).subtracting(split.classes.map(\.name)).sorted()
            guard !missing.isEmpty else { continue }
            lines.append(
                "Note: \(escaped(split.name)) has no folder for \(missing.map(escaped).joined(separator: ", ")), so Keras would "
                    + "number its classes differently there.")
        }
    }

    private mutating func decodeResults() {
        let ok = report.decodableCount - report.warnings.count
        section("Decoded: \(ok) ok, \(report.warnings.count) with a warning, \(report.badFiles.count) bad.")
        if !report.badFiles.isEmpty {
            section("Bad files (\(report.badFiles.count)):")
            let width = report.badFiles.map(\.status.rawValue.count).max() ?? 0
            for file in report.badFiles {
                let status = file.status.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("  \(status)  \(escaped(file.path)): \(escaped(file.message))")
            }
        }
        if !report.warnings.isEmpty {
            section("Decoded with a warning (\(report.warnings.count)):")
            lines += report.warnings.map { "  \(escaped($0.path)): \(escaped($0.message))" }
        }
    }

    private mutating func formatsAndTraits() {
        let formats = report.formats.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        section("Formats: " + (formats.isEmpty ? "none" : formats.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        let traits = report.traits
        section("Converted on decode:")
        let kinds: [(String, [String])] = [
            ("CMYK/YCCK", traits.cmyk), ("grayscale", traits.grayscale),
            ("16-bit", traits.sixteenBit), ("alpha", traits.alpha),
            ("palette", traits.palette), ("EXIF-rotated", traits.exifRotated),
        ]
        for (name, paths) in kinds {
            let label = name.padding(toLength: 13, withPad: " ", startingAt: 0)
            lines.append("  \(label)\(pad(paths.count, 7))" + (paths.isEmpty ? "" : "  " + listed(paths)))
        }
    }

    private mutating func sizes() {
        guard let sizes = report.sizes else { return }
        section(
            "Sizes (upright): width \(sizes.width.min)…\(sizes.width.max) (median \(sizes.width.median)), "
                + "height \(sizes.height.min)…\(sizes.height.max) (median \(sizes.height.median))")
        lines.append(
            "Most common: "
                + sizes.mostCommon.map { "\($0.width)x\($0.height) (\($0.count))" }
                .joined(separator: ", "))
    }

    private mutating func duplicates() {
        let groups = report.duplicates
        let leaks = groups.filter(\.acrossSplits).count, conflicts = groups.filter(\.acrossClasses).count
        section(
            "Duplicates: \(groups.count) \(groups.count == 1 ? "group" : "groups") of byte-identical files, "
                + "\(leaks) across splits (leakage), \(conflicts) across classes (conflicting labels)")
        let kinds = groups.map { Self.duplicateKinds[($0.acrossSplits ? 1 : 0) + ($0.acrossClasses ? 2 : 0)] }
        let width = kinds.map(\.count).max() ?? 0
        for (kind, group) in zip(kinds, groups) {
            lines.append(
                "  \(kind.padding(toLength: width, withPad: " ", startingAt: 0))  "
                    + group.paths.map(escaped).joined(separator: " = "))
        }
    }

    /// Labels of duplicate groups, indexed by (across splits ? 1 : 0) + (across classes ? 2 : 0).
    private static let duplicateKinds = ["same class", "leakage", "label conflict", "leakage, label conflict"]

    private mutating func ignored() {
        guard !report.ignoredFiles.isEmpty else { return }
        section("Ignored, not images by name (\(report.ignoredFiles.count)):")
        lines += report.ignoredFiles.map { "  \(escaped($0))" }
    }

    private mutating func quarantine() {
        guard let outcome = report.quarantine else { return }
        section("Quarantine \(escaped(outcome.folder)): \(outcome.moved.count) moved, \(outcome.failed.count) failed")
        lines += outcome.moved.map { "  moved  \(escaped($0))" }
        lines += outcome.failed.map { "  kept   \(escaped($0.path)): \(escaped($0.message))" }
    }

    /// The first few paths, then how many more.
    private func listed(_ paths: [String]) -> String {
        let shown = paths.prefix(Self.examples).map(escaped).joined(separator: ", ")
        return paths.count > Self.examples ? "\(shown), … and \(paths.count - Self.examples) more" : shown
    }

    private func escaped(_ text: String) -> String { Diagnostics.escaped(text) }

    private func pad(_ number: Int, _ width: Int) -> String {
        let text = String(number)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
