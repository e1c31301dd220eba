import Datasets
import Fetch
import Foundation
import Support
import TestSupport
import Testing

/// `fetch` end to end against a loopback server: cache, verification, mirror, local copies, safety.
@Suite(.serialized) struct DatasetFetcherTests {
    /// A fresh cache root and a server, removed and stopped after `body`.
    func withServer(_ body: (LoopbackHTTPServer, String) throws -> Void) throws {
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        try body(server, home)
    }

    func options(_ home: String) -> FetchOptions {
        FetchOptions(
            home: home, searchPaths: [],
            download: DownloadOptions(maximumAttempts: 2, initialRetryDelay: 0.01, connectTimeout: 2, lowSpeedTime: 2))
    }

    /// `wrapper/train/{cats,dogs}` and `wrapper/validation/{cats,dogs}` with two files each.
    static func splitZip() throws -> [UInt8] {
        var entries: [ArchiveBuilder.Entry] = []
        for split in ["train", "validation"] {
            for animal in ["cats", "dogs"] {
                for i in 0..<2 { entries.append(.file("pets/\(split)/\(animal)/\(animal).\(i).jpg", text: "\(split) \(animal) \(i)")) }
            }
        }
        entries.append(.file("__MACOSX/pets/._cats.0.jpg", text: "resource fork"))
        return try ArchiveBuilder.archive(entries, format: .zip)
    }

    @Test func aURLIsFetchedOnceThenOnlyVerified() throws {
        try withServer { server, home in
            server.setFile(try Self.splitZip(), at: "/files/pets.zip")
            let fetcher = DatasetFetcher(options: options(home))
            var events: [String] = []
            let first = try fetcher.fetch(server.baseURL + "/files/pets.zip") { events.append("\($0)") }
            #expect(first.path == home + "/datasets/pets")
            #expect(!first.alreadyPresent)
            #expect(try DatasetDirectory(reading: first.path).isSplit)
            #expect(FileManager.default.fileExists(atPath: first.path + "/train/cats/cats.0.jpg"))
            #expect(!FileManager.default.fileExists(atPath: first.path + "/__MACOSX"))
            #expect(events.contains { $0.hasPrefix("recordedChecksum") })
            #expect(FileManager.default.fileExists(atPath: home + "/checksums.json"))

            let second = try fetcher.fetch(server.baseURL + "/files/pets.zip")
            #expect(second.alreadyPresent)
            #expect(second.path == first.path)
            #expect(server.requests.count == 1)  // nothing downloaded again

            // A changed cached download is found on the next fetch.
            let cached = try #require(Self.downloads(named: "pets.zip", in: home).first)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: cached))
            let tampered = expectFetchError(.checksumMismatch) { _ = try fetcher.fetch(server.baseURL + "/files/pets.zip") }
            #expect(tampered?.remedy == .force)

            // --force downloads again.
            var forced = fetcher
            forced.options.force = true
            #expect(try !forced.fetch(server.baseURL + "/files/pets.zip").alreadyPresent)
            #expect(server.requests.count == 2)

            // The server now serves other bytes under the same URL: a forced fetch downloads them,
            // they do not build, and neither they nor their digest are kept; the dataset stays.
            server.setFile(Array("other bytes".utf8), at: "/files/pets.zip")
            expectFetchError(.badArchive) { _ = try forced.fetch(server.baseURL + "/files/pets.zip") }
            #expect(Self.downloads(named: "pets.zip", in: home).isEmpty)
            #expect(try fetcher.fetch(server.baseURL + "/files/pets.zip").alreadyPresent)
        }
    }

    /// Paths of the cached downloads called `name` under `home` (one folder per source).
    static func downloads(named name: String, in home: String) -> [String] {
        let root = home + "/downloads"
        return (FileManager.default.subpaths(atPath: root) ?? []).filter { ($0 as NSString).lastPathComponent == name }
            .map { root + "/" + $0 }.sorted()
    }

    @Test func aDeletedDatasetFileIsNoticed() throws {
        try withServer { server, home in
            server.setFile(try Self.splitZip(), at: "/pets.zip")
            let fetcher = DatasetFetcher(options: options(home))
            let result = try fetcher.fetch(server.baseURL + "/pets.zip")
            try FileManager.default.removeItem(atPath: result.path + "/train/dogs/dogs.1.jpg")
            expectFetchError(.badLayout) { _ = try fetcher.fetch(server.baseURL + "/pets.zip") }
        }
    }

