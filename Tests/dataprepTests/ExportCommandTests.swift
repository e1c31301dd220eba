import Foundation
import ONNX
import SwiftProtobuf
import TestSupport
import Testing

/// `export`: a model from train written as ONNX, read back with swift-protobuf; bad formats and
/// paths refused.
@Suite(.serialized) struct ExportCommandTests {
    @Test func exportsATrainedModelAsONNX() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, model) = try PredictCommandTests.trainedModel(in: dir)
        let out = dir.appendingPathComponent("model.onnx").path

        let result = try runDataprep(["export", "--model", model, "--format", "onnx", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote \(out): ONNX opset 13, "), "\(result.stdout)")
        #expect(result.stdout.contains("input image [N, 8, 12, 3]") && result.stdout.contains("output probabilities [N, 1] (sigmoid)"))

        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(proto.producerName == "dataprep" && proto.opsetImport.first?.version == 13)
        #expect(proto.graph.node.map(\.opType) == ["Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"])
        let metadata = Dictionary(uniqueKeysWithValues: proto.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["dataprep.classNames"] == #"["cats","dogs"]"#)
        let spec = try JSONSerialization.jsonObject(with: Data((metadata["dataprep.spec"] ?? "").utf8)) as? [String: Any]
        #expect(spec?["width"] as? Int == 12 && spec?["height"] as? Int == 8 && spec?["channels"] as? Int == 3)
        #expect(spec?["rescale"] is Double && spec?["resize"] is String)
        // No temporary file left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("model.onnx") } == ["model.onnx"])

        // --model takes the run folder as evaluate, predict and visualize do: its final weights.
        let run = (model as NSString).deletingLastPathComponent, fromRun = dir.appendingPathComponent("run.onnx").path
        let exported = try runDataprep(["export", "--model", run, "--out", fromRun])
        #expect(exported.status == 0, "\(exported.stderr)")
        let final = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: fromRun)))
        #expect(final.graph.initializer == proto.graph.initializer, "one epoch: the final weights are the checkpoint's")
    }

    @Test func refusesAnUnknownFormatAndAMissingModel() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("model.onnx").path
        let format = try runDataprep(["export", "--model", "nothing.dpc", "--format", "tflite", "--out", out])
        #expect(format.status == 64 && format.stderr.contains("tflite"), "\(format.stderr)")
        let folder = try runDataprep(["export", "--model", "nothing.dpc", "--out", dir.path])
        #expect(folder.status == 64 && folder.stderr.contains("is a folder"), "\(folder.stderr)")
        let missing = try runDataprep(["export", "--model", dir.appendingPathComponent("nothing.dpc").path, "--out", out])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("error: "), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
