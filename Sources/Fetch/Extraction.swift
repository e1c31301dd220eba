// Safe, streaming extraction of zip and tar archives. libarchive (Archive.swift) only reads; every
// decision about what is written, and where, is made here, for every entry, before anything of it
// is written:
//
// - Paths: absolute names and any `..` component are refused; `.` and empty components are dropped;
//   every other component must pass Support's `PathComponent.validate` (no control characters).
// - Types: regular files, folders, symbolic links and hard links only; device files, FIFOs and
//   sockets are refused.
// - Symbolic links: the target must be relative, may only climb (`..`) at its start, and may not
//   climb above the extraction folder. A target that climbs after naming a folder (`a/../..`)
//   is refused even when it looks harmless, because `a` could itself be a link (`p -> .`, then
//   `q -> p/p/..` escapes). Together with the next rule, every link then resolves inside.
// - Nothing is created through a link: every folder on the way to an entry must be a real folder
//   that this extraction made (a link or file in the way refuses the entry), and files are opened
//   with O_CREAT|O_EXCL|O_NOFOLLOW.
// - Hard links must point at a regular file extracted earlier from the same archive.
// - Bombs: limits on total bytes, compression ratio and entry count (``ExtractionLimits``).
// - Skipped, not refused: `__MACOSX` trees and anything with a hidden component (`.DS_Store`, `._x`,
//   `.git/...`). The checks above still apply to them: an archive with a hidden device file or
//   an absolute hidden link is refused as a whole.
// - Names: an entry that names a file, link or folder made before (a duplicate entry), or a name
//   that differs from an earlier one only by Unicode normalisation (NFC `café` and NFD `café`),
//   is refused naming both, so no image is ever overwritten or hidden silently.
//
// Everything is written into `<destination>.partial-<pid>` and renamed into place only after the
// whole archive extracted cleanly; on any failure that folder is removed.
import Foundation
import Support

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Public API

/// How far an archive may expand before extraction stops with ``FetchError/Code/archiveBomb``.
/// The defaults suit image datasets (ImageNet's training set is about 140 GiB in 1.3 million files,
/// so it needs `maximumTotalBytes` raised).
public struct ExtractionLimits: Sendable, Hashable {
    /// Most bytes all files may hold together, holes of sparse files included. Default 64 GiB.
    public var maximumTotalBytes: Int64
    /// Largest allowed ratio of bytes written so far to archive bytes read so far. JPEG and PNG
    /// files do not compress, so image archives stay near 1; a zip bomb reaches about 1000.
    /// Default 100.
    public var maximumCompressionRatio: Double
    /// The ratio is only checked once more than this many bytes have been written, so small,
    /// very compressible archives (text, CSV) do not trip it. Default 32 MiB.
    public var ratioCheckFloorBytes: Int64
    /// Most entries the archive may have, skipped ones and folders included. Default 10 million.
    public var maximumEntries: Int

    /// Limits with the given values; every argument has the documented default.
    public init(
        maximumTotalBytes: Int64 = 64 << 30, maximumCompressionRatio: Double = 100,
        ratioCheckFloorBytes: Int64 = 32 << 20, maximumEntries: Int = 10_000_000
    ) {
        self.maximumTotalBytes = maximumTotalBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.ratioCheckFloorBytes = ratioCheckFloorBytes
        self.maximumEntries = maximumEntries
    }
}

/// What an extraction wrote and what it left out.
public struct ExtractionReport: Sendable, Hashable {
    /// The folder the archive was extracted into, as passed in.
    public var destination: String
    /// Regular files written (an archive that names one file twice is refused).
    public var files = 0
    /// Folders created, from folder entries or as parents of other entries.
    public var folders = 0
    /// Symbolic links created (each one points inside `destination`).
    public var symbolicLinks = 0
    /// Hard links created (each one to a file extracted from the same archive).
    public var hardLinks = 0
    /// Bytes of file data written.
    public var bytesWritten: Int64 = 0
    /// Names of the entries left out because they are macOS metadata or hidden (`__MACOSX/...`,
    /// `._photo.jpg`, `.DS_Store`, `.git/...`), in archive order.
    public var skippedEntries: [String] = []

    /// An empty report for `destination`.
    public init(destination: String) {
        self.destination = destination
    }
}

