import Datasets
import Foundation
import Support
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The seeded, stratified split on class folders built in the test. The splitter never decodes
/// images, so the files hold short distinct byte strings under image names.
@Suite struct SplitTests {
    // MARK: - Assignment

    @Test func theSameSeedGivesTheSameTreeAndManifestWhereverTheDatasetIsAndAnotherSeedDoesNot() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["cat": 30, "dog": 25])
        let elsewhere = try Self.makeDataset(in: dir + "/elsewhere", classes: ["cat": 30, "dog": 25])
        for (seed, out, folder) in [(7, "a", source), (7, "b", elsewhere), (8, "c", source)] {
            try DatasetSplitter(validation: 0.2, test: 0.1, seed: UInt64(seed), threads: out == "b" ? 1 : 3)
                .plan(DatasetDirectory(reading: folder)).write(to: dir + "/" + out)
        }
        let manifestA = FileManager.default.contents(atPath: dir + "/a/split.json")
        #expect(manifestA != nil)
        #expect(manifestA == FileManager.default.contents(atPath: dir + "/b/split.json"))
        #expect(manifestA != FileManager.default.contents(atPath: dir + "/c/split.json"))
        #expect(TestFiles.files(under: dir + "/a") == TestFiles.files(under: dir + "/b"))
        #expect(TestFiles.files(under: dir + "/a") != TestFiles.files(under: dir + "/c"))
        #expect(TestFiles.files(under: dir + "/a").count == 55 + 1)  // the images and split.json
    }

    @Test func eachClassIsSplitInItsOwnProportions() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sizes = ["a": 10, "b": 7, "c": 25, "d": 1, "e": 0]
        let plan = try DatasetSplitter(validation: 0.2, test: 0.1, seed: 1)
            .plan(DatasetDirectory(reading: Self.makeDataset(in: dir, classes: sizes)))

        #expect(plan.classNames == ["a", "b", "c", "d", "e"])
        #expect(plan.splits == [.train, .validation, .test])
        for (name, n) in sizes {
            let validation = Int((Double(n) * 0.2).rounded()), test = Int((Double(n) * 0.1).rounded())
            #expect(plan.count(split: .validation, className: name) == validation, "\(name)")
            #expect(plan.count(split: .test, className: name) == test, "\(name)")
            #expect(plan.count(split: .train, className: name) == n - validation - test, "\(name)")
        }
        // b: 7 · 0.1 = 0.7 rounds to 1; c: 25 · 0.1 = 2.5 rounds half away from zero to 3.
        #expect(plan.count(split: .test, className: "b") == 1)
        #expect(plan.count(split: .test, className: "c") == 3)
        for file in plan.files {
            #expect(file.path == "\(file.split)/\(file.className)/" + file.source.dropFirst(file.className.count + 1))
        }
    }

    @Test func theAssignmentOfASeedIsPinned() throws {
        // Guards the shuffle, the bounded draw and the class-name hash against silent changes: a
        // seed must keep giving the same split across versions and machines. The expected files
        // were computed independently (a Python transcription of the documented algorithm).
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = try DatasetSplitter(validation: 0.3, seed: 42)
            .plan(DatasetDirectory(reading: Self.makeDataset(in: dir, classes: ["cat": 10])))
        let validation = plan.files.filter { $0.split == .validation }.map(\.source)
        #expect(validation == ["cat/img-02.png", "cat/img-04.png", "cat/img-07.png"])
    }

    @Test func noTestFolderWithoutATestFractionAndEmptyClassesStillGetFolders() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["a": 3, "b": 1])
        try DatasetSplitter(validation: 0.2, seed: 3).plan(DatasetDirectory(reading: source)).write(to: dir + "/out")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted() == ["split.json", "train", "validation"])
        #expect(TestFiles.isFolder(dir + "/out/validation/b"))  // 1 · 0.2 rounds to 0, the folder is still there
        let written = try DatasetDirectory(reading: dir + "/out")
        #expect(written.isSplit)
        #expect(written.splits.map { $0.classes.map(\.name) } == [["a", "b"], ["a", "b"]])
    }

    @Test(arguments: [(-0.1, 0.0), (0.5, 0.5), (1.0, 0.0), (0.2, -0.1), (Double.nan, 0.0)])
    func fractionsOutsideTheRangeAreRefused(validation: Double, test: Double) {
        expectError(DatasetError.self, .badLayout) { _ = try DatasetSplitter(validation: validation, test: test, seed: 0) }
    }

    // MARK: - Duplicates

    @Test func byteIdenticalFilesStayInOneSplitAndAreReported() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["cat": 20, "dog": 20])
        // Five pairs inside cat, and one file of cat copied into dog.
        for i in 0..<5 {
            try TestFiles.write(Array("cat \(i)".utf8), to: source + "/cat/img-\(String(format: "%02d", 10 + i)).png")
        }
        try TestFiles.write(Array("cat 0".utf8), to: source + "/dog/img-19.png")
        for seed in 0..<20 as Range<UInt64> {
            let plan = try DatasetSplitter(validation: 0.3, test: 0.2, seed: seed).plan(DatasetDirectory(reading: source))
            let groups = plan.duplicates
            #expect(groups.count == 5)
            for group in groups {
                let splits = Set(plan.files.filter { $0.sha256 == group.sha256 }.map(\.split))
                #expect(splits.count == 1, "seed \(seed): \(group.paths)")
            }
            let crossing = groups.filter(\.spansClasses)
            #expect(crossing.count == 1)
            #expect(crossing.first?.classNames == ["cat", "dog"])
            #expect(crossing.first?.paths.count == 3)
        }
    }

    // MARK: - Writing

    @Test func imagesAreHardLinksAndSubfoldersArePreserved() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["a": 4])
        try FileManager.default.createDirectory(atPath: source + "/a/deep/er", withIntermediateDirectories: true)
        try TestFiles.write([1, 2, 3], to: source + "/a/deep/er/x.jpg")
        try TestFiles.write([4], to: source + "/a/notes.txt")

        let plan = try DatasetSplitter(validation: 0.5, seed: 9).plan(DatasetDirectory(reading: source))
        let placement = try plan.write(to: dir + "/out/nested")  // the parent is created

        #expect(placement.hardLinks == 5 && placement.copies == 0)
        #expect(plan.ignoredFiles == ["a/notes.txt"])
        let deep = try #require(plan.files.first { $0.source == "a/deep/er/x.jpg" })
        #expect(deep.path == "\(deep.split)/a/deep/er/x.jpg")
        for file in plan.files {
            let original = try Self.status(source + "/" + file.source), copy = try Self.status(dir + "/out/nested/" + file.path)
            #expect(original.st_ino == copy.st_ino && copy.st_nlink == 2, "\(file.path)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/nested/train/a/notes.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/out") == ["nested"])  // no temporary left
    }

    @Test(.enabled(if: SplitTests.sharedMemoryIsAnotherFileSystem()))
    func imagesAreCopiedAcrossFileSystems() throws {
        let source = "/dev/shm/dp-split-\(UUID().uuidString)"
        let dir = try temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: dir)
            try? FileManager.default.removeItem(atPath: source)
        }
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let root = try Self.makeDataset(in: source, classes: ["a": 3, "b": 2])
        let plan = try DatasetSplitter(validation: 0.4, seed: 5).plan(DatasetDirectory(reading: root))
        let placement = try plan.write(to: dir + "/out")
        #expect(placement.hardLinks == 0 && placement.copies == 5)
        for file in plan.files {
            #expect(
                FileManager.default.contents(atPath: dir + "/out/" + file.path)
                    == FileManager.default.contents(atPath: root + "/" + file.source))
        }
    }

    @Test func theManifestRecordsSeedFractionsAndEveryFile() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["a": 3, "b": 2])
        try DatasetSplitter(validation: 0.25, test: 0.25, seed: 123).plan(DatasetDirectory(reading: source))
            .write(to: dir + "/out")
        let data = try #require(FileManager.default.contents(atPath: dir + "/out/split.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["version"] as? Int == 1)
        #expect(json["seed"] as? Int == 123)
        #expect(json["fractions"] as? [String: Double] == ["validation": 0.25, "test": 0.25])
        #expect(json["source"] == nil)  // no absolute path: the manifest does not depend on where DIR is
        #expect(json["classes"] as? [String] == ["a", "b"])
        let files = try #require(json["files"] as? [[String: String]])
        #expect(files.count == 5)
        #expect(files.map { $0["path"] ?? "" } == files.map { $0["path"] ?? "" }.sorted())
        for file in files {
            #expect(Set(file.keys) == ["path", "split", "class", "sha256", "source"])
            let path = try #require(file["path"]), source = try #require(file["source"])
            #expect(path == "\(file["split"] ?? "")/\(source)")
            #expect(file["sha256"] == (try SHA256Digest.ofFile(at: dir + "/out/" + path)))
        }
        #expect((json["duplicates"] as? [Any])?.isEmpty == true)
    }

    // MARK: - Refusals

    @Test func anAlreadySplitDatasetIsRefused() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["a": 2])
        try DatasetSplitter(validation: 0.5, seed: 1).plan(DatasetDirectory(reading: source)).write(to: dir + "/out")
        let split = try DatasetDirectory(reading: dir + "/out")
        #expect(split.isSplit)
        expectError(DatasetError.self, .badLayout) { _ = try DatasetSplitter(validation: 0.5, seed: 1).plan(split) }
    }

    @Test func anExistingOutputOrOneInsideTheDatasetIsRefusedAndNothingIsWritten() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Self.makeDataset(in: dir, classes: ["a": 2])
        let plan = try DatasetSplitter(validation: 0.5, seed: 1).plan(DatasetDirectory(reading: source))
        try FileManager.default.createDirectory(atPath: dir + "/exists", withIntermediateDirectories: false)
        for out in [dir + "/exists", source + "/split"] {
            expectError(DatasetError.self, .badLayout) { _ = try plan.write(to: out) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/exists").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["data", "exists"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: source) == ["a"])
    }

    // MARK: - Helpers

    /// `root/data/<class>/img-NN.png` for each class, `count` files each, every one with distinct bytes.
    static func makeDataset(in root: String, classes: [String: Int]) throws -> String {
        let data = root + "/data"
        for (name, count) in classes {
            try FileManager.default.createDirectory(atPath: data + "/" + name, withIntermediateDirectories: true)
            for i in 0..<count {
                try TestFiles.write(Array("\(name) \(i)".utf8), to: data + "/\(name)/img-" + String(format: "%02d", i) + ".png")
            }
        }
        return data
    }

    static func sharedMemoryIsAnotherFileSystem() -> Bool {
        guard let shm = try? status("/dev/shm"), let tmp = try? status(FileManager.default.temporaryDirectory.path) else {
            return false
        }
        return shm.st_dev != tmp.st_dev && access("/dev/shm", W_OK) == 0
    }

    static func status(_ path: String) throws -> stat {
        var result = stat()
        guard stat(path, &result) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return result
    }
}
