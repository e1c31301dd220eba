import Foundation
public import Shards
import Support

/// Opens shard sets wherever they are: a local folder as ``ShardSet/init(directory:)`` does, a web
/// folder or an S3 prefix through a ``RemoteShardStore`` and its cache.
public enum RemoteSet {
    /// The largest manifest read from a server (a set of a million shards is far below it).
    public static let manifestLimit = 256 << 20

    /// The set at `location`: its manifest is fetched (once: the run reads the version it names),
    /// checked, and its shards come through the cache as they are read.
    /// - Throws: ``ShardError`` `manifestMismatch` for a location without a manifest ("not a shard
    ///   set") or an invalid one; ``RemoteSetError`` for the transfer (`httpStatus` for 403 and
    ///   other statuses, with what the server said, `transferFailed` for DNS, TLS, timeouts), for
    ///   a cache limit below the largest shard, or S3 credentials that cannot be read.
    public static func open(_ location: SetLocation, cache: CacheSettings, options: RemoteOptions) throws -> ShardSet {
        guard location.isRemote else { return try ShardSet(directory: location.description) }
        let client = try ObjectClient(location: location, options: options)
        guard let (bytes, _) = try client.fetch("manifest.json", limit: manifestLimit) else {
            throw ShardError(
                .manifestMismatch,
                "not a shard set: the server has no manifest.json there (a set whose upload did not finish has none: run the upload again)",
                file: client.url(of: "manifest.json"))
        }
        let manifest = try ShardManifest.decode(Data(bytes), path: client.url(of: "manifest.json"))
        for shard in manifest.shards {
            // A name goes into every shard's URL: it must name a file inside the set on any server.
            do throws(RemoteSetError) { try SetLocation.checkKey(shard.file, in: shard.file) } catch {
                throw ShardError(.manifestMismatch, "shard '\(shard.file)': \(error.message)", file: client.url(of: "manifest.json"))
            }
        }
        let store = try RemoteShardStore(client: client, manifest: manifest, cache: cache)
        return try ShardSet(manifest: manifest, location: location.description, store: store)
    }

    /// Whether `location` holds a set's manifest (a local file, or an object the server serves).
    /// S3 answers 403 rather than 404 for a missing key to a reader who may not list the bucket:
    /// for an S3 location a 403 counts as not there (wrong credentials fail the set's own open).
    /// - Throws: ``RemoteSetError`` when the server cannot be asked (other than 404).
    public static func exists(_ location: SetLocation, options: RemoteOptions) throws -> Bool {
        guard location.isRemote else { return FileIO.exists(location.description + "/manifest.json") }
        do {
            return try ObjectClient(location: location, options: options).head("manifest.json") != nil
        } catch let error as RemoteSetError where error.code == .httpStatus && error.message.hasPrefix("HTTP 403") {
            if case .s3 = location { return false }
            throw error
        }
    }
}

extension ShardSet {
    /// The shard-cache statistics of a remote set, nil for a local one.
    public var cacheStatistics: ShardStoreStatistics? {
        store is RemoteShardStore ? store.statistics : nil
    }
}
