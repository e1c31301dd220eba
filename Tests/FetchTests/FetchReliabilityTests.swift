import Datasets
import Fetch
import Foundation
import Support
import TestSupport
import Testing

/// Issue 12's classes for `fetch`: what a cached download is, names that stay in their folder,
/// datasets without images, and one writer per dataset folder.
@Suite(.serialized) struct FetchReliabilityTests {
    /// A fresh cache root and a server, removed and stopped after `body`.
    func withServer(_ body: (LoopbackHTTPServer, String) throws -> Void) throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID())/home").path
        defer { try? FileManager.default.removeItem(atPath: (home as NSString).deletingLastPathComponent) }
        try body(server, home)
    }

    func fetcher(_ home: String, name: String? = nil, force: Bool = false) -> DatasetFetcher {
        DatasetFetcher(
            options: FetchOptions(
                home: home, searchPaths: [], force: force, name: name,
                download: DownloadOptions(maximumAttempts: 1, initialRetryDelay: 0.01, connectTimeout: 2, lowSpeedTime: 2)))
    }

    /// A zip of `<class>/0.jpg` files, one per class (give two or more: a single top-level
    /// folder is unwrapped).
    static func zip(classes: [String]) throws -> [UInt8] {
        try ArchiveBuilder.archive(classes.map { .file("\($0)/0.jpg", text: $0) }, format: .zip)
    }

    static func classNames(_ path: String) throws -> [String] { try DatasetDirectory(reading: path).classNames }

    // MARK: - What a cached download is

    @Test func twoSourcesWithOneFileNameNeverShareADatasetFolder() throws {
        try withServer { server, home in
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/a/data.zip")
            server.setFile(try Self.zip(classes: ["bees", "flies"]), at: "/b/data.zip")
            let a = try fetcher(home).fetch(server.baseURL + "/a/data.zip")
            #expect(try Self.classNames(a.path) == ["ants", "wasps"])

            let clash = expectFetchError(.nameInUse) { _ = try fetcher(home).fetch(server.baseURL + "/b/data.zip") }
            #expect(clash?.remedy == .chooseName)
            #expect(clash?.message.contains(server.baseURL + "/a/data.zip") == true)
            #expect(try Self.classNames(a.path) == ["ants", "wasps"])

            let b = try fetcher(home, name: "data-b").fetch(server.baseURL + "/b/data.zip")
            #expect(try Self.classNames(b.path) == ["bees", "flies"])
            #expect(!b.alreadyPresent)
            #expect(try fetcher(home).fetch(server.baseURL + "/a/data.zip").alreadyPresent)
            #expect(DatasetFetcherTests.downloads(named: "data.zip", in: home).count == 2)

            // --force replaces the dataset with the other source's.
            #expect(try Self.classNames(fetcher(home, force: true).fetch(server.baseURL + "/b/data.zip").path) == ["bees", "flies"])
        }
    }

    @Test func aPartialDownloadOfAnotherURLIsNeverResumed() throws {
        try withServer { server, home in
            let a = try ArchiveBuilder.archive(
                (0..<50).map { .file("\($0 % 2 == 0 ? "ants" : "wasps")/\($0).jpg", text: String(repeating: "a", count: 4000 + $0)) },
                format: .zipStored)
            server.setFile(a, at: "/a/data.zip")
            server.inject(.dropConnection(afterBodyBytes: 50_000), at: "/a/data.zip")
            expectFetchError(.transferFailed) { _ = try fetcher(home).fetch(server.baseURL + "/a/data.zip") }

            server.setFile(try Self.zip(classes: ["bees", "flies"]), at: "/b/data.zip")
            let b = try fetcher(home).fetch(server.baseURL + "/b/data.zip")
            #expect(try Self.classNames(b.path) == ["bees", "flies"])
            #expect(server.requests.filter { $0.path == "/b/data.zip" }.map(\.range) == [nil])

            // A's partial download is still A's: resumed under another name, it builds A.
            let resumed = try fetcher(home, name: "data-a").fetch(server.baseURL + "/a/data.zip")
            #expect(try Self.classNames(resumed.path) == ["ants", "wasps"])
            #expect(server.requests.filter { $0.path == "/a/data.zip" }.map(\.range) == [nil, "bytes=50000-"])
        }
    }

    @Test func forceRecoversFromABadRecordedDigest() throws {
        try withServer { server, home in
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/data.zip")
            let url = server.baseURL + "/data.zip"
            let wrong = String(repeating: "0", count: 64)
            try FileIO.createFolder(home)
            try FileIO.writeAtomically(Data(#"{"url:\#(url)":{"sha256":"\#(wrong)","size":0}}"#.utf8), to: home + "/checksums.json")

            let refused = expectFetchError(.checksumMismatch) { _ = try fetcher(home).fetch(url) }
            #expect(refused?.remedy == .force)

            var recorded: [String] = []
            let result = try fetcher(home, force: true).fetch(url) { event in
                if case .recordedChecksum(_, let sha256, let replacing) = event { recorded = [sha256, replacing ?? ""] }
            }
            #expect(try Self.classNames(result.path) == ["ants", "wasps"])
            #expect(recorded.count == 2 && recorded[1] == wrong && recorded[0] != wrong)
            #expect(try fetcher(home).fetch(url).alreadyPresent)
        }
    }

    // MARK: - Names from input stay in their folder

    @Test func anEscapingURLFileNameIsRefused() throws {
        try withServer { server, home in
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/x.zip")
            try FileIO.createFolder(home)
            for path in ["/..%2F..%2Fx.zip", "/..%2Fx.zip", "/%2E%2E", "/a%0Ab.zip", "/nul%00.zip"] {
                let error = expectFetchError(.badName) { _ = try fetcher(home, name: "ok").fetch(server.baseURL + path) }
                #expect(error?.message.contains("single file or folder name") == true, "\(path)")
                #expect(error.map { !$0.message.contains("\n") } == true)
            }
            let parent = (home as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == ["home"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: home) == [])
            #expect(server.requests.isEmpty)
        }
    }

    @Test func badDatasetNamesAreRefusedWithTheirRemedy() throws {
        try withServer { server, home in
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/data.zip")
            for name in ["", "..", "a/b", ".hidden", "line\nbreak"] {
                let error = expectFetchError(.badName) { _ = try fetcher(home, name: name).fetch(server.baseURL + "/data.zip") }
                #expect(error?.remedy == .chooseName, "\(name.debugDescription)")
            }
            #expect(server.requests.isEmpty)
            expectFetchError(.badName) { _ = try fetcher(home).fetch(server.baseURL + "/.zip") }
        }
    }

    // MARK: - Nothing to learn from

    @Test func archivesWithoutImagesFailAndPinNothing() throws {
        try withServer { server, home in
            let url = server.baseURL + "/data.zip"
            let empty = try ArchiveBuilder.archive([], format: .zip)
            let textOnly = try ArchiveBuilder.archive([.file("docs/readme.txt", text: "no images here")], format: .zip)
            let cases: [([UInt8], FetchError.Code)] = [
                (empty, .badLayout), (textOnly, .badLayout), ([], .badArchive),
                (Array("<html><body>503 Service Unavailable</body></html>".utf8), .badArchive),
            ]
            for (bytes, code) in cases {
                server.setFile(bytes, at: "/data.zip")
                let error = expectFetchError(code) { _ = try fetcher(home).fetch(url) }
                if code == .badLayout { #expect(error?.message.contains("holds no images") == true) }
                #expect(!FileManager.default.fileExists(atPath: home + "/datasets/data/" + FetchMarker.fileName))
                #expect(!FileManager.default.fileExists(atPath: home + "/checksums.json"))
                #expect(DatasetFetcherTests.downloads(named: "data.zip", in: home).isEmpty)
            }
            // Nothing was pinned, so the real file is accepted without --force.
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/data.zip")
            #expect(try Self.classNames(fetcher(home).fetch(url).path) == ["ants", "wasps"])
        }
    }

    // MARK: - One writer per dataset

    @Test func aSecondFetchOfTheSameDatasetFailsAtOnceNamingTheHolder() throws {
        try withServer { server, home in
            server.setFile(try Self.zip(classes: ["ants", "wasps"]), at: "/data.zip")
            let url = server.baseURL + "/data.zip"
            let held = try FolderLock(home + "/datasets/data")
            let error = expectFetchError(.locked) { _ = try fetcher(home).fetch(url) }
            #expect(error?.message.contains("pid \(getpid())") == true)
            #expect(server.requests.isEmpty)
            held.release()

            // The download folder of a source is locked too: the same source under another name.
            _ = try fetcher(home).fetch(url)
            let folder = try #require(
                DatasetFetcherTests.downloads(named: "data.zip", in: home).first.map { ($0 as NSString).deletingLastPathComponent })
            let heldDownload = try FolderLock(folder)
            expectFetchError(.locked) { _ = try fetcher(home, name: "other").fetch(url) }
            heldDownload.release()
            #expect(try fetcher(home, name: "other").fetch(url).alreadyPresent == false)
            #expect(try fetcher(home).fetch(url).alreadyPresent)
        }
    }
}
