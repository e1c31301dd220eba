import Foundation
import ONNX
import Shards
import SwiftProtobuf
import Testing
import Trainer

/// The exported graph read back with swift-protobuf: opset, shapes, nodes, initializers and
/// metadata, and its outputs, computed by a small reference interpreter of the graph's nodes, equal
/// to ``Model/predict(images:)``.
@Suite struct ONNXExportTests {
    /// A model of `spec` trained a few steps on random data (so the biases are not zero).
    static func trainedModel(_ spec: String, input: ImageSpec, classes: Int, seed: UInt64 = 3) throws -> Model {
        let model = try Model(architecture: Architecture(presetOrSpec: spec), inputSpec: input, classes: classes, seed: seed)
        model.classNames = (0..<classes).map { "class \($0)" }
        for step in 0..<3 {
            let images = values(8 * input.elementCount, seed: seed &+ UInt64(step))
            let labels = (0..<8).map { Int32(($0 + step) % classes) }
            _ = try images.withUnsafeBufferPointer { images in
                try labels.withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
            }
        }
        return model
    }

    /// Deterministic values in [0, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state >> 40) / Float(1 << 24)
        }
    }

    /// The model exported, serialized and parsed back.
    static func roundTrip(_ model: Model) throws -> Onnx_ModelProto {
        let data = try ONNXExport.serializedData(model, producerVersion: "test")
        return try Onnx_ModelProto(serializedBytes: data)
    }

    static func dims(_ info: Onnx_ValueInfoProto) -> [String] {
        info.type.tensorType.shape.dim.map { dim in
            switch dim.value {
            case let .dimParam(name): name
            case let .dimValue(size): String(size)
            case nil: "?"
            }
        }
    }

    static func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? {
        node.attribute.first { $0.name == name }
    }

    @Test func mlpSoftmaxStructureAndOutputs() throws {
        let input = ImageSpec(width: 5, height: 4, channels: 3, resize: .nearest, rescale: 0.5)
        let model = try Self.trainedModel("mlp", input: input, classes: 3)
        let proto = try Self.roundTrip(model)

        #expect(proto.irVersion == 8 && proto.producerName == "dataprep" && proto.producerVersion == "test")
        #expect(proto.opsetImport.count == 1 && proto.opsetImport[0].domain == "" && proto.opsetImport[0].version == 13)
        let graph = proto.graph
        #expect(graph.input.map(\.name) == ["image"] && Self.dims(graph.input[0]) == ["batch", "4", "5", "3"])
        #expect(graph.output.map(\.name) == ["probabilities"] && Self.dims(graph.output[0]) == ["batch", "3"])
        #expect(graph.input[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue))
        #expect(graph.node.map(\.opType) == ["Flatten", "Gemm", "Relu", "Gemm", "Softmax"])
        #expect(graph.node.last?.output == ["probabilities"])
        #expect(Self.attribute(graph.node[4], "axis")?.i == 1)
        #expect(graph.initializer.map(\.name) == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"])
        #expect(graph.initializer.map(\.dims) == [[60, 128], [128], [128, 3], [3]])

        let metadata = Dictionary(uniqueKeysWithValues: proto.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["dataprep.imageLayout"] == "nhwc")
        #expect(metadata["dataprep.classNames"] == #"["class 0","class 1","class 2"]"#)
        #expect(metadata["dataprep.architecture"] == "flatten,dense128,output")
        #expect(metadata["dataprep.outputActivation"] == "softmax")
        let spec = try JSONDecoder().decode(ImageSpec.self, from: Data((metadata["dataprep.spec"] ?? "").utf8))
        #expect(spec == input)

        try Self.expectSameOutputs(model, proto, count: 6)
    }

    @Test func convSigmoidWithAsymmetricSamePadding() throws {
        // 8 wide, 6 high, stride 2, 3×3 'same': 4×3 outputs, one padding column at the right and one
        // row at the bottom (Keras's odd padding goes after).
        let input = ImageSpec(width: 8, height: 6, channels: 3)
        let model = try Self.trainedModel("conv4:s2,pool,flatten,dense8,output", input: input, classes: 2)
        let proto = try Self.roundTrip(model)
        let graph = proto.graph

        #expect(
            graph.node.map(\.opType) == ["Transpose", "Conv", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Relu", "Gemm", "Sigmoid"])
        #expect(Self.attribute(graph.node[0], "perm")?.ints == [0, 3, 1, 2])
        let conv = graph.node[1]
        #expect(conv.input == ["conv2d/to_nchw", "conv2d/kernel", "conv2d/bias"])
        #expect(Self.attribute(conv, "kernel_shape")?.ints == [3, 3] && Self.attribute(conv, "strides")?.ints == [2, 2])
        #expect(Self.attribute(conv, "pads")?.ints == [0, 0, 1, 1])
        #expect(Self.attribute(graph.node[3], "pads")?.ints == [0, 0, 0, 0] && Self.attribute(graph.node[3], "strides")?.ints == [2, 2])
        #expect(Self.attribute(graph.node[4], "perm")?.ints == [0, 2, 3, 1])
        #expect(Self.dims(graph.output[0]) == ["batch", "1"])
        #expect(graph.initializer.map(\.dims) == [[4, 3, 3, 3], [4], [8, 8], [8], [8, 1], [1]])

        // The kernel is OIHW: [o][i][y][x] is Keras's [y][x][i][o].
        let keras = model.weights[0]
        let oihw = Self.floats(graph.initializer[0])
        for (o, i, y, x) in [(0, 0, 0, 0), (3, 2, 1, 0), (1, 0, 2, 1), (2, 1, 0, 2)] {
            #expect(oihw[((o * 3 + i) * 3 + y) * 3 + x] == keras.values[((y * 3 + x) * 3 + i) * 4 + o])
        }
        let metadata = Dictionary(uniqueKeysWithValues: proto.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["dataprep.outputActivation"] == "sigmoid")

        try Self.expectSameOutputs(model, proto, count: 5)
    }

    @Test func symmetricPaddingValidConvolutionAndSameSoftmax() throws {
        let input = ImageSpec(width: 9, height: 7, channels: 1)
        let model = try Self.trainedModel("conv3,conv2:k2:valid:sigmoid,pool:same,drop0.5,flatten,dense4", input: input, classes: 4)
        let graph = try Self.roundTrip(model).graph
        #expect(
            graph.node.map(\.opType) == [
                "Transpose", "Conv", "Relu", "Conv", "Sigmoid", "MaxPool", "Transpose", "Flatten", "Gemm", "Softmax",
            ])
        #expect(Self.attribute(graph.node[1], "pads")?.ints == [1, 1, 1, 1])
        #expect(Self.attribute(graph.node[3], "pads")?.ints == [0, 0, 0, 0])
        // 'same' pooling of 6×8 → 3×4: no padding needed.
        #expect(Self.attribute(graph.node[5], "pads")?.ints == [0, 0, 0, 0])
        try Self.expectSameOutputs(
            try Self.trainedModel("conv3,conv2:k2:valid:sigmoid,pool:same,flatten,dense4", input: input, classes: 4), count: 4)
    }

    @Test func samePoolingPadsOddSizes() throws {
        let input = ImageSpec(width: 5, height: 3, channels: 2)
        let model = try Self.trainedModel("conv2,pool:same,flatten,output", input: input, classes: 3)
        let graph = try Self.roundTrip(model).graph
        // 3×5 pooled 2×2 'same' → 2×3: one row at the bottom, one column at the right.
        #expect(Self.attribute(graph.node[3], "pads")?.ints == [0, 0, 1, 1])
        try Self.expectSameOutputs(model, count: 3)
    }

    // MARK: Reference evaluation

    static func expectSameOutputs(_ model: Model, _ proto: Onnx_ModelProto? = nil, count: Int) throws {
        let proto = try proto ?? roundTrip(model)
        let images = values(count * model.inputSpec.elementCount, seed: 99)
        let expected = try images.withUnsafeBufferPointer { try model.predict(images: $0) }
        let spec = model.inputSpec
        let actual = try ReferenceEvaluator(proto.graph).run(
            Tensor(shape: [count, spec.height, spec.width, spec.channels], values: images))
        #expect(actual.shape == [count, model.outputUnits])
        #expect(actual.values.count == expected.count)
        let difference = zip(actual.values, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-4, "largest difference \(difference)")
    }

    static func floats(_ tensor: Onnx_TensorProto) -> [Float] {
        #expect(tensor.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
        return tensor.rawData.withUnsafeBytes { raw in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}

struct Tensor {
    var shape: [Int]
    var values: [Float]
}

struct UnsupportedNode: Error {
    let description: String
}

/// Runs the few ONNX operators the exporter writes, in Double, straight from their definitions.
struct ReferenceEvaluator {
    let graph: Onnx_GraphProto

    init(_ graph: Onnx_GraphProto) {
        self.graph = graph
    }

    func run(_ input: Tensor) throws -> Tensor {
        var tensors: [String: Tensor] = [graph.input[0].name: input]
        for initializer in graph.initializer {
            tensors[initializer.name] = Tensor(shape: initializer.dims.map { Int($0) }, values: ONNXExportTests.floats(initializer))
        }
        for node in graph.node {
            let inputs = node.input.map { tensors[$0]! }
            func ints(_ name: String) -> [Int] { node.attribute.first { $0.name == name }.map { $0.ints.map { Int($0) } } ?? [] }
            func int(_ name: String) -> Int? { node.attribute.first { $0.name == name }.map { Int($0.i) } }
            let output: Tensor
            switch node.opType {
            case "Transpose": output = transpose(inputs[0], ints("perm"))
            case "Conv":
                output = window(inputs[0], ints("kernel_shape"), ints("strides"), ints("pads"), weights: inputs[1], bias: inputs[2])
            case "MaxPool": output = window(inputs[0], ints("kernel_shape"), ints("strides"), ints("pads"), weights: nil, bias: nil)
            case "Relu": output = Tensor(shape: inputs[0].shape, values: inputs[0].values.map { max($0, 0) })
            case "Sigmoid": output = Tensor(shape: inputs[0].shape, values: inputs[0].values.map { Float(1 / (1 + exp(-Double($0)))) })
            case "Softmax":
                guard inputs[0].shape.count == 2, int("axis") == 1 else {
                    throw UnsupportedNode(description: "softmax on \(inputs[0].shape)")
                }
                let units = inputs[0].shape[1]
                var values = inputs[0].values
                for row in 0..<inputs[0].shape[0] {
                    let slice = values[(row * units)..<(row * units + units)].map(Double.init)
                    let largest = slice.max()!
                    let sum = slice.reduce(0) { $0 + exp($1 - largest) }
                    for k in 0..<units { values[row * units + k] = Float(exp(slice[k] - largest) / sum) }
                }
                output = Tensor(shape: inputs[0].shape, values: values)
            case "Flatten":
                guard int("axis") == 1 else { throw UnsupportedNode(description: "flatten axis") }
                output = Tensor(shape: [inputs[0].shape[0], inputs[0].shape.dropFirst().reduce(1, *)], values: inputs[0].values)
            case "Gemm":
                guard int("transA") == 0, int("transB") == 0 else { throw UnsupportedNode(description: "transposed gemm") }
                let (a, b, c) = (inputs[0], inputs[1], inputs[2])
                let (rows, inner, columns) = (a.shape[0], a.shape[1], b.shape[1])
                var values = [Float](repeating: 0, count: rows * columns)
                for r in 0..<rows {
                    for j in 0..<columns {
                        var sum = Double(c.values[j])
                        for k in 0..<inner { sum += Double(a.values[r * inner + k]) * Double(b.values[k * columns + j]) }
                        values[r * columns + j] = Float(sum)
                    }
                }
                output = Tensor(shape: [rows, columns], values: values)
            default: throw UnsupportedNode(description: node.opType)
            }
            tensors[node.output[0]] = output
        }
        return tensors[graph.output[0].name]!
    }

    private func transpose(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let shape = perm.map { x.shape[$0] }
        var strides = [Int](repeating: 1, count: x.shape.count)
        for axis in stride(from: x.shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * x.shape[axis + 1] }
        var values = [Float](repeating: 0, count: x.values.count)
        var index = [Int](repeating: 0, count: shape.count)
        for flat in 0..<values.count {
            var rest = flat
            for axis in stride(from: shape.count - 1, through: 0, by: -1) {
                index[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            values[flat] = x.values[zip(perm, index).reduce(0) { $0 + strides[$1.0] * $1.1 }]
        }
        return Tensor(shape: shape, values: values)
    }

    /// Conv (with `weights` OIHW and `bias`) or MaxPool (padding never picked) on NCHW.
    private func window(_ x: Tensor, _ kernel: [Int], _ strides: [Int], _ pads: [Int], weights: Tensor?, bias: Tensor?) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let outChannels = weights?.shape[0] ?? c
        let oh = (h + pads[0] + pads[2] - kernel[0]) / strides[0] + 1
        let ow = (w + pads[1] + pads[3] - kernel[1]) / strides[1] + 1
        var values = [Float](repeating: 0, count: n * outChannels * oh * ow)
        for b in 0..<n {
            for o in 0..<outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var result = weights == nil ? -Double.infinity : Double(bias!.values[o])
                        for ky in 0..<kernel[0] {
                            for kx in 0..<kernel[1] {
                                let y = oy * strides[0] + ky - pads[0], xx = ox * strides[1] + kx - pads[1]
                                guard y >= 0, y < h, xx >= 0, xx < w else { continue }
                                if let weights {
                                    for i in 0..<c {
                                        result +=
                                            Double(x.values[((b * c + i) * h + y) * w + xx])
                                            * Double(weights.values[((o * c + i) * kernel[0] + ky) * kernel[1] + kx])
                                    }
                                } else {
                                    result = max(result, Double(x.values[((b * c + o) * h + y) * w + xx]))
                                }
                            }
                        }
                        values[((b * outChannels + o) * oh + oy) * ow + ox] = Float(result)
                    }
                }
            }
        }
        return Tensor(shape: [n, outChannels, oh, ow], values: values)
    }
}
