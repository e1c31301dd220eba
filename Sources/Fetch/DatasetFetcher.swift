import Datasets
import Foundation
import Support

// MARK: - Options, events, results

/// Where `fetch` keeps things and how it reaches the network.
public struct FetchOptions: Sendable {
    /// The cache root: `downloads/<source>/` (verified source files, one folder per source: a
    /// registry file or a URL), `datasets/<name>/` (class folders) and `checksums.json` (sha256
    /// digests recorded on the first download that built a dataset, where the registry has none).
    public var home: String
    /// A base URL that replaces the scheme, host and port of registry URLs (the path is kept).
    public var mirror: String?
    /// Folders searched before the network: `<root>/<folder>/<file>` (Debian's dataset packages
    /// install under `/usr/share/datasets`).
    public var searchPaths: [String]
    /// Fetch and build again even when the dataset is already there (or holds another source's
    /// dataset), downloading afresh; a digest recorded on an earlier download (never a published
    /// one) is replaced by the new download's once it builds.
    public var force: Bool
    /// The dataset folder's name (default: a registry dataset's own, or the archive's file name without extensions).
    /// It must be a single visible folder name.
    public var name: String?
    public var limits: ExtractionLimits
    /// Retries and timeouts for downloads (expected size and sha256 are set per file).
    public var download: DownloadOptions

    public init(
        home: String, mirror: String? = nil, searchPaths: [String] = ["/usr/share/datasets"], force: Bool = false,
        name: String? = nil, limits: ExtractionLimits = ExtractionLimits(), download: DownloadOptions = DownloadOptions()
    ) {
        self.home = home
        self.mirror = mirror
        self.searchPaths = searchPaths
        self.force = force
        self.name = name
        self.limits = limits
        self.download = download
    }

    /// The cache root from `DATAPREP_HOME`, else `$XDG_CACHE_HOME/dataprep`, else `~/.cache/dataprep`.
    public static func defaultHome(environment: [String: String]? = nil) -> String {
        DataPrepHome.path(environment: environment)
    }
}

/// What `fetch` is doing, for the caller to show (the library never prints).
public enum FetchEvent: Sendable {
    /// A verified copy installed by a system package is used instead of downloading.
    case usingLocalCopy(file: String, path: String)
    /// A verified download from an earlier run is used.
    case usingCachedDownload(file: String, path: String)
    /// A file was found but its sha256 does not match; it is not used.
    case rejected(file: String, path: String, sha256: String)
    case downloading(file: String, url: String)
    case progress(file: String, DownloadProgress)
    case downloaded(file: String, DownloadResult)
    /// A URL failed; the next one is tried when `remaining` (the URLs not tried yet) is above 0.
    case urlFailed(file: String, url: String, error: FetchError, remaining: Int)
    /// The file's sha256 was not known: the dataset built from it, so it is recorded now and
    /// checked on every later use. `replacing` is the digest recorded before, when a forced fetch
    /// replaced it.
    case recordedChecksum(file: String, sha256: String, replacing: String?)
    case extracting(file: String)
    case importing(String)
}

/// The outcome of a fetch.
public struct FetchResult: Sendable, Hashable {
    /// The dataset's folder: `<home>/datasets/<name>`, always the same for the same name.
    public var path: String
    public var name: String
    /// Whether it was already there (then only verified).
    public var alreadyPresent: Bool
    /// Every source file used, with where it came from and its sha256.
    public var sources: [FetchMarker.Source]
}

/// `.dataprep-fetch.json`, written into a dataset folder when it is complete: what it was built from,
/// and how many files and bytes it held, so a later fetch can verify instead of redoing the work.
public struct FetchMarker: Codable, Sendable, Hashable {
    public struct Source: Codable, Sendable, Hashable {
        public var file: String
        /// The local copy, cached download or URL it came from.
        public var origin: String
        public var sha256: String
        public var size: Int
    }

    public static let fileName = ".dataprep-fetch.json"

    public var name: String
    /// What the dataset was fetched from: `url:<URL>` for an archive fetched by URL or path,
    /// `registry:<name>` for a registry dataset; nil in markers written before it was recorded.
    public var source: String?
    public var tool: String
    public var sources: [Source]
    /// Regular files in the dataset folder (the marker excluded) and their total size.
    public var files: Int
    public var bytes: Int64
}

// MARK: - Fetcher

