import Codecs
import Datasets
import Fetch
import Foundation
import Support
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// IDX and CIFAR-10 files built in the test, imported, and read back pixel by pixel.
@Suite struct ImporterTests {
    // MARK: - IDX

    @Test(arguments: [false, true])
    func idxImagesLandInTheirClassFoldersWithExactPixels(gzip: Bool) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainLabels: [UInt8] = [0, 2, 1, 2, 0, 2, 2]
        let testLabels: [UInt8] = [1, 0, 1]
        let dataset = try Self.writeIDX(
            in: dir, rows: 3, columns: 4, trainLabels: trainLabels, testLabels: testLabels,
            gzip: gzip)

        let report = try dataset.importImages(into: dir + "/out")

        #expect(report.classNames == ["zero", "one", "two"])
        #expect(report.splits.map(\.split) == ["train", "validation"])
        #expect(report.splits.map(\.imagesPerClass) == [[2, 1, 4], [1, 2, 0]])
        #expect(report.totalImages == 10)
        #expect(
            TestFiles.files(under: dir + "/out") == [
                "classes.txt", "train/one/00002.png", "train/two/00001.png", "train/two/00003.png", "train/two/00005.png",
                "train/two/00006.png", "train/zero/00000.png", "train/zero/00004.png",
                "validation/one/00000.png", "validation/one/00002.png", "validation/zero/00001.png",
            ])
        #expect(TestFiles.isFolder(dir + "/out/validation/two"))  // every class gets a folder
        let decoder = ImageDecoder()
        for (i, label) in trainLabels.enumerated() {
            let name = ["zero", "one", "two"][Int(label)]
            let image = try decoder.decode(fileAt: dir + "/out/train/\(name)/0000\(i).png").image
            #expect(image.width == 4 && image.height == 3 && image.format == .gray)
            #expect(image.pixels == Self.grayPixels(record: i, count: 12))
        }
        let test = try decoder.decode(fileAt: dir + "/out/validation/one/00002.png").image
        #expect(test.pixels == Self.grayPixels(record: 1000 + 2, count: 12))
    }

    @Test func aFashionMNISTImportKeepsTheOfficialLabelOrder() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var dataset = try Self.writeIDX(
            in: dir, rows: 2, columns: 2, trainLabels: (0..<10).map(UInt8.init), testLabels: [9, 0], gzip: false)
        dataset.classNames = IDXDataset.fashionMNISTClassNames
        _ = try dataset.importImages(into: dir + "/out")

        #expect(
            String(decoding: try #require(FileManager.default.contents(atPath: dir + "/out/classes.txt")), as: UTF8.self)
                == IDXDataset.fashionMNISTClassNames.map { $0 + "\n" }.joined())
        let imported = try DatasetDirectory(reading: dir + "/out")
        #expect(imported.classNames == IDXDataset.fashionMNISTClassNames)  // not sorted: Ankle_boot is label 9
        #expect(imported.classNames.first == "T-shirt_top")
        #expect(try DatasetDirectory(reading: dir + "/out/validation").classNames == IDXDataset.fashionMNISTClassNames)
    }

    @Test func idxRecordsAcrossBatchesAndChunksAreTheSameWhateverTheThreadCount() throws {
        // 40 images of 512×512 = 10 MiB: more than one 8 MiB batch, and records straddle the
        // decompressor's 1 MiB chunks.
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labels = (0..<40).map { UInt8($0 % 3) }
        let dataset = try Self.writeIDX(
            in: dir, rows: 512, columns: 512, trainLabels: labels, testLabels: [2],
            gzip: false)
        _ = try dataset.importImages(into: dir + "/one", threads: 1)
        _ = try dataset.importImages(into: dir + "/three", threads: 3)

        let names = TestFiles.files(under: dir + "/one")
        #expect(names.count == 41 + 1)  // the images and classes.txt
        #expect(names == TestFiles.files(under: dir + "/three"))
        for name in names {
            #expect(
                FileManager.default.contents(atPath: dir + "/one/" + name)
                    == FileManager.default.contents(atPath: dir + "/three/" + name), "\(name)")
        }
        let last = try ImageDecoder().decode(fileAt: dir + "/one/train/zero/00039.png").image
        #expect(last.pixels == Self.grayPixels(record: 39, count: 512 * 512))
    }

    @Test func fashionMNISTClassNamesAreFolderSafe() {
        #expect(IDXDataset.fashionMNISTClassNames.count == 10)
        #expect(IDXDataset.fashionMNISTClassNames[0] == "T-shirt_top")
        #expect(IDXDataset.fashionMNISTClassNames[9] == "Ankle_boot")
        #expect(!IDXDataset.fashionMNISTClassNames.contains { $0.contains("/") || $0.contains(" ") })
        #expect(IDXDataset.mnistClassNames == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
    }

    /// A damaged IDX set: which file to spoil, and how.
    enum IDXDamage: String, CaseIterable {
        case imagesMagic, labelsMagic, countMismatch, truncatedImage, extraImageBytes, labelOutOfRange,
            truncatedLabels, shortHeader, zeroSize, missingFile
    }

    @Test(arguments: IDXDamage.allCases)
    func damagedIDXFilesAreBadDatasetFiles(damage: IDXDamage) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dataset = try Self.writeIDX(
            in: dir, rows: 2, columns: 2, trainLabels: [0, 1, 2], testLabels: [1],
            gzip: true)
        let images = Self.idx(magic: 0x803, dimensions: [3, 2, 2], data: Array(repeating: 7, count: 12))
        let labels = Self.idx(magic: 0x801, dimensions: [3], data: [0, 1, 2])
        switch damage {
        case .imagesMagic:
            try TestFiles.write(
                Self.idx(magic: 0x802, dimensions: [3, 2, 2], data: Array(repeating: 7, count: 12)), to: dataset.trainImages)
        case .labelsMagic: try TestFiles.write(Self.idx(magic: 0x803, dimensions: [3], data: [0, 1, 2]), to: dataset.trainLabels)
        case .countMismatch:
            try TestFiles.write(
                Self.idx(magic: 0x803, dimensions: [2, 2, 2], data: Array(repeating: 7, count: 8)), to: dataset.trainImages)
        case .truncatedImage: try TestFiles.write(Array(images.dropLast(1)), to: dataset.trainImages)
        case .extraImageBytes: try TestFiles.write(images + [1, 2, 3, 4], to: dataset.trainImages)
        case .labelOutOfRange: try TestFiles.write(Self.idx(magic: 0x801, dimensions: [3], data: [0, 3, 2]), to: dataset.trainLabels)
        case .truncatedLabels: try TestFiles.write(Array(labels.dropLast(1)), to: dataset.trainLabels)
        case .shortHeader: try TestFiles.write(Array(images.prefix(10)), to: dataset.testImages)
        case .zeroSize: try TestFiles.write(Self.idx(magic: 0x803, dimensions: [3, 0, 2], data: []), to: dataset.trainImages)
        case .missingFile: try FileManager.default.removeItem(atPath: dataset.testLabels)
        }
        expectFetchError(.badDatasetFile) { _ = try dataset.importImages(into: dir + "/out") }
    }

    @Test func unusableClassNamesAndAFullDestinationAreRefused() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var dataset = try Self.writeIDX(in: dir, rows: 2, columns: 2, trainLabels: [0], testLabels: [0], gzip: false)
        let refused = [
            ["a", "a/b", "c"], ["a", ".b", "c"], ["a", "a", "c"], ["a", "", "c"], ["a", "..", "c"], ["a", "b\nc", "d"],
            ["a", "bell\u{7}", "c"], ["a", "nul\0", "c"],
        ]
        for names in refused {
            dataset.classNames = names
            expectFetchError(.badLayout) { _ = try dataset.importImages(into: dir + "/out") }
        }
        dataset.classNames = ["a", "b", "c"]
        try FileManager.default.createDirectory(atPath: dir + "/full", withIntermediateDirectories: true)
        try TestFiles.write([1], to: dir + "/full/something")
        expectFetchError(.badLayout) { _ = try dataset.importImages(into: dir + "/full") }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")))
    func debianFashionMNISTTestSetHasAThousandImagesPerClass() throws {
        // 10,000 small files: in memory (tmpfs) when possible, where creating and removing them
        // is many times faster than on a busy disk.
        let dir = try temporaryFolder(in: access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tiny = try Self.writeIDX(in: dir, rows: 28, columns: 28, trainLabels: [0], testLabels: [0], gzip: false)
        let debian = "/usr/share/datasets/fashion-mnist/"
        // The t10k files as the training set, a one-image stand-in as the test set, to stay fast.
        let dataset = IDXDataset(
            trainImages: debian + "t10k-images-idx3-ubyte.gz",
            trainLabels: debian + "t10k-labels-idx1-ubyte.gz",
            testImages: tiny.testImages, testLabels: tiny.testLabels,
            classNames: IDXDataset.fashionMNISTClassNames)
        let report = try dataset.importImages(into: dir + "/out")
        #expect(report.splits[0].imagesPerClass == Array(repeating: 1000, count: 10))
        let folder = dir + "/out/train/Ankle_boot"
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 1000)
        let first = try ImageDecoder().decode(
            fileAt: folder + "/" + (try FileManager.default.contentsOfDirectory(atPath: folder).sorted()[0])
        ).image
        #expect(first.width == 28 && first.height == 28 && first.format == .gray)
    }

    // MARK: - CIFAR-10

    @Test func cifarRecordsBecomeRGBImagesNumberedAcrossBatches() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let batches = try Self.writeCIFAR(in: dir, recordsPerBatch: 2, testRecords: 3)
        let report = try CIFAR10Dataset(folder: dir).importImages(into: dir + "/out", threads: 2)

        #expect(report.classNames == Self.cifarClasses)
        #expect(report.totalImages == 13)
        #expect(report.count(split: "train", className: "airplane") == 1)  // record 0 has label 0
        let decoder = ImageDecoder()
        for (index, label) in batches.train.enumerated() {
            let path = dir + "/out/train/\(Self.cifarClasses[label])/" + String(format: "%05d.png", index)
            let image = try decoder.decode(fileAt: path).image
            #expect(image.width == 32 && image.height == 32 && image.format == .rgb)
            #expect(image.pixels == Self.interleaved(record: index), "\(path)")
        }
        for (index, label) in batches.test.enumerated() {
            let path = dir + "/out/validation/\(Self.cifarClasses[label])/" + String(format: "%05d.png", index)
            #expect(try decoder.decode(fileAt: path).image.pixels == Self.interleaved(record: 100 + index))
        }
        #expect(TestFiles.files(under: dir + "/out").count == 13 + 1)  // the images and classes.txt
        #expect(try DatasetDirectory(reading: dir + "/out").classNames == Self.cifarClasses)
    }

    enum CIFARDamage: String, CaseIterable { case oddSize, emptyBatch, labelOutOfRange, nineClasses, missingBatch }

    @Test(arguments: CIFARDamage.allCases)
    func damagedCIFARFilesAreBadDatasetFiles(damage: CIFARDamage) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.writeCIFAR(in: dir, recordsPerBatch: 1, testRecords: 1)
        let folder = dir + "/cifar-10-batches-bin/"
        switch damage {
        case .oddSize: try TestFiles.write(Self.cifarRecord(label: 1, index: 0) + [0], to: folder + "data_batch_3.bin")
        case .emptyBatch: try TestFiles.write([], to: folder + "test_batch.bin")
        case .labelOutOfRange: try TestFiles.write(Self.cifarRecord(label: 10, index: 0), to: folder + "data_batch_2.bin")
        case .nineClasses:
            try TestFiles.write(Array(Self.cifarClasses.dropLast().joined(separator: "\n").utf8), to: folder + "batches.meta.txt")
        case .missingBatch: try FileManager.default.removeItem(atPath: folder + "data_batch_5.bin")
        }
        expectFetchError(.badDatasetFile) { _ = try CIFAR10Dataset(folder: dir).importImages(into: dir + "/out") }
    }

    // MARK: - Building test files

    static let cifarClasses = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// Sample `i` of record `record`: a pattern that differs between records and positions.
    static func grayPixels(record: Int, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 * 31 + record * 17 + $0 / 7) }
    }

    /// An IDX file: magic, big-endian dimensions, data.
    static func idx(magic: UInt32, dimensions: [UInt32], data: [UInt8]) -> [UInt8] {
        ([magic] + dimensions).flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } } + data
    }

    /// Four IDX files in `folder` (test records are numbered from 1000 in ``grayPixels``), class
    /// names zero, one, two.
    static func writeIDX(
        in folder: String, rows: Int, columns: Int, trainLabels: [UInt8], testLabels: [UInt8],
        gzip: Bool
    ) throws -> IDXDataset {
        func images(_ count: Int, first: Int) -> [UInt8] {
            idx(
                magic: 0x803, dimensions: [UInt32(count), UInt32(rows), UInt32(columns)],
                data: (0..<count).flatMap { grayPixels(record: first + $0, count: rows * columns) })
        }
        let files: [(String, [UInt8])] = [
            ("train-images-idx3-ubyte", images(trainLabels.count, first: 0)),
            ("train-labels-idx1-ubyte", idx(magic: 0x801, dimensions: [UInt32(trainLabels.count)], data: trainLabels)),
            ("t10k-images-idx3-ubyte", images(testLabels.count, first: 1000)),
            ("t10k-labels-idx1-ubyte", idx(magic: 0x801, dimensions: [UInt32(testLabels.count)], data: testLabels)),
        ]
        for (name, bytes) in files {
            try TestFiles.write(gzip ? ArchiveBuilder.gzip(bytes) : bytes, to: folder + "/" + name + (gzip ? ".gz" : ""))
        }
        let dataset = IDXDataset(folder: folder, classNames: ["zero", "one", "two"])
        #expect(dataset.trainImages.hasSuffix(gzip ? ".gz" : "ubyte"))
        return dataset
    }

    /// A CIFAR record: label, then planes R, G, B of a pattern depending on `index`.
    static func cifarRecord(label: UInt8, index: Int) -> [UInt8] {
        [label] + (0..<3072).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index &* 13 &+ $0 / 1024 &* 50) }
    }

    /// `cifarRecord(index:)`'s pixels, interleaved RGB.
    static func interleaved(record index: Int) -> [UInt8] {
        let planar = Array(cifarRecord(label: 0, index: index).dropFirst())
        return (0..<1024).flatMap { p in [planar[p], planar[1024 + p], planar[2048 + p]] }
    }

    /// A `cifar-10-batches-bin` folder in `folder`; returns the labels of the training and test
    /// records (test records are numbered from 100 in ``cifarRecord(label:index:)``).
    static func writeCIFAR(in folder: String, recordsPerBatch: Int, testRecords: Int) throws -> (train: [Int], test: [Int]) {
        let bin = folder + "/cifar-10-batches-bin/"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try TestFiles.write(Array((cifarClasses.joined(separator: "\n") + "\n\n").utf8), to: bin + "batches.meta.txt")
        var train: [Int] = []
        for batch in 1...5 {
            var bytes: [UInt8] = []
            for _ in 0..<recordsPerBatch {
                let label = (train.count * 3) % 10
                bytes += cifarRecord(label: UInt8(label), index: train.count)
                train.append(label)
            }
            try TestFiles.write(bytes, to: bin + "data_batch_\(batch).bin")
        }
        let test = (0..<testRecords).map { ($0 * 7 + 1) % 10 }
        try TestFiles.write(test.enumerated().flatMap { cifarRecord(label: UInt8($1), index: 100 + $0) }, to: bin + "test_batch.bin")
        return (train, test)
    }
}
