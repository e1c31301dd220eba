import Foundation

/// An image-classification dataset on disk: class folders (`ROOT/<class>/...`), or split folders
/// holding class folders (`ROOT/train/<class>/...`, `ROOT/validation/<class>/...`).
///
/// Class folders are the sorted non-hidden subfolders, so `.ipynb_checkpoints` or `__MACOSX` is
/// never a class (Keras's `flow_from_directory` makes them one). Files are found recursively,
/// sorted by path; hidden files (`.DS_Store`, `._*`) are skipped, and only names with an image
/// extension count as images (the decoder still decides the format from the bytes). A symbolic
/// link that cannot be resolved (dangling or a loop) is listed like a file, so that whoever reads
/// it reports it as unreadable rather than it being dropped silently.
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

    /// Every class name in any split, sorted: label i is `classNames[i]`.
    public var classNames: [String] { Array(Set(splits.flatMap { $0.classes.map(\.name) })).sorted() }

    /// Reads the layout of `root`.
    /// - Throws: ``SupportError`` `badLayout` when `root` is not a folder or has no class folders;
    ///   `fileSystem` when a folder cannot be listed.
    public init(reading root: String) throws {
        let root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.root = root
        let top = try Self.subfolders(of: root)
        guard !top.isEmpty else {
            throw SupportError(
                .badLayout, "no class folders (expected ROOT/<class>/... or ROOT/train/<class>/...)",
                path: root)
        }
        if top.allSatisfy({ Self.splitNames.contains($0.lowercased()) }) {
            let order = ["train", "training", "validation", "val", "valid", "test", "testing"]
            splits = try top.sorted {
                (order.firstIndex(of: $0.lowercased()) ?? 99, $0) < (order.firstIndex(of: $1.lowercased()) ?? 99, $1)
            }
            .map { Split(name: $0, classes: try Self.classFolders(in: root + "/" + $0)) }
        } else {
            splits = [Split(name: "", classes: try Self.classFolders(in: root))]
        }
    }

    // MARK: - Listing

    /// Whether a file or folder name is left out of datasets (`.DS_Store`, `._*`, `__MACOSX`).
    public static func isHidden(_ name: String) -> Bool { name.hasPrefix(".") || name == "__MACOSX" }

    /// Whether `name` has an image extension.
    public static func isImageName(_ name: String) -> Bool {
        imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// Non-hidden subfolders of `path`, sorted (symbolic links to folders are not followed).
    public static func subfolders(of path: String) throws -> [String] {
        try entries(of: path).filter { kind(of: path + "/" + $0) == .folder }.sorted()
    }

    private static func classFolders(in path: String) throws -> [ClassFolder] {
        try subfolders(of: path).map { name in
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
            throw SupportError(.badLayout, "not a folder", path: path)
        }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !isHidden($0) }
        } catch {
            throw SupportError(.fileSystem, "cannot list the folder: \(error.localizedDescription)", path: path)
        }
    }

    private enum Kind { case folder, file, other }

    /// A regular file (or a symbolic link to one) is a file; folders are not followed through links.
    /// A symbolic link that cannot be resolved (dangling, or a loop) is a file too, so that the
    /// readers that open it report it as unreadable instead of it vanishing from the listing.
    private static func kind(of path: String) -> Kind {
        var status = stat()
        guard lstat(path, &status) == 0 else { return .other }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        case S_IFLNK:
            var target = stat()
            guard stat(path, &target) == 0 else { return .file }
            return target.st_mode & S_IFMT == S_IFREG ? .file : .other
        default: return .other
        }
    }
}
