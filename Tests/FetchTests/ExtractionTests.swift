import Fetch
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A scratch folder per test: the archive, the destination `out` (not created), and a `sentinel`
/// folder next to it that no extraction may touch.
private struct Scratch: ~Copyable {
    let root: String
    var archive: String { root + "/archive" }
    var destination: String { root + "/out" }
    var sentinel: String { root + "/sentinel" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("dp-extract-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root + "/sentinel", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: root + "/sentinel/file"))
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func write(_ entries: [ArchiveBuilder.Entry], _ format: ArchiveBuilder.Format) throws {
        try ArchiveBuilder.write(entries, format: format, to: archive)
    }

    func extract(limits: ExtractionLimits = ExtractionLimits()) throws -> ExtractionReport {
        try extractArchive(atPath: archive, into: destination, limits: limits)
    }

    /// Every path under the scratch folder except the archive, relative, sorted; links not followed.
    func everything() -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0 != "archive" }.sorted()
    }

    /// Every path under the destination, relative, sorted.
    func extracted() -> [String] {
        (FileManager.default.enumerator(atPath: destination)?.allObjects as? [String] ?? []).sorted()
    }

    func contents(_ relative: String) -> String? {
        FileManager.default.contents(atPath: destination + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Extraction must fail with `code` naming `entry`, and leave the scratch folder as it was:
    /// no destination, no partial folder, sentinel untouched, nothing anywhere else.
    func expectFailure(
        _ code: FetchError.Code, entry: String?, limits: ExtractionLimits = ExtractionLimits(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = expectFetchError(code, sourceLocation: sourceLocation) { _ = try extract(limits: limits) }
        if let entry, let error { #expect(error.subject == entry, "\(error)", sourceLocation: sourceLocation) }
        #expect(everything() == ["sentinel", "sentinel/file"], sourceLocation: sourceLocation)
        #expect(FileManager.default.contents(atPath: sentinel + "/file") == Data("keep".utf8), sourceLocation: sourceLocation)
    }
}

private func mode(_ path: String) -> Int {
    var status = stat()
    return lstat(path, &status) == 0 ? Int(status.st_mode) : -1
}

/// Some ordinary files written before the entry under test, so a failure has something to clean up.
private let ordinaryEntries: [ArchiveBuilder.Entry] = [
    .directory("train/"),
    .file("train/a.txt", text: "alpha"),
    .file("train/deep/b.txt", text: "beta"),
]

@Suite struct ExtractionTests {
    // MARK: - Round trips

    @Test(arguments: ArchiveBuilder.Format.allCases)
    func eachFormatRoundTripsATree(format: ArchiveBuilder.Format) throws {
        let scratch = try Scratch()
        let binary = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        try scratch.write(
            [
                .directory("data/"),
                .directory("data/empty/"),
                .file("data/cats/1.bin", binary),
                .file("data/cats/empty.txt", text: ""),
                .file("data/dogs/café.txt", text: "über"),
                .file("data/run.sh", text: "#!/bin/sh\n", permissions: 0o755),
                .file("data/setuid", text: "x", permissions: 0o4755),
                .file("./top.txt", text: "top"),
                .symbolicLink("data/link", to: "cats/1.bin"),
            ], format)
        let report = try scratch.extract()

        #expect(
            scratch.extracted() == [
                "data", "data/cats", "data/cats/1.bin", "data/cats/empty.txt", "data/dogs",
                "data/dogs/café.txt", "data/empty", "data/link", "data/run.sh", "data/setuid", "top.txt",
            ])
        #expect(FileManager.default.contents(atPath: scratch.destination + "/data/cats/1.bin") == Data(binary))
        #expect(scratch.contents("data/cats/empty.txt") == "")
        #expect(scratch.contents("data/dogs/café.txt") == "über")
        #expect(scratch.contents("top.txt") == "top")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.destination + "/data/link") == "cats/1.bin")
        var expected = ExtractionReport(destination: scratch.destination)
        expected.files = 6
        expected.folders = 4
        expected.symbolicLinks = 1
        expected.bytesWritten = Int64(binary.count + "über".utf8.count + "#!/bin/sh\n".utf8.count + 1 + 3)
        #expect(report == expected)

        let mask = umask(0)
        umask(mask)
        let allowed = ~Int(mask)
        #expect(mode(scratch.destination + "/data/cats/1.bin") & 0o7777 == 0o644 & allowed)
        #expect(mode(scratch.destination + "/data/run.sh") & 0o7777 == 0o755 & allowed)
        #expect(mode(scratch.destination + "/data/setuid") & 0o7777 == 0o755 & allowed)  // no setuid bit
        #expect(mode(scratch.destination + "/data/empty") & 0o7777 == 0o755 & allowed)
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.destination + "/data/cats/1.bin")
        #expect((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 == Double(ArchiveBuilder.Entry.defaultModificationTime))
        #expect(!FileManager.default.fileExists(atPath: scratch.destination + ".partial-\(getpid())"))
    }

    @Test func safeLinksInsideTheTreeAreExtractedAsLinks() throws {
        let scratch = try Scratch()
        try scratch.write(
            [
                .file("top.txt", text: "top"),
                .file("sub/deep/file.txt", text: "deep"),
                .symbolicLink("sub/up", to: "../top.txt"),
                .symbolicLink("sub/deep/up2", to: "../../sub/./deep/file.txt"),
                .symbolicLink("folder", to: "sub/deep"),
                .symbolicLink("self", to: "."),
                .symbolicLink("dangling", to: "not-there"),
                .hardLink("sub/hard.txt", to: "top.txt"),
            ], .tar)
        let report = try scratch.extract()
        #expect(report.symbolicLinks == 5 && report.hardLinks == 1 && report.files == 2)
        let fm = FileManager.default, out = scratch.destination
        #expect(try fm.destinationOfSymbolicLink(atPath: out + "/sub/up") == "../top.txt")
        #expect(try fm.destinationOfSymbolicLink(atPath: out + "/folder") == "sub/deep")
        #expect(scratch.contents("sub/up") == "top")
        #expect(scratch.contents("sub/deep/up2") == "deep")
        #expect(scratch.contents("folder/file.txt") == "deep")
        #expect(scratch.contents("sub/hard.txt") == "top")
        let top = try fm.attributesOfItem(atPath: out + "/top.txt"), hard = try fm.attributesOfItem(atPath: out + "/sub/hard.txt")
        #expect(top[.systemFileNumber] as? Int == hard[.systemFileNumber] as? Int)
    }

    /// Issue 23, class 9: an entry named twice, or two names that differ only by Unicode
    /// normalisation, never overwrite or hide each other silently: the archive is refused naming
    /// both, in zip and tar alike, and nothing is left.
    @Test(arguments: [ArchiveBuilder.Format.tar, .zip])
    func namesGivenTwiceOrEqualUpToNormalisationAreRefusedNamingBoth(format: ArchiveBuilder.Format) throws {
        let nfc = "train/caf\u{E9}.png", nfd = "train/cafe\u{301}.png"
        for (entries, entry, says) in [
            ([.file("train/a.txt", text: "again")], "train/a.txt", "twice"),
            // libarchive reads UTF-8 names as NFC: the two names arrive as one, named twice.
            ([.file(nfc, text: "one"), .file(nfd, text: "two")], nfc, "Unicode normalisation"),
            ([.file("train/b", text: "file"), .symbolicLink("train/b", to: "a.txt")], "train/b", "twice"),
        ] as [([ArchiveBuilder.Entry], String, String)] {
            let scratch = try Scratch()
            try scratch.write(ordinaryEntries + entries, format)
            let error = expectFetchError(.unsafeEntry) { _ = try scratch.extract() }
            #expect(
                (error?.subject == entry || error?.subject == nfd) && error?.message.contains(says) == true, "\(String(describing: error))")
            #expect(scratch.everything() == ["sentinel", "sentinel/file"])
        }
    }

    // MARK: - Refused entries

    /// Archives that must be refused, with the entry the error must name. Each starts with
    /// ordinary entries so something was already written when the bad one comes.
    static let unsafeArchives: [(name: String, entries: [ArchiveBuilder.Entry], entry: String)] = [
        ("parent path", [.file("../evil", text: "x")], "../evil"),
        ("parent path deeper", [.file("a/../../x", text: "x")], "a/../../x"),
        ("any .. component", [.file("a/../b", text: "x")], "a/../b"),
        ("absolute path", [.file("/tmp/dataprep-absolute-evil", text: "x")], "/tmp/dataprep-absolute-evil"),
        ("link to /etc", [.symbolicLink("etc", to: "/etc")], "etc"),
        ("link to ../..", [.symbolicLink("up", to: "../..")], "up"),
        ("nested link climbing out", [.symbolicLink("train/deep/up", to: "../../../sentinel")], "train/deep/up"),
        ("link chain climbing out", [.symbolicLink("p", to: "."), .symbolicLink("q", to: "p/p/..")], "q"),
        ("empty link target", [.symbolicLink("empty", to: "")], "empty"),
        ("write through link -> .", [.symbolicLink("link", to: "."), .file("link/../x", text: "x")], "link/../x"),
        ("file through in-tree link", [.symbolicLink("inside", to: "train"), .file("inside/x.txt", text: "x")], "inside/x.txt"),
        ("folder through in-tree link", [.symbolicLink("inside", to: "train"), .directory("inside/sub/")], "inside/sub/"),
        ("file through a file", [.file("train/a.txt/x", text: "x")], "train/a.txt/x"),
        ("file replacing a folder", [.file("train/deep", text: "x")], "train/deep"),
        ("link replacing a folder", [.symbolicLink("train", to: "a.txt")], "train"),
        ("hard link outside", [.hardLink("h", to: "../sentinel/file")], "h"),
        ("hard link absolute", [.hardLink("h", to: "/etc/passwd")], "h"),
        ("hard link not yet extracted", [.hardLink("h", to: "later.txt"), .file("later.txt", text: "x")], "h"),
        ("hard link to a link", [.symbolicLink("train/l", to: "a.txt"), .hardLink("h", to: "train/l")], "h"),
        ("hard link through a link", [.symbolicLink("inside", to: "train"), .hardLink("h", to: "inside/a.txt")], "h"),
        ("hard link to a folder", [.hardLink("h", to: "train/deep")], "h"),
        ("hard link to itself", [.hardLink("train/a.txt", to: "train/a.txt")], "train/a.txt"),
        ("character device", [.init(path: "null", content: .characterDevice, permissions: 0o666)], "null"),
        ("block device", [.init(path: "disk", content: .blockDevice, permissions: 0o660)], "disk"),
        ("FIFO", [.init(path: "pipe", content: .fifo, permissions: 0o644)], "pipe"),
        ("hidden device", [.init(path: ".hidden/null", content: .characterDevice, permissions: 0o666)], ".hidden/null"),
    ]

    @Test(arguments: unsafeArchives.indices)
    func unsafeTarEntriesAreRefusedAndNothingIsLeft(index: Int) throws {
        let (name, entries, entry) = Self.unsafeArchives[index]
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries + entries + [.file("after.txt", text: "after")], .tar)
        scratch.expectFailure(.unsafeEntry, entry: entry)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/dataprep-absolute-evil"), "\(name)")
    }

