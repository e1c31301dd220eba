import ArgumentParser
import Foundation
import Preparation
import RemoteShards
import Shards
import Support

/// Where and how `pack` and `augment` write their shards.
struct ShardOutputOptions: ParsableArguments {
    @Option(
        help: """
            Output folder for the shard set (manifest.json and <split>-NNNNN.dps), or s3://bucket/prefix: \
            the set is written in a local staging folder, each shard uploaded as soon as it is finished, \
            the manifest last.
            """)
    var out: String

    @Option(name: .customLong("on-error"), help: "What to do with an image that cannot be decoded: fail or skip.")
    var onError: ErrorPolicy = .skip

    @Option(name: .customLong("shard-size"), help: "Largest shard, e.g. 256MB (at most 1 PiB).")
    var shardSize: ByteCount = ByteCount(argument: "256MiB")!

    @OptionGroup var threads: ThreadsOption

    @Option(
        help: ArgumentHelp(
            "Prepare only part I of N of the images (I/N, 0 ≤ I < N ≤ \(PartArgument.maximumParts)), for dataprep merge; "
                + "N alone takes I from JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, 'auto' also N from SLURM_ARRAY_TASK_COUNT.",
            valueName: "I/N"))
    var part: PartArgument?

    func validate() throws {
        try Self.checkDestination(out, option: "--out")
    }

    /// Refuses a destination that cannot be written: a malformed URL, or an http(s):// server.
    static func checkDestination(_ text: String, option: String) throws {
        let location: SetLocation
        do { location = try SetLocation(text) } catch { throw ValidationError("\(option): \(error.message)") }
        if case .web = location {
            throw ValidationError("\(option) \(text): sets are written to folders or s3://bucket/prefix; http(s):// servers are read-only")
        }
    }

    /// The set's destination: a folder, or an S3 prefix.
    var destination: SetLocation { (try? SetLocation(out)) ?? .folder(out) }

    /// Where the shards are written: `--out`, or, for an S3 destination, its local staging folder.
    var folder: String { Self.folder(for: destination) }

    /// The folder `destination`'s shards are written to (its staging folder when it is remote).
    static func folder(for destination: SetLocation) -> String {
        destination.isRemote ? SetUploader.stagingFolder(for: destination) : destination.description
    }

    /// Refuses an output folder inside any of `sources` (or a source inside the output), before
    /// anything is written: a set written into its own source becomes a class of the next run.
    func checkSeparate(from sources: [String]) throws {
        let out = folder
        for source in sources where FileIO.isInside(out, folder: source) || FileIO.isInside(source, folder: out) {
            throw ValidationError("--out \(out) and the source \(source) overlap: write the shards outside the source folder")
        }
    }

    /// Takes the lock of the output folder (the staging folder for S3) and of each of `subfolders`
    /// in it (creating them): a second writer of any of them fails at once. Release them in
    /// reverse order.
    func locks(subfolders: [String] = []) throws -> [FolderLock] {
        var held = [try FolderLock(folder)]
        for name in subfolders { held.append(try FolderLock(folder + "/" + name)) }
        return held
    }

    /// The library's settings for these options, replacing what `replacing` allows.
    func settings(replacing: ShardWriter.Replacement) throws -> PreparationSettings {
        PreparationSettings(
            threads: threads.count, onError: onError, shardBytes: shardSize.bytes, part: try part?.resolved(), replacing: replacing)
    }
}
