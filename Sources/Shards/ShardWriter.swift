import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// Writes a shard set: samples in order into `<split>-00000.dps`, `<split>-00001.dps`, ... rotated by
/// sample count or bytes, then `manifest.json`.
///
/// The new set is written beside the set it replaces, in the hidden folder ``stagingName`` of
/// `directory`: each shard as `<name>.partial`, fsynced and renamed to its final name only when
/// complete, then the manifest. Only once the whole new set is there does ``StagedShardSet/commit()``
/// replace the old one (its manifest first, so it stops reading as complete, then its shards, then
/// the new shards and manifest are renamed in). A run that fails, or is killed, before the commit
/// leaves the old set as it was; creating a writer removes what a killed run left in the staging
/// folder. A set is replaced only where the ``Replacement`` policy allows it.
///
/// Not thread-safe: one thread appends (producers hand it samples in order).
public final class ShardWriter {
    /// When to start a new shard.
    public struct Rotation: Sendable, Hashable {
        /// Most samples per shard (nil: no limit).
        public var maxSamples: Int?
        /// Most bytes per shard (default 256 MiB); a shard always holds at least one sample.
        public var maxBytes: Int

        public init(maxSamples: Int? = nil, maxBytes: Int = 256 << 20) {
            self.maxSamples = maxSamples
            self.maxBytes = maxBytes
        }
    }

    /// Which complete set already in the folder a writer may replace.
    public enum Replacement: Sendable, Hashable {
        /// Only a set of the same split, image spec, class names and record parameters (a rerun);
        /// any other set is refused (``checkReplacing(in:with:)``).
        case sameShape
        /// Any set (`--overwrite`).
        case anything
    }

    /// The hidden folder of `directory` a new set is written into before it replaces the old one.
    public static let stagingName = ".dataprep-staging"

    public let directory: String
    public let split: String
    /// What every image is and how it was made; recorded in the manifest.
    public let spec: ImageSpec
    public let layout: RecordLayout
    /// Which set already in `directory` the new one may replace.
    public let replacing: Replacement
    private let rotation: Rotation
    /// Where the new set is written until it is committed.
    private let staging: String
    /// Called with each shard's path (in the staging folder) as soon as the shard is complete.
    private let shardFinished: (@Sendable (String) -> Void)?
    private var shards: [ShardManifest.Shard] = []
    private var current: OpenShard?
    private var record: UnsafeMutableRawBufferPointer
    private var total = 0
    /// Set once ``stage(classNames:parameterNames:copies:sources:provenance:part:)`` hands the
    /// staging folder to a ``StagedShardSet``.
    private var staged = false

    /// Prepares `directory` (created if needed) for a new set of `split` samples of `spec`. The
    /// set already there is not touched until the new one is committed.
    /// - Parameters:
    ///   - hasSource: whether records carry a source id (an index into the manifest's `sources`).
    ///   - parameterCount: float32 parameters per record (augmentation parameters; 0 when none).
    ///   - replacing: which set already in `directory` the new one may replace.
    ///   - shardFinished: called on the appending thread with the path of each shard as soon as it
    ///     is complete, in the staging folder (an uploader sends it on while the next one is
    ///     written; its name in the set is the file's name).
    /// - Throws: ``ShardError`` `invalidArgument` for a spec out of its limits; `fileSystem` when the
    ///   folder cannot be created or cleaned.
    public init(
        directory: String, split: String, spec: ImageSpec, hasSource: Bool = true, parameterCount: Int = 0,
        rotation: Rotation = Rotation(), replacing: Replacement = .sameShape,
        shardFinished: (@Sendable (String) -> Void)? = nil
    ) throws {
        try spec.validate()
        guard (0...ShardManifest.maximumParameters).contains(parameterCount) else {
            throw ShardError(
                .invalidArgument, "\(parameterCount) parameters per record; at most \(ShardManifest.maximumParameters) are supported")
        }
        do throws(SupportError) { try PathComponent.validate(split, what: "the split name") } catch {
            throw ShardError(.invalidArgument, error.message, file: error.path)
        }
        self.directory = directory
        self.split = split
        self.spec = spec
        let layout = RecordLayout(spec: spec, hasSource: hasSource, parameterCount: parameterCount)
        self.layout = layout
        self.rotation = rotation
        self.replacing = replacing
        self.shardFinished = shardFinished
        staging = directory + "/" + Self.stagingName
        record = .allocate(byteCount: layout.stride, alignment: 16)
        record.initializeMemory(as: UInt8.self, repeating: 0)  // padding stays zero: nothing writes it
        do {
            try FileIO.createFolder(directory)
            FileIO.removeTree(staging)  // what a killed run left
            // Partial shards of a version that wrote them beside the set.
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".dps.partial") {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
            try FileIO.createFolder(staging)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot prepare the output folder: \(error.localizedDescription)", file: directory)
        }
    }

