import Foundation
import Support

/// Joins the part sets of a preparation split across processes or machines (`pack`/`augment
/// --part I/N`) into the one set a single process writes: the records of part 0, then part 1, ...,
/// appended through a ``ShardWriter`` with the run's shard size, so the shards are byte-identical
/// to a one-process run with the same options and seed.
public enum ShardMerge {
    /// Merges the sets in the local folders `parts` (in any order) into `directory` and commits the
    /// merged set there (``stage(sets:into:tool:replacing:shardFinished:)``, then
    /// ``StagedShardSet/commit()``).
    /// - Returns: the merged set's manifest.
    /// - Throws: as ``stage(sets:into:tool:replacing:shardFinished:)``.
    public static func merge(
        _ parts: [String], into directory: String, tool: String, replacing: ShardWriter.Replacement = .sameShape
    ) throws -> ShardManifest {
        let staged = try stage(sets: try parts.map { try ShardSet(directory: $0) }, into: directory, tool: tool, replacing: replacing)
        try staged.commit()
        return staged.manifest
    }

    /// Merges the opened part sets `sets` (in any order, local or remote: each shard is read once,
    /// in order) into a set written beside the one in `directory`,
    /// which ``StagedShardSet/commit()`` replaces. The parts must agree on everything that shaped
    /// their bytes: split, image spec, record layout, classes, parameters, copies, sources, shard
    /// size, item count, and the options and seed their provenance records. The merged set's
    /// provenance keeps those (the command, options and seed of the parts), adds `merged` (the
    /// number of parts) and names the parts' dataset.
    /// - Returns: the merged set, staged.
    /// - Throws: ``ShardError`` `manifestMismatch` when a folder is not a part set, the parts do not
    ///   belong together (what differs is named), a part is missing or given twice, or their item
    ///   ranges do not tile the list; `checksumMismatch` for a damaged record; `invalidArgument`
    ///   when `directory` holds a set of another shape and `replacing` does not allow replacing it;
    ///   `fileSystem` when writing fails.
    /// - Parameters:
    ///   - tool: `dataprep <version>`, recorded as the merged set's tool.
    ///   - shardFinished: called with the path of each shard as soon as it is complete.
    public static func stage(
        sets: [ShardSet], into directory: String, tool: String, replacing: ShardWriter.Replacement = .sameShape,
        shardFinished: (@Sendable (String) -> Void)? = nil
    ) throws -> StagedShardSet {
        guard !sets.isEmpty else { throw ShardError(.invalidArgument, "no part sets to merge") }
        let described = try sets.map { set -> (ShardSet, ShardManifest.Part) in
            guard let part = set.manifest.part else {
                throw ShardError(.manifestMismatch, "not a part set (it was not written with --part)", file: set.directory)
            }
            return (set, part)
        }.sorted { $0.1.index < $1.1.index }
        let (first, firstPart) = described[0]
        let reference = first.manifest
        guard described.map(\.1.index) == Array(0..<firstPart.count), described.allSatisfy({ $0.1.count == firstPart.count }) else {
            throw ShardError(.manifestMismatch, partsProblem(described.map { ($0.0.directory, $0.1) }))
        }
        var next = 0
        for (set, part) in described {
            let manifest = set.manifest
            var differences = [
                ("split", manifest.split != reference.split), ("image spec", manifest.spec != reference.spec),
                ("record layout", manifest.layout != reference.layout), ("class names", manifest.classNames != reference.classNames),
                ("parameter names", manifest.parameterNames != reference.parameterNames), ("copies", manifest.copies != reference.copies),
                ("sources", manifest.sources != reference.sources), ("shard size", part.shardBytes != firstPart.shardBytes),
                ("item count", part.totalItems != firstPart.totalItems),
                ("seed", manifest.provenance.seed != reference.provenance.seed),
            ].filter(\.1).map(\.0)
            let options = manifest.provenance.options, wanted = reference.provenance.options
            differences += Set(options.keys).union(wanted.keys).sorted().filter { options[$0] != wanted[$0] }.map { key in
                "\(key) (\(options[key] ?? "not given") here, \(wanted[key] ?? "not given") in part \(firstPart.index))"
            }
            guard differences.isEmpty else {
                throw ShardError(
                    .manifestMismatch,
                    "does not belong with \(first.directory): its \(differences.joined(separator: ", ")) \(differences.count == 1 ? "differs" : "differ"); "
                        + "every part must be made with the same options and seed",
                    file: set.directory)
            }
            guard part.firstItem == next else {
                throw ShardError(
                    .manifestMismatch, "part \(part.index) starts at item \(part.firstItem), the parts before end at \(next)",
                    file: set.directory)
            }
            next += part.items
        }
        guard next == firstPart.totalItems else {
            throw ShardError(.manifestMismatch, "the parts cover \(next) of \(firstPart.totalItems) items", file: first.directory)
        }
        let writer = try ShardWriter(
            directory: directory, split: reference.split, spec: reference.spec, hasSource: reference.layout.sourceOffset != nil,
            parameterCount: reference.layout.parameterCount, rotation: .init(maxBytes: firstPart.shardBytes), replacing: replacing,
            shardFinished: shardFinished)
        for (set, _) in described {
            for shard in set.manifest.shards.indices {
                try set.withShard(shard) { records in
                    for local in 0..<records.count {
                        guard records.recordIsIntact(local) else {
                            throw ShardError(
                                .checksumMismatch, "record bytes do not match their checksum", file: records.location, sample: local)
                        }
                        _ = try records.label(local)  // refuses a label outside the class list
                        // The parts' layout is the writer's: the intact record goes as it is, with
                        // the checksum just compared (not rebuilt from its fields and hashed again).
                        try writer.append(record: records.record(local), checksum: records.checksum(local))
                    }
                }
            }
        }
        let datasets = described.map { $0.0.manifest.provenance.dataset }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let provenance = ShardManifest.Provenance(
            dataset: datasets.joined(separator: ", "), tool: tool,
            options: reference.provenance.options.merging(["merged": "\(described.count) parts"]) { $1 },
            seed: reference.provenance.seed)
        return try writer.stage(
            classNames: reference.classNames, parameterNames: reference.parameterNames, copies: reference.copies,
            sources: reference.sources, provenance: provenance)
    }

