// The CIFAR-10 binary importer: the five data batches and the test batch become RGB PNG class
// folders.
// - SeeAlso: https://www.cs.toronto.edu/~kriz/cifar.html ("Binary version").
import Codecs
import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

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

    /// `folder` itself when it holds the batch files and `batches.meta.txt`, else its
    /// `cifar-10-batches-bin` when that does; nil when neither does.
    static func batchesFolder(in folder: String) -> String? {
        [folder, folder + "/cifar-10-batches-bin"].first { candidate in
            (trainingBatchNames + [testBatchName, metadataName]).allSatisfy { FileIO.exists(candidate + "/" + $0) }
        }
    }

    /// The class names from `batches.meta.txt`: exactly 10 non-empty lines (trailing blank lines
    /// and surrounding white space are ignored), each a usable folder name.
    /// - Throws: ``FetchError`` `badDatasetFile` when the file is missing or does not hold 10
    ///   usable names; `fileSystem` when it cannot be read.
    public func classNames() throws -> [String] {
        let path = folder + "/" + Self.metadataName
        try requireFile(path)
        let data = try FetchError.converting { try FileIO.readFile(at: path) }
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
    public func importImages(
        into destination: String,
        threads: Int? = nil
    ) throws -> ImportReport {
        let classNames = try self.classNames()
        let training = try Self.trainingBatchNames.map { try batchRecordCount(folder + "/" + $0) }
        let testing = try batchRecordCount(folder + "/" + Self.testBatchName)
        let output = try ImageFolderWriter(
            destination: destination, splits: ["train", "validation"],
            classNames: classNames, threads: threads)
        var trainCounts = Array(repeating: 0, count: classNames.count)
        let trainNames = RecordNames(count: training.reduce(0, +))
        var first = 0
        for (name, records) in zip(Self.trainingBatchNames, training) {
            try writeBatch(
                folder + "/" + name, firstIndex: first, names: trainNames, split: "train",
                output: output, counts: &trainCounts)
            first += records
        }
        var testCounts = Array(repeating: 0, count: classNames.count)
        try writeBatch(
            folder + "/" + Self.testBatchName, firstIndex: 0, names: RecordNames(count: testing),
            split: "validation", output: output, counts: &testCounts)
        output.flush()
        return ImportReport(
            classNames: classNames,
            splits: [
                .init(split: "train", imagesPerClass: trainCounts),
                .init(split: "validation", imagesPerClass: testCounts),
            ])
    }

    // MARK: CIFAR records

    private static let side = 32
    private static let recordSize = 1 + 3 * side * side

    /// The number of records in a batch file, from its size.
    private func batchRecordCount(_ path: String) throws -> Int {
        try requireFile(path)
        var status = stat()
        guard stat(path, &status) == 0 else { throw FetchError(.system("cannot stat", path: path)) }
        let size = Int(status.st_size)
        guard size > 0, size % Self.recordSize == 0 else {
            throw badFile(path, "size \(size) is not a positive multiple of the \(Self.recordSize)-byte record")
        }
        return size / Self.recordSize
    }

    /// Streams one batch file into PNGs, numbering its records from `firstIndex`.
    private func writeBatch(
        _ path: String, firstIndex: Int, names: RecordNames, split: String,
        output: ImageFolderWriter, counts: inout [Int]
    ) throws {
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
