import Foundation

/// dataprep's folder for what it keeps between runs (downloads, datasets, the shard cache):
/// `DATAPREP_HOME`, else `$XDG_CACHE_HOME/dataprep`, else `~/.cache/dataprep`.
public enum DataPrepHome {
    /// The folder, from `environment` (default: this process's).
    public static func path(environment: [String: String]? = nil) -> String {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let home = environment["DATAPREP_HOME"], !home.isEmpty { return home }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/dataprep" }
        return NSHomeDirectory() + "/.cache/dataprep"
    }
}
