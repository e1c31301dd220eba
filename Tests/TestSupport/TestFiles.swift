import Foundation

/// File helpers the importer, scan and split tests share.
public enum TestFiles {
    /// Writes `bytes` as the whole file at `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Whether `path` is a folder (following symbolic links).
    public static func isFolder(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// Every regular file under `root`, relative and sorted.
    public static func files(under root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).filter { !isFolder(root + "/" + $0) }.sorted()
    }
}