    deinit {
        record.deallocate()
        current?.abandon()
        if !staged { FileIO.removeTree(staging) }
    }

    /// Samples appended so far.
    public var count: Int { total }

    /// Appends one sample.
    /// - Parameters:
    ///   - image: exactly `layout.imageBytes` bytes, row-major HWC.
    ///   - label: the class index.
    ///   - source: the source id (index into the manifest's `sources`), required when the layout
    ///     has one.
    ///   - parameters: exactly `layout.parameterCount` values.
    /// - Throws: ``ShardError`` `invalidArgument` for wrong sizes, `fileSystem` when writing fails.
    public func append(image: UnsafeRawBufferPointer, label: Int, source: UInt32? = nil, parameters: [Float] = []) throws {
        guard image.count == layout.imageBytes, parameters.count == layout.parameterCount,
            (source != nil) == (layout.sourceOffset != nil)
        else {
            throw ShardError(
                .invalidArgument,
                "sample has \(image.count) image bytes, \(parameters.count) parameters, "
                    + "source \(source.map(String.init) ?? "none"); the layout wants \(layout.imageBytes), "
                    + "\(layout.parameterCount), \(layout.sourceOffset == nil ? "none" : "one")")
        }
        record.copyMemory(from: image)
        record.storeBytes(of: Int32(label).littleEndian, toByteOffset: layout.labelOffset, as: Int32.self)
        if let offset = layout.sourceOffset, let source {
            record.storeBytes(of: source.littleEndian, toByteOffset: offset, as: UInt32.self)
        }
        if let offset = layout.parametersOffset {
            for (i, value) in parameters.enumerated() {
                record.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset + 4 * i, as: UInt32.self)
            }
        }
        if let open = current,
            open.count == rotation.maxSamples
                || (open.count > 0 && ShardHeader.size + (open.count + 1) * (layout.stride + 8) > rotation.maxBytes)
        {
            try close(open)
        }
        if current == nil {
            current = try OpenShard(path: staging + "/" + String(format: "%@-%05d.dps", split, shards.count))
        }
        try current!.append(UnsafeRawBufferPointer(record))
        total += 1
    }

    /// Closes the last shard, writes `manifest.json` and commits the set: the set in `directory`
    /// is replaced now (``stage(classNames:parameterNames:copies:sources:provenance:part:)``, then
    /// ``StagedShardSet/commit()``).
    /// - Returns: the manifest written.
    /// - Throws: as those two.
    @discardableResult
    public func finish(
        classNames: [String], parameterNames: [String] = [], copies: Int = 1, sources: [String] = [],
        provenance: ShardManifest.Provenance, part: ShardManifest.Part? = nil
    ) throws -> ShardManifest {
        let staged = try stage(
            classNames: classNames, parameterNames: parameterNames, copies: copies, sources: sources, provenance: provenance,
            part: part)
        try staged.commit()
        return staged.manifest
    }

    /// Closes the last shard and writes `manifest.json` beside the set in `directory`, which stays
    /// as it was until ``StagedShardSet/commit()`` replaces it (dropping the staged set instead
    /// leaves it untouched).
    /// - Parameters:
    ///   - copies: augmented copies per image; `count` must be a multiple of it.
    ///   - sources: source file paths by id (empty when records carry none).
    ///   - part: which part of a split preparation the set holds, if it is one.
    /// - Returns: the complete new set, not yet in place.
    /// - Throws: ``ShardError`` `invalidArgument` for inconsistent arguments, or (with
    ///   ``Replacement/sameShape``) when `directory` holds a set of another shape; `fileSystem`.
    public func stage(
        classNames: [String], parameterNames: [String] = [], copies: Int = 1, sources: [String] = [],
        provenance: ShardManifest.Provenance, part: ShardManifest.Part? = nil
    ) throws -> StagedShardSet {
        guard copies >= 1, total % copies == 0, parameterNames.count == layout.parameterCount else {
            throw ShardError(
                .invalidArgument,
                "\(total) samples do not make \(copies) equal copies, or "
                    + "\(parameterNames.count) parameter names for \(layout.parameterCount) parameters")
        }
        if let open = current { try close(open) }
        let manifest = ShardManifest(
            split: split, classNames: classNames, spec: spec, layout: layout, parameterNames: parameterNames,
            copies: copies, imagesPerCopy: total / copies, count: total, shards: shards,
            sources: sources, provenance: provenance, part: part)
        do throws(ShardError) { try manifest.validate() } catch {
            throw ShardError(.invalidArgument, "the set would not be readable: \(error.message)", file: directory)
        }
        if replacing == .sameShape { try Self.checkReplacing(in: directory, with: manifest) }
        let path = staging + "/manifest.json"
        do {
            try FileIO.writeAtomically(try manifest.encoded(), to: path)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch {
            throw ShardError(.fileSystem, "cannot encode the manifest: \(error)", file: path)
        }
        staged = true
        return StagedShardSet(directory: directory, staging: staging, manifest: manifest)
    }

    /// Refuses to replace the complete set in `directory` when it differs from `manifest` in split,
    /// image spec, class names or record parameters (what makes a rerun a rerun). A folder
    /// without a readable manifest holds no complete set and is not refused.
    /// - Throws: ``ShardError`` `invalidArgument` naming both sets (split, spec, classes) and what
    ///   differs.
    public static func checkReplacing(in directory: String, with manifest: ShardManifest) throws(ShardError) {
        try checkReplacing(
            in: directory, split: manifest.split, spec: manifest.spec, classNames: manifest.classNames,
            parameterNames: manifest.parameterNames)
    }

    /// ``checkReplacing(in:with:)`` for a set of `split`, `spec`, `classNames` and
    /// `parameterNames`, before it is written.
    public static func checkReplacing(
        in directory: String, split: String, spec: ImageSpec, classNames: [String], parameterNames: [String]
    ) throws(ShardError) {
        guard let existing = try? ShardManifest.read(from: directory) else { return }
        var differences: [String] = []
        if existing.split != split { differences.append("split") }
        if existing.spec != spec { differences.append("image spec") }
        if existing.classNames != classNames { differences.append("classes") }
        if existing.parameterNames != parameterNames { differences.append("record parameters") }
        guard !differences.isEmpty else { return }
        func describe(_ split: String, _ spec: ImageSpec, _ classNames: [String], _ parameters: [String]) -> String {
            "\(split) set \(spec), classes \(classNames.joined(separator: ", "))"
                + (parameters.isEmpty ? "" : ", \(parameters.count) record parameters")
        }
        throw ShardError(
            .invalidArgument,
            "already holds the \(describe(existing.split, existing.spec, existing.classNames, existing.parameterNames)); "
                + "this run writes the \(describe(split, spec, classNames, parameterNames)) "
                + "(they differ in \(differences.joined(separator: ", "))): give --overwrite to replace it, or another output folder",
            file: directory)
    }

    private func close(_ open: OpenShard) throws {
        let (name, bytes, digest) = try open.finish(layout: layout)
        shards.append(.init(file: name, count: open.count, bytes: bytes, digest: String(format: "%016llx", digest)))
        current = nil
        shardFinished?(open.path)
    }
}

