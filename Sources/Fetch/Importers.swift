// Importers for datasets that ship as binary record files rather than image files: MNIST-style
// IDX files and the CIFAR-10 binary batches. Each record becomes one PNG in a class folder, so the
// result is an ordinary split dataset (`DEST/train/<class>/`, `DEST/validation/<class>/`).
// - SeeAlso: http://yann.lecun.com/exdb/mnist/ (IDX format, "FILE FORMATS FOR THE MNIST DATABASE");
//   https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
//
// Files are streamed: records are gathered into batches of about 8 MiB, each batch is encoded in
// parallel, and the next batch is read only after that, so memory does not grow with the file.
// File names come from the record's index, never from the thread that wrote it, so the output is
// the same whatever the thread count.
import Codecs
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Report

/// What an import wrote: image counts per split folder and per class.
public struct ImportReport: Sendable, Hashable {
    /// The images written to one split folder.
    public struct SplitCount: Sendable, Hashable {
        /// The split folder's name: `train` or `validation`.
        public var split: String
        /// Images per class, in label order (`imagesPerClass[i]` is for `classNames[i]`).
        public var imagesPerClass: [Int]
    }

    /// The class folder names, in label order.
    public var classNames: [String]
    /// One entry per split folder, `train` first.
    public var splits: [SplitCount]

    /// Images written in all splits and classes.
    public var totalImages: Int { splits.reduce(0) { $0 + $1.imagesPerClass.reduce(0, +) } }

    /// Images written to `split`/`className`, 0 when there is no such split or class.
    public func count(split: String, className: String) -> Int {
        guard let label = classNames.firstIndex(of: className),
              let entry = splits.first(where: { $0.split == split }) else { return 0 }
        return entry.imagesPerClass[label]
    }
}

// MARK: - IDX (MNIST, Fashion-MNIST)

/// The four IDX files of an MNIST-style dataset and the names of its classes.
///
/// The training files become `DEST/train/<class>/<index>.png` and the test (`t10k`) files
/// `DEST/validation/<class>/<index>.png`, 8-bit gray, where `<index>` is the record's position in
/// its file, zero-padded to at least five digits so that sorted names keep the file's order.
public struct IDXDataset: Sendable, Hashable {
    /// MNIST's classes: the digits `0` … `9`.
    public static let mnistClassNames = (0...9).map(String.init)