/// Extracts the zip or tar archive at `archivePath` (tar optionally compressed with gzip, bzip2,
/// xz, lzma or zstd; the format is recognised from the bytes) into the new folder `destination`.
///
/// Streaming: data goes from libarchive's fixed-size buffers straight to the files, so memory does
/// not grow with the archive's size. Everything is written into the sibling folder
/// `<destination>.partial-<pid>`, which is renamed to `destination` once the whole archive
/// extracted cleanly; on any failure it is removed, so `destination` either holds the complete
/// archive or does not exist, and nothing is ever written outside it. Missing parent folders of
/// `destination` are created. The safety rules are described at the top of Extraction.swift.
///
/// Files get mode 0644, or 0755 when the archive marks them executable; folders 0755 (minus the
/// umask); setuid, setgid and sticky bits are never set. File modification times are kept.
/// - Parameters:
///   - archivePath: the archive file.
///   - destination: the folder to create; it must not exist.
///   - limits: when to stop with `archiveBomb`.
/// - Returns: what was written and which entries were skipped.
/// - Throws: ``FetchError`` with code
///   - `unsafeEntry` (subject: the entry name) for an absolute or `..` path, a link that points
///     outside or goes through another link, a hard link to a file not extracted before, a device
///     file, FIFO or socket, an entry that would replace a folder, or a name given twice or that
///     differs from an earlier one only by Unicode normalisation;
///   - `archiveBomb` (subject: the entry name) when a limit of `limits` is exceeded;
///   - `badArchive` (subject: `archivePath`) with libarchive's message when the file is not a zip
///     or tar archive, or is damaged or truncated;
///   - `fileSystem` when `destination` already exists, or a file cannot be written;
///   - `badLayout` when `destination` is empty.
public func extractArchive(
    atPath archivePath: String, into destination: String,
    limits: ExtractionLimits = ExtractionLimits()
) throws -> ExtractionReport {
    var trimmed = destination
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard !trimmed.isEmpty else { throw FetchError(.badLayout, "the destination folder is empty", subject: destination) }
    try requireAbsent(trimmed)
    return try withUTF8Names {
        let reader = try ArchiveEntryReader(path: archivePath)
        let parent = (trimmed as NSString).deletingLastPathComponent
        if !parent.isEmpty { try FetchError.converting { try FileIO.createFolder(parent) } }
        let temporary = trimmed + ".partial-\(getpid())"
        FileIO.removeTree(temporary)  // left by an earlier run of this process id that crashed
        guard mkdir(temporary, 0o755) == 0 else { throw FetchError(.system("cannot create folder", path: temporary)) }
        do {
            var extraction = Extraction(reader: reader, tree: ExtractionTree(root: temporary), limits: limits)
            let report = try extraction.run(destination: destination)
            try requireAbsent(trimmed)
            try FetchError.converting { try FileIO.durableRename(temporary, to: trimmed) }
            return report
        } catch {
            FileIO.removeTree(temporary)
            throw error
        }
    }
}

/// Throws `fileSystem` when anything (even a dangling link) exists at `path`.
private func requireAbsent(_ path: String) throws {
    var status = stat()
    guard lstat(path, &status) != 0 else {
        throw FetchError(.fileSystem, "already exists: extraction needs a new folder; remove it or choose another", subject: path)
    }
}

// MARK: - Entry paths

/// An entry name checked to stay inside the extraction folder: relative, no `..` component, with
/// `.` and empty components dropped.
struct EntryPath {
    /// The components, none empty, `.` or `..`. Empty for the extraction folder itself (`./`).
    let components: [String]
    /// The components joined with `/`; empty for the extraction folder itself.
    let relative: String

    /// Checks `name`.
    /// - Throws: ``FetchError`` `unsafeEntry` (subject: `entry`) for an empty or absolute name, a
    ///   `..` component, or a component Support's `PathComponent.validate(_:what:)` refuses (a
    ///   control character, more than 255 bytes).
    init(_ name: String, entry: String) throws {
        guard !name.isEmpty else { throw FetchError(.unsafeEntry, "the name is empty", subject: entry) }
        guard !name.hasPrefix("/") else {
            throw FetchError(.unsafeEntry, "absolute path \(name); archives must hold relative paths", subject: entry)
        }
        let components = name.split(separator: "/").filter { $0 != "." }.map(String.init)
        guard !components.contains("..") else {
            throw FetchError(.unsafeEntry, "the path \(name) has a `..` component, which could leave the target folder", subject: entry)
        }
        for component in components {
            do {
                try PathComponent.validate(component, what: "each part of an entry's path")
            } catch {
                throw FetchError(.unsafeEntry, error.message, subject: PathComponent.escaped(entry))
            }
        }
        self.components = components
        relative = components.joined(separator: "/")
    }

