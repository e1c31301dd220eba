// The MNIST-style IDX importer: four IDX files (gzip-compressed or not) become PNG class folders.
// - SeeAlso: http://yann.lecun.com/exdb/mnist/ (IDX format, "FILE FORMATS FOR THE MNIST DATABASE").
import Codecs
import Foundation

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
    public static let fashionMNISTClassNames = [
        "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot",
    ]

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
    public init(
        trainImages: String, trainLabels: String, testImages: String, testLabels: String,
        classNames: [String]
    ) {
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
        self.init(
            trainImages: file("train-images-idx3-ubyte"), trainLabels: file("train-labels-idx1-ubyte"),
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
    public func importImages(
        into destination: String,
        threads: Int? = nil
    ) throws -> ImportReport {
        try ClassNames.check(classNames, subject: "class names")
        let trainLabels = try IDXFile.readLabels(self.trainLabels, classCount: classNames.count)
        let testLabels = try IDXFile.readLabels(self.testLabels, classCount: classNames.count)
        let output = try ImageFolderWriter(
            destination: destination, splits: ["train", "validation"],
            classNames: classNames, threads: threads)
        try IDXFile.writeImages(trainImages, labels: trainLabels, split: "train", output: output)
        try IDXFile.writeImages(testImages, labels: testLabels, split: "validation", output: output)
        output.flush()
        return ImportReport(
            classNames: classNames,
            splits: [
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
        let records = try RecordReader.read(
            path, headerSize: 16,
            recordSize: { header in
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
            }
        ) { batch, first in
            let (width, height) = (columns, rows)
            let count = batch.count / (width * height)
            guard first + count <= labels.count else {
                throw badFile(path, "more than the \(labels.count) images the header declares")
            }
            try output.write(count: count, split: split) { i in
                let start = i * width * height
                let image = Image(
                    width: width, height: height, format: .gray,
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

/// Images per label.
private func histogram(_ labels: [UInt8], classCount: Int) -> [Int] {
    labels.reduce(into: Array(repeating: 0, count: classCount)) { $0[Int($1)] += 1 }
}