/// `dataprep fetch`: obtains a dataset's files (local copy, then cache, then the network), verifies
/// them, and turns them into `<home>/datasets/<name>/` class folders exactly once.
///
/// Each source file is checked against the registry's sha256 (or size), or against the digest
/// recorded on its first download; a digest is recorded only once the dataset built from the
/// download. Downloads, their partial files and recorded digests belong to one source (a registry
/// file, or a URL): `downloads/<source>/<file>`. The dataset folder is locked (Support's
/// `FolderLock`) for the whole fetch, as is each download folder it uses, so a second fetch of
/// the same dataset or source fails at once. It is built in a staging folder and renamed into
/// place with a marker naming its source; a later fetch of the same source only verifies its
/// sources and the folder's file count and size, and a fetch of another source under the same
/// name is refused. A dataset without any image is refused. Blocks the calling thread.
public struct DatasetFetcher: Sendable {
    public var options: FetchOptions
    /// The datasets known by name (the built-in registry unless a caller supplies its own).
    public var registry: [RegistryEntry]
    /// Written into markers as `tool`.
    public var tool: String

    public init(options: FetchOptions, registry: [RegistryEntry] = Registry.entries, tool: String = "dataprep") {
        self.options = options
        self.registry = registry
        self.tool = tool
    }

    var downloads: String { options.home + "/downloads" }
    var datasets: String { options.home + "/datasets" }

    /// Fetches a registry dataset by name, any archive by URL (`http(s)://`, `file://`, or a path
    /// to a local archive; one holding the CIFAR-10 binary batches is imported to PNG class
    /// folders), or a local CIFAR-10 batches folder (imported from where it is; the dataset name
    /// defaults to the folder's name).
    /// - Parameter events: called on the calling thread as work proceeds.
    /// - Throws: ``FetchError`` — `unknownDataset`; `badName` when the URL's file name or the
    ///   dataset name is not a single visible folder name; `nameInUse` when the dataset name holds
    ///   another source's dataset (unless forced); `locked` when another process is fetching the
    ///   same dataset or source (the message names its pid); `checksumMismatch` (both digests in
    ///   the message); download, extraction and import errors; `badLayout` when an archive holds no
    ///   images or a registry archive does not hold the layout it should; `fileSystem`. Errors
    ///   whose message suggests a choice carry a ``FetchError/Remedy``.
    public func fetch(_ nameOrURL: String, events: (FetchEvent) -> Void = { _ in }) throws -> FetchResult {
        let entry = try resolve(nameOrURL)
        let target = datasets + "/" + datasetName(of: entry)
        let lock = try FetchError.converting { try FolderLock(target) }
        defer { lock.release() }
        do {
            return try fetch(entry, into: target, subject: nameOrURL, events: events)
        } catch {
            Self.removeIfOnlyLocked(target)  // the folder the lock made, if nothing else is there
            throw error
        }
    }

    /// ``fetch(_:events:)`` once `target` is locked.
    private func fetch(
        _ entry: RegistryEntry, into target: String, subject nameOrURL: String, events: (FetchEvent) -> Void
    ) throws -> FetchResult {
        let name = datasetName(of: entry)
        var checksums = try ChecksumStore(path: options.home + "/checksums.json")

        // A marker that does not name its source (written by an older version) cannot tell a
        // clash: the dataset is built again.
        if let marker = Self.readMarker(in: target), let source = marker.source {
            guard source == Self.source(of: entry) || options.force else {
                throw FetchError(
                    .nameInUse,
                    "the dataset \(name) was fetched from \(source) and this is another source; choose a dataset name",
                    subject: nameOrURL, remedy: .chooseName)
            }
            if !options.force {
                try verify(marker, of: entry, at: target)
                return FetchResult(path: target, name: name, alreadyPresent: true, sources: marker.sources)
            }
        }
        var obtained: [ObtainedFile] = []
        for file in entry.files {
            obtained.append(try obtain(file, of: entry, checksums: checksums, events: events))
        }
        do {
            try build(entry, from: obtained, into: target, events: events)
        } catch {
            // A download nothing vouches for that did not build is not kept: the next fetch
            // downloads afresh instead of pinning or reusing it.
            for file in obtained where file.unverifiedKey != nil { FileIO.removeTree(file.path) }
            for file in obtained where file.lock != nil { Self.removeIfOnlyLocked((file.path as NSString).deletingLastPathComponent) }
            throw error
        }
        for file in obtained {
            guard let key = file.unverifiedKey else { continue }
            let previous = checksums[key]?.sha256
            try checksums.record(key, sha256: file.source.sha256, size: file.source.size)
            events(
                .recordedChecksum(
                    file: file.source.file, sha256: file.source.sha256, replacing: previous == file.source.sha256 ? nil : previous))
        }
        return FetchResult(path: target, name: name, alreadyPresent: false, sources: obtained.map(\.source))
    }

