public import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

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

    /// The largest `manifest.json` read, in bytes (a set of millions of images lists each source
    /// path once: about 100 MB).
    public static let maximumBytes = 1 << 30
    /// The most classes a set may have.
    public static let maximumClasses = 100_000
    /// The most float32 parameters a record may carry.
    public static let maximumParameters = 64
    /// The most items a part set's list may hold (so sums over parts never overflow).
    public static let maximumItems = Int(Int32.max)

    /// The manifest of the set in `directory`, validated (``validate(file:)``) once, here: every
    /// reader that opens a set through it refuses the same manifests with the same code.
    /// - Throws: ``ShardError`` `manifestMismatch` when it is missing (`not a shard set: no
    ///   manifest.json`, adding that an interrupted write leaves none when the folder holds `.dps`
    ///   shards), not a regular file, unreadable or inconsistent; `unsupportedVersion` for another
    ///   manifest version.
    public static func read(from directory: String) throws -> ShardManifest {
        let path = directory + "/manifest.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(at: path, limit: maximumBytes)
        } catch  where error.errno == ENOENT || error.errno == ENOTDIR {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            let interrupted = names.contains { $0.hasSuffix(".dps") || $0.hasSuffix(".dps.partial") }
            throw ShardError(
                .manifestMismatch,
                "not a shard set: no manifest.json"
                    + (interrupted ? " (it holds shards: an interrupted write leaves none; run the command again)" : ""),
                file: path)
        } catch {
            throw ShardError(.manifestMismatch, "cannot read the manifest: \(error.message)", file: path)
        }
        return try decode(Data(bytes), path: path)
    }

    /// The manifest in `data` (the bytes of a `manifest.json`, from a folder or a URL), validated
    /// (``validate(file:)``): every reader that opens a set, local or remote, goes through here.
    /// - Parameter path: where the bytes came from (a file or URL), named in errors.
    /// - Throws: ``ShardError`` `unsupportedVersion` for another manifest version,
    ///   `manifestMismatch` when it is not a manifest or is inconsistent.
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
        try manifest.validate(file: path)
        return manifest
    }

    /// Checks that every count, size, name and class list of the manifest is consistent, so that
    /// nothing a reader computes from it can divide by zero, leave its range or name a file
    /// outside the set's folder (docs/shard-format.md, "Validation"):
    /// - `format` is `dataprep-shards`; the split, every class name and every parameter name are
    ///   single plain names (Support's `PathComponent.validate`: no control character, no `/`);
    ///   there are 1 ... ``maximumClasses`` class names, none twice (names that differ only by
    ///   Unicode normalisation are the same name);
    /// - the image spec is within its limits and the record layout is the one it gives, with
    ///   0 ... ``maximumParameters`` parameters, as many names as parameters, and sources only when
    ///   records carry source ids;
    /// - `copies` ≥ 1, `imagesPerCopy` ≥ 0 and `count` = `copies · imagesPerCopy`;
    /// - every shard's `file` is a plain, visible `.dps` name in the set's folder, named once, with at least
    ///   one sample, `bytes` = 128 + count · (stride + 8), a 16-hex-digit digest, and the shards'
    ///   counts add up to `count`;
    /// - a `part` has 0 ≤ index < count, an item range inside its list of at most
    ///   ``maximumItems`` items, at least as many items as images per copy, and a positive shard size.
    /// - Parameter file: the manifest's path, named in errors.
    /// - Throws: ``ShardError`` `manifestMismatch` saying which rule is broken.
    public func validate(file: String? = nil) throws(ShardError) {
        func refuse(_ why: String) -> ShardError { ShardError(.manifestMismatch, why, file: file) }
        func plainName(_ name: String, _ what: String) throws(ShardError) {
            do throws(SupportError) { try PathComponent.validate(name, what: what) } catch {
                throw refuse("\(error.message): \(error.path)")
            }
        }
        guard format == "dataprep-shards" else {
            throw refuse("the format is '\(PathComponent.escaped(format))', not dataprep-shards")
        }
        try plainName(split, "the split name")
        guard (1...Self.maximumClasses).contains(classNames.count) else {
            throw refuse("\(classNames.count) class names; a set has 1...\(Self.maximumClasses)")
        }
        var seen = Set<String>()
        for name in classNames {
            try plainName(name, "a class name")
            guard seen.insert(name).inserted else { throw refuse("the class name \(name) is listed twice") }
        }
        do throws(ShardError) { try spec.validate() } catch { throw refuse("the image spec: \(error.message)") }
        guard (0...Self.maximumParameters).contains(layout.parameterCount),
            layout
                == RecordLayout(spec: spec, hasSource: layout.sourceOffset != nil, parameterCount: layout.parameterCount)
        else {
            throw refuse("the record layout does not match the image spec \(spec) (or has more than \(Self.maximumParameters) parameters)")
        }
        guard parameterNames.count == layout.parameterCount else {
            throw refuse("\(parameterNames.count) parameter names for \(layout.parameterCount) parameters per record")
        }
        for name in parameterNames { try plainName(name, "a parameter name") }
        guard layout.sourceOffset != nil || sources.isEmpty else {
            throw refuse("\(sources.count) sources, but the records carry no source ids")
        }
        guard copies >= 1, imagesPerCopy >= 0, count >= 0 else {
            throw refuse(
                "copies \(copies), imagesPerCopy \(imagesPerCopy), count \(count): copies must be at least 1, the others at least 0")
        }
        let (product, overflow) = copies.multipliedReportingOverflow(by: imagesPerCopy)
        guard !overflow, product == count else {
            throw refuse("count \(count) is not copies × imagesPerCopy (\(copies) × \(imagesPerCopy))")
        }
        var names = Set<String>(), total = 0
        for shard in shards {
            try plainName(shard.file, "a shard's file")
            // Bytes, as the file system (and the Python reader) compares them.
            guard shard.file.utf8.first != UInt8(ascii: "."), shard.file.utf8.suffix(4).elementsEqual(".dps".utf8),
                names.insert(shard.file).inserted
            else {
                throw refuse("the shard file \(shard.file) is not a visible .dps name, or is listed twice")
            }
            let (records, overflowed) = shard.count.multipliedReportingOverflow(by: layout.stride + 8)
            guard shard.count >= 1, shard.count <= count, !overflowed, shard.bytes == ShardHeader.size + records else {
                throw refuse(
                    "the shard \(shard.file) has count \(shard.count) and bytes \(shard.bytes); a shard holds at least one sample "
                        + "and 128 + count × \(layout.stride + 8) bytes")
            }
            guard shard.digest.utf8.count == 16, shard.digest.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw refuse("the shard \(shard.file) has the digest '\(PathComponent.escaped(shard.digest))', not 16 lowercase hex digits")
            }
            let (sum, past) = total.addingReportingOverflow(shard.count)
            guard !past, sum <= count else { throw refuse("the shards hold more samples than the manifest's count \(count)") }
            total = sum
        }
        guard total == count else { throw refuse("the shards hold \(total) samples in all, the manifest says \(count)") }
        if let part {
            guard part.count >= 1, (0..<part.count).contains(part.index), (0...Self.maximumItems).contains(part.totalItems),
                part.firstItem >= 0, part.items >= 0, part.firstItem <= part.totalItems, part.items <= part.totalItems - part.firstItem,
                imagesPerCopy <= part.items, part.shardBytes >= 1
            else {
                throw refuse(
                    "the part \(part.index)/\(part.count) (items \(part.firstItem) + \(part.items) of \(part.totalItems), "
                        + "shard size \(part.shardBytes)) is inconsistent with itself or with \(imagesPerCopy) images")
            }
        }
    }

    /// Pretty-printed JSON with sorted keys (the same manifest gives the same bytes).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
