import Foundation
import Support
import TestSupport
import Testing

/// The ``SupportError`` `body` throws (nil when it throws none or another error).
func supportError(_ body: () throws -> Void) -> SupportError? {
    do { try body() } catch { return error as? SupportError }
    return nil
}

/// The code of the ``SupportError`` `body` throws.
func supportErrorCode(_ body: () throws -> Void) -> SupportError.Code? { supportError(body)?.code }

@Suite struct FileIOTests {
    @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        let path = dir + "/file.bin"
        try FileIO.writeAtomically(Data([1, 2, 3]), to: path)
        try FileIO.writeAtomically(Data([4, 5]), to: path)
        #expect(try FileIO.readFile(at: path) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file.bin"])
    }

    @Test func aFailedBodyKeepsTheOldFileAndRemovesTheTemporary() throws {
        struct Stop: Error {}
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        let path = dir + "/file.bin"
        try FileIO.writeAtomically(Data([9]), to: path)
        #expect(throws: Stop.self) {
            try FileIO.writeAtomically(to: path) { file in
                try file.write([1, 2, 3])
                throw Stop()
            }
        }
        #expect(try FileIO.readFile(at: path) == [9])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file.bin"])
    }

    @Test func prefetchPassesOverMissingPathsAndLeavesFilesAsTheyWere() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FileIO.writeAtomically(Data([7, 8, 9]), to: dir + "/a.bin")
        FileIO.prefetch([dir + "/a.bin", dir + "/missing.bin", dir, ""])
        #expect(try FileIO.readFile(at: dir + "/a.bin") == [7, 8, 9])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.bin"])
    }

    @Test func readFileRefusesOversizedFilesFoldersAndMissingFiles() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FileIO.writeAtomically(Data(count: 100), to: dir + "/big")
        #expect(supportErrorCode { _ = try FileIO.readFile(at: dir + "/big", limit: 99) } == .tooLarge)
        #expect(try FileIO.readFile(at: dir + "/big", limit: 100).count == 100)
        #expect(supportErrorCode { _ = try FileIO.readFile(at: dir) } == .fileSystem)
        #expect(supportErrorCode { _ = try FileIO.readFile(at: dir + "/missing") } == .fileSystem)
    }

    @Test func writingIntoAMissingFolderNamesThePath() {
        let error = supportError { try FileIO.writeAtomically(Data([1]), to: "/nonexistent-folder-\(UUID())/x") }
        #expect(error?.code == .fileSystem)
        #expect(error?.path.hasPrefix("/nonexistent-folder-") == true)
        #expect(error?.errno == ENOENT)
    }

    @Test func createFolderOverAFileIsAnError() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FileIO.writeAtomically(Data([1]), to: dir + "/file")
        #expect(supportErrorCode { try FileIO.createFolder(dir + "/file") } == .fileSystem)
        try FileIO.createFolder(dir + "/a/b/c")
        #expect(FileIO.exists(dir + "/a/b/c"))
    }
}

@Suite struct FolderLockTests {
    @Test func aSecondLockFailsAtOnceNamingThePidUntilTheFirstIsReleased() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        let first = try FolderLock(dir + "/out")
        let error = supportError { _ = try FolderLock(dir + "/out") }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("pid \(getpid())") == true)
        first.release()
        _ = try FolderLock(dir + "/out")
    }
}

@Suite struct ParallelWorkTests {
    @Test(arguments: [1, 2, 7])
    func mapKeepsIndexOrder(threads: Int) throws {
        let squares = try ParallelWork.map(count: 100, threads: threads) { _, index in index * index }
        #expect(squares == (0..<100).map { $0 * $0 })
    }