    /// The name of `entry`'s dataset folder: ``FetchOptions/name`` when it is given (for a
    /// registry dataset too: the registry's name still names its downloads and its source),
    /// else the entry's.
    func datasetName(of entry: RegistryEntry) -> String { options.name ?? entry.name }

    // MARK: Resolving names and URLs

    /// The registry entry for `nameOrURL`, or an ad-hoc entry for a URL, an archive path or a
    /// CIFAR-10 batches folder, its dataset name and file names checked.
    /// - Throws: ``FetchError`` `unknownDataset`, or `badName` (see ``checkNames(of:subject:)``).
    func resolve(_ nameOrURL: String) throws -> RegistryEntry {
        if let entry = registry.first(where: { $0.name == nameOrURL }) {
            try Self.checkNames(of: entry, subject: nameOrURL)
            if let name = options.name {
                var named = entry
                named.name = name
                try Self.checkNames(of: named, subject: nameOrURL)
            }
            return entry
        }
        var url = nameOrURL
        if !url.contains("://") {
            guard FileManager.default.fileExists(atPath: url) else {
                throw FetchError(
                    .unknownDataset,
                    "not a registry dataset, a URL or an archive file; "
                        + "the registry lists the known datasets", subject: nameOrURL, remedy: .listRegistry)
            }
            let path = URL(fileURLWithPath: url).standardizedFileURL.path
            if let folder = CIFAR10Dataset.batchesFolder(in: path) {
                let entry = RegistryEntry(
                    name: options.name ?? (path as NSString).lastPathComponent, summary: folder,
                    files: (CIFAR10Dataset.trainingBatchNames + [CIFAR10Dataset.testBatchName, CIFAR10Dataset.metadataName]).map {
                        .init(name: $0, urls: [URL(fileURLWithPath: folder + "/" + $0).absoluteString], size: nil, sha256: nil)
                    },
                    layout: .cifar10Folder(path: folder))
                try Self.checkNames(of: entry, subject: nameOrURL)
                return entry
            }
            url = URL(fileURLWithPath: url).standardizedFileURL.absoluteString
        }
        let fileName = Self.fileName(of: url)
        let entry = RegistryEntry(
            name: options.name ?? Self.stripArchiveExtensions(fileName), summary: url,
            files: [.init(name: fileName, urls: [url], size: nil, sha256: nil)], layout: .archive)
        try Self.checkNames(of: entry, subject: url)
        return entry
    }

    /// The last segment of `url`'s path, percent-decoded (`..%2Fx.zip` is `../x.zip`); `archive`
    /// when the path has none.
    static func fileName(of url: String) -> String {
        guard let last = URLComponents(string: url)?.percentEncodedPath.split(separator: "/").last else { return "archive" }
        return last.removingPercentEncoding ?? String(last)
    }

    /// Checks, with Support's `PathComponent.validate(_:what:)`, that each file name of `entry`
    /// is a single name (so the download stays in its folder), then that the dataset name is a
    /// single visible folder name.
    /// - Throws: ``FetchError`` `badName` naming the file or dataset name; a bad dataset name
    ///   carries ``FetchError/Remedy/chooseName``.
    static func checkNames(of entry: RegistryEntry, subject: String) throws {
        for file in entry.files {
            do {
                try PathComponent.validate(file.name, what: "the file name the URL gives")
            } catch {
                throw FetchError(.badName, "\(error.message) (\(error.path))", subject: subject)
            }
        }
        do {
            try PathComponent.validate(entry.name, what: "the dataset name")
        } catch {
            throw FetchError(.badName, "\(error.message) (\(error.path)); choose a dataset name", subject: subject, remedy: .chooseName)
        }
        guard !DatasetDirectory.isHidden(entry.name) else {
            throw FetchError(
                .badName, "the dataset name \(entry.name) would be a hidden folder; choose a dataset name", subject: subject,
                remedy: .chooseName)
        }
    }