// MARK: - A complete set waiting to replace the old one

/// A complete new shard set written beside the set it replaces (``ShardWriter/stage(classNames:parameterNames:copies:sources:provenance:part:)``).
/// ``commit()`` puts it in place; dropping it without a commit removes it and leaves the old set
/// as it was. Commit the staged sets of one command together, after all of them are complete.
public final class StagedShardSet {
    /// The folder the set replaces the set of.
    public let directory: String
    /// The new set's manifest.
    public let manifest: ShardManifest
    private let staging: String
    private var committed = false

    init(directory: String, staging: String, manifest: ShardManifest) {
        self.directory = directory
        self.staging = staging
        self.manifest = manifest
    }

    deinit { if !committed { FileIO.removeTree(staging) } }

    /// Replaces the set in `directory` with this one: the old manifest goes first (the old set no
    /// longer reads as complete), then the old set's shards and any of this split's, then the new
    /// shards are renamed in and the new manifest last, each rename made durable. Only a crash
    /// within these renames (milliseconds) can leave the folder without a complete set.
    /// - Throws: ``ShardError`` `fileSystem`.
    public func commit() throws {
        guard !committed else { return }
        do {
            let old = try? ShardManifest.read(from: directory)
            let manifestPath = directory + "/manifest.json"
            if unlink(manifestPath) == 0 { try FileIO.syncFolder(containing: manifestPath) }
            let oldFiles = Set(old?.shards.map(\.file) ?? [])
            for name in try FileManager.default.contentsOfDirectory(atPath: directory)
            where oldFiles.contains(name)
                || (name.hasPrefix(manifest.split + "-") && (name.hasSuffix(".dps") || name.hasSuffix(".dps.partial")))
            {
                unlink(directory + "/" + name)
            }
            for shard in manifest.shards {
                guard rename(staging + "/" + shard.file, directory + "/" + shard.file) == 0 else {
                    throw SupportError.system("cannot move the new shard \(shard.file) into place", path: directory)
                }
            }
            try FileIO.durableRename(staging + "/manifest.json", to: manifestPath)
            committed = true
            FileIO.removeTree(staging)
        } catch let error as SupportError {
            throw ShardError(error)
        } catch let error as ShardError {
            throw error
        } catch {
            throw ShardError(.fileSystem, "cannot replace the set: \(error.localizedDescription)", file: directory)
        }
    }
}

