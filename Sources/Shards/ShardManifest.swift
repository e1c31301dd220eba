public import Foundation

/// `manifest.json`: what a shard set holds and where it came from. Written last, atomically, so a
/// set with a manifest is complete. Its keys are described in docs/shard-format.md.
public struct ShardManifest: Codable, Hashable, Sendable {
    /// One shard file of the set.
    public struct Shard: Codable, Hashable, Sendable {
        /// File name, relative to the manifest's folder.
        public var file: String
        /// Samples in it.
        public var count: Int
        /// File size in bytes.
        public var bytes: Int
        /// The shard digest (XXH64 of its checksum table) as 16 hex digits.
        public var digest: String
    }

    /// Where the samples came from and how they were made.
    public struct Provenance: Codable, Hashable, Sendable {
        /// The source dataset (a name or folder).
        public var dataset: String
        /// `dataprep <version>`.
        public var tool: String
        /// The options that produced the set, as given on the command line.
        public var options: [String: String]
        /// The random seed, when randomness was involved.
        public var seed: UInt64?
        /// ISO 8601 creation time.
        public var created: String

        public init(dataset: String, tool: String, options: [String: String], seed: UInt64?, created: Date = Date()) {
            self.dataset = dataset
            self.tool = tool
            self.options = options
            self.seed = seed
            self.created = ISO8601DateFormatter().string(from: created)
        }
    }

    /// Always `dataprep-shards`.
    public var format = "dataprep-shards"
    /// The manifest version: 2 since the image spec is recorded (the `.dps` files are unchanged).
    public var formatVersion = 2
    /// `train`, `validation`, ...
    public var split: String
    /// Class names in label order: label i is `classNames[i]`.
    public var classNames: [String]
    /// What every image is and how it was made from its file: the preprocessing a model trained on
    /// the set must get at prediction time.
    public var spec: ImageSpec
    /// The record layout shared by every shard.
    public var layout: RecordLayout
    /// Names of the float32 parameters in each record (e.g. `theta`, `tx`), empty when none.
    public var parameterNames: [String]
    /// Augmented copies per source image (1 when not augmented). Sample `i · copies + copy` is copy
    /// `copy` of image `i` (a writer appends an image's copies one after another); a reader uses
    /// copy `epoch mod copies` in epoch `epoch`.
    public var copies: Int
    /// Samples per copy.
    public var imagesPerCopy: Int
    /// Total samples over all shards (`copies · imagesPerCopy`).
    public var count: Int
    /// The shards in sample order.
    public var shards: [Shard]
    /// Source files by source id (paths relative to the source dataset), when records carry ids.
    public var sources: [String]
    public var provenance: Provenance
    /// Set when the set is one part of a preparation split across processes or machines
    /// (`--part I/N`); `dataprep merge` joins the parts into the set one process would write.
    public var part: Part?

    /// Which part of a split preparation a set holds.
    public struct Part: Codable, Hashable, Sendable {
        /// This part's number, 0 ..< `count`.
        public var index: Int
        /// How many parts the items were divided into.
        public var count: Int
        /// The first item (position in the sorted item list) this part prepared.
        public var firstItem: Int
        /// Items this part prepared (`firstItem ..< firstItem + items`).
        public var items: Int
        /// Items in the whole list.
        public var totalItems: Int
        /// The shard size limit of the run, which the merged set is rotated by.
        public var shardBytes: Int

        public init(index: Int, count: Int, firstItem: Int, items: Int, totalItems: Int, shardBytes: Int) {
            self.index = index
            self.count = count
            self.firstItem = firstItem
            self.items = items
            self.totalItems = totalItems
            self.shardBytes = shardBytes
        }

        /// The items of part `index` of `count` over `total` items: contiguous, in order, sizes
        /// differing by at most one (`⌊index·total/count⌋ ..< ⌊(index+1)·total/count⌋`).
        public static func range(index: Int, count: Int, total: Int) -> Range<Int> {
            (index * total / count)..<((index + 1) * total / count)
        }
    }

    /// The manifest of the set in `directory`.
    /// - Throws: ``ShardError`` `manifestMismatch` when it is missing (`not a shard set: no
    ///   manifest.json`, adding that an interrupted write leaves none when the folder holds `.dps`
    ///   shards) or unreadable.
    public static func read(from directory: String) throws -> ShardManifest {
        let path = directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            let interrupted = names.contains { $0.hasSuffix(".dps") || $0.hasSuffix(".dps.partial") }
            throw ShardError(
                .manifestMismatch,
                "not a shard set: no manifest.json"
                    + (interrupted ? " (it holds shards: an interrupted write leaves none; run the command again)" : ""),
                file: path)
        }
        return try decode(data, path: path)
    }

    /// The manifest in `data`, read from `path` (a file or URL, for messages), with its shard list
    /// checked: every file a plain `.dps` name (no folder, no `..`), counts not negative, sizes at
    /// least a header (each shard is checked against its entry when it is read).
    /// - Throws: ``ShardError`` `unsupportedVersion` or `manifestMismatch` naming `path`.
    public static func decode(_ data: Data, path: String) throws -> ShardManifest {
        struct Version: Decodable { var format: String?; var formatVersion: Int? }
        if let version = try? JSONDecoder().decode(Version.self, from: data), version.format == "dataprep-shards",
            let number = version.formatVersion, number != 2
        {
            throw ShardError(
                .unsupportedVersion,
                "manifest version \(number); this build reads version 2 "
                    + "(version 1 sets lack the image spec: pack or augment them again)", file: path)
        }
        let manifest: ShardManifest
        do {
            manifest = try JSONDecoder().decode(ShardManifest.self, from: data)
        } catch {
            throw ShardError(.manifestMismatch, "unreadable manifest: \(error)", file: path)
        }
        guard manifest.spec.width == manifest.layout.width, manifest.spec.height == manifest.layout.height,
            manifest.spec.channels == manifest.layout.channels
        else {
            throw ShardError(.manifestMismatch, "the image spec \(manifest.spec) does not match the record layout", file: path)
        }
        let layout = manifest.layout
        guard (try? manifest.spec.validate()) != nil,
            RecordLayout(
                height: layout.height, width: layout.width, channels: layout.channels, hasSource: layout.sourceOffset != nil,
                parameterCount: layout.parameterCount) == layout
        else {
            throw ShardError(.manifestMismatch, "the record layout is not the one its image spec gives", file: path)
        }
        for shard in manifest.shards {
            let name = shard.file
            guard name.hasSuffix(".dps"), !name.contains("/"), !name.hasPrefix("."), name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }),
                shard.count >= 0, shard.count <= Int(UInt32.max), shard.bytes >= ShardHeader.size
            else {
                throw ShardError(
                    .manifestMismatch, "the shard entry \(name) (\(shard.count) samples, \(shard.bytes) bytes) is not a valid shard of this layout",
                    file: path)
            }
        }
        return manifest
    }

    /// Pretty-printed JSON with sorted keys (the same manifest gives the same bytes).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