    /// What a dataset is fetched from, as its marker records it: `url:<URL>`, `folder:<path>` or
    /// `registry:<name>`.
    static func source(of entry: RegistryEntry) -> String {
        switch entry.layout {
        case .archive: "url:" + entry.files[0].urls[0]
        case .cifar10Folder(let path): "folder:" + path
        default: "registry:" + entry.name
        }
    }

    static func stripArchiveExtensions(_ fileName: String) -> String {
        for suffix in [".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz2", ".txz", ".tar", ".zip"]
        where fileName.lowercased().hasSuffix(suffix) {
            return String(fileName.dropLast(suffix.count))
        }
        return fileName
    }

    /// `url` with its origin replaced by the mirror, when one is set and the entry is a registry one.
    func mirrored(_ url: String, entry: RegistryEntry) -> String {
        guard let mirror = options.mirror, !mirror.isEmpty, entry.layout != .archive,
            let components = URLComponents(string: url)
        else { return url }
        var path = components.percentEncodedPath
        if let query = components.percentEncodedQuery { path += "?" + query }
        return (mirror.hasSuffix("/") ? String(mirror.dropLast()) : mirror) + path
    }

    // MARK: Obtaining files

    /// A source file ready to build from: where it is, and what the marker records of it.
    struct ObtainedFile {
        var source: FetchMarker.Source
        /// The local copy or the cached download.
        var path: String
        /// The checksum key of a download nothing vouched for (no published or recorded digest,
        /// or a forced fetch): its digest is recorded once the dataset builds.
        var unverifiedKey: String?
        /// The lock of its download folder, held until the fetch ends.
        var lock: FolderLock?
    }

    /// `downloads/<source>/`: the folder of one source file's download, partial file and their
    /// lock. `<source>` is the first 16 hex digits of the sha256 of the file's checksum key (the
    /// registry dataset and file, or the URL), so two sources never share a file.
    func downloadFolder(for file: RegistryEntry.RemoteFile, of entry: RegistryEntry) -> String {
        var digest = SHA256Digest()
        Array(ChecksumStore.key(entry: entry, file: file).utf8).withUnsafeBytes { digest.update($0) }
        return downloads + "/" + digest.hex().prefix(16)
    }

