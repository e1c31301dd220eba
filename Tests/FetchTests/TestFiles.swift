import Foundation

/// File helpers the importer and split tests share.
enum TestFiles {
    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func isFolder(_ path: String) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// Every regular file under `root`, relative and sorted.
    static func files(under root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).filter { !isFolder(root + "/" + $0) }.sorted()
    }
}
