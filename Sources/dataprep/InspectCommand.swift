import ArgumentParser
import Foundation
import Shards

/// `dataprep inspect OUT`: what a shard set holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a shard set's classes, counts, sample shape, provenance and size on disk.")

    @Argument(help: "A shard set: a folder holding manifest.json, or its URL (https://host/path/set, s3://bucket/prefix).")
    var directory: String

    @OptionGroup(title: "Sets read from URLs")
    var remote: RemoteSetOptions

    func run() throws {
        let set = try remote.open(directory)
        let manifest = set.manifest
        let layout = manifest.layout
        // Counting a remote set's classes would fetch all of it: only a local set's are counted.
        // A label outside the class list is refused by the reader (manifestMismatch).
        var perClass: [Int]?
        if set.store is LocalShardStore {
            var counts = [Int](repeating: 0, count: manifest.classNames.count)
            for label in try set.labels(stride: manifest.copies) { counts[label] += 1 }
            perClass = counts
        }
        let bytes = manifest.shards.map(\.bytes).reduce(0, +)

        print("shard set   \(directory)")
        print("split       \(manifest.split)")
        print(
            "samples     \(manifest.count) (\(manifest.imagesPerCopy) images × \(manifest.copies) "
                + "cop\(manifest.copies == 1 ? "y" : "ies"))")
        print(
            "image       \(manifest.spec.sizeDescription), \(manifest.spec.channels) channels uint8 (HWC), resize \(manifest.spec.resize.rawValue), "
                + "rescale \(manifest.spec.rescale); record stride \(layout.stride) bytes")
        if !manifest.parameterNames.isEmpty { print("parameters  \(manifest.parameterNames.joined(separator: ", "))") }
        print(
            "shards      \(manifest.shards.count), " + String(format: "%.1f MB", Double(bytes) / 1e6)
                + (set.cacheStatistics == nil ? " on disk" : ""))
        print("classes     \(manifest.classNames.count)")
        let width = max(5, manifest.classNames.map(\.count).max() ?? 0)
        for (label, name) in manifest.classNames.enumerated() {
            print(
                "  \(label)".padding(toLength: 6, withPad: " ", startingAt: 0)
                    + name.padding(toLength: width, withPad: " ", startingAt: 0) + (perClass.map { "  \($0[label]) images" } ?? ""))
        }
        let provenance = manifest.provenance
        print("provenance  \(provenance.tool), \(provenance.created), from \(provenance.dataset)")
        print(
            "options     " + provenance.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                + (provenance.seed.map { " seed=\($0)" } ?? ""))
    }
}