    /// A verified copy of `file`: a local package copy (`<root>/<folder>/<file>`, or
    /// `<root>/<file>` directly under a search-path root), the cached download, or a new
    /// download; a CIFAR-10 batches folder's files are used where they are.
    /// A forced fetch ignores a recorded digest (never a published one) and downloads afresh.
    func obtain(
        _ file: RegistryEntry.RemoteFile, of entry: RegistryEntry, checksums: ChecksumStore,
        events: (FetchEvent) -> Void
    ) throws -> ObtainedFile {
        let key = ChecksumStore.key(entry: entry, file: file)
        let recorded = options.force ? nil : checksums[key]
        let expected = file.sha256 ?? recorded?.sha256
        let expectedSize = file.size ?? recorded?.size

        if case .cifar10Folder(let folder) = entry.layout {  // used where it is; the marker records its digest
            let path = folder + "/" + file.name
            try requireFile(path)
            events(.usingLocalCopy(file: file.name, path: path))
            return ObtainedFile(
                source: .init(file: file.name, origin: path, sha256: try SHA256Digest.ofFile(at: path), size: try Self.size(of: path)),
                path: path)
        }
        // `<root>/<file>` directly under a root is only taken when it matches (another dataset may
        // have a file of the same name there), so a mismatch is not reported.
        var candidates: [(path: String, reportMismatch: Bool)] = []
        for root in options.searchPaths {
            candidates.append((root + "/" + (entry.localCopy?.folder ?? entry.name) + "/" + file.name, true))
            if entry.layout != .archive { candidates.append((root + "/" + file.name, false)) }
        }
        for (path, reportMismatch) in candidates where FileManager.default.fileExists(atPath: path) {
            let sha = try SHA256Digest.ofFile(at: path)
            if sha == expected || sha == entry.localCopy?.sha256[file.name] {
                events(.usingLocalCopy(file: file.name, path: path))
                return ObtainedFile(
                    source: .init(file: file.name, origin: path, sha256: sha, size: try Self.size(of: path)), path: path)
            }
            if reportMismatch { events(.rejected(file: file.name, path: path, sha256: sha)) }
        }

        let folder = downloadFolder(for: file, of: entry)
        let lock = try FetchError.converting { try FolderLock(folder) }
        let cached = folder + "/" + file.name
        if options.force {
            FileIO.removeTree(cached)
            for leftover in [".partial", ".partial.json"] { FileIO.removeTree(cached + leftover) }
        } else if FileManager.default.fileExists(atPath: cached) {
            let sha = try SHA256Digest.ofFile(at: cached)
            if let expected, sha == expected {
                events(.usingCachedDownload(file: file.name, path: cached))
                return ObtainedFile(
                    source: .init(file: file.name, origin: cached, sha256: sha, size: try Self.size(of: cached)), path: cached,
                    lock: lock)
            }
            if expected != nil { events(.rejected(file: file.name, path: cached, sha256: sha)) }
            FileIO.removeTree(cached)  // a bad or unvouched cached file is never used; download again
        }

        var lastError = FetchError(.transferFailed, "no URL to download from", subject: file.name)
        let urls = file.urls.map { mirrored($0, entry: entry) }
        for (index, (url, original)) in zip(urls, file.urls).enumerated() {
            events(.downloading(file: file.name, url: url))
            var download = options.download
            download.expectedSHA256 = expected
            download.expectedSize = expectedSize
            do {
                let result = try Fetch.download(from: url, to: cached, options: download) { events(.progress(file: file.name, $0)) }
                events(.downloaded(file: file.name, result))
                return ObtainedFile(
                    source: .init(file: file.name, origin: url, sha256: result.sha256, size: result.size), path: cached,
                    unverifiedKey: expected == nil ? key : nil, lock: lock)
            } catch var error as FetchError {
                if error.code == .checksumMismatch, file.sha256 == nil, recorded != nil {
                    error.message +=
                        "; the expected sha256 was recorded on the first download of this source: "
                        + "if the file changed upstream, fetch it again with force to replace it"
                    error.remedy = .force
                } else if error.code == .checksumMismatch, url != original {
                    error.message += "; \(url) is the mirror's copy of the registry's \(original)"
                    error.remedy = .checkMirror
                }
                events(.urlFailed(file: file.name, url: url, error: error, remaining: urls.count - index - 1))
                lastError = error
            }
        }
        Self.removeIfOnlyLocked(folder)
        throw lastError
    }

    /// Removes `folder` when it holds nothing but its lock file, as a failed fetch leaves the
    /// folders it locked. Called while the lock is held, so no other fetch is using the folder.
    static func removeIfOnlyLocked(_ folder: String) {
        guard (try? FileManager.default.contentsOfDirectory(atPath: folder)) == [FolderLock.fileName] else { return }
        unlink(folder + "/" + FolderLock.fileName)
        rmdir(folder)
    }

    // MARK: Building the dataset folder