    /// Fashion-MNIST's classes in label order. The official names "T-shirt/top" and "Ankle boot"
    /// become `T-shirt_top` and `Ankle_boot`, since a folder name cannot hold `/` and a space is a
    /// nuisance in shell commands; the others are the official names.
    public static let fashionMNISTClassNames = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]

    /// The training images (`train-images-idx3-ubyte`, gzip-compressed or not).
    public var trainImages: String
    /// The training labels (`train-labels-idx1-ubyte`).
    public var trainLabels: String
    /// The test images (`t10k-images-idx3-ubyte`), imported as the validation split.
    public var testImages: String
    /// The test labels (`t10k-labels-idx1-ubyte`).
    public var testLabels: String
    /// The class folder names; label `i` is `classNames[i]`. Each must be a usable folder name
    /// (not empty, no `/`, not starting with `.`), all different.
    public var classNames: [String]

    /// The dataset made of the four given files. Each may be compressed with gzip, bzip2 or xz, or
    /// not compressed at all: the content decides, not the name.
    public init(trainImages: String, trainLabels: String, testImages: String, testLabels: String,
                classNames: [String]) {
        self.trainImages = trainImages
        self.trainLabels = trainLabels
        self.testImages = testImages
        self.testLabels = testLabels
        self.classNames = classNames
    }

    /// The dataset whose files have their standard names in `folder`: for each of
    /// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
    /// `t10k-labels-idx1-ubyte`, the `.gz` file when it exists, the uncompressed one otherwise.
    public init(folder: String, classNames: [String]) {
        func file(_ name: String) -> String {
            let path = folder + "/" + name
            return FileManager.default.fileExists(atPath: path + ".gz") ? path + ".gz" : path
        }
        self.init(trainImages: file("train-images-idx3-ubyte"), trainLabels: file("train-labels-idx1-ubyte"),
                  testImages: file("t10k-images-idx3-ubyte"), testLabels: file("t10k-labels-idx1-ubyte"),
                  classNames: classNames)
    }

    /// Writes every image as a PNG into `destination/train/<class>/` and
    /// `destination/validation/<class>/`, one folder per class even when it gets no image.
    ///
    /// Both label files are read and checked before any image is written. If this throws, some
    /// files may already be written: import into a temporary folder and rename it into place
    /// only on success. Files are flushed to disk (`sync`) before it returns.
    /// - Parameters:
    ///   - destination: a folder that does not exist yet (it is created) or is empty.
    ///   - threads: PNG encoder threads (at least 1), or `nil` for all active cores. The output is
    ///     the same whatever the number.
    /// - Returns: the number of images written per split and class.
    /// - Throws: ``FetchError`` `badDatasetFile` when a file is missing or is not what it must be
    ///   (wrong magic number, image size, record count that differs from the labels', label not
    ///   below `classNames.count`, truncated or overlong data); `badArchive` when compressed data
    ///   is damaged; `badLayout` when `classNames` is empty or holds an unusable folder name, or
    ///   `destination` is not empty; `fileSystem` when a file cannot be written.
    public func importImages(into destination: String,
                             threads: Int? = nil) throws -> ImportReport {
        try ClassNames.check(classNames, subject: "class names")
        let trainLabels = try IDXFile.readLabels(self.trainLabels, classCount: classNames.count)
        let testLabels = try IDXFile.readLabels(self.testLabels, classCount: classNames.count)
        let output = try ImageFolderWriter(destination: destination, splits: ["train", "validation"],
                                           classNames: classNames, threads: threads)
        try IDXFile.writeImages(trainImages, labels: trainLabels, split: "train", output: output)
        try IDXFile.writeImages(testImages, labels: testLabels, split: "validation", output: output)
        output.flush()
        return ImportReport(classNames: classNames, splits: [
            .init(split: "train", imagesPerClass: histogram(trainLabels, classCount: classNames.count)),
            .init(split: "validation", imagesPerClass: histogram(testLabels, classCount: classNames.count)),
        ])
    }
}

/// Reading IDX files: a big-endian header (magic `0x0000_08_nn` for unsigned bytes in `nn`
/// dimensions, then one UInt32 per dimension), then the samples.
private enum IDXFile {
    static let labelsMagic: UInt32 = 0x0000_0801
    static let imagesMagic: UInt32 = 0x0000_0803
    /// Records larger than this (16 Mi pixels) are refused as implausible.
    static let maximumImagePixels = 1 << 24

