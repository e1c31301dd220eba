import Foundation
import Support
import TestSupport
import Testing

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
        expectError(SupportError.self, .tooLarge) { _ = try FileIO.readFile(at: dir + "/big", limit: 99) }
        #expect(try FileIO.readFile(at: dir + "/big", limit: 100).count == 100)
        expectError(SupportError.self, .fileSystem) { _ = try FileIO.readFile(at: dir) }
        expectError(SupportError.self, .fileSystem) { _ = try FileIO.readFile(at: dir + "/missing") }
    }

    @Test func writingIntoAMissingFolderNamesThePath() {
        let error = expectError(SupportError.self, .fileSystem) {
            try FileIO.writeAtomically(Data([1]), to: "/nonexistent-folder-\(UUID())/x")
        }
        #expect(error?.path.hasPrefix("/nonexistent-folder-") == true)
        #expect(error?.errno == ENOENT)
    }

    @Test func createFolderOverAFileIsAnError() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FileIO.writeAtomically(Data([1]), to: dir + "/file")
        expectError(SupportError.self, .fileSystem) { try FileIO.createFolder(dir + "/file") }
        // Under a file: the message names the part that is a file (never Foundation's error codes).
        let under = expectError(SupportError.self, .fileSystem) { try FileIO.createFolder(dir + "/file/sub/deeper") }
        #expect(under?.message == "cannot create the folder: \(dir)/file is a file, not a folder", "\(String(describing: under))")
        try FileIO.createFolder(dir + "/a/b/c")
        #expect(FileIO.exists(dir + "/a/b/c"))
    }
}

@Suite struct FolderLockTests {
    @Test func aSecondLockFailsAtOnceNamingThePidUntilTheFirstIsReleased() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        let first = try FolderLock(dir + "/out")
        let error = expectError(SupportError.self, .locked) { try FolderLock(dir + "/out") }
        #expect(error?.message.contains("pid \(getpid())") == true)
        first.release()
        _ = try FolderLock(dir + "/out")
    }

    @Test func theLockFileHoldsThePidWhileHeldAndNothingOnceReleased() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        let path = dir + "/" + FolderLock.fileName
        let lock = try FolderLock(dir)
        #expect(try FileIO.readFile(at: path) == Array("\(getpid())\n".utf8))
        lock.release()
        #expect(try FileIO.readFile(at: path).isEmpty, "a finished folder keeps nothing of the run that wrote it")
    }

    /// Issue 23: a failed run leaves no folder holding only its lock; a folder that was there, or
    /// that got other files, stays.
    @Test func aFolderTheLockMadeIsRemovedWhenNothingElseWasPutThere() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FolderLock(dir + "/new").release()
        #expect(!FileIO.exists(dir + "/new"))
        try FolderLock(dir).release()
        #expect(FileIO.exists(dir + "/" + FolderLock.fileName))
        let used = try FolderLock(dir + "/used")
        try FileIO.writeAtomically(Data([1]), to: dir + "/used/file")
        used.release()
        #expect(FileIO.exists(dir + "/used/file") && FileIO.exists(dir + "/used/" + FolderLock.fileName))
    }

    /// Issue 23, class 2: a symbolic link (or anything but a file) planted as the lock file is
    /// refused; what the link points at is untouched.
    @Test func aLockFileThatIsALinkOrAFolderIsRefused() throws {
        let dir = try temporaryFolder()
        defer { FileIO.removeTree(dir) }
        try FileIO.writeAtomically(Data("keep".utf8), to: dir + "/precious")
        try FileIO.createFolder(dir + "/out")
        #expect(symlink(dir + "/precious", dir + "/out/" + FolderLock.fileName) == 0)
        let error = expectError(SupportError.self, .fileSystem) { try FolderLock(dir + "/out") }
        #expect(error?.message.contains("symbolic link") == true, "\(String(describing: error))")
        #expect(try FileIO.readFile(at: dir + "/precious") == Array("keep".utf8))
        try FileIO.createFolder(dir + "/other/" + FolderLock.fileName)
        expectError(SupportError.self, .fileSystem) { try FolderLock(dir + "/other") }
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
            let error = expectError(SupportError.self, .badName, "\(name.debugDescription)") {
                try PathComponent.validate(name, what: "the dataset name")
            }
            #expect(error?.message.hasPrefix("the dataset name must be a single file or folder name") == true)
            #expect(error.map { !$0.path.contains("\n") } == true)
        }
    }
}
