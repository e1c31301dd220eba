public import Datasets
import Dispatch
public import Shards
import Support

/// How ``SplitPreparation`` runs and writes.
public struct PreparationSettings: Sendable, Hashable {
    /// Worker threads (≥ 1); the output is the same whatever the number.
    public var threads: Int
    /// What to do with an image that cannot be decoded.
    public var onError: ErrorPolicy
    /// Largest shard in bytes (a shard always holds at least one sample).
    public var shardBytes: Int
    /// Prepare only part `index` of `count` of the items (`--part I/N`), for a preparation split
    /// across processes or machines; nil: all of them.
    public var part: Part?
    /// Which set already in the output folder the new one may replace (`--overwrite`: any).
    public var replacing: ShardWriter.Replacement

    /// One of `count` parts.
    public struct Part: Sendable, Hashable {
        /// 0 ..< `count`.
        public var index: Int
        public var count: Int

        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
    }

    public init(
        threads: Int, onError: ErrorPolicy = .skip, shardBytes: Int = 256 << 20, part: Part? = nil,
        replacing: ShardWriter.Replacement = .sameShape
    ) {
        self.threads = threads
        self.onError = onError
        self.shardBytes = shardBytes
        self.part = part
        self.replacing = replacing
    }
}

/// Prepares one split of a dataset folder into a shard set: the one library call behind `pack` and
/// `augment` (training and validation splits alike), so both list, label, write and record their
/// sets the same way.
public enum SplitPreparation {
    /// What a prepared split gave.
    public struct Outcome {
        /// The complete new set, written beside the set it replaces: ``commit()`` puts it in place.
        public var staged: StagedShardSet
        /// The new set's manifest.
        public var manifest: ShardManifest { staged.manifest }
        /// Images written, skipped and warned about.
        public var report: PreparationReport
        /// Wall-clock seconds of the preparation.
        public var seconds: Double

        /// Replaces the set in the output folder with the new one (``StagedShardSet/commit()``).
        /// - Throws: ``ShardError`` `fileSystem`.
        public func commit() throws { try staged.commit() }
    }

    /// The images of `split` in label order (class folders in the order of `classNames`, files
    /// sorted by path), each labelled with the position of its class folder's name in
    /// `classNames`: the one label rule. Classes missing from `classNames` are left out.
    public static func items(of split: DatasetDirectory.Split, classNames: [String]) -> [PreparationItem] {
        classNames.enumerated().flatMap { label, name -> [PreparationItem] in
            guard let folder = split.classes.first(where: { $0.name == name }) else { return [] }
            return folder.images.map { PreparationItem(path: $0, label: label) }
        }
    }

    /// Writes `split` of `dataset` as the shard set `splitName` of `directory`, every image made
    /// to `spec` by one of `preparers`' preparers, `copies` records each, and writes the manifest,
    /// beside the set `directory` holds: the outcome's ``Outcome/commit()`` replaces it (a failure
    /// before leaves it as it was).
    /// With `settings.part`, only that part's items (``ShardManifest/Part/range(index:count:total:)``)
    /// are written, as a part set that `ShardMerge` joins with the others (an empty part is allowed).
    /// - Parameters:
    ///   - classNames: label order (the dataset's class names, or a registry's official order).
    ///   - parameterNames: the names of the records' float32 parameters (empty: none).
    ///   - provenance: where the set came from, recorded in the manifest.
    ///   - progress: called on the calling thread with (images done, images in all).
    ///   - shardFinished: called with each shard's path as soon as it is complete (see ``ShardWriter``).
    ///   - preparers: called once per worker thread.
    /// - Throws: ``ShardError`` `invalidArgument` when the split holds no images, or none of them
    ///   could be decoded (nothing to learn from; no set is written), or `directory` holds a set of
    ///   another shape and `settings.replacing` does not allow replacing it, `fileSystem` when the
    ///   estimated output exceeds the free space of the target file system or a write fails; the
    ///   first ``Codecs/CodecError`` in input order under ``ErrorPolicy/fail``.
    public static func prepare(
        _ split: DatasetDirectory.Split, of dataset: DatasetDirectory, classNames: [String],
        as splitName: String, spec: ImageSpec, copies: Int = 1, parameterNames: [String] = [],
        into directory: String, settings: PreparationSettings, provenance: ShardManifest.Provenance,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
        shardFinished: (@Sendable (String) -> Void)? = nil,
        preparers: () -> any RecordPreparer
    ) throws -> Outcome {
        let started = DispatchTime.now().uptimeNanoseconds
        let items = items(of: split, classNames: classNames)
        let place = dataset.root + (split.name.isEmpty ? "" : "/" + split.name)
        guard !items.isEmpty else {
            let classes = split.classes.map(\.name).joined(separator: ", ")
            throw ShardError(
                .invalidArgument, "no images to prepare: the class folders (\(classes)) hold no files with image names", file: place)
        }
        let range = settings.part.map { ShardManifest.Part.range(index: $0.index, count: $0.count, total: items.count) } ?? 0..<items.count
        let layout = RecordLayout(spec: spec, hasSource: true, parameterCount: parameterNames.count)
        let (needed, overflow) = range.count.multipliedReportingOverflow(by: copies * (layout.stride + 8))
        if let free = FileIO.availableBytes(at: directory), overflow || needed > free {
            throw ShardError(
                .fileSystem,
                "not enough free space: \(range.count) images × \(copies) copies need about "
                    + "\(overflow ? "more than 9 EB" : "\(needed >> 20) MiB"), and \(free >> 20) MiB are free", file: directory)
        }
        let writer = try ShardWriter(
            directory: directory, split: splitName, spec: spec, hasSource: true,
            parameterCount: parameterNames.count, rotation: .init(maxBytes: settings.shardBytes), replacing: settings.replacing,
            shardFinished: shardFinished)
        let report = try ShardPreparation.run(
            items: items, range: range, copies: copies, writer: writer, threads: settings.threads,
            onError: settings.onError, progress: { progress?($0, range.count) },
            preparers: preparers)
        guard report.written > 0 || settings.part != nil else {  // a part may hold only bad images; the whole may not
            let first = report.skipped.first.map { " (the first: \($0))" } ?? ""
            throw ShardError(
                .invalidArgument, "none of the \(range.count) images could be decoded\(first): nothing to learn from", file: place)
        }
        let root = dataset.root.hasSuffix("/") ? dataset.root : dataset.root + "/"
        let staged = try writer.stage(
            classNames: classNames, parameterNames: parameterNames, copies: copies,
            sources: items.map { $0.path.hasPrefix(root) ? String($0.path.dropFirst(root.count)) : $0.path },
            provenance: provenance,
            part: settings.part.map {
                ShardManifest.Part(
                    index: $0.index, count: $0.count, firstItem: range.lowerBound, items: range.count, totalItems: items.count,
                    shardBytes: settings.shardBytes)
            })
        return Outcome(staged: staged, report: report, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }
}
