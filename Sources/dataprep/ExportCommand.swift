import ArgumentParser
import Foundation
import ONNX
import Support
import Trainer

/// `dataprep export --model CKPT|RUN --format onnx --out model.onnx`: a trained model for other runtimes.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model to another format (ONNX).",
        discussion: """
            --format onnx writes an ONNX model (ai.onnx opset 13, IR version 8) with the weights: \
            input 'image', float32 [batch, height, width, channels] (NHWC), the pixels already \
            multiplied by the rescale of the model's image spec, as train fed them; output \
            'probabilities', [batch, units]: the softmax of every class, or for a two-class model \
            the one sigmoid output (the probability of the second class), as predict prints them. \
            The metadata holds the image spec (dataprep.spec: width, height, channels, resize, \
            rescale, as JSON), the class names (dataprep.classNames), the layout \
            (dataprep.imageLayout: nhwc) and the layer spec. The file is written atomically: an \
            existing file is replaced only by a complete new one.
            """)

    /// The formats `export` writes.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case onnx
    }

    @OptionGroup var model: ModelOption

    @Option(help: "The output format.")
    var format: Format = .onnx

    @Option(help: "The file to write, e.g. model.onnx.")
    var out: String

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a file") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isFolder), isFolder.boolValue {
            throw ValidationError("--out \(out) is a folder: give a file name such as model.onnx")
        }
    }

    func run() throws {
        let network = try model.load()
        switch format {
        case .onnx:
            let proto = try ONNXExport.model(network, producerVersion: DataPrep.version)
            let bytes: Data = try proto.serializedBytes()
            try FileIO.writeAtomically(bytes, to: out)
            let spec = network.inputSpec
            print(
                "wrote \(out): ONNX opset \(ONNXExport.opsetVersion), \(bytes.count) bytes, \(proto.graph.node.count) nodes, "
                    + "\(network.parameterCount) parameters; input image [N, \(spec.height), \(spec.width), \(spec.channels)] "
                    + "(pixels × \(spec.rescale)), output probabilities [N, \(network.outputUnits)] (\(network.outputActivation))")
        }
    }
}
