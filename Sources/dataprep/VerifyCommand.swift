import ArgumentParser
import Shards

/// `dataprep verify OUT`: every checksum of a shard set.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every checksum of a shard set; name the shard and sample of any damage.",
        discussion: "Exit status 0 when everything matches, 1 otherwise (the error names the place).")

    @Argument(help: "A shard set: a folder holding manifest.json, or its URL (https://host/path/set, s3://bucket/prefix).")
    var directory: String

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    func run() throws {
        let set = try remote.open(directory)
        try set.verify()
        print("ok: \(set.count) samples in \(set.manifest.shards.count) shards, every checksum matches")
        if let summary = RemoteSetOptions.summary(of: set) { Diagnostics.write(summary + "\n") }
    }
}
