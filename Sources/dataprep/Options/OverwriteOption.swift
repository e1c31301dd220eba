import ArgumentParser
import Shards

// MARK: - Replacing a shard set

/// `--overwrite`: shared by pack, augment and merge, which replace a set of the same shape in
/// their output folder as a rerun, but not one of another shape (Shards' `ShardWriter.Replacement`).
struct OverwriteOption: ParsableArguments {
    @Flag(help: "Replace a set of another image spec, classes, split or record parameters already in the output folder.")
    var overwrite = false

    /// What the writers may replace.
    var replacing: ShardWriter.Replacement { overwrite ? .anything : .sameShape }

    /// Refuses, unless `--overwrite` was given, to replace the complete set in `directory` when it
    /// differs from the one about to be written in image spec, class names, split or record
    /// parameters (``ShardWriter/checkReplacing(in:split:spec:classNames:parameterNames:)``), so the
    /// run stops before any work. The writers check again before they replace anything.
    /// - Throws: `ValidationError` naming both sets' split, spec and classes, and the differences.
    func checkReplacing(
        in directory: String, split: String, spec: ImageSpec, classNames: [String], parameterNames: [String]
    ) throws {
        guard !overwrite else { return }
        do {
            try ShardWriter.checkReplacing(in: directory, split: split, spec: spec, classNames: classNames, parameterNames: parameterNames)
        } catch {
            throw ValidationError("\(directory) \(error.message)")
        }
    }
}
