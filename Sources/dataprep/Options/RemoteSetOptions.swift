import ArgumentParser
import Foundation
import RemoteShards
import Shards
import Support

/// `--cache`, `--cache-limit`, `--cacert`: how the commands that read a set reach one given as a
/// URL (`https://host/path/set`, `http://...`, `s3://bucket/prefix`).
struct RemoteSetOptions: ParsableArguments {
    @Option(help: "Folder caching the shards of sets read from URLs (default: $DATAPREP_HOME/cache).")
    var cache: String?

    @Option(
        name: .customLong("cache-limit"),
        help: "Most bytes of shards the cache folder may hold, e.g. 20GB (default: no limit); at least the largest shard.")
    var cacheLimit: ByteCount?

    @Option(help: "A PEM file of certificate authorities to trust for https:// sets (default: the system's, or CURL_CA_BUNDLE).")
    var cacert: String?

    func validate() throws {
        if let cacert, !FileIO.exists(cacert) { throw ValidationError("--cacert \(cacert): no such file") }
    }

    /// The cache folder and limit.
    var cacheSettings: CacheSettings {
        CacheSettings(folder: cache ?? DataPrepHome.path() + "/cache", limit: cacheLimit?.bytes)
    }

    /// Timeouts, retries and certificate authorities.
    var remoteOptions: RemoteOptions { RemoteOptions(caBundle: cacert) }

    /// The set at `text`: a folder (see ``openShardSet(_:)``) or a URL, read through the cache.
    /// - Throws: ``RemoteSetError`` for a malformed URL or a failed transfer; ``ShardError`` as
    ///   ``ShardSet/init(directory:)``.
    func open(_ text: String) throws -> ShardSet {
        let location = try SetLocation(text)
        guard location.isRemote else { return try openShardSet(text) }
        return try RemoteSet.open(location, cache: cacheSettings, options: remoteOptions)
    }

    /// Where the validation set of the set at `location` (a folder or URL) is: `location/validation`,
    /// without the empty path segment a trailing `/` would leave (which a URL may not hold).
    static func validation(of location: String) -> String {
        var base = location
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        return base + "/validation"
    }

    /// Whether `text` (a folder or URL) holds a set's manifest.
    func exists(_ text: String) throws -> Bool { try RemoteSet.exists(try SetLocation(text), options: remoteOptions) }

    /// `cache: 40 shard reads, 36 hits (90%), 4 fetched (52.1 MB), 0 evicted, 0 retries, waited 0.4 s`
    /// for a remote set; nil for a local one.
    static func summary(of set: ShardSet) -> String? {
        guard let statistics = set.cacheStatistics else { return nil }
        return "cache: \(statistics.hits + statistics.misses) shard reads, \(statistics.hits) hits "
            + String(format: "(%.0f%%)", 100 * statistics.hitRate) + ", \(statistics.fetches) fetched "
            + String(format: "(%.1f MB)", Double(statistics.bytesFetched) / 1e6) + ", \(statistics.evictions) evicted, "
            + "\(statistics.retries) retries, " + String(format: "waited %.1f s", statistics.waitSeconds)
    }
}
