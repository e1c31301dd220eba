import ArgumentParser
import Shards

// MARK: - Replacing a shard set

/// `--overwrite`: shared by pack and augment, which replace a set of the same shape in their
/// output folder as a rerun, but not one of another shape.
struct OverwriteOption: ParsableArguments {
    @Flag(help: "Replace a set of another image spec, classes, split or record parameters already in --out.")
    var overwrite = false

    /// Refuses, unless `--overwrite` was given, to replace the complete set in `directory` when it
    /// differs from the one about to be written in image spec, class names, split or record
    /// parameters. A folder without a readable manifest holds no complete set and is not refused.
    /// - Throws: `ValidationError` naming both sets' split, spec and classes, and the differences.
    func checkReplacing(
        in directory: String, split: String, spec: ImageSpec, classNames: [String], parameterNames: [String]
    ) throws {
        guard !overwrite, let existing = try? ShardManifest.read(from: directory) else { return }
        var differences: [String] = []
        if existing.split != split { differences.append("split") }
        if existing.spec != spec { differences.append("image spec") }
        if existing.classNames != classNames { differences.append("classes") }
        if existing.parameterNames != parameterNames { differences.append("record parameters") }
        guard !differences.isEmpty else { return }
        func describe(_ split: String, _ spec: ImageSpec, _ classNames: [String], _ parameters: [String]) -> String {
            "\(split) set \(spec), classes \(classNames.joined(separator: ", "))"
                + (parameters.isEmpty ? "" : ", \(parameters.count) record parameters")
        }
        throw ValidationError(
            "\(directory) already holds the \(describe(existing.split, existing.spec, existing.classNames, existing.parameterNames)); "
                + "this run writes the \(describe(split, spec, classNames, parameterNames)) "
                + "(they differ in \(differences.joined(separator: ", "))). "
                + "Give --overwrite to replace it, or another --out.")
    }
}
