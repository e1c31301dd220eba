import Codecs
import Foundation
import Shards
import TestSupport
import Testing

/// The whole pipeline through the command line, as a user runs it: a JPEG dataset served over
/// loopback HTTP is fetched, split, augmented, trained on, evaluated and predicted.
@Suite struct EndToEndTests {
    /// 2 classes × 36 JPEGs, 64×48: warm photo-like images with a dark disc vs cool ones with bright
    /// stripes. Different enough that a tiny CNN separates them in a few epochs.
    static func datasetZip() throws -> [UInt8] {
        let encoder = try JPEGEncoder()
        var entries: [ArchiveBuilder.Entry] = []
        for i in 0..<36 {
            var warm = SyntheticImages.photoLike(width: 64, height: 48, seed: UInt64(i))
            var cool = SyntheticImages.photoLike(width: 64, height: 48, seed: UInt64(100 + i))
            for y in 0..<48 {
                for x in 0..<64 {
                    let p = (y * 64 + x) * 3
                    let inDisc = (x - 20 - i % 20) * (x - 20 - i % 20) + (y - 24) * (y - 24) < 120
                    warm.pixels[p] = inDisc ? 20 : max(warm.pixels[p], 180)
                    warm.pixels[p + 1] = inDisc ? 20 : warm.pixels[p + 1] / 2
                    let stripe = (x + i) / 4 % 2 == 0
                    cool.pixels[p] = cool.pixels[p] / 3
                    cool.pixels[p + 2] = stripe ? 250 : max(cool.pixels[p + 2], 120)
                }
            }
            entries.append(.file("shapes/warm/warm.\(i).jpg", try encoder.encode(warm)))
            entries.append(.file("shapes/cool/cool.\(i).jpg", try encoder.encode(cool)))
        }
        entries.append(.file("shapes/.ipynb_checkpoints/notes.txt", text: "not a class"))
        return try ArchiveBuilder.archive(entries, format: .zip)
    }

    @Test func fetchSplitAugmentTrainEvaluatePredict() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LoopbackHTTPServer()
        defer { server.stop() }
        server.setFile(try Self.datasetZip(), at: "/datasets/shapes.zip")
        let environment = ["DATAPREP_HOME": dir.appendingPathComponent("home").path, "OMP_WAIT_POLICY": "PASSIVE"]
        func run(_ arguments: [String]) throws -> CommandResult {
            let result = try runDataprep(arguments, environment: environment)
            #expect(result.status == 0, "dataprep \(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }

        let fetched = try run(["fetch", server.baseURL + "/datasets/shapes.zip"]).stdout.trimmingCharacters(in: .newlines)
        #expect(fetched == dir.appendingPathComponent("home/datasets/shapes").path)
        #expect(try run(["fetch", server.baseURL + "/datasets/shapes.zip"]).stderr.contains("already fetched"))
        #expect(server.requests.count == 1)

        let split = dir.appendingPathComponent("split").path
        _ = try run(["split", fetched, "--val", "0.25", "--seed", "7", "--out", split])
        #expect(FileManager.default.fileExists(atPath: split + "/split.json"))

        let shards = dir.appendingPathComponent("shards").path
        _ = try run([
            "augment", split, "--out", shards, "--size", "32x32", "--rotate", "10", "--zoom", "0.1", "--flip",
            "--copies", "2", "--seed", "1",
        ])
        for set in [shards, shards + "/validation"] { _ = try run(["verify", set]) }
        let training = try ShardSet(directory: shards), validation = try ShardSet(directory: shards + "/validation")
        #expect(training.manifest.classNames == ["cool", "warm"])
        #expect(training.count == 2 * 54 && training.manifest.copies == 2)
        #expect(validation.count == 18)

        let runDirectory = dir.appendingPathComponent("run").path
        let trained = try run([
            "train", "--shards", shards, "--model", "conv8,pool,conv16,pool,flatten,dense32,output",
            "--epochs", "6", "--batch-size", "12", "--seed", "1", "--run-dir", runDirectory,
        ])
        #expect(trained.stdout.split(separator: "\n").count == 6)
        for artifact in ["history.csv", "learning-curves.svg", "checkpoint.dpc"] {
            #expect(FileManager.default.fileExists(atPath: runDirectory + "/" + artifact), "\(artifact)")
        }

        let evaluation = try run(["evaluate", "--model", runDirectory + "/checkpoint.dpc", "--shards", shards + "/validation"])
        let accuracy = try #require(Double(evaluation.stdout.split(separator: " ")[3]))
        #expect(accuracy >= 0.8, "validation accuracy \(accuracy), chance is 0.5")

        let predicted = try run([
            "predict", "--model", runDirectory + "/checkpoint.dpc",
            fetched + "/warm/warm.0.jpg", fetched + "/cool/cool.0.jpg",
        ]).stdout
        #expect(predicted.split(separator: "\n").count == 2)
    }
}