    /// Turns the verified source files into `target`, through a staging folder renamed into place.
    /// The new folder is locked before the rename, so the lock on `target` holds throughout.
    /// - Throws: ``FetchError`` `badLayout` when the result holds no image; extraction and import
    ///   errors; `fileSystem`.
    func build(
        _ entry: RegistryEntry, from sources: [ObtainedFile], into target: String,
        events: (FetchEvent) -> Void
    ) throws {
        let name = datasetName(of: entry)
        let staging = datasets + "/.\(name).staging-\(getpid())"
        FileIO.removeTree(staging)
        defer { FileIO.removeTree(staging) }
        let path = { (file: String) in sources.first { $0.source.file == file }!.path }
        var root = staging
        switch entry.layout {
        case .archive, .classFolders, .splitClassFolders:
            events(.extracting(file: entry.files[0].name))
            _ = try extractArchive(atPath: path(entry.files[0].name), into: staging, limits: options.limits)
            root = try Self.soleFolder(in: staging) ?? staging
            if entry.layout == .archive, let batches = CIFAR10Dataset.batchesFolder(in: root) {
                let extracted = staging + ".archive"
                try FetchError.converting { try FileIO.durableRename(staging, to: extracted) }
                defer { FileIO.removeTree(extracted) }
                events(.importing("CIFAR-10 batches → PNG class folders"))
                _ = try CIFAR10Dataset(folder: extracted + batches.dropFirst(staging.count)).importImages(into: staging)
                root = staging
            }
            if entry.layout == .splitClassFolders {
                let layout = try FetchError.converting { try DatasetDirectory(reading: root) }
                guard layout.isSplit else {
                    throw FetchError(.badLayout, "the archive does not hold train/validation class folders", subject: entry.name)
                }
            }
        case .idx(let classNames):
            events(.importing("IDX files → PNG class folders"))
            let idx = IDXDataset(
                trainImages: path("train-images-idx3-ubyte.gz"), trainLabels: path("train-labels-idx1-ubyte.gz"),
                testImages: path("t10k-images-idx3-ubyte.gz"), testLabels: path("t10k-labels-idx1-ubyte.gz"),
                classNames: classNames)
            _ = try idx.importImages(into: staging)
        case .splitArchives:
            try FetchError.converting { try FileIO.createFolder(staging) }
            for file in entry.files {
                events(.extracting(file: file.name))
                let extracted = staging + "/." + (file.split ?? file.name) + ".archive"
                _ = try extractArchive(atPath: path(file.name), into: extracted, limits: options.limits)
                let classes = try Self.soleFolder(in: extracted) ?? extracted
                try FetchError.converting { try FileIO.durableRename(classes, to: staging + "/" + (file.split ?? file.name)) }
                FileIO.removeTree(extracted)
            }
            let layout = try FetchError.converting { try DatasetDirectory(reading: staging) }
            guard layout.isSplit else {
                throw FetchError(.badLayout, "the archives do not make train/validation class folders", subject: entry.name)
            }
        case .cifar10Folder(let folder):
            events(.importing("CIFAR-10 batches → PNG class folders"))
            _ = try CIFAR10Dataset(folder: folder).importImages(into: staging)
        case .cifar10Binary:
            events(.extracting(file: entry.files[0].name))
            let extracted = staging + ".archive"
            FileIO.removeTree(extracted)
            defer { FileIO.removeTree(extracted) }
            _ = try extractArchive(atPath: path(entry.files[0].name), into: extracted, limits: options.limits)
            events(.importing("CIFAR-10 batches → PNG class folders"))
            _ = try CIFAR10Dataset(folder: extracted + "/cifar-10-batches-bin").importImages(into: staging)
        }
        let census = try Self.census(root)
        guard census.images > 0 else {
            let extensions = DatasetDirectory.imageExtensions.sorted().map { "." + $0 }.joined(separator: ", ")
            throw FetchError(
                .badLayout,
                "nothing to learn from: \(entry.files.map(\.name).joined(separator: ", ")) holds no images "
                    + "(\(census.files) files, none named \(extensions))", subject: entry.name)
        }
        let marker = FetchMarker(
            name: name, source: Self.source(of: entry), tool: tool, sources: sources.map(\.source), files: census.files,
            bytes: census.bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let markerBytes = try encoder.encode(marker)
        try FetchError.converting { try FileIO.writeAtomically(markerBytes, to: root + "/" + FetchMarker.fileName) }

        let previous = datasets + "/.\(name).previous-\(getpid())"
        let rootLock = try FetchError.converting { try FolderLock(root) }
        defer { rootLock.release() }
        try FetchError.converting {
            if FileIO.exists(target) { try FileIO.durableRename(target, to: previous) }
            try FileIO.durableRename(root, to: target)
        }
        FileIO.removeTree(previous)
    }

    /// The one non-hidden folder `folder` holds when it holds nothing else visible (an archive
    /// wrapping everything in `name/`), so that folder becomes the dataset root.
    /// - Throws: ``FetchError`` `fileSystem` when `folder` cannot be listed.
    static func soleFolder(in folder: String) throws -> String? {
        let visible: [String]
        do {
            visible = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        } catch {
            throw FetchError(.fileSystem, "cannot list the folder: \(error.localizedDescription)", subject: folder)
        }
        guard visible.count == 1 else { return nil }
        var isFolder: ObjCBool = false
        let path = folder + "/" + visible[0]
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue ? path : nil
    }

    // MARK: Verifying a finished dataset

    /// Checks that the sources a complete dataset was built from are unchanged where they are
    /// still kept, and that the folder holds the files and bytes it had.
    /// - Throws: ``FetchError`` `checksumMismatch` or `badLayout`, both with ``FetchError/Remedy/force``.
    func verify(_ marker: FetchMarker, of entry: RegistryEntry, at target: String) throws {
        for source in marker.sources {
            let path =
                source.origin.contains("://")
                ? entry.files.first { $0.name == source.file }.map { downloadFolder(for: $0, of: entry) + "/" + source.file } ?? ""
                : source.origin
            guard FileManager.default.fileExists(atPath: path) else { continue }  // a cleaned cache is fine
            let sha = try SHA256Digest.ofFile(at: path)
            guard sha == source.sha256 else {
                throw FetchError(
                    .checksumMismatch,
                    "the source file changed since the dataset was built: expected sha256 "
                        + "\(source.sha256), found \(sha); fetch it again with force to replace it", subject: path,
                    remedy: .force)
            }
        }
        let (files, bytes, _) = try Self.census(target)
        guard files == marker.files, bytes == marker.bytes else {
            throw FetchError(
                .badLayout,
                "the dataset folder changed since it was built (\(files) files, \(bytes) bytes; "
                    + "it had \(marker.files) files, \(marker.bytes) bytes); fetch it again with force to rebuild it",
                subject: target, remedy: .force)
        }
    }

    static func readMarker(in folder: String) -> FetchMarker? {
        FileManager.default.contents(atPath: folder + "/" + FetchMarker.fileName)
            .flatMap { try? JSONDecoder().decode(FetchMarker.self, from: $0) }
    }

    /// Regular files under `folder` (the marker and lock file at its top excluded), their total
    /// size, and how many of them have an image name, counted with `readdir` and `fstatat`
    /// (Foundation's enumerator takes seconds on 70,000 files).
    static func census(_ folder: String) throws -> (files: Int, bytes: Int64, images: Int) {
        var files = 0, bytes: Int64 = 0, images = 0
        func walk(_ path: String, isRoot: Bool) throws {
            guard let directory = opendir(path) else { throw FetchError(.system("cannot list the folder", path: path)) }
            defer { closedir(directory) }
            let fd = dirfd(directory)
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard name != ".", name != "..", !(isRoot && [FetchMarker.fileName, FolderLock.fileName].contains(name)) else {
                    continue
                }
                var status = stat()
                guard fstatat(fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw FetchError(.system("cannot stat", path: path + "/" + name))
                }
                switch status.st_mode & S_IFMT {
                case S_IFDIR: try walk(path + "/" + name, isRoot: false)
                case S_IFREG:
                    files += 1
                    bytes += Int64(status.st_size)
                    if DatasetDirectory.isImageName(name) { images += 1 }
                default: break
                }
            }
        }
        try walk(folder, isRoot: true)
        return (files, bytes, images)
    }

