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
            Every record's checksum is checked on the way.
            """)

    @Argument(help: "The merged set's folder.")
    var out: String

    @Argument(help: "The part sets' folders.")
    var parts: [String]

    func validate() throws {
        for part in parts where FileIO.isInside(out, folder: part) || FileIO.isInside(part, folder: out) {
            throw ValidationError("OUT \(out) and the part \(part) overlap: merge into another folder")
        }
    }

    func run() throws {
        let lock = try FolderLock(out)
        defer { lock.release() }
        let provenance = ShardManifest.Provenance(
            dataset: parts.joined(separator: ", "), tool: "dataprep \(DataPrep.version)", options: ["command": "merge"], seed: nil)
        let merged = try ShardMerge.merge(parts, into: out, provenance: provenance)
        print("merged \(parts.count) parts: \(merged.count) samples in \(merged.shards.count) shards in \(out)")
        let validations = parts.map { $0 + "/validation" }
        if validations.allSatisfy({ FileIO.exists($0 + "/manifest.json") }) {
            let validation = try ShardMerge.merge(validations, into: out + "/validation", provenance: provenance)
            print(
                "merged \(parts.count) validation parts: \(validation.count) samples in \(validation.shards.count) shards in \(out)/validation"
            )
        }
    }
}