    @Test(arguments: ["../evil", "a/../../x", "/tmp/dataprep-absolute-evil-zip"])
    func unsafeZipPathsAreRefused(path: String) throws {
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries + [.file(path, text: "x")], .zip)
        scratch.expectFailure(.unsafeEntry, entry: path)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/dataprep-absolute-evil-zip"))
    }

    @Test func zipSymbolicLinksOutsideAreRefused() throws {
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries + [.symbolicLink("link", to: "../sentinel"), .file("link/file", text: "x")], .zip)
        scratch.expectFailure(.unsafeEntry, entry: "link")
    }

    // MARK: - Bombs

    /// About 1 GiB of zeros deflated into about 1 MB, built once (deflating takes a second or two).
    static let zipBomb: [UInt8] =
        (try? ArchiveBuilder.archive(
            [.file("readme.txt", text: "hi"), .zeros("zeros.bin", count: 1 << 30)],
            format: .zip)) ?? []

    @Test func aZipBombFailsFastAndLeavesNothing() throws {
        let scratch = try Scratch()
        #expect(Self.zipBomb.count < 2 << 20)
        try Data(Self.zipBomb).write(to: URL(fileURLWithPath: scratch.archive))
        let start = Date()
        scratch.expectFailure(.archiveBomb, entry: "zeros.bin")
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test func aRaisedRatioLimitLetsCompressibleDataThrough() throws {
        let scratch = try Scratch()
        try scratch.write([.zeros("zeros.bin", count: 48 << 20)], .tarGzip)
        scratch.expectFailure(.archiveBomb, entry: "zeros.bin")
        let report = try scratch.extract(limits: ExtractionLimits(maximumCompressionRatio: 10_000))
        #expect(report.bytesWritten == 48 << 20)
    }

    @Test func smallCompressibleArchivesAreBelowTheRatioFloor() throws {
        let scratch = try Scratch()
        try scratch.write([.zeros("zeros.bin", count: 8 << 20)], .zip)
        #expect(try scratch.extract().bytesWritten == 8 << 20)
    }

    @Test func theTotalSizeLimitHolds() throws {
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries + [.zeros("big.bin", count: 3 << 20)], .tar)
        scratch.expectFailure(.archiveBomb, entry: "big.bin", limits: ExtractionLimits(maximumTotalBytes: 1 << 20))
    }

    @Test func theEntryCountLimitHolds() throws {
        let scratch = try Scratch()
        try scratch.write((0..<20).map { .file("f\($0)", text: "x") }, .zip)
        scratch.expectFailure(.archiveBomb, entry: "f10", limits: ExtractionLimits(maximumEntries: 10))
    }

    // MARK: - Skipped entries

    @Test(arguments: [ArchiveBuilder.Format.zip, .tarGzip])
    func macOSMetadataAndHiddenEntriesAreSkipped(format: ArchiveBuilder.Format) throws {
        let scratch = try Scratch()
        let skipped = [
            "__MACOSX/", "__MACOSX/cats/._1.jpg", "cats/._1.jpg", ".DS_Store", "cats/.DS_Store",
            ".git/config", "cats/.ipynb_checkpoints/x.jpg", "__MACOSX/link",
        ]
        try scratch.write(
            [
                .directory("__MACOSX/"),
                .file("__MACOSX/cats/._1.jpg", text: "resource fork"),
                .file("cats/1.jpg", text: "jpeg"),
                .file("cats/._1.jpg", text: "resource fork"),
                .file(".DS_Store", text: "finder"),
                .file("cats/.DS_Store", text: "finder"),
                .file(".git/config", text: "git"),
                .file("cats/.ipynb_checkpoints/x.jpg", text: "checkpoint"),
                .symbolicLink("__MACOSX/link", to: "../cats"),
                .file("dogs/2.jpg", text: "jpeg"),
            ], format)
        let report = try scratch.extract()
        #expect(report.skippedEntries == skipped)
        #expect(report.files == 2)
        #expect(scratch.extracted() == ["cats", "cats/1.jpg", "dogs", "dogs/2.jpg"])
    }

    // MARK: - Damaged input and bad arguments

    @Test(arguments: [ArchiveBuilder.Format.tarGzip, .tarXz, .tarBzip2, .zip, .tar])
    func aTruncatedArchiveIsBad(format: ArchiveBuilder.Format) throws {
        let scratch = try Scratch()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let noise = (0..<300_000).map { _ in  // xorshift64: incompressible
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 32)
        }
        let archive = try ArchiveBuilder.archive(ordinaryEntries + [.file("noise.bin", noise), .file("z.txt", text: "z")], format: format)
        try Data(archive.prefix(archive.count / 2)).write(to: URL(fileURLWithPath: scratch.archive))
        scratch.expectFailure(.badArchive, entry: scratch.archive)
    }

    @Test func aZipWithADamagedFileIsBad() throws {
        let scratch = try Scratch()
        var archive = try ArchiveBuilder.archive(
            ordinaryEntries + [.file("data.txt", text: String(repeating: "payload ", count: 100))],
            format: .zipStored)
        let payload = Array("payload payload".utf8)
        let at = try #require((0..<archive.count - payload.count).first { Array(archive[$0..<$0 + payload.count]) == payload })
        archive[at] ^= 0x20
        try Data(archive).write(to: URL(fileURLWithPath: scratch.archive))
        scratch.expectFailure(.badArchive, entry: scratch.archive)
    }

    @Test(arguments: ["this is not an archive, just text\n", ""])
    func aFileThatIsNotAnArchiveIsBad(text: String) throws {
        let scratch = try Scratch()
        try Data(text.utf8).write(to: URL(fileURLWithPath: scratch.archive))
        scratch.expectFailure(.badArchive, entry: scratch.archive)
    }

    @Test func anExistingDestinationIsRefusedAndKept() throws {
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries, .zip)
        try FileManager.default.createDirectory(atPath: scratch.destination, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: scratch.destination + "/mine.txt"))
        expectFetchError(.fileSystem) { _ = try scratch.extract() }
        #expect(scratch.extracted() == ["mine.txt"])
    }

    @Test func missingParentFoldersOfTheDestinationAreCreated() throws {
        let scratch = try Scratch()
        try scratch.write(ordinaryEntries, .tarGzip)
        let destination = scratch.root + "/new/parent/out/"
        let report = try extractArchive(atPath: scratch.archive, into: destination)
        #expect(report.files == 2 && report.folders == 2)
        #expect(FileManager.default.contents(atPath: scratch.root + "/new/parent/out/train/deep/b.txt") == Data("beta".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/new/parent") == ["out"])
    }
}
