import ArgumentParser
import Shards

/// `dataprep verify OUT`: every checksum of a shard set, and of the validation set beside it.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every checksum of a shard set (and its validation/ set); name the shard and sample of any damage.",
        discussion: """
            A set with a validation set in SET/validation (what augment and merge write, and where \
            train looks for one) is checked with it: one line per set. Exit status 0 when everything \
            matches, 1 otherwise (the error names the place).
            """)

    @Argument(help: "A shard set: a folder holding manifest.json, or its URL (https://host/path/set, s3://bucket/prefix).")
    var directory: String

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    func run() throws {
        // The set itself first: a failure to reach it names its own manifest, not its validation set's.
        try verify(directory)
        let validation = RemoteSetOptions.validation(of: directory)
        if try remote.exists(validation) { try verify(validation) }
    }

    /// Checks every record of the set at `location` and prints its line.
    private func verify(_ location: String) throws {
        let set = try remote.open(location)
        try set.verify()
        print(
            "ok: \(location): \(Diagnostics.count(set.count, "sample")) in \(Diagnostics.count(set.manifest.shards.count, "shard")), "
                + "every checksum matches")
        if let summary = RemoteSetOptions.summary(of: set) { Diagnostics.write("\(location): \(summary)\n") }
    }
}