    @Test(arguments: [1, 2, 7])
    func theLowestFailingIndexIsReported(threads: Int) {
        struct Failed: Error { let index: Int }
        do {
            _ = try ParallelWork.map(count: 50, threads: threads) { _, index -> Int in
                if index == 13 || index == 30 { throw Failed(index: index) }
                return index
            }
            Issue.record("no error")
        } catch let error as Failed {
            #expect(error.index == 13)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func forEachVisitsEveryIndexOnceWithWorkersInRange() {
        let lock = NSLock()
        var seen = [Int](repeating: 0, count: 200)
        var workers = Set<Int>()
        ParallelWork.forEach(count: 200, threads: 3) { worker, index in
            lock.withLock {
                seen[index] += 1
                workers.insert(worker)
            }
            return true
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(workers.isSubset(of: [0, 1, 2]))
    }
}

@Suite struct HashTests {
    @Test func fnv1aAndSplitMixMatchTheirReferenceValues() {
        #expect(FNV1a64.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a64.hash("a") == 0xaf63_dc4c_8601_ec8c)  // the FNV reference test vector
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xe220_a839_7b1d_cdaf)  // Vigna's reference splitmix64.c, seed 0
    }
}

@Suite struct PathComponentTests {
    @Test func singleNamesPass() throws {
        for name in ["cats", "data.zip", ".hidden", "café", "a b", "x..y", String(repeating: "n", count: 255)] {
            try PathComponent.validate(name, what: "a name")
        }
    }

    @Test func namesThatLeaveTheirFolderOrBreakLinesAreRefused() {
        let refused = [
            "", ".", "..", "../x.zip", "a/b", "/", "a\0b", "line\nbreak", "tab\there", "del\u{7F}", "c1\u{85}",
            String(repeating: "n", count: 256),
        ]
        for name in refused {
            let error = supportError { try PathComponent.validate(name, what: "the dataset name") }
            #expect(error?.code == .badName, "\(name.debugDescription)")
            #expect(error?.message.hasPrefix("the dataset name must be a single file or folder name") == true)
            #expect(error.map { !$0.path.contains("\n") } == true)
        }
    }
}

@Suite struct DatasetDirectoryLinkTests {
    @Test func unresolvableLinksAreListedAsFilesNotDropped() throws {
        let root = try temporaryFolder()
        defer { FileIO.removeTree(root) }
        try FileIO.createFolder(root + "/cats")
        try FileIO.writeAtomically(Data([1]), to: root + "/cats/a.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/cats/loop.jpg", withDestinationPath: "loop.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/cats/gone.png", withDestinationPath: "missing.png")
        try FileManager.default.createSymbolicLink(atPath: root + "/cats/notes", withDestinationPath: "notes")
        try FileManager.default.createSymbolicLink(atPath: root + "/cats/folder-link", withDestinationPath: "..")
        let dataset = try DatasetDirectory(reading: root)
        let cats = try #require(dataset.splits.first?.classes.first)
        let resolved = URL(fileURLWithPath: root).standardizedFileURL.path
        #expect(cats.images == ["a.jpg", "gone.png", "loop.jpg"].map { resolved + "/cats/" + $0 })
        #expect(cats.otherFiles == [resolved + "/cats/notes"])
    }
}

@Suite struct DatasetDirectoryClassOrderTests {
    /// Class folders `names` under `root`, one file each.
    func makeClasses(_ names: [String], in root: String) throws {
        for name in names {
            try FileIO.createFolder(root + "/" + name)
            try FileIO.writeAtomically(Data([1]), to: root + "/" + name + "/a.png")
        }
    }

    @Test func theClassOrderFileSetsTheLabelOrderAndUnlistedFoldersFollowSorted() throws {
        let root = try temporaryFolder()
        defer { FileIO.removeTree(root) }
        try makeClasses(["Ankle_boot", "Bag", "T-shirt_top", "Trouser"], in: root + "/train")
        try makeClasses(["Ankle_boot", "T-shirt_top"], in: root + "/validation")
        #expect(try DatasetDirectory(reading: root).classNames == ["Ankle_boot", "Bag", "T-shirt_top", "Trouser"])

        try DatasetDirectory.writeClassOrder(["T-shirt_top", "Trouser", "Ankle_boot"], into: root)
        let dataset = try DatasetDirectory(reading: root)
        #expect(dataset.classOrder == ["T-shirt_top", "Trouser", "Ankle_boot"])
        #expect(dataset.classNames == ["T-shirt_top", "Trouser", "Ankle_boot", "Bag"])
        // A split folder read on its own takes its parent's order.
        #expect(try DatasetDirectory(reading: root + "/train").classNames == ["T-shirt_top", "Trouser", "Ankle_boot", "Bag"])
    }

