import Foundation
import RemoteShards
import Shards
import Support

/// The commands' side of writing a set to S3: the uploader for a destination (its old manifest
/// deleted first), and the end of the uploads with what they did printed.
enum SetUpload {
    /// The uploader for `destination`, whose shards are written in `folder`; nil for a local
    /// destination. `validation`: the set has a `validation/` set too (its manifest is deleted too).
    static func start(_ destination: SetLocation, folder: String, validation: Bool) throws -> SetUploader? {
        guard destination.isRemote else { return nil }
        let uploader = try SetUploader(destination: destination, staging: folder, options: RemoteOptions())
        try uploader.begin(validation: validation)
        return uploader
    }

    /// Commits `staged` (the sets a command wrote, beside what their folders held) once `uploader`
    /// has read every shard from the staging folder, where it was queued: the commit moves them.
    static func commit(_ staged: [StagedShardSet?], after uploader: SetUploader?) throws {
        uploader?.waitForShards()
        for set in staged { try set?.commit() }
    }

    /// Waits for `uploader`'s shards and uploads the manifests that exist among `manifests` (the
    /// last one last), prints what went up, and empties the staging folder.
    static func finish(_ uploader: SetUploader?, manifests: [String]) throws {
        guard let uploader else { return }
        let summary = try uploader.finish(manifests: manifests.filter(FileIO.exists))
        print(
            "uploaded \(summary.uploaded) shards (" + String(format: "%.1f MB", Double(summary.bytes) / 1e6) + ")"
                + (summary.skipped > 0 ? ", \(summary.skipped) already there," : "") + " and the manifest to \(uploader.destination)")
        if uploader.staging.hasPrefix(DataPrepHome.path() + "/staging/") { FileIO.removeTree(uploader.staging) }
    }
}
