import Codecs
import Foundation
import Shards
import Support
import TestSupport
import Testing

/// One regression test per class of issue 23 ("Reliability, round two") that the command line
/// owns. The classes held elsewhere: manifests read back (4) by `ShardDamageTests`, the fuzz test
/// (`NumericOptionRobustnessTests`) and the Python reader; downloads (8) by `DownloadTests`;
/// archive names (9) by `ExtractionTests`.
@Suite struct ReliabilityRoundTwoTests {
    static let passive = ["OMP_WAIT_POLICY": "PASSIVE"]

    /// A folder `dir`/`name` of class folders `cats` and `dogs` whose images cannot be decoded.
    static func undecodable(in dir: URL, _ name: String) throws -> String {
        let root = dir.appendingPathComponent(name)
        for folder in ["cats", "dogs"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
            try Data("not a jpeg".utf8).write(to: root.appendingPathComponent(folder + "/0.jpg"))
        }
        return root.path
    }

    /// The bytes of every file under `folder`, by relative path.
    static func snapshot(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: folder) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder), !isFolder.boolValue {
                files[path] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path))
            }
        }
        return files
    }

    // MARK: 6. FIFOs and other non-files

    @Test func aFIFOWhereAFileIsExpectedIsRefusedAtOnce() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 2, size: PixelSize(width: 16, height: 12))
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        #expect(try runDataprep(["pack", data.path, "--size", "8x6", "--out", shards]).status == 0)
        #expect(
            try runDataprep(["train", "--shards", shards, "--model", "mlp", "--epochs", "1", "--run-dir", run], environment: Self.passive)
                .status == 0)
        let fifo = dir.appendingPathComponent("pipe.png").path, model = dir.appendingPathComponent("pipe.dpw").path
        #expect(mkfifo(fifo, 0o644) == 0 && mkfifo(model, 0o644) == 0)
        let image = data.path + "/cats/0.jpg"
        let runs = [
            ["info", fifo], ["predict", "--model", run, fifo], ["preview", fifo, "--out", dir.path + "/p.png"],
            ["visualize", "--model", run, fifo, "--out", dir.path + "/maps"], ["predict", "--model", model, image],
            ["export", "--model", model, "--out", dir.path + "/m.onnx"],
        ]
        for arguments in runs {
            let result = try runDataprep(arguments, environment: Self.passive, timeLimit: 30)
            #expect(!result.timedOut && result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("FIFO") && !result.stderr.contains("permission"), "\(arguments): \(result.stderr)")
        }
        let fetch = try runDataprep(["fetch", fifo], environment: ["DATAPREP_HOME": dir.path + "/home"], timeLimit: 30)
        #expect(!fetch.timedOut && fetch.status == 1 && fetch.stderr.contains("FIFO"), "\(fetch.stderr)")
    }

    @Test func foundationsErrorCodesNeverReachTheUser() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 1, size: PixelSize(width: 16, height: 12))
        try Data("not a jpeg".utf8).write(to: data.appendingPathComponent("cats/bad.jpg"))
        let file = dir.appendingPathComponent("quarantine").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let scan = try runDataprep(["scan", data.path, "--quarantine", file])
        #expect(scan.status == 1 && scan.stderr.contains("not a folder") && !scan.stderr.contains("NSCocoaErrorDomain"), "\(scan.stderr)")
        let run = dir.appendingPathComponent("run").path
        try FileManager.default.createDirectory(atPath: run + "/final-weights.dpw", withIntermediateDirectories: true)
        let export = try runDataprep(["export", "--model", run, "--out", dir.path + "/m.onnx"])
        #expect(
            export.status == 1 && export.stderr.contains("not a regular file") && !export.stderr.contains("NSCocoaErrorDomain"),
            "\(export.stderr)")
    }
}
