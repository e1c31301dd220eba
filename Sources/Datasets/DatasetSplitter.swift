// The seeded, stratified train/validation/test split of a class-folder dataset, materialised as
// folders (`OUT/train/<class>/...`) with a manifest. Compared with Keras's
// `image_dataset_from_directory(validation_split=, seed=)`, which shuffles all paths together with
// NumPy's generator and keeps the split in memory, this split is stratified per class, keeps
// byte-identical files in one split, and is written to disk, so it is made once and then audited.
import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Splitter

/// The folders a split writes.
public enum SplitName: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// `train`: what the model learns from.
    case train
    /// `validation`: what is measured during training.
    case validation
    /// `test`: held out until the end (written only when its fraction is above 0).
    case test

    public var description: String { rawValue }
}

/// Decides, for an unsplit dataset (`DIR/<class>/...`), which images go to training, validation
/// and test, stratified per class and reproducible from a seed.
///
/// For each class, its images (sorted by path) are shuffled by Fisher–Yates with a ``SplitMix64``
/// seeded with `seed ^ FNV-1a-64(UTF-8 class name)`; the first `round(n · validation)` go to
/// validation, the next `round(n · test)` to test, the rest to training (`round` takes halves away
/// from zero). The shuffle and its bounded random draws are spelled out here rather than taken from
/// the standard library, whose algorithms are not promised to stay the same, so a seed gives the
/// same split on every machine and Swift version.
///
/// Byte-identical files (same sha256) never end up in two splits: each group of duplicates goes
/// where its first member goes, taking classes in name order and each class's images in shuffled
/// order. Such groups are reported in ``SplitPlan/duplicates``, including groups whose files sit in
/// different classes.
public struct DatasetSplitter: Sendable {
    /// The fraction of each class that goes to validation, in `0 ..< 1`.
    public let validationFraction: Double
    /// The fraction of each class that goes to test, in `0 ..< 1`; with 0 there is no test split.
    public let testFraction: Double
    /// The seed of every class's shuffle.
    public let seed: UInt64
    /// Hashing threads (at least 1), or `nil` for all active cores; the plan does not depend on it.
    public var threads: Int?

    /// - Throws: ``DatasetError`` `badLayout` unless both fractions are finite, at least 0, and add
    ///   up to less than 1.
    public init(validation: Double, test: Double = 0, seed: UInt64, threads: Int? = nil) throws {
        guard validation.isFinite, test.isFinite, validation >= 0, test >= 0, validation + test < 1 else {
            throw DatasetError(
                .badLayout,
                "fractions must be at least 0 and add up to less than 1 (validation \(validation), test \(test))")
        }
        validationFraction = validation
        testFraction = test
        self.seed = seed
        self.threads = threads
    }

    /// Reads every image once (for its sha256) and decides where each one goes. Writes nothing.
    /// Files under the class folders whose names are not images are listed in
    /// ``SplitPlan/ignoredFiles`` and not split.
    /// - Parameter dataset: an unsplit dataset, from ``DatasetDirectory/init(reading:)``.
    /// - Throws: ``DatasetError`` `badLayout` when the dataset is already split; `fileSystem` when
    ///   a file cannot be read.
    public func plan(_ dataset: DatasetDirectory) throws -> SplitPlan {
        guard !dataset.isSplit, let classes = dataset.splits.first?.classes else {
            throw DatasetError(
                .badLayout, "already split into \(dataset.splits.map(\.name).joined(separator: ", "))",
                path: dataset.root)
        }
        let images = classes.flatMap(\.images)
        let digests = try ParallelWork.map(
            count: images.count,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
        ) { _, index in
            try SHA256Digest.ofFile(at: images[index])
        }

        var files: [SplitPlan.File] = []
        var groupSplit: [String: SplitName] = [:]  // sha256 → the split of the group's first member
        var firstDigest = 0  // where this class's digests start in `digests`
        for folder in classes {  // sorted by name
            let prefix = dataset.root + "/" + folder.name + "/"
            for (index, positional) in assign(count: folder.images.count, className: folder.name) {
                let sha256 = digests[firstDigest + index]
                let split = groupSplit[sha256] ?? positional
                groupSplit[sha256] = split
                let inClass = String(folder.images[index].dropFirst(prefix.count))
                files.append(
                    SplitPlan.File(
                        path: "\(split)/\(folder.name)/\(inClass)", split: split,
                        className: folder.name, sha256: sha256,
                        source: folder.name + "/" + inClass))
            }
            firstDigest += folder.images.count
        }
        let rootPrefix = dataset.root + "/"
        return SplitPlan(
            seed: seed, validationFraction: validationFraction, testFraction: testFraction,
            sourceRoot: dataset.root, classNames: classes.map(\.name),
            files: files.sorted { $0.path < $1.path },
            ignoredFiles: classes.flatMap(\.otherFiles).map { String($0.dropFirst(rootPrefix.count)) },
            classOrder: dataset.classOrder)
    }

