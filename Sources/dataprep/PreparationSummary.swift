import Datasets
import Preparation
import Shards
import Support

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