    @Test(arguments: [
        ("T-shirt_top\nSneaker\n", "\"Sneaker\" (line 2) is not a class folder"),
        ("T-shirt_top\nT-shirt_top\n", "\"T-shirt_top\" is listed twice"),
        ("T-shirt_top\n\nTrouser\n", "line 2 is empty"),
    ])
    func aBadClassOrderFileIsRefusedNamingTheFile(text: String, message: String) throws {
        let root = try temporaryFolder()
        defer { FileIO.removeTree(root) }
        try makeClasses(["T-shirt_top", "Trouser"], in: root)
        try FileIO.writeAtomically(Data(text.utf8), to: root + "/" + DatasetDirectory.classOrderFileName)
        let error = supportError { _ = try DatasetDirectory(reading: root) }
        #expect(error?.code == .badLayout)
        #expect(error?.path == URL(fileURLWithPath: root).standardizedFileURL.path + "/classes.txt")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }
}

@Suite struct DatasetDirectoryFolderLinkTests {
    @Test func splitAndClassFoldersMayBeLinksToFolders() throws {
        let base = try temporaryFolder()
        defer { FileIO.removeTree(base) }
        for split in ["train", "validation"] {
            for name in ["cats", "dogs"] {
                try FileIO.createFolder(base + "/store/\(split)/\(name)")
                try FileIO.writeAtomically(Data([1]), to: base + "/store/\(split)/\(name)/a.jpg")
            }
        }
        try FileIO.createFolder(base + "/data")
        try FileManager.default.createSymbolicLink(atPath: base + "/data/train", withDestinationPath: base + "/store/train")
        try FileIO.createFolder(base + "/data/validation")
        try FileManager.default.createSymbolicLink(
            atPath: base + "/data/validation/cats", withDestinationPath: "../../store/validation/cats")
        try FileManager.default.createSymbolicLink(
            atPath: base + "/data/validation/dogs", withDestinationPath: base + "/store/validation/dogs")
        let dataset = try DatasetDirectory(reading: base + "/data")
        let root = URL(fileURLWithPath: base).standardizedFileURL.path + "/data"
        #expect(dataset.isSplit && dataset.splits.map(\.name) == ["train", "validation"])
        #expect(dataset.classNames == ["cats", "dogs"])
        #expect(dataset.splits[0].classes[0].images == [root + "/train/cats/a.jpg"])
        #expect(dataset.splits[1].classes[1].images == [root + "/validation/dogs/a.jpg"])
    }

    @Test func linksBackUpOrToAFolderReadTwiceAreRefused() throws {
        let root = try temporaryFolder()
        defer { FileIO.removeTree(root) }
        try FileIO.createFolder(root + "/train/cats")
        try FileIO.writeAtomically(Data([1]), to: root + "/train/cats/a.jpg")
        try FileManager.default.createSymbolicLink(atPath: root + "/validation", withDestinationPath: "train")
        let twice = supportError { _ = try DatasetDirectory(reading: root) }
        #expect(twice?.code == .badLayout && twice?.message.contains("is the same folder") == true, "\(String(describing: twice))")

        try FileManager.default.removeItem(atPath: root + "/validation")
        try FileManager.default.createSymbolicLink(atPath: root + "/train/loop", withDestinationPath: "..")
        let loop = supportError { _ = try DatasetDirectory(reading: root) }
        #expect(loop?.code == .badLayout && loop?.message.contains("(a loop)") == true, "\(String(describing: loop))")
    }
}