    /// The labels of an `idx1-ubyte` file, each checked to be below `classCount`.
    static func readLabels(_ path: String, classCount: Int) throws -> [UInt8] {
        try requireFile(path)
        var header: [UInt8] = []
        var labels: [UInt8] = []
        var expected = 0
        try forEachDecompressedChunk(ofFile: path) { chunk in
            var rest = chunk[...]
            if header.count < 8 {
                let take = min(8 - header.count, rest.count)
                header += rest.prefix(take)
                rest = rest.dropFirst(take)
                guard header.count == 8 else { return }
                let magic = bigEndian(header, at: 0)
                guard magic == labelsMagic else {
                    throw badFile(path, "magic number is \(hex(magic)), not \(hex(labelsMagic)) (IDX labels)")
                }
                expected = Int(bigEndian(header, at: 4))
                labels.reserveCapacity(min(expected, 1 << 20))  // the header may lie
            }
            guard labels.count + rest.count <= expected else {
                throw badFile(path, "more than the \(expected) labels the header declares")
            }
            labels += rest
        }
        guard header.count == 8 else { throw badFile(path, "the file ends inside the 8-byte header") }
        guard labels.count == expected else {
            throw badFile(path, "truncated: \(labels.count) of the \(expected) labels the header declares")
        }
        if let index = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw badFile(path, "label \(labels[index]) of record \(index) is not below the class count \(classCount)")
        }
        return labels
    }

    /// Streams the images of an `idx3-ubyte` file into PNGs, record `i` in class `labels[i]`.
    static func writeImages(_ path: String, labels: [UInt8], split: String, output: ImageFolderWriter) throws {
        try requireFile(path)
        var rows = 0, columns = 0
        let names = RecordNames(count: labels.count)
        let records = try RecordReader.read(path, headerSize: 16, recordSize: { header in
            let magic = bigEndian(header, at: 0)
            guard magic == imagesMagic else {
                throw badFile(path, "magic number is \(hex(magic)), not \(hex(imagesMagic)) (IDX images)")
            }
            let count = Int(bigEndian(header, at: 4))
            guard count == labels.count else {
                throw badFile(path, "\(count) images but \(labels.count) labels")
            }
            rows = Int(bigEndian(header, at: 8))
            columns = Int(bigEndian(header, at: 12))
            guard rows > 0, columns > 0, rows * columns <= maximumImagePixels else {
                throw badFile(path, "image size \(columns)x\(rows) is not between 1x1 and \(maximumImagePixels) pixels")
            }
            return rows * columns
        }) { batch, first in
            let (width, height) = (columns, rows)
            let count = batch.count / (width * height)
            guard first + count <= labels.count else {
                throw badFile(path, "more than the \(labels.count) images the header declares")
            }
            try output.write(count: count, split: split) { i in
                let start = i * width * height
                let image = Image(width: width, height: height, format: .gray,
                                  pixels: Array(batch[start..<start + width * height]))
                return (image, Int(labels[first + i]), names.name(first + i))
            }
        }
        guard records.complete == labels.count else {
            throw badFile(path, "truncated: \(records.complete) complete images of the \(labels.count) the header declares")
        }
        guard records.leftoverBytes == 0 else {
            throw badFile(path, "\(records.leftoverBytes) bytes after the last of the \(labels.count) images")
        }
    }

    static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func hex(_ value: UInt32) -> String { String(format: "0x%08x", value) }
}

// MARK: - CIFAR-10 binary

/// The CIFAR-10 binary version: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin` and
/// `batches.meta.txt` in a `cifar-10-batches-bin` folder.
///
/// Each record is one label byte and 3,072 pixel bytes: the 32×32 red plane, then green, then
/// blue, each row-major. The data batches become `DEST/train/<class>/<n>.png`, `n` the record's
/// index across the five batches (0 … 49,999), and the test batch `DEST/validation/<class>/<n>.png`,
/// as RGB PNGs; class names come from `batches.meta.txt`.
public struct CIFAR10Dataset: Sendable, Hashable {
    /// The data batch files, in the order their records are numbered.
    public static let trainingBatchNames = (1...5).map { "data_batch_\($0).bin" }
    /// The test batch file.
    public static let testBatchName = "test_batch.bin"
    /// The class-name file: one name per line, in label order.
    public static let metadataName = "batches.meta.txt"

    /// The folder holding the batch files.
    public var folder: String

    /// The dataset in `folder`: the `cifar-10-batches-bin` folder itself, or the folder the
    /// archive was extracted into, when that holds `cifar-10-batches-bin`.
    public init(folder: String) {
        let inner = folder + "/cifar-10-batches-bin"
        var isFolder: ObjCBool = false
        let hasInner = FileManager.default.fileExists(atPath: inner, isDirectory: &isFolder) && isFolder.boolValue
        self.folder = hasInner ? inner : folder
    }

