import Foundation
import Shards
import TestSupport
import Testing

@testable import Trainer

/// The weights file as documented (read here the way numpy would), its checks, and its errors.
@Suite struct WeightsFileTests {
    let shape = ImageSpec(width: 6, height: 6, channels: 2)

    func withFolder(_ body: (String) throws -> Void) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    func model(seed: UInt64 = 1, optimizer: Optimizer = .adam()) throws -> Model {
        try Model(
            architecture: Architecture(spec: "conv3,pool,flatten,dense4,output"), inputSpec: shape, classes: 3,
            optimizer: optimizer, seed: seed)
    }

    /// One training step so the optimizer state is not all zero.
    func trainOnce(_ model: Model) throws {
        let images = randomValues(2 * shape.elementCount, seed: 3), labels: [Int32] = [0, 2]
        _ = try images.withUnsafeBufferPointer { images in
            try labels.withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
        }
    }

    @Test func theFileIsAHeaderAJSONIndexAndRawLittleEndianFloat32Arrays() throws {
        try withFolder { folder in
            let model = try model()
            try trainOnce(model)
            model.epoch = 3
            let path = folder + "/model.dpw"
            try model.saveCheckpoint(to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            func integer<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
                bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
            }
            #expect(Array(bytes[0..<8]) == Array("DPWEIGHT".utf8))
            #expect(integer(8, UInt32.self) == 1)
            let length = Int(integer(12, UInt32.self)), indexOffset = Int(integer(16, UInt64.self))
            #expect(indexOffset + length == bytes.count)
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(bytes[indexOffset..<indexOffset + length])) as? [String: Any])
            #expect(json["format"] as? String == "dataprep-weights")
            #expect(json["kind"] as? String == "checkpoint")
            #expect(json["epoch"] as? Int == 3)
            let description = try #require(json["model"] as? [String: Any])
            #expect(description["architecture"] as? String == "conv3,pool,flatten,dense4,output")
            #expect(description["input"] as? [Int] == [6, 6, 2])
            let spec = try #require(description["spec"] as? [String: Any])
            #expect(spec["width"] as? Int == 6 && spec["height"] as? Int == 6 && spec["channels"] as? Int == 2)
            #expect(spec["resize"] as? String == "bilinear")
            #expect(description["loss"] as? String == "sparse_categorical_crossentropy")
            let optimizer = try #require(json["optimizer"] as? [String: Any])
            #expect(optimizer["name"] as? String == "adam")
            #expect(optimizer["iterations"] as? Int == 1)
            #expect((optimizer["config"] as? [String: Double])?["epsilon"] == 1e-7)
            let arrays = try #require(json["arrays"] as? [[String: Any]])
            var byName: [String: [Float]] = [:]
            for entry in arrays {
                let name = try #require(entry["name"] as? String), shape = try #require(entry["shape"] as? [Int])
                let offset = try #require(entry["offset"] as? Int)
                #expect(offset % 64 == 0 && offset >= 64)
                let count = shape.reduce(1, *)
                byName[name] = (0..<count).map { Float(bitPattern: integer(offset + 4 * $0, UInt32.self)) }
            }
            for weight in model.weights { #expect(byName[weight.name] == weight.values, "\(weight.name)") }
            #expect(arrays.map { $0["layout"] as? String }.prefix(6) == ["HWIO", "O", "IO, rows in (h, w, c) order", "O", "IO", "O"])
            #expect(arrays.map { $0["shape"] as? [Int] }.prefix(6) == [[3, 3, 2, 3], [3], [27, 4], [4], [4, 3], [3]])
            #expect(
                arrays.map { $0["name"] as? String } == [
                    "conv2d/kernel", "conv2d/bias", "dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                    "optimizer/momentum/conv2d/kernel", "optimizer/momentum/conv2d/bias", "optimizer/momentum/dense/kernel",
                    "optimizer/momentum/dense/bias", "optimizer/momentum/dense_1/kernel", "optimizer/momentum/dense_1/bias",
                    "optimizer/velocity/conv2d/kernel", "optimizer/velocity/conv2d/bias", "optimizer/velocity/dense/kernel",
                    "optimizer/velocity/dense/bias", "optimizer/velocity/dense_1/kernel", "optimizer/velocity/dense_1/bias",
                ])
            #expect(byName["optimizer/velocity/dense/kernel"]!.contains { $0 != 0 })
            #expect(byName["conv2d/kernel"]!.count == 3 * 3 * 2 * 3)
        }
    }

    @Test func damageIsFoundAndNamed() throws {
        try withFolder { folder in
            let path = folder + "/weights.dpw"
            try model().saveWeights(to: path)
            let good = try Data(contentsOf: URL(fileURLWithPath: path))
            func expectBad(_ bytes: Data, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
                try bytes.write(to: URL(fileURLWithPath: path))
                let error = expectError(TrainerError.self, .badWeightsFile, sourceLocation: sourceLocation) {
                    try self.model().loadWeights(from: path)
                }
                #expect(error?.message.contains(message) == true, "\(error.map(\.message) ?? "")", sourceLocation: sourceLocation)
            }
            var firstValue = good
            firstValue[64] ^= 0x40  // the first byte of the first array
            try expectBad(firstValue, "array 'conv2d/kernel' does not match its checksum")
            var index = good
            index[index.count - 10] ^= 0x01
            try expectBad(index, "the index does not match its checksum")
            try expectBad(good.prefix(good.count - 100), "the index lies past the end of the file (truncated?)")
            try expectBad(good.prefix(20), "not a dataprep weights file")
            var version = good
            version[8] = 2
            try expectBad(version, "format version 2; this build reads version 1")
        }
    }

    @Test func weightsOfAnotherArchitectureAreRefused() throws {
        try withFolder { folder in
            let path = folder + "/weights.dpw"
            try model().saveWeights(to: path)
            let other = try Model(architecture: Architecture(spec: "conv3,pool,flatten,dense5,output"), inputSpec: shape, classes: 3)
            #expect(throws: TrainerError(.incompatibleWeights, "'dense/kernel' is [27, 4] in the file but [27, 5] in the model")) {
                try other.loadWeights(from: path)
            }
            let deeper = try Model(architecture: Architecture(spec: "conv3,conv3,pool,flatten,dense4,output"), inputSpec: shape, classes: 3)
            expectError(TrainerError.self, .incompatibleWeights) { try deeper.loadWeights(from: path) }
            let sgd = try model(optimizer: .sgd(momentum: 0.9))
            try sgd.saveCheckpoint(to: path)
            #expect(
                throws: TrainerError(
                    .incompatibleWeights,
                    "\(path) was written by the sgd optimizer; this model uses adam(learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-07)"
                )
            ) {
                try self.model().loadCheckpoint(from: path)
            }
        }
    }

    @Test func weightsFilesAndCheckpointsRecordTheImageSpec() throws {
        try withFolder { folder in
            let spec = ImageSpec(width: 7, height: 5, channels: 1, resize: .kerasNearest, rescale: 1.0 / 255)
            let model = try Model(architecture: Architecture(spec: "conv3,flatten,output"), inputSpec: spec, classes: 2, seed: 4)
            try model.saveWeights(to: folder + "/weights.dpw")
            try model.saveCheckpoint(to: folder + "/checkpoint.dpc")
            for path in [folder + "/weights.dpw", folder + "/checkpoint.dpc"] {
                let loaded = try Model.load(from: path)
                #expect(loaded.inputSpec == spec, "\(path)")
                #expect(loaded.weights == model.weights)
                let record = try WeightsFile.read(path).index.model
                #expect(record.input == [5, 7, 1])  // [height, width, channels], for numpy readers
                #expect(record.spec == spec)
            }
        }
    }

    @Test func filesWithoutASpecLoadAsBilinearOneOver255() throws {
        try withFolder { folder in
            let path = folder + "/old.dpw"
            let model = try model()
            try model.saveWeights(to: path)
            // Rewrite the file as one written before the spec was recorded.
            var index = try WeightsFile.read(path).index
            index.model.spec = nil
            let buffers = model.weights.map { weight in
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: weight.values.count)
                _ = buffer.initialize(from: weight.values)
                return (weight, buffer)
            }
            defer { for (_, buffer) in buffers { buffer.deallocate() } }
            try WeightsFile.write(
                index,
                payloads: buffers.map { weight, buffer in
                    WeightsFile.Payload(name: weight.name, shape: weight.shape, layout: "") { UnsafeBufferPointer(buffer) }
                }, to: path)
            #expect(try WeightsFile.read(path).index.model.spec == nil)
            let loaded = try Model.load(from: path)
            #expect(loaded.inputSpec == ImageSpec(width: 6, height: 6, channels: 2, resize: .bilinear, rescale: 1.0 / 255))
            #expect(loaded.weights == model.weights)
        }
    }

    @Test func writesAreAtomicAndFailuresAreFileSystemErrors() throws {
        try withFolder { folder in
            let path = folder + "/weights.dpw"
            let first = try model(seed: 1), second = try model(seed: 2)
            try first.saveWeights(to: path)
            try second.saveWeights(to: path)
            #expect(try Model.load(from: path).weights == second.weights)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["weights.dpw"])
            expectError(TrainerError.self, .fileSystem) { try first.saveWeights(to: folder + "/missing/weights.dpw") }
            expectError(TrainerError.self, .fileSystem) { try first.loadWeights(from: folder + "/nothing.dpw") }
        }
    }
}
