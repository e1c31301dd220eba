// A trained model as an ONNX graph (ai.onnx opset 13, IR version 8), built on the message types
// protoc-gen-swift generated from ONNX's own schema (onnx.pb.swift; see README.md in this folder).
public import Foundation
import Shards
public import Trainer

/// Writes a ``Trainer/Model`` as an ONNX model: the weights as initializers, the input spec in the
/// metadata, the output activation in the graph.
///
/// The graph:
/// - input `image`: float32 `[batch, height, width, channels]` (NHWC, Keras's layout), the pixels
///   already multiplied by the spec's rescale, exactly what ``Shards/BatchLoader`` feeds training.
///   A caller with uint8 pixels multiplies them by `rescale` (in the `dataprep.spec` metadata)
///   first; the graph holds no rescale node.
/// - a `Transpose` to NCHW before the first convolution or pooling; `Conv` (kernel OIHW, explicit
///   pads, Keras's 'same' included: its odd row or column goes at the bottom or right), `Relu`,
///   `Sigmoid`, `Softmax` (axis 1), `MaxPool`; no node for Dropout (the identity at inference);
///   Flatten as a `Transpose` back to NHWC then `Flatten` (axis 1), so features come in Keras's
///   (height, width, channel) order; `Gemm` with Keras's (in, out) kernel as `B` (transB 0).
/// - output `probabilities`: float32 `[batch, units]`, the softmax of every class or the one
///   sigmoid (the probability of class 1), as ``Trainer/Model/predict(images:)`` gives.
/// - metadata: `dataprep.spec` (the ``Shards/ImageSpec`` as JSON: width, height, channels, resize,
///   rescale), `dataprep.classNames` (JSON array), `dataprep.imageLayout` (`nhwc`),
///   `dataprep.architecture` (the layer spec), `dataprep.outputActivation`, and
///   `dataprep.storedSpec` for a model trained with `--size` on shards of another size.
public enum ONNXExport {
    /// The IR version written (ONNX 1.10 and later read it).
    public static let irVersion: Int64 = 8
    /// The ai.onnx operator set the graph uses.
    public static let opsetVersion: Int64 = 13
    /// The graph's input and output names.
    public static let inputName = "image", outputName = "probabilities"
    /// The symbolic batch dimension of the input and output.
    public static let batchDimension = "batch"

    /// The ONNX model of `model`, its weights copied in.
    /// - Parameters:
    ///   - producerVersion: written as `producer_version` (the producer name is `dataprep`).
    /// - Throws: ``Trainer/TrainerError`` `invalidArchitecture` if the model's layers and weights
    ///   do not match (a bug, not a user error).
    public static func model(_ model: Trainer.Model, producerVersion: String) throws -> Onnx_ModelProto {
        var builder = GraphBuilder(weights: Dictionary(model.weights.map { ($0.name, $0) }) { first, _ in first })
        for layer in model.layerDescriptions { try builder.add(layer) }
        builder.finish()

        var graph = Onnx_GraphProto()
        graph.name = "dataprep"
        graph.docString = model.architecture.description
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        let spec = model.inputSpec
        graph.input = [
            valueInfo(inputName, dims: [.symbolic(batchDimension), .fixed(spec.height), .fixed(spec.width), .fixed(spec.channels)])
        ]
        graph.output = [valueInfo(outputName, dims: [.symbolic(batchDimension), .fixed(model.outputUnits)])]

        var result = Onnx_ModelProto()
        result.irVersion = irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opsetVersion
        result.opsetImport = [opset]
        result.producerName = "dataprep"
        result.producerVersion = producerVersion
        result.docString = "\(model.architecture) on \(spec.width)x\(spec.height)x\(spec.channels) images, \(model.classes) classes"
        result.graph = graph
        var properties: [(String, String)] = [
            ("dataprep.spec", try json(spec)),
            ("dataprep.classNames", try json(model.classNames)),
            ("dataprep.imageLayout", "nhwc"),
            ("dataprep.architecture", model.architecture.description),
            ("dataprep.outputActivation", model.outputActivation.rawValue),
        ]
        if let stored = model.storedSpec { properties.append(("dataprep.storedSpec", try json(stored))) }
        result.metadataProps = properties.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return result
    }

    /// ``model(_:producerVersion:)`` serialized: the bytes of a `.onnx` file.
    public static func serializedData(_ model: Trainer.Model, producerVersion: String) throws -> Data {
        try self.model(model, producerVersion: producerVersion).serializedBytes()
    }

    // MARK: Helpers

    private enum Dimension {
        case fixed(Int)
        case symbolic(String)
    }