    @Test func registryURLsGoThroughTheMirrorAndAreChecked() throws {
        try withServer { server, home in
            let archive = try ArchiveBuilder.archive(
                [.file("flowers/daisy/a.jpg", text: "a"), .file("flowers/rose/b.jpg", text: "b")],
                format: .tarGzip)
            let digest = archive.withUnsafeBytes { bytes -> String in
                var sha = SHA256Digest()
                sha.update(bytes)
                return sha.hex()
            }
            server.setFile(archive, at: "/datasets/flowers.tgz")
            let entry = RegistryEntry(
                name: "flowers", summary: "test",
                files: [
                    .init(
                        name: "flowers.tgz", urls: ["https://unreachable.invalid/datasets/flowers.tgz"],
                        size: archive.count, sha256: digest)
                ],
                layout: .classFolders)
            var options = options(home)
            options.mirror = server.baseURL + "/"
            let result = try DatasetFetcher(options: options, registry: [entry]).fetch("flowers")
            #expect(server.requests.map(\.path) == ["/datasets/flowers.tgz"])
            #expect(try DatasetDirectory(reading: result.path).classNames == ["daisy", "rose"])

            // The same entry with a wrong digest: nothing is kept.
            var wrong = entry
            wrong.name = "flowers-wrong"
            wrong.files[0].sha256 = String(repeating: "0", count: 64)
            expectFetchError(.checksumMismatch) { _ = try DatasetFetcher(options: options, registry: [wrong]).fetch("flowers-wrong") }
            #expect(!FileManager.default.fileExists(atPath: home + "/datasets/flowers-wrong"))
        }
    }

    /// `--name` names the dataset folder of a registry dataset too; the registry's name still names
    /// its download, so a second name reuses the verified download, and each name re-fetched only
    /// verifies.
    @Test func aRegistryDatasetTakesTheGivenName() throws {
        try withServer { server, home in
            server.setFile(try Self.splitZip(), at: "/pets.zip")
            let entry = RegistryEntry(
                name: "pets", summary: "test",
                files: [.init(name: "pets.zip", urls: [server.baseURL + "/pets.zip"], size: nil, sha256: nil)],
                layout: .splitClassFolders)
            var named = options(home)
            named.name = "my-pets"
            let first = try DatasetFetcher(options: named, registry: [entry]).fetch("pets")
            #expect(first.path == home + "/datasets/my-pets" && first.name == "my-pets" && !first.alreadyPresent)
            #expect(try DatasetDirectory(reading: first.path).isSplit)
            #expect(!FileManager.default.fileExists(atPath: home + "/datasets/pets"))
            let again = try DatasetFetcher(options: named, registry: [entry]).fetch("pets")
            #expect(again.alreadyPresent)
            let plain = try DatasetFetcher(options: options(home), registry: [entry]).fetch("pets")
            #expect(plain.path == home + "/datasets/pets" && !plain.alreadyPresent)
            #expect(server.requests.count == 1, "the download of pets.zip is the registry dataset's, whatever the folder's name")

            named.name = "../up"
            expectFetchError(.badName) { _ = try DatasetFetcher(options: named, registry: [entry]).fetch("pets") }
        }
    }

    @Test func theNextURLIsTriedWhenOneFails() throws {
        try withServer { server, home in
            server.setFile(try Self.splitZip(), at: "/b/pets.zip")
            let entry = RegistryEntry(
                name: "pets", summary: "test",
                files: [
                    .init(
                        name: "pets.zip", urls: [server.baseURL + "/a/pets.zip", server.baseURL + "/b/pets.zip"],
                        size: nil, sha256: nil)
                ],
                layout: .splitClassFolders)
            var failed: [String] = []
            let result = try DatasetFetcher(options: options(home), registry: [entry]).fetch("pets") { event in
                if case .urlFailed(_, let url, let error, let remaining) = event {
                    failed.append(url)
                    #expect(error.code == .httpStatus)
                    #expect(remaining == 1)
                }
            }
            #expect(failed == [server.baseURL + "/a/pets.zip"])
            #expect(try DatasetDirectory(reading: result.path).isSplit)

            // When the last URL fails, the event says none remains.
            var remaining: [Int] = []
            let missing = RegistryEntry(
                name: "gone", summary: "test",
                files: [.init(name: "gone.zip", urls: [server.baseURL + "/a/gone.zip"], size: nil, sha256: nil)],
                layout: .splitClassFolders)
            expectFetchError(.httpStatus) {
                _ = try DatasetFetcher(options: options(home), registry: [missing]).fetch("gone") { event in
                    if case .urlFailed(_, _, _, let left) = event { remaining.append(left) }
                }
            }
            #expect(remaining == [0])
        }
    }