    /// Plans the split of `dataset` and writes it to `output`: ``plan(_:)`` then
    /// ``SplitPlan/write(to:)``, with `output` checked first so that a bad one fails before any
    /// file is read.
    /// - Throws: ``DatasetError``, as ``plan(_:)`` and ``SplitPlan/write(to:)``.
    public func split(
        _ dataset: DatasetDirectory,
        into output: String
    ) throws -> (plan: SplitPlan, placement: SplitPlan.Placement) {
        _ = try SplitPlan.checkOutput(output, sourceRoot: dataset.root)
        let planned = try plan(dataset)
        return (planned, try planned.write(to: output))
    }

    // MARK: Assignment

    /// The indices `0 ..< count` of a class's images (sorted by path) in shuffled order, each with
    /// the split its position gives.
    func assign(count n: Int, className: String) -> [(index: Int, split: SplitName)] {
        var order = Array(0..<n)
        var generator = SplitMix64(seed: seed ^ FNV1a64.hash(className))
        Self.shuffle(&order, using: &generator)
        let validation = min(n, Int((Double(n) * validationFraction).rounded()))
        let test = min(n - validation, Int((Double(n) * testFraction).rounded()))
        return order.enumerated().map { position, index in
            (index, position < validation ? .validation : position < validation + test ? .test : .train)
        }
    }

    /// Fisher–Yates, from the last element down, each swap partner drawn by ``uniform(below:using:)``.
    static func shuffle<T>(_ elements: inout [T], using generator: inout SplitMix64) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            elements.swapAt(i, Int(uniform(below: UInt64(i + 1), using: &generator)))
        }
    }

    /// A uniform integer in `0 ..< bound` (bound > 0), by Lemire's multiply-and-reject method.
    static func uniform(below bound: UInt64, using generator: inout SplitMix64) -> UInt64 {
        var (high, low) = generator.next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold { (high, low) = generator.next().multipliedFullWidth(by: bound) }
        }
        return high
    }
}

// MARK: - Plan

/// Where every image of a dataset goes: what ``DatasetSplitter/plan(_:)`` decides and
/// ``write(to:)`` carries out. Its manifest (``manifestJSON()``) is deterministic: the same images,
/// seed and fractions give the same bytes.
public struct SplitPlan: Sendable, Hashable {
    /// One image and where it goes.
    public struct File: Sendable, Hashable, Codable {
        /// Where it goes, relative to the output folder: `<split>/<class>/<path under the class folder>`.
        public var path: String
        /// The split it goes to.
        public var split: SplitName
        /// Its class: the name of the class folder it is in.
        public var className: String
        /// The sha256 of its bytes, lowercase hex.
        public var sha256: String
        /// Where it comes from, relative to ``SplitPlan/sourceRoot``: `<class>/<path under the class folder>`.
        public var source: String

        enum CodingKeys: String, CodingKey {
            case path, split, className = "class", sha256, source
        }
    }

    /// Byte-identical images, all placed in one split.
    public struct DuplicateGroup: Sendable, Hashable, Codable {
        /// The bytes' sha256, lowercase hex.
        public var sha256: String
        /// Where the images go (``File/path``), sorted.
        public var paths: [String]
        /// The classes they come from, sorted; more than one is probably a labelling mistake.
        public var classNames: [String]

