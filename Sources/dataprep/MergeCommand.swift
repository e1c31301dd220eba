import ArgumentParser
import Foundation
import Shards
import Support

/// `dataprep merge OUT PART...`: the part sets of a preparation split across processes or
/// machines, joined into one set.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the part sets written by pack or augment --part I/N into one shard set.",
        discussion: """
            Each PART folder holds a set written with --part (any order; every part 0..N-1 once). \
            The records are appended in part order with the run's shard size, so OUT's shards are \
            byte-identical to those one process writes with the same options and seed. When every \
            part holds a validation/ part set (augment), they are merged into OUT/validation too. \
            Every record's checksum is checked on the way. The parts must have been made with the \
            same options and seed (the merged manifest's provenance keeps them). A set of another \
            split, spec or classes already in OUT is not replaced without --overwrite, and OUT is \
            replaced only once the merged set is complete.
            """)

    @Argument(help: "The merged set's folder.")
    var out: String

    @Argument(help: "The part sets' folders.")
    var parts: [String]

    @OptionGroup var replacing: OverwriteOption

    func validate() throws {
        for part in parts where FileIO.isInside(out, folder: part) || FileIO.isInside(part, folder: out) {
            throw ValidationError("OUT \(out) and the part \(part) overlap: merge into another folder")
        }
    }

    func run() throws {
        let validations = parts.map { $0 + "/validation" }
        let withValidation = validations.allSatisfy { FileIO.exists($0 + "/manifest.json") }
        var locks = [try FolderLock(out)]
        if withValidation { locks.append(try FolderLock(out + "/validation")) }
        defer { locks.reversed().forEach { $0.release() } }
        // Refuse to replace a set of another shape before any record is read (the writers check again).
        for (set, into) in [(parts.first, out), (withValidation ? validations.first : nil, out + "/validation")] {
            guard let set, let part = try? ShardManifest.read(from: set) else { continue }
            try replacing.checkReplacing(
                in: into, split: part.split, spec: part.spec, classNames: part.classNames, parameterNames: part.parameterNames)
        }
        let tool = "dataprep \(DataPrep.version)"
        let merged = try ShardMerge.stage(parts, into: out, tool: tool, replacing: replacing.replacing)
        let validation =
            try withValidation
            ? ShardMerge.stage(validations, into: out + "/validation", tool: tool, replacing: replacing.replacing) : nil
        try merged.commit()
        try validation?.commit()
        print("merged \(parts.count) parts: \(merged.manifest.count) samples in \(merged.manifest.shards.count) shards in \(out)")
        if let validation {
            print(
                "merged \(parts.count) validation parts: \(validation.manifest.count) samples in "
                    + "\(validation.manifest.shards.count) shards in \(out)/validation")
        }
    }
}