    /// The parent folder's relative path; empty for a top-level entry.
    var parent: String { components.dropLast().joined(separator: "/") }

    /// Whether a component is hidden (starts with `.`, like `.DS_Store`, `._photo.jpg`, `.git`) or
    /// is `__MACOSX`: such entries are skipped.
    var isHidden: Bool { components.contains { $0.hasPrefix(".") || $0 == "__MACOSX" } }
}

/// Checks that the symbolic link `link -> target` resolves inside the extraction folder: `target`
/// is relative, climbs (`..`) only at its start, and no higher than `link`'s folder depth.
/// - Throws: ``FetchError`` `unsafeEntry` (subject: `entry`).
func checkSymbolicLinkTarget(_ target: String, of link: EntryPath, entry: String) throws {
    guard !target.isEmpty else { throw FetchError(.unsafeEntry, "the symbolic link has an empty target", subject: entry) }
    guard !target.hasPrefix("/") else {
        throw FetchError(.unsafeEntry, "the symbolic link points to the absolute path \(target)", subject: entry)
    }
    var climbs = 0, descended = false
    for component in target.split(separator: "/") where component != "." {
        if component != ".." {
            descended = true
        } else if descended {
            throw FetchError(
                .unsafeEntry, "the symbolic link target \(target) has `..` after a folder name, which could climb out through another link",
                subject: entry)
        } else {
            climbs += 1
        }
    }
    guard climbs < link.components.count else {
        throw FetchError(.unsafeEntry, "the symbolic link target \(target) points outside the target folder", subject: entry)
    }
}

// MARK: - Limits

/// Counts entries and bytes against ``ExtractionLimits``.
struct ExpansionBudget {
    let limits: ExtractionLimits
    private(set) var entries = 0
    private(set) var bytes: Int64 = 0

    /// Counts one more entry.
    /// - Throws: `archiveBomb` past ``ExtractionLimits/maximumEntries``.
    mutating func countEntry(_ entry: String) throws {
        entries += 1
        guard entries <= limits.maximumEntries else {
            throw bomb("the archive has more than \(limits.maximumEntries) entries", entry)
        }
    }

    /// Refuses an entry whose declared size alone would exceed the total, before it is written.
    /// - Throws: `archiveBomb`.
    func checkDeclaredSize(_ size: Int64, of entry: String) throws {
        guard size <= limits.maximumTotalBytes - bytes else {
            throw bomb("the entry declares \(size) bytes, which would exceed the limit of \(limits.maximumTotalBytes) bytes in all", entry)
        }
    }

    /// Counts `count` more bytes written; `compressedBytesRead` is only asked for once the ratio
    /// is checked.
    /// - Throws: `archiveBomb` past the total or, beyond the floor, the ratio.
    mutating func add(_ count: Int64, compressedBytesRead: () -> Int64, entry: String) throws {
        bytes += count
        guard bytes <= limits.maximumTotalBytes else {
            throw bomb("the archive expands to more than \(limits.maximumTotalBytes) bytes", entry)
        }
        guard bytes > limits.ratioCheckFloorBytes else { return }
        let ratio = Double(bytes) / Double(max(1, compressedBytesRead()))
        guard ratio <= limits.maximumCompressionRatio else {
            throw bomb(
                String(
                    format: "the archive expands %.0f times (%lld bytes written so far), more than the limit of %.0f",
                    ratio, bytes, limits.maximumCompressionRatio), entry)
        }
    }

    private func bomb(_ message: String, _ entry: String) -> FetchError {
        FetchError(.archiveBomb, message + "; raise ExtractionLimits only for an archive you trust", subject: entry)
    }
}

// MARK: - Writing

/// The folder being extracted into, written with POSIX calls that never follow a link. Knows every
/// folder it made, which are the only real folders under its root: an entry whose path needs a
/// folder where something else was extracted is refused.
final class ExtractionTree {
    /// The (temporary) folder everything goes into.
    let root: String
    /// Folders made, the root not included.
    private(set) var foldersCreated = 0
    /// The UTF-8 bytes of the relative paths of the folders made, "" being the root. Bytes, not
    /// `String`s: Swift compares strings up to Unicode normalisation, the file system byte by byte.
    private var folders: Set<[UInt8]> = [[]]
    /// Every path made so far (files, links, folders), keyed by its `String` (so two names that
    /// differ only by Unicode normalisation, NFC `café` and NFD `café`, share a key): the exact
    /// name made and whether it is a folder.
    private var made: [String: (name: String, folder: Bool)] = [:]