        /// Whether the identical images were filed under different classes.
        public var spansClasses: Bool { classNames.count > 1 }

        enum CodingKeys: String, CodingKey {
            case sha256, paths, classNames = "classes"
        }
    }

    /// The splitter's seed.
    public var seed: UInt64
    /// The splitter's validation fraction.
    public var validationFraction: Double
    /// The splitter's test fraction.
    public var testFraction: Double
    /// The dataset folder, as an absolute path.
    public var sourceRoot: String
    /// The class names, sorted; each split gets a folder for each, even an empty one.
    public var classNames: [String]
    /// Every image, sorted by ``File/path``.
    public var files: [File]
    /// Files under the class folders that are not images by name (paths relative to the source
    /// root), left out of the split.
    public var ignoredFiles: [String]
    /// The source's class order (``DatasetDirectory/classOrder``), written into the
    /// output as its class order file so that the label order survives the split.
    public var classOrder: [String]?

    /// The split folders written: train, validation, and test when its fraction is above 0.
    public var splits: [SplitName] { testFraction > 0 ? [.train, .validation, .test] : [.train, .validation] }

    /// The groups of byte-identical images, sorted by their first path.
    public var duplicates: [DuplicateGroup] {
        Dictionary(grouping: files, by: \.sha256).values.filter { $0.count > 1 }
            .map { group in
                DuplicateGroup(
                    sha256: group[0].sha256, paths: group.map(\.path).sorted(),
                    classNames: Array(Set(group.map(\.className))).sorted())
            }
            .sorted { $0.paths[0] < $1.paths[0] }
    }

    /// The number of images going to `split` from class `className`.
    public func count(split: SplitName, className: String) -> Int {
        files.reduce(0) { $0 + ($1.split == split && $1.className == className ? 1 : 0) }
    }

    /// The manifest `split.json`: format version, seed, fractions, class names, every file and
    /// the duplicate groups, pretty-printed with sorted keys. Paths are relative (to the output
    /// and the dataset folder), so the same dataset split with the same seed and fractions gives
    /// the same bytes wherever the folders are.
    /// - Throws: `EncodingError` only if a fraction is not finite, which the splitter rules out.
    public func manifestJSON() throws -> [UInt8] {
        struct Fractions: Codable { var validation, test: Double }
        struct Manifest: Codable {
            var version = 1
            var seed: UInt64
            var fractions: Fractions
            var classes: [String]
            var files: [File]
            var duplicates: [DuplicateGroup]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let manifest = Manifest(
            seed: seed, fractions: Fractions(validation: validationFraction, test: testFraction),
            classes: classNames, files: files, duplicates: duplicates)
        return Array(try encoder.encode(manifest)) + [UInt8(ascii: "\n")]
    }
}

// MARK: - Writing the split

extension SplitPlan {
    /// How the images were placed.
    public struct Placement: Sendable, Hashable {
        /// Images placed as hard links to the source files (no data copied).
        public var hardLinks: Int
        /// Images copied, because a hard link was not possible (another file system, or links
        /// not allowed there).
        public var copies: Int
    }

    /// The name of the manifest written into the output folder.
    public static let manifestName = "split.json"

