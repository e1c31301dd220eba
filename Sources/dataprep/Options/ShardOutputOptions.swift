import ArgumentParser
import Preparation
import Shards
import Support

/// Where and how `pack` and `augment` write their shards.
struct ShardOutputOptions: ParsableArguments {
    @Option(help: "Output folder for the shard set (manifest.json and <split>-NNNNN.dps).")
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

    /// Refuses an output folder inside any of `sources` (or a source inside the output), before
    /// anything is written: a set written into its own source becomes a class of the next run.
    func checkSeparate(from sources: [String]) throws {
        for source in sources where FileIO.isInside(out, folder: source) || FileIO.isInside(source, folder: out) {
            throw ValidationError("--out \(out) and the source \(source) overlap: write the shards outside the source folder")
        }
    }

    /// Takes the lock of the output folder and of each of `subfolders` in it (creating them): a
    /// second writer of any of them fails at once. Release them in reverse order.
    func locks(subfolders: [String] = []) throws -> [FolderLock] {
        var held = [try FolderLock(out)]
        for name in subfolders { held.append(try FolderLock(out + "/" + name)) }
        return held
    }

    /// The library's settings for these options, replacing what `replacing` allows.
    func settings(replacing: ShardWriter.Replacement) throws -> PreparationSettings {
        PreparationSettings(
            threads: threads.count, onError: onError, shardBytes: shardSize.bytes, part: try part?.resolved(), replacing: replacing)
    }
}
