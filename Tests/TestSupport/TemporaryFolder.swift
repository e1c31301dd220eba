public import Foundation

/// A new, empty folder under the system's temporary folder (or under `parent`), with a name no
/// other test shares: the one temporary-folder helper of the test targets. The caller removes it
/// (`defer { try? FileManager.default.removeItem(atPath: folder) }`).
/// - Throws: when the folder cannot be created.
public func temporaryFolder(in parent: String? = nil) throws -> String {
    let path = (parent ?? FileManager.default.temporaryDirectory.path) + "/dataprep-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// ``temporaryFolder(in:)`` as a file URL, for tests that build paths with `appendingPathComponent`.
/// - Throws: when the folder cannot be created.
public func temporaryDirectory() throws -> URL { URL(fileURLWithPath: try temporaryFolder()) }
