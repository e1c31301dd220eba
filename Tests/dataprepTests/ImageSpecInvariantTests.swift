import Codecs
import Foundation
import Preparation
import Shards
import Support
import TestSupport
import Testing
import Trainer

/// The preprocessing contract: a model trained on shards of any supported image spec is given, by
/// `predict`, exactly the input that `evaluate` reads from the packed validation shards, so both
/// compute exactly the same classes.
@Suite(.serialized) struct ImageSpecInvariantTests {
    static let preprocessings: [(name: String, arguments: [String])] = [
        ("default", []), ("nearest", ["--interpolation", "nearest"]), ("keras-compat", ["--keras-compat"]),
        ("gray", ["--channels", "1"]),
    ]

    @Test(arguments: 0..<4)
    func predictGivesTheClassesEvaluateComputes(case number: Int) throws {
        let (name, extra) = Self.preprocessings[number]
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data")
        try PinnedBytesTests.makeDataset(at: data)  // photos of 120×90, EXIF orientations 6 and 8 among them
        let out = dir.appendingPathComponent("shards").path, run = dir.appendingPathComponent("run").path
        let augment = try runDataprep(
            [
                "augment", data.path, "--out", out, "--size", "28x20", "--rotate", "10", "--flip",
                "--seed", "3",
            ] + extra)
        #expect(augment.status == 0, "\(name): \(augment.stderr)")
        let train = try runDataprep(
            [
                "train", "--shards", out, "--model", "conv4,pool,flatten,dense8,output", "--epochs", "2",
                "--batch-size", "4", "--run-dir", run,
            ], environment: ["OMP_WAIT_POLICY": "PASSIVE"])
        #expect(train.status == 0, "\(name): \(train.stderr)")

        let validation = try ShardSet(directory: out + "/validation")
        let model = try Model.load(from: run + "/checkpoint.dpc")
        #expect(model.inputSpec == validation.manifest.spec, "\(name)")
        #expect(model.inputSpec.resize == (name == "keras-compat" ? .kerasNearest : name == "nearest" ? .nearest : .bilinear))
        let loader = ImageLoader(spec: model.inputSpec)
        var classes: [String] = []
        for sample in 0..<validation.count {
            var fromShard = [Float](repeating: 0, count: model.inputSpec.elementCount)
            let stored = try validation.image(sample)
            stored.withUnsafeBytes { bytes in
                fromShard.withUnsafeMutableBufferPointer {
                    model.inputSpec.values(of: bytes, layout: model.imageLayout, into: $0)
                }
            }
            let path = data.path + "/" + validation.manifest.sources[Int(try validation.source(sample)!)]
            let fromFile = try loader.values(fileAt: path, layout: model.imageLayout)
            #expect(fromFile == fromShard, "\(name): \(path) is not given the input its shard holds")
            let probabilities = try fromShard.withUnsafeBufferPointer { try model.predict(images: $0) }
            let label = probabilities.enumerated().max { $0.element < $1.element }!.offset
            classes.append(model.classNames[label])
        }
        let files = try (0..<validation.count).map { data.path + "/" + validation.manifest.sources[Int(try validation.source($0)!)] }
        let predict = try runDataprep(["predict", "--model", run + "/checkpoint.dpc"] + files)
        #expect(predict.status == 0, "\(name): \(predict.stderr)")
        let predicted = predict.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(predicted.map(String.init) == classes, "\(name)")
    }
}
