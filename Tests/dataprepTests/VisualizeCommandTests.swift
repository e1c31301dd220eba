import Codecs
import Foundation
import TestSupport
import Testing

/// `dataprep visualize`: a model trained by the CLI itself (pack, then one epoch of train), its
/// feature maps drawn as PNG grids.
@Suite struct VisualizeCommandTests {
    /// Packs 2 classes × 4 photo-like JPEGs to 12×10 and trains `conv4,pool,conv5:valid,pool,flatten,output`
    /// on them for one epoch; returns the checkpoint and an image to visualize.
    static func trainedModel(in dir: URL) throws -> (checkpoint: String, image: String) {
        let data = dir.appendingPathComponent("train")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 4, size: PixelSize(width: 40, height: 30))
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        let pack = try runDataprep(["pack", data.path, "--size", "12x10", "--out", shards, "--threads", "2"])
        #expect(pack.status == 0, "\(pack.stderr)")
        let train = try runDataprep([
            "train", "--shards", shards, "--model", "conv4,pool,conv5:valid,pool,flatten,output",
            "--epochs", "1", "--batch-size", "4", "--run-dir", run,
        ])
        #expect(train.status == 0, "\(train.stderr)")
        return (run + "/checkpoint.dpc", data.appendingPathComponent("dogs/1.jpg").path)
    }

    /// Width, height and whether the file is an 8-bit gray PNG (IHDR bit depth 8, colour type 0).
    static func grid(_ path: String) throws -> (width: Int, height: Int, gray8: Bool) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let decoded = try ImageDecoder().decode(bytes).image
        return (decoded.width, decoded.height, bytes[24] == 8 && bytes[25] == 0 && decoded.format == .gray)
    }

    @Test func everyConvAndPoolLayerBecomesAGridOfItsChannels() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (checkpoint, image) = try Self.trainedModel(in: dir)
        let out = dir.appendingPathComponent("maps").path

        let result = try runDataprep(["visualize", "--model", checkpoint, image, "--out", out, "--columns", "3"])

        #expect(result.status == 0, "\(result.stderr)")
        // Tiles of H×W in rows of 3 with a 1-pixel gap around: (1 + 3·(W + 1)) × (1 + rows·(H + 1)).
        let expected: [(name: String, shape: String, width: Int, height: Int)] = [
            ("01-conv2d.png", "10×12×4", 40, 23),  // 4 channels: 2 rows
            ("02-max_pooling2d.png", "5×6×4", 22, 13),
            ("03-conv2d_1.png", "3×4×5", 16, 9),  // 'valid' 3×3 on 5×6; 5 channels: 2 rows
            ("04-max_pooling2d_1.png", "1×2×5", 10, 5),
        ]
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == expected.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == expected.map(\.name))
        for (line, file) in zip(lines, expected) {
            let path = out + "/" + file.name
            let layer = file.name.dropFirst(3).dropLast(4)
            #expect(line.hasPrefix(layer + " ") && line.contains(" \(file.shape) ") && line.hasSuffix(path), "\(line)")
            let grid = try Self.grid(path)
            #expect(grid.width == file.width && grid.height == file.height, "\(file.name): \(grid.width)×\(grid.height)")
            #expect(grid.gray8, "\(file.name)")
        }

        let oneRow = try runDataprep(["visualize", "--model", checkpoint, image, "--out", out])
        #expect(oneRow.status == 0)
        let first = try Self.grid(out + "/01-conv2d.png")
        #expect(first.width == 1 + 4 * 13 && first.height == 12, "by default the 4 channels sit in one row")
    }

    @Test func aBadImageIsNamedAndNothingIsWritten() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (checkpoint, _) = try Self.trainedModel(in: dir)
        let broken = dir.appendingPathComponent("broken.jpg").path
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: broken))
        let out = dir.appendingPathComponent("maps").path

        let result = try runDataprep(["visualize", "--model", checkpoint, broken, "--out", out])

        #expect(result.status == 1)
        #expect(result.stderr.contains("error: unknownFormat: \(broken): "), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out))

        let missingModel = try runDataprep(["visualize", "--model", dir.appendingPathComponent("none.dpc").path, broken, "--out", out])
        #expect(missingModel.status == 1)
        #expect(missingModel.stderr.contains("none.dpc"), "\(missingModel.stderr)")
    }
}
