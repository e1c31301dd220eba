import Foundation
import Support

/// An image-classification dataset on disk: class folders (`ROOT/<class>/...`), or split folders
/// holding class folders (`ROOT/train/<class>/...`, `ROOT/validation/<class>/...`).
///
/// Class folders are the sorted non-hidden subfolders, so `.ipynb_checkpoints` or `__MACOSX` is
/// never a class (Keras's `flow_from_directory` makes them one). Files are found recursively,
/// sorted by path; hidden files (`.DS_Store`, `._*`) are skipped, and only names with an image
/// extension count as images (the decoder still decides the format from the bytes). A symbolic
/// link that cannot be resolved (dangling or a loop) is listed like a file, so that whoever reads
/// it reports it as unreadable rather than it being dropped silently.
///
/// Split and class folders may be symbolic links to folders (a `train` linked from elsewhere);
/// they are followed, and a link that leads back to a folder above it, or to a folder already
/// read as another split or class, is refused. Folders inside a class folder are not followed
/// through links.
///
/// A class order file (``classOrderFileName``, one class folder name per line, in label order)
/// at the root sets the order of ``classNames``; an unsplit folder named like a split (`train`)
/// without one uses its parent's, so packing `DATASET/train` keeps the dataset's order.
public struct DatasetDirectory: Sendable {
    /// One class folder and the files under it.
    public struct ClassFolder: Sendable, Hashable {
        /// The folder name, which is the class name.
        public var name: String
        /// Absolute paths of the image files under the folder, sorted.
        public var images: [String]
        /// Absolute paths of other non-hidden files under the folder (not images by name), sorted.
        public var otherFiles: [String]
    }

    /// A split (`train`, `validation`, `test`, ...) or, for an unsplit dataset, the whole of it.
    public struct Split: Sendable, Hashable {
        /// The split folder's name; empty for an unsplit dataset.
        public var name: String
        /// Its class folders, sorted by name.
        public var classes: [ClassFolder]
    }

    /// Names that make a top-level folder a split rather than a class.
    public static let splitNames: Set<String> = ["train", "training", "validation", "val", "valid", "test", "testing"]
    /// File extensions (lowercase) that mark an image.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "png", "bmp", "gif", "ppm", "pgm", "tif", "tiff", "webp"]

    /// The folder that was read, as an absolute path.
    public var root: String
    /// The splits, in the order train, validation, test, then any other split name; one unnamed
    /// split when the dataset is not split.
    public var splits: [Split]

    /// Whether the root holds split folders.
    public var isSplit: Bool { !(splits.count == 1 && splits[0].name.isEmpty) }

    /// The class order file's names, in label order, when the dataset has one.
    public var classOrder: [String]?

    /// The name of the class order file: class folder names, one per line, in label order (what
    /// fetch's importers write, in the dataset's official label order).
    public static let classOrderFileName = "classes.txt"

    /// Every class name in any split: label i is `classNames[i]`. The class order file's names
    /// come first, in its order; class folders it does not list follow, sorted. Without the file
    /// all are sorted.
    public var classNames: [String] {
        let found = Set(splits.flatMap { $0.classes.map(\.name) })
        let listed = classOrder ?? []
        return listed + found.subtracting(listed).sorted()
    }

    /// Reads the layout of `root`, and its class order file when it has one.
    /// - Throws: ``DatasetError`` `badLayout` when `root` is not a folder or has no class folders,
    ///   when a split or class folder is a link back to a folder above it or to a folder already
    ///   read, or when the class order file names a class folder that does not exist, names one
    ///   twice or holds an empty line (the message names the file); `fileSystem` when a folder
    ///   or the class order file cannot be read.
    public init(reading root: String) throws {
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = root
        var visited = Visited(root: root)
        let top = try Self.subfolders(of: root)
        guard !top.isEmpty else {
            throw DatasetError(
                .badLayout, "no class folders (expected ROOT/<class>/... or ROOT/train/<class>/...)",
                path: root)
        }
        if top.allSatisfy({ Self.splitNames.contains($0.lowercased()) }) {
            let order = ["train", "training", "validation", "val", "valid", "test", "testing"]
            splits = try top.sorted {
                (order.firstIndex(of: $0.lowercased()) ?? 99, $0) < (order.firstIndex(of: $1.lowercased()) ?? 99, $1)
            }
            .map { name in
                try visited.enter(root + "/" + name)
                return Split(name: name, classes: try Self.classFolders(in: root + "/" + name, visited: &visited))
            }
        } else {
            splits = [Split(name: "", classes: try Self.classFolders(in: root, visited: &visited))]
        }
        classOrder = try Self.readClassOrder(for: root, isSplit: splits.count > 1 || !splits[0].name.isEmpty, splits: splits)
    }

    // MARK: - Class order