    static func size(of path: String) throws -> Int {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
            throw FetchError(.fileSystem, "cannot read the file size", subject: path)
        }
        return size.intValue
    }
}

// MARK: - Recorded checksums

/// `checksums.json`: sha256 and size of files the registry has no digest for, recorded once their
/// first download built a dataset ("trust on first use") and required from then on.
struct ChecksumStore {
    struct Entry: Codable, Hashable {
        var sha256: String
        var size: Int
    }

    let path: String
    private var entries: [String: Entry]

    init(path: String) throws {
        self.path = path
        if let data = FileManager.default.contents(atPath: path) {
            do {
                entries = try JSONDecoder().decode([String: Entry].self, from: data)
            } catch {
                throw FetchError(
                    .fileSystem, "unreadable recorded checksums (\(error)); delete the file to start over",
                    subject: path)
            }
        } else {
            entries = [:]
        }
    }

    /// Registry files by dataset and file name; URL fetches by URL.
    static func key(entry: RegistryEntry, file: RegistryEntry.RemoteFile) -> String {
        entry.layout == .archive ? "url:" + file.urls[0] : entry.name + "/" + file.name
    }

    subscript(key: String) -> Entry? { entries[key] }

    /// Records `key`'s digest, merged into the file as it is now (another fetch may have
    /// recorded other keys since this store was read), and writes it atomically.
    mutating func record(_ key: String, sha256: String, size: Int) throws {
        entries = try Self(path: path).entries
        entries[key] = Entry(sha256: sha256, size: size)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FetchError.converting { try FileIO.createFolder((path as NSString).deletingLastPathComponent) }
        let bytes = try encoder.encode(entries)
        try FetchError.converting { try FileIO.writeAtomically(bytes, to: path) }
    }
}
