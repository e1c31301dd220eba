import Codecs
import Foundation
import Support

/// The preflight scan of a dataset: reads and decodes every image once, in parallel, and reports
/// what training would meet (see ``DatasetScanReport``). It never prints and never changes files.
///
/// Each worker thread owns one ``ImageDecoder`` and takes the next file from a shared index
/// (Support's `ParallelWork`). A JPEG is decoded at the 1/8 DCT scale: the entropy-coded data is
/// still read to the end, so truncation and corruption are found at a fraction of the cost of a
/// full decode. PNGs are decoded in full.
public struct DatasetScanner: Sendable {
    /// Worker threads, at least 1 (smaller values count as 1).
    public var threads: Int
    /// Images declaring more pixels than this are ``DatasetScanReport/FileStatus/tooLarge``.
    public var maximumPixels: Int

    /// - Parameters:
    ///   - threads: worker threads; `nil` for all active cores.
    ///   - maximumPixels: the pixel limit; `nil` for the decoder's (PIL's 178,956,970).
    public init(threads: Int? = nil, maximumPixels: Int? = nil) {
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.maximumPixels = maximumPixels ?? DecodeOptions().maximumPixels
    }

    /// Reads and decodes every image of `dataset` and reports what was found.
    /// - Parameters:
    ///   - dataset: the dataset's layout, from ``DatasetDirectory/init(reading:)``.
    ///   - progress: called after each file with (files done, files in all), from worker threads.
    /// - Throws: ``CodecError`` `libraryFailure` when a decoder cannot set itself up (out of memory);
    ///   damaged or unreadable files are findings in the report, never errors.
    public func scan(
        _ dataset: DatasetDirectory,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> DatasetScanReport {
        let files = ScannedFile.list(dataset)
        let outcomes = try decodeAll(files, progress: progress)
        var builder = ReportBuilder(dataset: dataset)
        for (file, outcome) in zip(files, outcomes) { builder.add(outcome, for: file) }
        return builder.report()
    }

    // MARK: - Parallel decode

    /// The outcome of every file, in the order of `files`.
    private func decodeAll(
        _ files: [ScannedFile],
        progress: (@Sendable (Int, Int) -> Void)?
    ) throws -> [FileOutcome] {
        let options = DecodeOptions(
            minimumSize: PixelSize(width: 1, height: 1), applyOrientation: false,
            maximumPixels: maximumPixels)
        // One decoder per worker thread: ParallelWork numbers its workers 0 ..< min(threads, count).
        let decoders = (0..<max(1, min(threads, files.count))).map { _ in ImageDecoder() }
        return try ParallelWork.map(
            count: files.count, threads: threads,
            progress: progress.map { report in { report($0, files.count) } }
        ) { worker, index in
            try FileOutcome.scan(files[index].path, decoder: decoders[worker], options: options)
        }
    }
}

// MARK: - One file

/// An image file of the dataset and where it belongs.
private struct ScannedFile {
    /// Absolute path.
    var path: String
    /// Path relative to the dataset root.
    var relativePath: String
    /// The split's name; empty for an unsplit dataset.
    var split: String
    /// The class folder's name.
    var className: String

    /// Every image file of `dataset`, sorted by path.
    static func list(_ dataset: DatasetDirectory) -> [ScannedFile] {
        dataset.splits.flatMap { split in
            split.classes.flatMap { folder in
                folder.images.map {
                    ScannedFile(
                        path: $0, relativePath: relative($0, to: dataset.root), split: split.name,
                        className: folder.name)
                }
            }
        }.sorted { $0.relativePath < $1.relativePath }
    }
}

/// `path` relative to `root` when it lies under it, else `path` unchanged.
private func relative(_ path: String, to root: String) -> String {
    let prefix = root.hasSuffix("/") ? root : root + "/"
    return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
}

/// What reading, hashing and decoding one file found.
private struct FileOutcome {
    /// The classification the report gives the file.
    var status: DatasetScanReport.FileStatus
    /// The format by the bytes; `nil` when the file could not be read.
    var format: ImageFormat?
    /// The decoder's warning or error message, or the system's read error.
    var message: String?
    /// sha256 of the bytes; `nil` when the file could not be read.
    var sha256: String?
    /// The header facts; `nil` unless the image decodes.
    var info: ImageInfo?

    /// Reads the file once, hashes the bytes and decodes them.
    /// - Throws: ``CodecError`` only for failures that are not the file's fault (`libraryFailure`).
    static func scan(_ path: String, decoder: ImageDecoder, options: DecodeOptions) throws -> FileOutcome {
        let bytes: [UInt8]
        do {
            bytes = try readFile(at: path)
        } catch {
            return FileOutcome(status: .unreadable, message: (error as? CodecError)?.message ?? "\(error)")
        }
        var digest = SHA256Digest()
        bytes.withUnsafeBytes { digest.update($0) }
        var outcome = FileOutcome(
            status: .ok, format: bytes.withUnsafeBytes { ImageFormat(detecting: $0) },
            sha256: digest.hex())
        do {
            let decoded = try decoder.decode(bytes, options: options)
            outcome.status = decoded.warning == nil ? .ok : .warning
            outcome.message = decoded.warning
            outcome.info = decoded.info
        } catch let error as CodecError {
            guard let status = status(for: error.code) else { throw error }
            outcome.status = status
            outcome.message = error.message
        }
        return outcome
    }

