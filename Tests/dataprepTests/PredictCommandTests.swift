import Codecs
import Foundation
import TestSupport
import Testing

/// `predict`'s outputs: the top classes, the raw sigmoid, folders, JSON; and `evaluate` refusing a
/// set whose classes are not the model's.
@Suite(.serialized) struct PredictCommandTests {
    /// A folder of 2 classes × 3 photos (one in a subfolder), shards of it and a model trained on them.
    static func trainedModel(in dir: URL) throws -> (data: String, model: String) {
        let data = dir.appendingPathComponent("data")
        try PackCommandTests.makeDataset(at: data, classes: ["cats", "dogs"], count: 3, size: PixelSize(width: 24, height: 16))
        try FileManager.default.createDirectory(at: data.appendingPathComponent("dogs/more"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: data.appendingPathComponent("dogs/2.jpg"), to: data.appendingPathComponent("dogs/more/2.jpg"))
        let shards = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        #expect(try runDataprep(["pack", data.path, "--size", "12x8", "--out", shards]).status == 0)
        let train = try runDataprep(
            ["train", "--shards", shards, "--model", "mlp", "--epochs", "1", "--batch-size", "2", "--run-dir", run],
            environment: ["OMP_WAIT_POLICY": "PASSIVE"])
        #expect(train.status == 0, "\(train.stderr)")
        return (data.path, run + "/checkpoint.dpc")
    }

    @Test func foldersTopClassesSigmoidAndJSON() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (data, model) = try Self.trainedModel(in: dir)

        let lines = try runDataprep(["predict", "--model", model, "--top", "2", data]).stdout.split(separator: "\n").map(String.init)
        let files = ["cats/0.jpg", "cats/1.jpg", "cats/2.jpg", "dogs/0.jpg", "dogs/1.jpg", "dogs/more/2.jpg"].map { data + "/" + $0 }
        #expect(lines.map { String($0.split(separator: " ")[0]) } == files)
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)  // path, class, p, class, p, "sigmoid", s
            #expect(fields.count == 7 && Set([fields[1], fields[3]]) == ["cats", "dogs"] && fields[5] == "sigmoid", "\(line)")
            let (first, second, sigmoid) = (Double(fields[2])!, Double(fields[4])!, Double(fields[6])!)
            #expect(first >= second && abs(first + second - 1) < 2e-4, "\(line)")  // 4 printed decimals each
            #expect(abs((fields[1] == "dogs" ? first : second) - sigmoid) < 1e-4, "sigmoid is P(dogs): \(line)")
        }

        let json = try runDataprep(["predict", "--model", model, "--json", files[0], data + "/missing.jpg"])
        #expect(json.status == 1)
        let objects = json.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == 2)
        let predictions = objects[0]?["predictions"] as? [[String: Any]]
        #expect(objects[0]?["file"] as? String == files[0] && predictions?.count == 1 && objects[0]?["sigmoid"] is Double)
        #expect(predictions?.first?["probability"] is Double && ["cats", "dogs"].contains(predictions?.first?["class"] as? String))
        #expect((objects[1]?["error"] as? [String: Any])?["code"] as? String == "readFailed")
    }

    @Test func evaluateRefusesASetWithOtherClasses() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, model) = try Self.trainedModel(in: dir)
        let other = dir.appendingPathComponent("other")
        try PackCommandTests.makeDataset(at: other, classes: ["ants", "bees"], count: 1, size: PixelSize(width: 24, height: 16))
        let shards = dir.appendingPathComponent("other-shards").path
        #expect(try runDataprep(["pack", other.path, "--size", "12x8", "--out", shards]).status == 0)
        let result = try runDataprep(["evaluate", "--model", model, "--shards", shards])
        #expect(result.status == 1)
        #expect(result.stderr.contains("name their classes ants, bees; the model was trained on cats, dogs"), "\(result.stderr)")
    }
}