    @Test func aLocalPackageCopyIsUsedBeforeTheNetwork() throws {
        try withServer { _, home in
            // Tiny IDX files (2 training and 1 test image of 2×2) in a fake /usr/share/datasets.
            let share = home + "/share"
            try FileManager.default.createDirectory(atPath: share + "/tiny", withIntermediateDirectories: true)
            func idx(_ magic: UInt32, _ dims: [UInt32], _ data: [UInt8]) -> [UInt8] {
                let words = [magic] + dims
                return ArchiveBuilder.gzip(words.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) } + data)
            }
            let files: [(String, [UInt8])] = [
                ("train-images-idx3-ubyte.gz", idx(0x803, [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])),
                ("train-labels-idx1-ubyte.gz", idx(0x801, [2], [0, 1])),
                ("t10k-images-idx3-ubyte.gz", idx(0x803, [1, 2, 2], [9, 9, 9, 9])),
                ("t10k-labels-idx1-ubyte.gz", idx(0x801, [1], [1])),
            ]
            var remote: [RegistryEntry.RemoteFile] = []
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: share + "/tiny/" + name))
                remote.append(.init(name: name, urls: ["http://127.0.0.1:1/" + name], size: nil, sha256: String(repeating: "a", count: 64)))
            }
            // The package's own digests are accepted (Debian recompresses upstream's .gz files).
            var packaged: [String: String] = [:]
            for (name, _) in files { packaged[name] = try SHA256Digest.ofFile(at: share + "/tiny/" + name) }
            let entry = RegistryEntry(
                name: "tiny", summary: "test", files: remote, layout: .idx(classNames: ["zero", "one"]),
                localCopy: .init(folder: "tiny", package: "dataset-tiny", sha256: packaged))
            var options = options(home)
            options.searchPaths = [home + "/nowhere", share]
            var used: [String] = []
            let result = try DatasetFetcher(options: options, registry: [entry]).fetch("tiny") { event in
                if case .usingLocalCopy(_, let path) = event { used.append(path) }
            }
            #expect(used.count == 4)
            let dataset = try DatasetDirectory(reading: result.path)
            #expect(dataset.splits.map(\.name) == ["train", "validation"])
            #expect(dataset.classNames == ["zero", "one"])  // the registry's label order (classes.txt), not sorted
            #expect(dataset.splits[0].classes.map(\.images.count) == [1, 1])
            #expect(dataset.splits[1].classes.map(\.images.count) == [1, 0])

            // Without the package's digests, the copy does not match the (made-up) upstream digest:
            // it is rejected, and the download that follows fails.
            var unpackaged = entry
            unpackaged.name = "tiny2"
            unpackaged.localCopy?.sha256 = [:]
            expectFetchError(.transferFailed) { _ = try DatasetFetcher(options: options, registry: [unpackaged]).fetch("tiny2") }
        }
    }

    @Test func anUnsafeArchiveLeavesNothing() throws {
        try withServer { server, home in
            server.setFile(
                try ArchiveBuilder.archive([.file("ok/a.jpg", text: "a"), .file("../evil.jpg", text: "x")], format: .tar),
                at: "/evil.tar")
            expectFetchError(.unsafeEntry) { _ = try DatasetFetcher(options: options(home)).fetch(server.baseURL + "/evil.tar") }
            let left = try FileManager.default.contentsOfDirectory(atPath: home + "/datasets")
            #expect(left.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: home + "/evil.jpg"))
        }
    }

    @Test func twoArchivesMakeOneSplitDataset() throws {
        try withServer { server, home in
            func zip(_ prefix: String, _ count: Int) throws -> [UInt8] {
                var entries: [ArchiveBuilder.Entry] = []
                for kind in ["horses", "humans"] {
                    for i in 0..<count { entries.append(.file("\(prefix)\(kind)/\(kind)\(i).png", text: "\(prefix) \(kind) \(i)")) }
                }
                return try ArchiveBuilder.archive(entries, format: .zip)
            }
            server.setFile(try zip("", 3), at: "/h/horse-or-human.zip")
            server.setFile(try zip("wrapped/", 1), at: "/h/validation-horse-or-human.zip")
            let entry = RegistryEntry(
                name: "horse-or-human", summary: "test",
                files: [
                    .init(
                        name: "horse-or-human.zip", urls: [server.baseURL + "/h/horse-or-human.zip"], size: nil, sha256: nil, split: "train"
                    ),
                    .init(
                        name: "validation-horse-or-human.zip", urls: [server.baseURL + "/h/validation-horse-or-human.zip"], size: nil,
                        sha256: nil, split: "validation"),
                ],
                layout: .splitArchives)
            let fetcher = DatasetFetcher(options: options(home), registry: [entry])
            let result = try fetcher.fetch("horse-or-human")
            let dataset = try DatasetDirectory(reading: result.path)
            #expect(dataset.isSplit && dataset.splits.map(\.name) == ["train", "validation"])
            #expect(dataset.splits.map { $0.classes.map(\.images.count) } == [[3, 3], [1, 1]])
            #expect(dataset.classNames == ["horses", "humans"])
            #expect(result.sources.map(\.file) == ["horse-or-human.zip", "validation-horse-or-human.zip"])
            #expect(try fetcher.fetch("horse-or-human").alreadyPresent)
            #expect(server.requests.count == 2)
        }
    }

    @Test func cifar10ImportsFromALocalBatchesFolderAnArchiveAtAnyPathOrTheSearchPath() throws {
        try withServer { _, home in
            let local = home + "/elsewhere"
            _ = try ImporterTests.writeCIFAR(in: local, recordsPerBatch: 1, testRecords: 2)
            let fetcher = DatasetFetcher(options: options(home))

            // The batches folder itself, imported where it is.
            let folder = try fetcher.fetch(local + "/cifar-10-batches-bin")
            #expect(folder.name == "cifar-10-batches-bin")
            let imported = try DatasetDirectory(reading: folder.path)
            #expect(imported.classNames == ImporterTests.cifarClasses && imported.splits.map(\.name) == ["train", "validation"])
            #expect(imported.splits.map { $0.classes.reduce(0) { $0 + $1.images.count } } == [5, 2])
            #expect(try fetcher.fetch(local + "/cifar-10-batches-bin").alreadyPresent)

            // A tar.gz of it at any path.
            let names = CIFAR10Dataset.trainingBatchNames + [CIFAR10Dataset.testBatchName, CIFAR10Dataset.metadataName]
            let tarball = try ArchiveBuilder.archive(
                try names.map { name in
                    ArchiveBuilder.Entry.file(
                        "cifar-10-batches-bin/" + name,
                        Array(try Data(contentsOf: URL(fileURLWithPath: local + "/cifar-10-batches-bin/" + name))))
                }, format: .tarGzip)
            try TestFiles.write(tarball, to: local + "/my-cifar.tar.gz")
            let archive = try fetcher.fetch(local + "/my-cifar.tar.gz")
            #expect(archive.name == "my-cifar")
            #expect(try DatasetDirectory(reading: archive.path).classNames == ImporterTests.cifarClasses)
            #expect(TestFiles.files(under: archive.path).filter { $0.hasSuffix(".png") }.count == 7)

            // The registry's file directly under a search-path root.
            var digest = SHA256Digest()
            tarball.withUnsafeBytes { digest.update($0) }
            let entry = RegistryEntry(
                name: "cifar10", summary: "test",
                files: [
                    .init(name: "cifar-10-binary.tar.gz", urls: ["http://127.0.0.1:9/none"], size: tarball.count, sha256: digest.hex())
                ],
                layout: .cifar10Binary)
            try TestFiles.write(tarball, to: local + "/cifar-10-binary.tar.gz")
            var searched = options(home)
            searched.searchPaths = [local]
            var events: [String] = []
            let registry = try DatasetFetcher(options: searched, registry: [entry]).fetch("cifar10") { events.append("\($0)") }
            #expect(events.contains { $0.hasPrefix("usingLocalCopy") })
            #expect(try DatasetDirectory(reading: registry.path).classNames == ImporterTests.cifarClasses)
        }
    }

    @Test func unknownNamesAreRefused() throws {
        try withServer { _, home in
            expectFetchError(.unknownDataset) { _ = try DatasetFetcher(options: options(home)).fetch("no_such_dataset") }
        }
    }

    @Test func theBuiltInRegistryIsWellFormed() throws {
        let names = Registry.entries.map(\.name)
        #expect(Set(names).count == names.count)
        for required in [
            "cats_and_dogs_filtered", "horse-or-human", "flower_photos",
            "fashion_mnist", "mnist", "cifar10",
        ] {
            #expect(names.contains(required))
        }
        for entry in Registry.entries {
            for file in entry.files {
                #expect(!file.urls.isEmpty && file.size != nil, "\(entry.name)/\(file.name)")
                if let sha = file.sha256 { #expect(sha.count == 64 && sha.allSatisfy(\.isHexDigit)) }
                #expect((file.split != nil) == (entry.layout == .splitArchives), "\(entry.name)/\(file.name)")
            }
        }
        let horses = try #require(Registry.entry(named: "horse-or-human"))
        #expect(horses.layout == .splitArchives && horses.files.map(\.split) == ["train", "validation"])
    }
}