    init(root: String) {
        self.root = root
    }

    func fullPath(_ relative: String) -> String { root + "/" + relative }

    /// Makes the folder `path` and its missing parents; an existing folder is fine.
    func makeFolder(_ path: EntryPath, entry: String) throws {
        try makeParents(of: path, entry: entry)
        try makeFolder(relative: path.relative, entry: entry)
    }

    /// Records that `relative` is being made (a folder or not), refusing a name made before: a
    /// second file, link or folder-over-file of the same name would overwrite or hide the first,
    /// and two names that differ only by Unicode normalisation are one name to every tool that
    /// compares them as text (and to macOS's file systems). A folder named again is fine.
    /// - Throws: `unsafeEntry` naming both entries.
    private func claim(_ relative: String, folder: Bool, entry: String) throws {
        if let earlier = made[relative] {
            let identical = earlier.name.utf8.elementsEqual(relative.utf8)
            if identical && folder && earlier.folder { return }
            let names = "\(PathComponent.escaped(earlier.name)) and \(PathComponent.escaped(relative))"
            throw FetchError(
                .unsafeEntry,
                identical
                    ? "the archive names \(PathComponent.escaped(relative)) twice (two entries of this name, or two names that differ "
                        + "only by Unicode normalisation, NFC and NFD, which libarchive reads as one): the later entry would "
                        + "overwrite the earlier and an image would be lost; rename one"
                    : "\(names) differ only by Unicode normalisation (NFC and NFD): they are one name to most tools and one would hide the other; rename one",
                subject: PathComponent.escaped(entry))
        }
        made[relative] = (relative, folder)
    }

    /// Creates the file `path` for writing (mode 0755 when `executable`, else 0644). A name made
    /// before (or one that differs from it only by Unicode normalisation) is refused, never
    /// replaced.
    func createFile(_ path: EntryPath, executable: Bool, entry: String) throws -> OutputFile {
        let mode: UInt32 = executable ? 0o755 : 0o644
        return try create(path, entry: entry) { full throws(SupportError) in
            try OutputFile(creating: full, options: [.exclusive, .noFollow], permissions: mode)
        }
    }

    /// Creates the symbolic link `path -> target`; the target must have been checked.
    func makeSymbolicLink(_ path: EntryPath, target: String, entry: String) throws {
        try create(path, entry: entry) { full throws(SupportError) in
            guard symlink(target, full) == 0 else { throw .system("cannot create", path: full) }
        }
    }

    /// Creates `path` as a hard link to `target`, which must be a regular file extracted earlier.
    /// - Throws: `unsafeEntry` when it is not.
    func makeHardLink(_ path: EntryPath, to target: EntryPath, entry: String) throws {
        let source = fullPath(target.relative)
        var status = stat()
        guard !target.relative.utf8.elementsEqual(path.relative.utf8), folders.contains(Array(target.parent.utf8)),
            lstat(source, &status) == 0,
            status.st_mode & S_IFMT == S_IFREG
        else {
            throw FetchError(.unsafeEntry, "the hard link target \(target.relative) is not a file extracted before it", subject: entry)
        }
        try create(path, entry: entry) { full throws(SupportError) in
            guard linkat(AT_FDCWD, source, AT_FDCWD, full, 0) == 0 else { throw .system("cannot create", path: full) }
        }
    }

    /// Makes `path`'s parents, then runs `make` on its full path, once the name is claimed: an
    /// archive that names one file twice is refused (tar would keep the last silently).
    @discardableResult
    private func create<T>(_ path: EntryPath, entry: String, _ make: (String) throws(SupportError) -> T) throws -> T {
        try makeParents(of: path, entry: entry)
        if folders.contains(Array(path.relative.utf8)) {
            throw FetchError(.unsafeEntry, "it would replace the folder \(path.relative) extracted before", subject: entry)
        }
        try claim(path.relative, folder: false, entry: entry)
        let full = fullPath(path.relative)
        do throws(SupportError) {
            return try make(full)
        } catch {
            throw FetchError(error)
        }
    }