    /// The class names from `batches.meta.txt`: exactly 10 non-empty lines (trailing blank lines
    /// and surrounding white space are ignored), each a usable folder name.
    /// - Throws: ``FetchError`` `badDatasetFile` when the file is missing or does not hold 10
    ///   usable names.
    public func classNames() throws -> [String] {
        let path = folder + "/" + Self.metadataName
        try requireFile(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileSystem.errnoError("cannot read", path: path)
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard lines.count == 10, !lines.contains(where: \.isEmpty) else {
            throw badFile(path, "expected 10 class names, one per line, found \(lines.count) lines")
        }
        do {
            try ClassNames.check(lines, subject: path)
        } catch let error as FetchError {
            throw badFile(path, error.message)
        }
        return lines
    }

    /// Writes every image as an RGB PNG into `destination/train/<class>/` and
    /// `destination/validation/<class>/`.
    ///
    /// The class names and every batch's size are checked before any image is written; labels
    /// are checked as records are read. If this throws, some files may already be written: import
    /// into a temporary folder and rename it into place only on success. Files are flushed to
    /// disk (`sync`) before it returns.
    /// - Parameters:
    ///   - destination: a folder that does not exist yet (it is created) or is empty.
    ///   - threads: PNG encoder threads (at least 1), or `nil` for all active cores. The output is
    ///     the same whatever the number.
    /// - Returns: the number of images written per split and class.
    /// - Throws: ``FetchError`` `badDatasetFile` when a file is missing, a batch is empty or its
    ///   size is not a multiple of 3,073 bytes, a label is not below 10, or `batches.meta.txt` does
    ///   not hold 10 usable names; `badLayout` when `destination` is not empty; `fileSystem` when a
    ///   file cannot be read or written.
    public func importImages(into destination: String,
                             threads: Int? = nil) throws -> ImportReport {
        let classNames = try self.classNames()
        let training = try Self.trainingBatchNames.map { try batchRecordCount(folder + "/" + $0) }
        let testing = try batchRecordCount(folder + "/" + Self.testBatchName)
        let output = try ImageFolderWriter(destination: destination, splits: ["train", "validation"],
                                           classNames: classNames, threads: threads)
        var trainCounts = Array(repeating: 0, count: classNames.count)
        let trainNames = RecordNames(count: training.reduce(0, +))
        var first = 0
        for (name, records) in zip(Self.trainingBatchNames, training) {
            try writeBatch(folder + "/" + name, firstIndex: first, names: trainNames, split: "train",
                           output: output, counts: &trainCounts)
            first += records
        }
        var testCounts = Array(repeating: 0, count: classNames.count)
        try writeBatch(folder + "/" + Self.testBatchName, firstIndex: 0, names: RecordNames(count: testing),
                       split: "validation", output: output, counts: &testCounts)
        output.flush()
        return ImportReport(classNames: classNames, splits: [.init(split: "train", imagesPerClass: trainCounts),
                                                             .init(split: "validation", imagesPerClass: testCounts)])
    }

    // MARK: CIFAR records

    private static let side = 32
    private static let recordSize = 1 + 3 * side * side

    /// The number of records in a batch file, from its size.
    private func batchRecordCount(_ path: String) throws -> Int {
        try requireFile(path)
        var status = stat()
        guard stat(path, &status) == 0 else { throw FileSystem.errnoError("cannot stat", path: path) }
        let size = Int(status.st_size)
        guard size > 0, size % Self.recordSize == 0 else {
            throw badFile(path, "size \(size) is not a positive multiple of the \(Self.recordSize)-byte record")
        }
        return size / Self.recordSize
    }

    /// Streams one batch file into PNGs, numbering its records from `firstIndex`.
    private func writeBatch(_ path: String, firstIndex: Int, names: RecordNames, split: String,
                            output: ImageFolderWriter, counts: inout [Int]) throws {
        let plane = Self.side * Self.side
        let records = try RecordReader.read(path, headerSize: 0, recordSize: { _ in Self.recordSize }) { batch, first in
            let count = batch.count / Self.recordSize
            for i in 0..<count {
                let label = Int(batch[i * Self.recordSize])
                guard label < counts.count else {
                    throw badFile(path, "label \(label) of record \(first + i) is not below the class count \(counts.count)")
                }
                counts[label] += 1
            }
            try output.write(count: count, split: split) { i in
                let record = i * Self.recordSize
                let image = Image(width: Self.side, height: Self.side, format: .rgb) { pixels in
                    for p in 0..<plane {  // planar RRR…GGG…BBB → interleaved RGBRGB…
                        pixels[3 * p] = batch[record + 1 + p]
                        pixels[3 * p + 1] = batch[record + 1 + plane + p]
                        pixels[3 * p + 2] = batch[record + 1 + 2 * plane + p]
                    }
                }
                return (image, Int(batch[record]), names.name(firstIndex + first + i))
            }
        }
        guard records.leftoverBytes == 0 else {  // the file changed size since it was checked
            throw badFile(path, "truncated: \(records.leftoverBytes) bytes after the last complete record")
        }
    }
}

// MARK: - Reading fixed-size records

/// Cuts a (possibly compressed) file into a header and fixed-size records, and hands the records
/// on in batches of about 8 MiB, so memory holds one batch whatever the file size.
private enum RecordReader {
    static let batchBytes = 8 << 20

