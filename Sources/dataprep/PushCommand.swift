import ArgumentParser
import Foundation
import RemoteShards
import Shards
import Support

/// `dataprep push SET URL`: a local shard set copied to an S3 prefix, the manifest last.
struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a local shard set (and its validation/ set) to s3://bucket/prefix, the manifest last.",
        discussion: """
            The destination's manifest is deleted first, then every shard is uploaded (multipart \
            above 64 MiB), then the manifests, so a reader never finds a manifest whose shards are \
            not all there. A shard already at the destination with the same size and digest is \
            skipped: a failed push is resumed by running it again. Credentials, region and endpoint \
            come from the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
            AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL, ~/.aws/credentials).
            """)

    @Argument(help: "A local shard-set folder (holding manifest.json).")
    var set: String

    @Argument(help: "The destination, s3://bucket/prefix.")
    var url: String

    func validate() throws {
        guard SetLocation.isRemote(url) else { throw ValidationError("URL must be s3://bucket/prefix, got \(url)") }
        try ShardOutputOptions.checkDestination(url, option: "URL")
    }

    func run() throws {
        let destination = try SetLocation(url)
        let sets = try [set, set + "/validation"].filter { $0 == set || FileIO.exists($0 + "/manifest.json") }.map {
            try openShardSet($0)
        }
        guard let uploader = try SetUpload.start(destination, folder: set, validation: sets.count > 1) else { return }
        for shardSet in sets {
            for shard in shardSet.manifest.shards { uploader.upload(shardSet.directory + "/" + shard.file) }
        }
        try SetUpload.finish(uploader, manifests: sets.reversed().map { $0.directory + "/manifest.json" })
    }
}