    /// The class order file that applies to `root`: its own, or, for an unsplit folder named like
    /// a split, its parent's.
    private static func readClassOrder(for root: String, isSplit: Bool, splits: [Split]) throws -> [String]? {
        var path = root + "/" + classOrderFileName
        if !FileIO.exists(path), !isSplit, splitNames.contains((root as NSString).lastPathComponent.lowercased()) {
            path = (root as NSString).deletingLastPathComponent + "/" + classOrderFileName
        }
        guard FileIO.exists(path) else { return nil }
        let text = String(decoding: try DatasetError.converting { try FileIO.readFile(at: path, limit: 1 << 20) }, as: UTF8.self)
        var names = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        while names.last?.isEmpty == true { names.removeLast() }
        let found = Set(splits.flatMap { $0.classes.map(\.name) })
        var seen: Set<String> = []
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw DatasetError(.badLayout, "class order file: line \(index + 1) is empty", path: path)
            }
            guard found.contains(name) else {
                throw DatasetError(
                    .badLayout, "class order file: \"\(name)\" (line \(index + 1)) is not a class folder of \(root)",
                    path: path)
            }
            guard seen.insert(name).inserted else {
                throw DatasetError(.badLayout, "class order file: \"\(name)\" is listed twice", path: path)
            }
        }
        return names.isEmpty ? nil : names
    }

    /// Writes `names` as a class order file into `folder`, atomically: one name per line.
    /// - Throws: ``DatasetError`` `fileSystem` when the file cannot be written.
    public static func writeClassOrder(_ names: [String], into folder: String) throws {
        try DatasetError.converting {
            try FileIO.writeAtomically(Array(names.map { $0 + "\n" }.joined().utf8), to: folder + "/" + classOrderFileName)
        }
    }

    // MARK: - Listing

    /// Whether a file or folder name is left out of datasets (`.DS_Store`, `._*`, `__MACOSX`).
    public static func isHidden(_ name: String) -> Bool { name.hasPrefix(".") || name == "__MACOSX" }

    /// Whether `name` has an image extension.
    public static func isImageName(_ name: String) -> Bool {
        imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// Non-hidden subfolders of `path`, sorted, symbolic links to folders included (as split and
    /// class folders are).
    /// - Throws: ``DatasetError`` `badLayout` when `path` is not a folder; `fileSystem` when it
    ///   cannot be listed.
    public static func subfolders(of path: String) throws -> [String] {
        try entries(of: path).filter { kind(of: path + "/" + $0, following: true) == .folder }.sorted()
    }

    /// The class folders of `path`. Their names are class names, printed in every report and
    /// recorded in every manifest and model: a name with a control character (a newline would
    /// forge lines of `predict` or `evaluate` output) is refused, and so are two names that differ
    /// only by Unicode normalisation (NFC and NFD `café`), which would be one class to every
    /// comparison and lose the images of the other.
    private static func classFolders(in path: String, visited: inout Visited) throws -> [ClassFolder] {
        let names = try subfolders(of: path)
        var seen: [String: String] = [:]
        for name in names {
            do throws(SupportError) { try PathComponent.validate(name, what: "a class folder's name (a class name)") } catch {
                throw DatasetError(.badLayout, error.message + ": rename the folder", path: PathComponent.escaped(path + "/" + name))
            }
            if let earlier = seen[name] {
                throw DatasetError(
                    .badLayout,
                    "the class folders \(earlier) and \(name) differ only by Unicode normalisation (NFC and NFD): "
                        + "they would be one class; rename or merge them", path: path)
            }
            seen[name] = name
        }
        return try names.map { name in
            try visited.enter(path + "/" + name)
            var images: [String] = [], others: [String] = []
            try collectFiles(in: path + "/" + name, images: &images, others: &others)
            return ClassFolder(name: name, images: images.sorted(), otherFiles: others.sorted())
        }
    }

    private static func collectFiles(in path: String, images: inout [String], others: inout [String]) throws {
        for name in try entries(of: path) {
            let full = path + "/" + name
            switch kind(of: full) {
            case .folder: try collectFiles(in: full, images: &images, others: &others)
            case .file: if isImageName(name) { images.append(full) } else { others.append(full) }
            case .other: break
            }
        }
    }

    private static func entries(of path: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw DatasetError(.badLayout, "not a folder", path: path)
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !isHidden($0) }
        } catch {
            throw DatasetError(.fileSystem, "cannot list the folder: \(error.localizedDescription)", path: path)
        }
    }

    private enum Kind { case folder, file, other }

    /// A regular file (or a symbolic link to one) is a file; a link to a folder is a folder only
    /// when `following`. A symbolic link that cannot be resolved (dangling, or a loop) is a file,
    /// so that the readers that open it report it as unreadable instead of it vanishing.
    private static func kind(of path: String, following: Bool = false) -> Kind {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .other }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        case S_IFLNK:
            var target = stat()
            guard stat(path, &target) == 0 else { return .file }
            switch target.st_mode & S_IFMT {
            case S_IFREG: return .file
            case S_IFDIR where following: return .folder
            default: return .other
            }
        default: return .other
        }
    }

    /// The real folders read so far as the root, splits and classes, so that a link leading back
    /// up (a loop) or to a folder read twice is refused.
    private struct Visited {
        let root: String
        var folders: [String: String] = [:]

        init(root: String) { self.root = FileIO.resolvedPath(root) }

        /// Records `path`'s real folder.
        /// - Throws: ``DatasetError`` `badLayout` when it is the root or a folder above it, or a
        ///   folder already recorded.
        mutating func enter(_ path: String) throws {
            let real = FileIO.resolvedPath(path)
            if real == root || root.hasPrefix(real == "/" ? "/" : real + "/") {
                throw DatasetError(.badLayout, "leads back to \(real), which holds it (a loop)", path: path)
            }
            if let first = folders[real] {
                throw DatasetError(.badLayout, "is the same folder (\(real)) as \(first)", path: path)
            }
            folders[real] = path
        }
    }
}