    /// How many records were read, and how many bytes were left after the last complete one.
    struct Outcome {
        var complete: Int
        var leftoverBytes: Int
    }

    /// - Parameters:
    ///   - headerSize: bytes before the first record.
    ///   - recordSize: checks the header and returns the record size in bytes (> 0).
    ///   - body: receives whole records (a multiple of the record size) and the index of the
    ///     first.
    /// - Throws: `badDatasetFile` when the file ends inside the header; whatever the closures
    ///   throw; `badArchive` for damaged compressed data.
    static func read(_ path: String, headerSize: Int, recordSize: ([UInt8]) throws -> Int,
                     body: (_ records: [UInt8], _ firstIndex: Int) throws -> Void) throws -> Outcome {
        var header: [UInt8] = []
        var size = headerSize == 0 ? try recordSize([]) : 0
        var batch: [UInt8] = []
        var delivered = 0
        func deliver(_ bytes: Int) throws {
            let records = bytes == batch.count ? batch : Array(batch[..<bytes])
            batch = Array(batch[bytes...])  // the leftover, in a buffer of its own
            try body(records, delivered)
            delivered += bytes / size
        }
        try forEachDecompressedChunk(ofFile: path) { chunk in
            var rest = chunk[...]
            if header.count < headerSize {
                let take = min(headerSize - header.count, rest.count)
                header += rest.prefix(take)
                rest = rest.dropFirst(take)
                guard header.count == headerSize else { return }
                size = try recordSize(header)
            }
            let capacity = max(1, batchBytes / size) * size
            while !rest.isEmpty {
                let take = min(capacity - batch.count, rest.count)
                batch += rest.prefix(take)
                rest = rest.dropFirst(take)
                if batch.count == capacity { try deliver(capacity) }
            }
        }
        guard header.count == headerSize else {
            throw badFile(path, "the file ends inside the \(headerSize)-byte header")
        }
        let whole = batch.count - batch.count % size
        if whole > 0 { try deliver(whole) }
        return Outcome(complete: delivered, leftoverBytes: batch.count)
    }
}

// MARK: - Writing PNG class folders

/// Zero-padded file names for records, at least five digits, as many as the largest index needs,
/// so that sorted names keep the records' order.
private struct RecordNames: Sendable {
    let digits: Int

    init(count: Int) { digits = max(5, String(max(0, count - 1)).count) }

    func name(_ index: Int) -> String {
        let number = String(index)
        return String(repeating: "0", count: max(0, digits - number.count)) + number + ".png"
    }
}

/// Encodes images to PNG files in `destination/<split>/<class>/`, in parallel.
///
/// PNGs are written with libpng's fast setting (no row filters, zlib level 3). For images this
/// small the files are barely bigger, while both encoding and every later decode are faster: on
/// 10,000 Fashion-MNIST images, 532 instead of 519 bytes on average, encoding 1.4 times and
/// decoding 1.2 to 2 times as fast.
private struct ImageFolderWriter: Sendable {
    let destination: String
    let classNames: [String]
    let threads: Int
    let encoder = PNGEncoder(fast: true)
    /// Records handed to a thread at a time.
    static let recordsPerTask = 64