    /// Writes the split to `output`: `<split>/<class>/...` folders, the manifest
    /// ``manifestName``, and the class order file when the source has one. Each image is a hard link to its source where possible, else a copy.
    ///
    /// Everything is written into a hidden temporary folder next to `output`, flushed to disk,
    /// and renamed to `output` at the end, so an interrupted split never leaves a partial
    /// `output`; on failure the temporary folder is removed. A hard link is the same file as its
    /// source: replace files rather than edit them in place, in either folder.
    /// - Parameter output: a path that does not exist yet, outside the source folder; its parent
    ///   is created when missing.
    /// - Throws: ``DatasetError`` `badLayout` when `output` exists or lies inside the source folder;
    ///   `fileSystem` when a folder, link or copy cannot be made.
    @discardableResult
    public func write(to output: String) throws -> Placement {
        let output = try Self.checkOutput(output, sourceRoot: sourceRoot)
        let parent = (output as NSString).deletingLastPathComponent
        try DatasetError.converting { try FileIO.createFolder(parent) }
        let temporary = parent + "/." + (output as NSString).lastPathComponent + ".partial-\(getpid())"
        FileIO.removeTree(temporary)
        do {
            let placement = try place(into: temporary)
            let manifest = try manifestJSON()
            try DatasetError.converting { try FileIO.writeAtomically(manifest, to: temporary + "/" + Self.manifestName) }
            if let classOrder {
                try DatasetError.converting { try DatasetDirectory.writeClassOrder(classOrder, into: temporary) }
            }
            // One sync(2) flushes every link and copy (on Linux it waits for the writes), instead
            // of an fsync per file; Glibc's Swift module does not export syncfs(2).
            sync()
            guard !Self.exists(output) else {
                throw DatasetError(.badLayout, "appeared while the split was written; nothing was changed", path: output)
            }
            try DatasetError.converting { try FileIO.durableRename(temporary, to: output) }
            return placement
        } catch {
            FileIO.removeTree(temporary)
            throw error
        }
    }

    /// Creates every split/class folder and places every image under `folder`.
    private func place(into folder: String) throws -> Placement {
        var created: Set<String> = []
        for split in splits {
            for name in classNames {
                try DatasetError.converting { try FileIO.createFolder(folder + "/\(split)/" + name) }
                created.insert("\(split)/" + name)
            }
        }
        var placement = Placement(hardLinks: 0, copies: 0)
        for file in files {
            let subfolder = (file.path as NSString).deletingLastPathComponent
            if !created.contains(subfolder) {
                try DatasetError.converting { try FileIO.createFolder(folder + "/" + subfolder) }
                created.insert(subfolder)
            }
            if try Self.linkOrCopy(sourceRoot + "/" + file.source, to: folder + "/" + file.path) {
                placement.hardLinks += 1
            } else {
                placement.copies += 1
            }
        }
        return placement
    }

    /// `output` as an absolute path, once checked to be new and outside `sourceRoot`.
    /// - Throws: ``DatasetError`` `badLayout`.
    static func checkOutput(_ output: String, sourceRoot: String) throws -> String {
        let output = URL(fileURLWithPath: output).standardizedFileURL.path
        guard !exists(output) else {
            throw DatasetError(.badLayout, "already exists; choose a new folder or remove it first", path: output)
        }
        guard !(output + "/").hasPrefix(sourceRoot + "/") else {
            throw DatasetError(.badLayout, "the output folder must not be inside the dataset \(sourceRoot)", path: output)
        }
        return output
    }

    private static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }
}

// MARK: - Links and copies

extension SplitPlan {
    /// Makes `destination` a hard link to `source` (following `source` if it is a symbolic link),
    /// or, where the file system cannot link it there, a copy.
    /// - Returns: `true` for a hard link, `false` for a copy.
    /// - Throws: ``DatasetError`` `fileSystem`.
    private static func linkOrCopy(_ source: String, to destination: String) throws -> Bool {
        if linkat(AT_FDCWD, source, AT_FDCWD, destination, AT_SYMLINK_FOLLOW) == 0 { return true }
        // Another file system; links not supported or not allowed (protected_hardlinks); too many.
        guard [EXDEV, EPERM, EMLINK, ENOTSUP, EOPNOTSUPP].contains(errno) else {
            throw DatasetError(.system("cannot link \(source)", path: destination))
        }
        try copy(source, to: destination)
        return false
    }

    /// Copies a file's bytes into a new file (never replacing one), 1 MiB at a time.
    /// - Throws: ``DatasetError`` `fileSystem`.
    private static func copy(_ source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DatasetError(.system("cannot open", path: source)) }
        defer { close(input) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { chunk.deallocate() }
        try DatasetError.converting {
            let output = try OutputFile(creating: destination, options: .exclusive)
            var offset = 0
            while true {
                let n = try FileIO.readAll(from: input, at: offset, into: chunk, path: source)
                try output.write(UnsafeRawBufferPointer(rebasing: chunk[..<n]))
                offset += n
                if n < chunk.count { break }  // the end of the file
            }
            try output.close()
        }
    }
}