    private static func valueInfo(_ name: String, dims: [Dimension]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { dim in
            var value = Onnx_TensorShapeProto.Dimension()
            switch dim {
            case let .fixed(size): value.dimValue = Int64(size)
            case let .symbolic(name): value.dimParam = name
            }
            return value
        }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Builds the node list layer by layer, tracking the current tensor's name and layout.
private struct GraphBuilder {
    let weights: [String: WeightArray]
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    /// The tensor the next node reads.
    private var current = ONNXExport.inputName
    /// Whether `current` is an image in NCHW (after a Transpose), rather than NHWC or flat.
    private var isNCHW = false

    init(weights: [String: WeightArray]) {
        self.weights = weights
    }

    mutating func add(_ layer: LayerDescription) throws {
        switch layer.operation {
        case let .convolution(filters, window, activation):
            toNCHW(layer.name)
            let (kernel, bias) = try parameters(of: layer)
            guard kernel.shape.count == 4, kernel.shape[3] == filters else { throw mismatch(layer, kernel) }
            let (kh, kw, channels) = (kernel.shape[0], kernel.shape[1], kernel.shape[2])
            // Keras HWIO (kh, kw, in, out) → ONNX OIHW (out, in, kh, kw).
            var oihw = [Float](repeating: 0, count: kernel.values.count)
            for y in 0..<kh {
                for x in 0..<kw {
                    for i in 0..<channels {
                        for o in 0..<filters {
                            oihw[((o * channels + i) * kh + y) * kw + x] = kernel.values[((y * kw + x) * channels + i) * filters + o]
                        }
                    }
                }
            }
            addInitializer(kernel.name, dims: [filters, channels, kh, kw], values: oihw)
            addInitializer(bias.name, dims: bias.shape, values: bias.values)
            var attributes = Self.window(window)
            attributes.insert(Self.ints("kernel_shape", window.size), at: 0)
            addNode("Conv", layer.name, inputs: [current, kernel.name, bias.name], attributes: attributes)
            addActivation(activation, layer.name)
        case let .maxPooling(window):
            toNCHW(layer.name)
            var attributes = Self.window(window)
            attributes.insert(Self.ints("kernel_shape", window.size), at: 0)
            addNode("MaxPool", layer.name, inputs: [current], attributes: attributes)
        case .flatten:
            if isNCHW {
                addNode("Transpose", layer.name + "/to_nhwc", inputs: [current], attributes: [Self.ints("perm", [0, 2, 3, 1])])
                isNCHW = false
            }
            addNode("Flatten", layer.name, inputs: [current], attributes: [Self.int("axis", 1)])
        case let .dense(units, activation):
            let (kernel, bias) = try parameters(of: layer)
            guard kernel.shape.count == 2, kernel.shape[1] == units else { throw mismatch(layer, kernel) }
            addInitializer(kernel.name, dims: kernel.shape, values: kernel.values)
            addInitializer(bias.name, dims: bias.shape, values: bias.values)
            addNode(
                "Gemm", layer.name, inputs: [current, kernel.name, bias.name],
                attributes: [Self.float("alpha", 1), Self.float("beta", 1), Self.int("transA", 0), Self.int("transB", 0)])
            addActivation(activation, layer.name)
        case .dropout:
            break  // the identity at inference
        }
    }

    /// Renames the last node's output to the graph's output.
    mutating func finish() {
        nodes[nodes.count - 1].output = [ONNXExport.outputName]
    }

    // MARK: Nodes

    private mutating func toNCHW(_ layer: String) {
        guard !isNCHW else { return }
        addNode("Transpose", layer + "/to_nchw", inputs: [current], attributes: [Self.ints("perm", [0, 3, 1, 2])])
        isNCHW = true
    }

    private mutating func addActivation(_ activation: Activation, _ layer: String) {
        switch activation {
        case .relu: addNode("Relu", layer + "/relu", inputs: [current])
        case .sigmoid: addNode("Sigmoid", layer + "/sigmoid", inputs: [current])
        case .softmax: addNode("Softmax", layer + "/softmax", inputs: [current], attributes: [Self.int("axis", 1)])
        case .linear: break
        }
    }

    /// A node named `name` whose one output (also `name`) becomes the current tensor.
    private mutating func addNode(_ type: String, _ name: String, inputs: [String], attributes: [Onnx_AttributeProto] = []) {
        var node = Onnx_NodeProto()
        node.opType = type
        node.name = name
        node.input = inputs
        node.output = [name]
        node.attribute = attributes
        nodes.append(node)
        current = name
    }

    private mutating func addInitializer(_ name: String, dims: [Int], values: [Float]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        // raw_data: the values as little-endian float32, what ONNX's own tools write. Built apart
        // and assigned once: appending to the message's field would copy it on every append.
        let littleEndian = values.map { $0.bitPattern.littleEndian }
        tensor.rawData = littleEndian.withUnsafeBytes { Data($0) }
        initializers.append(tensor)
    }

    private func parameters(of layer: LayerDescription) throws -> (kernel: WeightArray, bias: WeightArray) {
        guard layer.weightNames.count == 2, let kernel = weights[layer.weightNames[0]], let bias = weights[layer.weightNames[1]] else {
            throw TrainerError(.invalidArchitecture, "layer \(layer.name): its weights \(layer.weightNames) are not in the model")
        }
        return (kernel, bias)
    }

    private func mismatch(_ layer: LayerDescription, _ kernel: WeightArray) -> TrainerError {
        TrainerError(.invalidArchitecture, "layer \(layer.name): kernel \(kernel.name) has shape \(kernel.shape)")
    }

    // MARK: Attributes

    /// `strides` and `pads` ([top, left, bottom, right], ONNX's begin-then-end order).
    private static func window(_ window: LayerDescription.Window) -> [Onnx_AttributeProto] {
        [ints("strides", window.strides), ints("pads", window.paddingLow + window.paddingHigh)]
    }

    private static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    private static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    private static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}
