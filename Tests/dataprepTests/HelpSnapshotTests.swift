import Foundation
import Testing

/// `dataprep <command> --help` for every subcommand, compared with the text checked in under
/// HelpSnapshots/: a change to an option's name, default or help shows up in review. After an
/// intended change, run `DATAPREP_UPDATE_SNAPSHOTS=1 swift test --filter HelpSnapshotTests` and
/// commit the new files.
@Suite struct HelpSnapshotTests {
    static let commands = [
        "", "fetch", "split", "scan", "info", "augment", "pack", "preview", "transform", "inspect", "verify",
        "merge", "push", "train", "evaluate", "predict", "visualize", "export",
    ]

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HelpSnapshots")

    @Test(arguments: commands)
    func helpMatchesTheSnapshot(command: String) throws {
        let arguments = command.isEmpty ? ["--help"] : [command, "--help"]
        let result = try runDataprep(arguments, environment: ["COLUMNS": "100"])
        #expect(result.status == 0)
        let file = Self.folder.appendingPathComponent((command.isEmpty ? "dataprep" : command) + ".txt")
        if ProcessInfo.processInfo.environment["DATAPREP_UPDATE_SNAPSHOTS"] == "1" {
            try Data(result.stdout.utf8).write(to: file)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(result.stdout == expected, "dataprep \(command) --help changed; see HelpSnapshotTests to update")
    }
}
