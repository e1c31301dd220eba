import Foundation
import Support
import TestSupport
import Testing

/// `dataprep fetch` on local archives (no network): the failure line, the flag a library remedy
/// becomes, and names from input printed escaped.
@Suite struct FetchCommandTests {
    /// A two-class zip at `dir/<name>`, and the environment that keeps the cache in `dir/home`.
    static func archive(in dir: URL, named name: String) throws -> (path: String, environment: [String: String]) {
        let path = dir.appendingPathComponent(name).path
        try ArchiveBuilder.write([.file("ants/0.jpg", text: "a"), .file("wasps/0.jpg", text: "w")], format: .zip, to: path)
        return (path, ["DATAPREP_HOME": dir.appendingPathComponent("home").path, "DATAPREP_SEARCH_PATH": ""])
    }

    @Test func remediesBecomeFlags() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, environment) = try Self.archive(in: dir, named: "data.zip")

        let badName = try runDataprep(["fetch", path, "--name", "../up"], environment: environment)
        #expect(badName.status == 1)
        #expect(badName.stderr.hasPrefix("error: badName: "))
        #expect(badName.stderr.hasSuffix("; choose a dataset name (--name NAME)\n"))

        let unknown = try runDataprep(["fetch", "no_such_dataset"], environment: environment)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.hasSuffix("the registry lists the known datasets (dataprep fetch --list)\n"))

        let fetched = try runDataprep(["fetch", path], environment: environment)
        #expect(fetched.status == 0)
        #expect(fetched.stdout == environment["DATAPREP_HOME"]! + "/datasets/data\n")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("other"), withIntermediateDirectories: true)
        let other = try Self.archive(in: dir.appendingPathComponent("other"), named: "data.zip")
        let clash = try runDataprep(["fetch", other.path], environment: environment)
        #expect(clash.status == 1)
        #expect(clash.stderr.hasPrefix("error: nameInUse: "))
        #expect(clash.stderr.hasSuffix("(--name NAME)\n"))
    }

    @Test func aHeldDatasetFailsNamingTheHolder() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, environment) = try Self.archive(in: dir, named: "data.zip")
        let folder = environment["DATAPREP_HOME"]! + "/datasets/data"
        let lock = try FolderLock(folder)
        defer { lock.release() }

        let result = try runDataprep(["fetch", path], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: locked: \(folder): another dataprep process (pid \(getpid()))"))
    }

    @Test func aControlCharacterInANameIsPrintedEscaped() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, environment) = try Self.archive(in: dir, named: "new\nline.zip")

        let result = try runDataprep(["fetch", path, "--name", "ok"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: badName: "))
        #expect(result.stderr.contains(#"new\nline.zip"#))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}

// MARK: - Failed URLs

extension FetchCommandTests {
    /// The last URL's failure is the error the command ends with: printed once, not also as a warning.
    @Test func aFailedLastURLIsReportedOnce() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, environment) = try Self.archive(in: dir, named: "data.zip")
        let result = try runDataprep(["fetch", "file://" + dir.path + "/missing.zip"], environment: environment)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("missing.zip: downloading") }
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(result.stderr)")
        #expect(!result.stderr.contains("warning:"))
    }
}