    private func makeParents(of path: EntryPath, entry: String) throws {
        let parent = path.parent
        guard !folders.contains(Array(parent.utf8)) else { return }
        var prefix = ""
        for component in path.components.dropLast() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            try makeFolder(relative: prefix, entry: entry)
        }
    }

    private func makeFolder(relative: String, entry: String) throws {
        guard !folders.contains(Array(relative.utf8)) else { return }
        try claim(relative, folder: true, entry: entry)
        let full = fullPath(relative)
        guard mkdir(full, 0o755) == 0 else {
            guard errno == EEXIST else { throw FetchError(.system("cannot create folder", path: full)) }
            // Every real folder here is in `folders`, so this is a file or link from an earlier entry.
            throw FetchError(
                .unsafeEntry, "\(relative) was extracted as a file or link; the entry would be written through it",
                subject: entry)
        }
        folders.insert(Array(relative.utf8))
        foldersCreated += 1
    }
}

// MARK: - The extraction loop

/// One pass over an archive: checks each entry, then writes it into the tree.
private struct Extraction {
    let reader: ArchiveEntryReader
    let tree: ExtractionTree
    var budget: ExpansionBudget

    init(reader: ArchiveEntryReader, tree: ExtractionTree, limits: ExtractionLimits) {
        self.reader = reader
        self.tree = tree
        budget = ExpansionBudget(limits: limits)
    }

    mutating func run(destination: String) throws -> ExtractionReport {
        var report = ExtractionReport(destination: destination)
        while let header = try reader.nextEntry() {
            let name = header.name
            try budget.countEntry(name)
            let path = try EntryPath(name, entry: name)
            let entry = try Self.check(header, at: path)
            if path.isHidden {
                report.skippedEntries.append(name)
                continue
            }
            if path.components.isEmpty {
                guard case .folder = entry else {
                    throw FetchError(.unsafeEntry, "the entry names the target folder itself", subject: name)
                }
                continue
            }
            switch entry {
            case .file:
                report.bytesWritten += try writeFile(path, header)
                report.files += 1
            case .folder:
                try tree.makeFolder(path, entry: name)
            case .symbolicLink(let target):
                try tree.makeSymbolicLink(path, target: target, entry: name)
                report.symbolicLinks += 1
            case .hardLink(let target):
                try tree.makeHardLink(path, to: target, entry: name)
                report.hardLinks += 1
            }
        }
        report.folders = tree.foldersCreated
        return report
    }

    /// An entry whose type and link target passed the checks.
    private enum CheckedEntry {
        case file, folder
        case symbolicLink(target: String)
        case hardLink(target: EntryPath)
    }

    /// Refuses device files, FIFOs, sockets and links that point outside.
    private static func check(_ header: ArchiveEntryHeader, at path: EntryPath) throws -> CheckedEntry {
        switch header.kind {
        case .regularFile:
            return .file
        case .directory:
            return .folder
        case .symbolicLink(let target):
            try checkSymbolicLinkTarget(target, of: path, entry: header.name)
            return .symbolicLink(target: target)
        case .hardLink(let target):
            return .hardLink(target: try EntryPath(target, entry: header.name))
        case .special(let description):
            throw FetchError(
                .unsafeEntry, "the entry is \(description); only files, folders and links are extracted",
                subject: header.name)
        }
    }

    /// Streams the current entry's data into a new file; returns the bytes written (holes included).
    private mutating func writeFile(_ path: EntryPath, _ header: ArchiveEntryHeader) throws -> Int64 {
        let name = header.name
        if let size = header.declaredSize { try budget.checkDeclaredSize(size, of: name) }
        let file = try tree.createFile(path, executable: header.permissions & 0o111 != 0, entry: name)
        var end: Int64 = 0
        let reader = reader
        try reader.forEachDataBlock(of: name) { offset, bytes in
            let blockEnd = offset + Int64(bytes.count)
            if blockEnd > end {
                try budget.add(blockEnd - end, compressedBytesRead: { reader.compressedBytesRead }, entry: name)
                end = blockEnd
            }
            try FetchError.converting { try file.write(bytes, at: Int(offset)) }
        }
        if header.isSparse, let size = header.declaredSize, size > end {
            try budget.add(size - end, compressedBytesRead: { reader.compressedBytesRead }, entry: name)
            try FetchError.converting { try file.truncate(to: Int(size)) }
            end = size
        }
        try FetchError.converting {
            if let (seconds, nanoseconds) = header.modificationTime {
                try file.setModificationTime(seconds: seconds, nanoseconds: nanoseconds)
            }
            try file.close()
        }
        return end
    }
}