    /// Creates `destination` (or checks that it is empty) and every `<split>/<class>` folder.
    init(destination: String, splits: [String], classNames: [String], threads: Int?) throws {
        if FileManager.default.fileExists(atPath: destination) {
            guard let existing = try? FileManager.default.contentsOfDirectory(atPath: destination), existing.isEmpty else {
                throw FetchError(.badLayout, "the import folder must be new or empty", subject: destination)
            }
        }
        for split in splits {
            for name in classNames { try FileSystem.createDirectory(destination + "/" + split + "/" + name) }
        }
        self.destination = destination
        self.classNames = classNames
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Encodes and writes `count` images; `record(i)` gives image `i`, its label and its file name.
    /// - Throws: the error of the lowest-numbered failing record's task, so the error does not
    ///   depend on the thread count.
    func write(count: Int, split: String,
               record: @Sendable (Int) -> (image: Image, label: Int, name: String)) throws {
        let tasks = (count + Self.recordsPerTask - 1) / Self.recordsPerTask
        _ = try parallelMap(count: tasks, threads: threads) { task in
            for i in task * Self.recordsPerTask..<min(count, (task + 1) * Self.recordsPerTask) {
                let (image, label, name) = record(i)
                let path = destination + "/" + split + "/" + classNames[label] + "/" + name
                try FileSystem.createFile(path, bytes: try encoder.encode(image))
            }
        }
    }

    /// Flushes everything written to disk.
    func flush() { FileSystem.syncAll() }
}

// MARK: - Parallel work

/// `transform(i)` for every `i` in `0..<count`, computed on up to `threads` threads that take
/// indices in order from a shared counter, returned in index order.
///
/// After a failure no new index starts, and the error thrown is that of the lowest failing index:
/// every lower index had started and runs to its end, so the error does not depend on the thread
/// count or the scheduling.
func parallelMap<T: Sendable>(count: Int, threads: Int, _ transform: @Sendable (Int) throws -> T) throws -> [T] {
    let work = ParallelWork<T>(count: count)
    DispatchQueue.concurrentPerform(iterations: max(1, min(threads, count))) { _ in
        while let index = work.nextIndex() {
            work.store(Result { try transform(index) }, at: index)
        }
    }
    return try work.results()
}

/// The counter and result slots ``parallelMap(count:threads:_:)``'s threads share. Taking the lock
/// once per index costs nothing next to the work each index does.
private final class ParallelWork<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var failed = false
    private var slots: [Result<T, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next index to do, or `nil` when all are taken or one has failed.
    func nextIndex() -> Int? {
        lock.withLock {
            guard next < slots.count, !failed else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func store(_ result: Result<T, any Error>, at index: Int) {
        lock.withLock {
            slots[index] = result
            if case .failure = result { failed = true }
        }
    }

    /// Every result in index order, or the lowest index's error.
    func results() throws -> [T] {
        try lock.withLock {
            var values: [T] = []
            values.reserveCapacity(slots.count)
            for case let slot? in slots { values.append(try slot.get()) }
            return values
        }
    }
}

// MARK: - Shared checks

/// Checks on class names that become folder names.
enum ClassNames {
    /// - Throws: ``FetchError`` `badLayout` when `names` is empty, or a name is empty, holds `/`
    ///   or a NUL, starts with `.`, or appears twice.
    static func check(_ names: [String], subject: String) throws {
        guard !names.isEmpty else { throw FetchError(.badLayout, "there are no class names", subject: subject) }
        for name in names where name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.contains("\0") {
            throw FetchError(.badLayout, "\"\(name)\" cannot be a class folder name", subject: subject)
        }
        guard Set(names).count == names.count else {
            throw FetchError(.badLayout, "class names are not all different", subject: subject)
        }
    }
}

/// Images per label.
private func histogram(_ labels: [UInt8], classCount: Int) -> [Int] {
    labels.reduce(into: Array(repeating: 0, count: classCount)) { $0[Int($1)] += 1 }
}

private func badFile(_ path: String, _ message: String) -> FetchError {
    FetchError(.badDatasetFile, message, subject: path)
}

/// - Throws: `badDatasetFile` when `path` is not a regular file.
private func requireFile(_ path: String) throws {
    var status = stat()
    guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
        throw badFile(path, "missing (or not a file)")
    }
}

// MARK: - File-system steps the importers and the splitter share

extension FileSystem {
    /// Creates a new file holding `bytes` (never replacing one). Not fsynced: callers flush a whole
    /// tree at once with ``syncFileSystem(containing:)``.
    /// - Throws: ``FetchError`` `fileSystem`.
    static func createFile(_ path: String, bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw errnoError("cannot create", path: path) }
        defer { close(fd) }
        try bytes.withUnsafeBytes { try writeAll($0, to: fd, path: path) }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
    /// - Throws: ``FetchError`` `fileSystem`.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw errnoError("cannot write", path: path) }
            offset += n
        }
    }

    /// Flushes every written file to disk (`sync(2)`, which waits for the writes on Linux): one
    /// call instead of an fsync per file, for trees of many new files. Glibc's Swift module does not
    /// export `syncfs(2)`, which would limit the flush to one file system.
    static func syncAll() { sync() }
}
