import Datasets
import Foundation
import Shards
import Support

/// The shard set in the local folder `directory`, for the commands that read one (train,
/// evaluate, inspect, verify, merge; a URL goes through ``RemoteSetOptions/open(_:)``, which calls
/// this for a folder). A folder without `manifest.json` that holds images is a dataset, not a
/// shard set: the error then says how to make one with `pack` (for a split dataset, one `pack`
/// per split: the training set, and its `validation/` beside it, where `train` looks for it).
/// - Throws: ``ShardError`` as ``ShardSet/init(directory:)``, with the `pack` commands for a dataset.
func openShardSet(_ directory: String) throws -> ShardSet {
    do {
        return try ShardSet(directory: directory)
    } catch let error as ShardError where !FileIO.exists(directory + "/manifest.json") {
        guard let dataset = try? DatasetDirectory(reading: directory),
            dataset.splits.contains(where: { $0.classes.contains { !$0.images.isEmpty } })
        else { throw error }
        throw ShardError(error.code, error.message + "; " + packHint(for: dataset, as: directory), file: error.file, sample: error.sample)
    }
}

/// What to run to make shard sets of `dataset` (given on the command line as `directory`):
/// `its folders hold images: make one with `dataprep pack DIR --size WxH --out OUT``, or for a
/// split dataset one `pack` per split, `train` into `OUT` and `validation` into `OUT/validation`.
func packHint(for dataset: DatasetDirectory, as directory: String) -> String {
    guard dataset.isSplit else {
        return
            "its folders hold images: make one with `\(ShellWords.command(["dataprep", "pack", directory, "--size", "WxH", "--out", "OUT"]))`"
    }
    var base = directory
    while base.count > 1, base.hasSuffix("/") { base.removeLast() }
    let commands = dataset.splits.map { split -> String in
        let training = ["train", "training"].contains(split.name.lowercased())
        let out = training ? "OUT" : "OUT/" + (["val", "valid"].contains(split.name.lowercased()) ? "validation" : split.name)
        return "`" + ShellWords.command(["dataprep", "pack", base + "/" + split.name, "--size", "WxH", "--out", out]) + "`"
    }
    let listed = commands.count == 2 ? commands.joined(separator: " and ") : commands.joined(separator: ", ")
    return "it is a split dataset (\(dataset.splits.map(\.name).joined(separator: ", "))): make one shard set per split with "
        + listed + ", then `dataprep train --shards OUT` (it validates on OUT/validation)"
}
