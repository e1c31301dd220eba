import ArgumentParser
import Foundation
import RemoteShards
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

    @Argument(help: "The merged set's folder, or s3://bucket/prefix (staged locally, shards uploaded as they are finished, the manifest last).")
    var out: String

    @Argument(help: "The part sets: folders, or their URLs (https://, s3://).")
    var parts: [String]

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    func validate() throws {
        try ShardOutputOptions.checkDestination(out, option: "OUT")
        for part in parts where !SetLocation.isRemote(part) && (FileIO.isInside(out, folder: part) || FileIO.isInside(part, folder: out)) {
            throw ValidationError("OUT \(out) and the part \(part) overlap: merge into another folder")
        }
    }

    func run() throws {
        let destination = try SetLocation(out)
        let folder = ShardOutputOptions.folder(for: destination)
        let lock = try FolderLock(folder)
        defer { lock.release() }
        let provenance = ShardManifest.Provenance(
            dataset: parts.joined(separator: ", "), tool: "dataprep \(DataPrep.version)", options: ["command": "merge"], seed: nil)
        let sets = try parts.map { try remote.open($0) }
        let validations = parts.map { $0 + "/validation" }
        let withValidation = try validations.allSatisfy { try remote.exists($0) }
        let uploader = try SetUpload.start(destination, folder: folder, validation: withValidation)
        let upload = uploader.map { uploader in { @Sendable (path: String) in uploader.upload(path) } }
        let merged = try ShardMerge.merge(sets: sets, into: folder, provenance: provenance, shardFinished: upload)
        print(
            "merged \(parts.count) parts: \(Diagnostics.count(merged.count, "sample")) in \(Diagnostics.count(merged.shards.count, "shard")) in \(out)"
        )
        if withValidation {
            let validation = try ShardMerge.merge(
                sets: try validations.map { try remote.open($0) }, into: folder + "/validation", provenance: provenance, shardFinished: upload)
            print(
                "merged \(parts.count) validation parts: \(Diagnostics.count(validation.count, "sample")) in "
                    + "\(Diagnostics.count(validation.shards.count, "shard")) in \(out)/validation"
            )
        }
        try SetUpload.finish(uploader, manifests: [folder + "/validation/manifest.json", folder + "/manifest.json"])
    }
}
