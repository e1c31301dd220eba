import Datasets
import Foundation
import Shards
import Support

/// The shard set in the local folder `directory`, for the commands that read one (train,
/// evaluate, inspect, verify, merge; a URL goes through ``RemoteSetOptions/open(_:)``, which calls
/// this for a folder). A folder without `manifest.json` whose subfolders hold images is a dataset, not a
/// shard set: the error then says how to make one with `pack`.
/// - Throws: ``ShardError`` as ``ShardSet/init(directory:)``, with the `pack` hint for a dataset.
func openShardSet(_ directory: String) throws -> ShardSet {
    do {
        return try ShardSet(directory: directory)
    } catch let error as ShardError where !FileIO.exists(directory + "/manifest.json") {
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let holdsImages = folders.contains { folder in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + folder)) ?? []
            return files.contains(where: DatasetDirectory.isImageName)
        }
        guard holdsImages else { throw error }
        throw ShardError(
            error.code, error.message + "; its folders hold images: make one with `dataprep pack \(directory) --size WxH --out OUT`",
            file: error.file, sample: error.sample)
    }
}