// MARK: - One shard being written

/// A `.partial` file receiving records through a reused 4 MiB buffer, with their checksums.
private final class OpenShard {
    let path: String
    private let file: OutputFile
    private var checksums: [UInt64] = []
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var written = 0  // bytes handed to the kernel so far

    var count: Int { checksums.count }

    init(path: String) throws {
        self.path = path
        file = try ShardError.wrapping { try OutputFile(creating: path + ".partial") }
        buffer = .allocate(byteCount: 4 << 20, alignment: 64)
        // The header is written last, once the digest is known; its place is held by zeros.
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffered = ShardHeader.size
    }

    deinit { buffer.deallocate() }

    func append(_ record: UnsafeRawBufferPointer) throws {
        checksums.append(XXHash64.hash(record))
        try write(record)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffered + bytes.count > buffer.count { try flush() }
        if bytes.count > buffer.count {
            try ShardError.wrapping { try file.write(bytes) }
            written += bytes.count
        } else {
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered...]).copyMemory(from: bytes)
            buffered += bytes.count
        }
    }

    private func flush() throws {
        try ShardError.wrapping { try file.write(UnsafeRawBufferPointer(rebasing: buffer[..<buffered])) }
        file.startWriteback(offset: written, length: buffered)
        written += buffered
        buffered = 0
    }

    /// Writes the checksum table and the header, fsyncs, and renames the file to its final name.
    func finish(layout: RecordLayout) throws -> (name: String, bytes: Int, digest: UInt64) {
        let table = checksums.map(\.littleEndian)
        let digest = table.withUnsafeBytes { XXHash64.hash($0) }
        try table.withUnsafeBytes { try write($0) }
        try flush()
        let header = ShardHeader(count: checksums.count, layout: layout, digest: digest)
        try ShardError.wrapping {
            try file.write(header.encoded(), at: 0)
            try file.sync()
            try file.close()
            try FileIO.durableRename(path + ".partial", to: path)
        }
        return ((path as NSString).lastPathComponent, header.fileSize, digest)
    }

    /// Removes the partial file after a failure (the writer was dropped before `finish`).
    func abandon() {
        try? file.close()
        unlink(path + ".partial")
    }
}
