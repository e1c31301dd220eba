import Datasets
import Foundation
import Support
import TestSupport
import Testing

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
        let error = expectError(DatasetError.self, .badLayout) { try DatasetDirectory(reading: root) }
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
        let twice = expectError(DatasetError.self, .badLayout) { try DatasetDirectory(reading: root) }
        #expect(twice?.message.contains("is the same folder") == true, "\(String(describing: twice))")

        try FileManager.default.removeItem(atPath: root + "/validation")
        try FileManager.default.createSymbolicLink(atPath: root + "/train/loop", withDestinationPath: "..")
        let loop = expectError(DatasetError.self, .badLayout) { try DatasetDirectory(reading: root) }
        #expect(loop?.message.contains("(a loop)") == true, "\(String(describing: loop))")
    }
}