    /// What is wrong with parts that are not 0 ..< N, each once, as one sentence: which parts of
    /// how many are missing, which are given twice (with their folders), which belong to another
    /// count of parts, then every part as given. No one part is to blame, so none is the error's file.
    static func partsProblem(_ parts: [(directory: String, part: ShardManifest.Part)]) -> String {
        let count = parts[0].part.count
        var problems: [String] = []
        let otherCounts = parts.filter { $0.part.count != count }
        if !otherCounts.isEmpty {
            problems.append(
                "some parts are of another split of the images than \(parts[0].directory)'s \(count) parts: "
                    + otherCounts.map { "\($0.directory) is part \($0.part.index)/\($0.part.count)" }.joined(separator: ", "))
        } else {
            let byIndex = Dictionary(grouping: parts, by: \.part.index)
            let missing = (0..<count).filter { byIndex[$0] == nil }
            if !missing.isEmpty {
                problems.append(
                    (missing.count == 1
                        ? "part \(missing[0]) of \(count) is missing"
                        : "parts \(missing.map(String.init).joined(separator: ", ")) of \(count) are missing"))
            }
            for (index, given) in byIndex.sorted(by: { $0.key < $1.key }) where given.count > 1 {
                problems.append("part \(index) is given \(given.count) times (\(given.map(\.directory).joined(separator: ", ")))")
            }
        }
        return problems.joined(separator: "; ") + "; merge takes every part 0 ..< \(count) once (given: "
            + parts.map { "\($0.directory) = \($0.part.index)/\($0.part.count)" }.joined(separator: ", ") + ")"
    }
}
