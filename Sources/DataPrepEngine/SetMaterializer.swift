// `dp_set_materialize`: a set given by URL, fetched whole into the shard cache, so a reader that
// maps files (the Python package's numpy ShardSet) can read it.
import Foundation
import RemoteShards
import Shards

/// Makes every shard of a set resident in the cache and says where each one is.
enum SetMaterializer {
    /// What `dp_set_materialize` writes: the manifest as the server has it, and the cached file of
    /// each shard in manifest order.
    private struct Materialized: Encodable {
        var manifest: ShardManifest
        var files: [String]
    }

    /// Fetches (or finds, verified, in the cache) every shard of the set `json` names.
    /// - Returns: the JSON object `{"manifest": {...}, "files": [...]}`.
    /// - Throws: ``EngineError`` with the option, set or transfer at fault.
    static func materialize(json: String) throws(EngineError) -> String {
        let (path, remote) = try LoaderConfiguration.materializing(json: json)
        let set = try remote.open(path)
        var files: [String] = []
        do {
            for shard in set.manifest.shards.indices {
                // Pinned once to fetch and verify; the cached file stays (nothing else is read).
                _ = try set.store.pin(shard)
                set.store.release(shard)
                files.append(
                    (set.store as? RemoteShardStore)?.cachedFile(of: shard) ?? set.directory + "/" + set.manifest.shards[shard].file)
            }
        } catch {
            throw EngineError(error)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(Materialized(manifest: set.manifest, files: files)) else {
            throw EngineError(code: "internal", message: "the manifest could not be encoded")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