    /// The finding a decode error means; `nil` for errors that are not about the file.
    private static func status(for code: CodecError.Code) -> DatasetScanReport.FileStatus? {
        switch code {
        case .readFailed: .unreadable
        case .truncated: .truncated
        case .corrupt: .corrupt
        case .unsupportedFormat: .unsupportedFormat
        case .unknownFormat: .unknownFormat
        case .tooLarge: .tooLarge
        case .encodeFailed, .libraryFailure: nil
        }
    }
}

// MARK: - Aggregation

/// Folds the per-file outcomes, in path order, into a ``DatasetScanReport``.
private struct ReportBuilder {
    private let dataset: DatasetDirectory
    private var badFiles: [DatasetScanReport.FileIssue] = []
    private var warnings: [DatasetScanReport.FileIssue] = []
    private var badPerClass: [String: Int] = [:]  // key: split + "/" + class
    private var formats: [String: Int] = [:]
    private var traits = DatasetScanReport.Traits()
    private var sizes: [PixelSize] = []
    private var filesByDigest: [String: [ScannedFile]] = [:]

    init(dataset: DatasetDirectory) { self.dataset = dataset }

    /// Adds one file's outcome; call in path order, since the lists keep the order they are given.
    mutating func add(_ outcome: FileOutcome, for file: ScannedFile) {
        let path = file.relativePath
        if let format = outcome.format { formats[format.description, default: 0] += 1 }
        if let sha256 = outcome.sha256 { filesByDigest[sha256, default: []].append(file) }
        let issue = DatasetScanReport.FileIssue(
            path: path, status: outcome.status, format: outcome.format?.description,
            message: outcome.message ?? "")
        if outcome.status.isBad {
            badFiles.append(issue)
            badPerClass[file.split + "/" + file.className, default: 0] += 1
        } else if outcome.status == .warning {
            warnings.append(issue)
        }
        if let info = outcome.info { addTraits(of: info, path: path) }
    }

    private mutating func addTraits(of info: ImageInfo, path: String) {
        let isCMYK = info.colorModel.hasPrefix("CMYK") || info.colorModel.hasPrefix("YCCK")
        if isCMYK { traits.cmyk.append(path) }
        if info.channels <= 2 { traits.grayscale.append(path) }
        if info.bitDepth == 16 { traits.sixteenBit.append(path) }
        if !isCMYK && (info.channels == 2 || info.channels == 4) { traits.alpha.append(path) }
        if info.colorModel.hasPrefix("palette") { traits.palette.append(path) }
        if info.orientation != .up { traits.exifRotated.append(path) }
        sizes.append(info.uprightSize)
    }

    /// The report of everything added.
    func report() -> DatasetScanReport {
        let splits = dataset.splits.map { split in
            DatasetScanReport.Split(
                name: split.name, imageCount: split.classes.reduce(0) { $0 + $1.images.count },
                classes: split.classes.map {
                    DatasetScanReport.ClassCount(
                        name: $0.name, images: $0.images.count,
                        bad: badPerClass[split.name + "/" + $0.name] ?? 0)
                })
        }
        let ignored = dataset.splits.flatMap { $0.classes.flatMap(\.otherFiles) }
            .map { relative($0, to: dataset.root) }.sorted()
        return DatasetScanReport(
            root: dataset.root, splits: splits, classNames: dataset.classNames,
            imageCount: splits.reduce(0) { $0 + $1.imageCount },
            badFiles: badFiles, warnings: warnings, formats: formats, traits: traits,
            sizes: sizeStatistics(), duplicates: duplicateGroups(), ignoredFiles: ignored,
            quarantine: nil)
    }

    private func sizeStatistics() -> DatasetScanReport.SizeStatistics? {
        guard !sizes.isEmpty else { return nil }
        func spread(_ values: [Int]) -> DatasetScanReport.Spread {
            let sorted = values.sorted()
            return DatasetScanReport.Spread(min: sorted[0], median: sorted[(sorted.count - 1) / 2], max: sorted[sorted.count - 1])
        }
        let mostCommon = Dictionary(sizes.map { ($0, 1) }, uniquingKeysWith: +)
            .map { DatasetScanReport.SizeCount(width: $0.key.width, height: $0.key.height, count: $0.value) }
            .sorted { ($1.count, $0.width, $0.height) < ($0.count, $1.width, $1.height) }
            .prefix(5)
        return DatasetScanReport.SizeStatistics(
            width: spread(sizes.map(\.width)), height: spread(sizes.map(\.height)),
            mostCommon: Array(mostCommon))
    }

    private func duplicateGroups() -> [DatasetScanReport.DuplicateGroup] {
        filesByDigest.filter { $0.value.count > 1 }.map { sha256, files in
            DatasetScanReport.DuplicateGroup(
                sha256: sha256, paths: files.map(\.relativePath).sorted(),
                acrossSplits: Set(files.map(\.split)).count > 1,
                acrossClasses: Set(files.map(\.className)).count > 1)
        }.sorted { $0.paths[0] < $1.paths[0] }
    }
}
