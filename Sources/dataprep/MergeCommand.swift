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
            Every record's checksum is checked on the way. The parts must have been made with the \
            same options and seed (the merged manifest's provenance keeps them). A set of another \
            split, spec or classes already in OUT is not replaced without --overwrite, and OUT is \
            replaced only once the merged set is complete.
            """)

    @Argument(
        help: "The merged set's folder, or s3://bucket/prefix (staged locally, shards uploaded as they are finished, the manifest last).")
    var out: String

    @Argument(help: "The part sets: folders, or their URLs (https://, s3://).")
    var parts: [String]

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    @OptionGroup var replacing: OverwriteOption

    func validate() throws {
        try ShardOutputOptions.checkDestination(out, option: "OUT")
        // A part that is no location (an empty path) is refused by name when it is opened.
        for part in parts
        where (try? SetLocation(part))?.isRemote == false
            && (FileIO.isInside(out, folder: part) || FileIO.isInside(part, folder: out))
        {
            throw ValidationError("OUT \(out) and the part \(part) overlap: merge into another folder")
        }
    }

    func run() throws {
        let destination = try SetLocation(out)
        let folder = ShardOutputOptions.folder(for: destination)
        let sets = try parts.map { try remote.open($0) }
        let validations = parts.map(RemoteSetOptions.validation(of:))
        let withValidation = try validations.allSatisfy { try remote.exists($0) }
        // OUT/validation is written too: both are locked, as augment locks them.
        var locks = [try FolderLock(folder)]
        if withValidation { locks.append(try FolderLock(folder + "/validation")) }
        defer { for lock in locks.reversed() { lock.release() } }
        // Refuse to replace a set of another shape before any record is read (the writers check again).
        let validationSets = try withValidation ? validations.map { try remote.open($0) } : []
        for (part, into) in [(sets.first, folder), (validationSets.first, folder + "/validation")] {
            guard let part else { continue }
            try replacing.checkReplacing(
                in: into, split: part.manifest.split, spec: part.manifest.spec, classNames: part.manifest.classNames,
                parameterNames: part.manifest.parameterNames)
        }
        let uploader = try SetUpload.start(destination, folder: folder, validation: withValidation)
        let upload = uploader.map { uploader in { @Sendable (path: String) in uploader.upload(path) } }
        let tool = "dataprep \(DataPrep.version)"
        let merged = try ShardMerge.stage(sets: sets, into: folder, tool: tool, replacing: replacing.replacing, shardFinished: upload)
        let validation =
            try withValidation
            ? ShardMerge.stage(
                sets: validationSets, into: folder + "/validation", tool: tool, replacing: replacing.replacing, shardFinished: upload)
            : nil
        // Both merged sets are complete: only now do they replace what OUT and OUT/validation held.
        try SetUpload.commit([merged, validation], after: uploader)
        print(
            "merged \(parts.count) parts: \(Diagnostics.count(merged.manifest.count, "sample")) in "
                + "\(Diagnostics.count(merged.manifest.shards.count, "shard")) in \(out)")
        if let validation {
            print(
                "merged \(parts.count) validation parts: \(Diagnostics.count(validation.manifest.count, "sample")) in "
                    + "\(Diagnostics.count(validation.manifest.shards.count, "shard")) in \(out)/validation")
        }
        try SetUpload.finish(uploader, manifests: [folder + "/validation/manifest.json", folder + "/manifest.json"])
    }
}
