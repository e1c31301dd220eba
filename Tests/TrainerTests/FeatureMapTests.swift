import Foundation
import Shards
import TestSupport
import Testing

@testable import Trainer

/// `Model.featureMaps(image:)`: the conv and pool outputs of one image, out of oneDNN's blocked
/// layouts, against a Float64 computation from the model's own (Keras-layout) weights.
@Suite struct FeatureMapTests {
    /// oneDNN accumulates in float32, in its own order (and with Winograd F(4×4, 3×3) for
    /// convolutions over 16 or more channels where the CPU has it), so its sums differ from the
    /// Float64 reference by rounding: a few float32 ulps of the terms, well under this bound for
    /// the values here (inputs in [−1, 1), Glorot weights, at most 153 products per sum).
    static func close(_ value: Float, _ reference: Double) -> Bool {
        abs(Double(value) - reference) <= 2e-4 * (1 + abs(reference))
    }

    @Test func aTinyModelsMapsEqualTheConvolutionAndPoolingOfItsWeights() throws {
        let model = try Model(
            architecture: Architecture(spec: "conv4,pool,flatten,dense2"),
            inputSpec: ImageSpec(width: 6, height: 6, channels: 1), classes: 2, seed: 3)
        let image = randomValues(36, seed: 11)
        let maps = try image.withUnsafeBufferPointer { try model.featureMaps(image: $0) }

        let weights = Dictionary(uniqueKeysWithValues: model.weights.map { ($0.name, $0.values.map(Double.init)) })
        let convolved = Reference.convolution(
            Reference.Map(image.map(Double.init), height: 6, width: 6, channels: 1),
            kernel: weights["conv2d/kernel"]!, bias: weights["conv2d/bias"]!, size: 3, same: true)
        let pooled = Reference.maxPooling(convolved, same: false)
        #expect(maps.map(\.layer) == ["conv2d", "max_pooling2d"])
        #expect(maps.map(\.kind) == [.convolution, .maxPooling])
        for (map, reference) in zip(maps, [convolved, pooled]) {
            #expect([map.height, map.width, map.channels] as [Int] == [reference.height, reference.width, reference.channels])
            #expect(map.values.count == reference.values.count)
            #expect(zip(map.values, reference.values).allSatisfy { Self.close($0, $1) }, "\(map.layer)")
        }
        #expect(maps[0].values.contains { $0 > 0 } && maps[0].values.contains(0), "relu is applied")
    }

    /// Two convolutions, both paddings, NCHW input, a dropout (off), and weights that change
    /// between calls as training goes on.
    @Test func theMapsFollowTheWeightsAsTrainingChangesThem() throws {
        let shape = ImageSpec(width: 11, height: 11, channels: 3)
        let model = try Model(
            architecture: Architecture(spec: "conv17,pool:same,drop0.5,conv20:valid,pool,flatten,output"),
            inputSpec: shape, classes: 3, seed: 4, imageLayout: .nchw)
        let image = randomValues(shape.elementCount, seed: 12)
        for step in 0..<3 {
            let maps = try planar(image, shape).withUnsafeBufferPointer { try model.featureMaps(image: $0) }
            let weights = Dictionary(uniqueKeysWithValues: model.weights.map { ($0.name, $0.values.map(Double.init)) })
            let first = Reference.convolution(
                Reference.Map(image.map(Double.init), height: 11, width: 11, channels: 3),
                kernel: weights["conv2d/kernel"]!, bias: weights["conv2d/bias"]!, size: 3, same: true)
            let pooled = Reference.maxPooling(first, same: true)
            let second = Reference.convolution(
                pooled, kernel: weights["conv2d_1/kernel"]!, bias: weights["conv2d_1/bias"]!,
                size: 3, same: false)
            let references = [first, pooled, second, Reference.maxPooling(second, same: false)]
            #expect(maps.map(\.layer) == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1"])
            #expect(maps.map { [$0.height, $0.width, $0.channels] } as [[Int]] == [[11, 11, 17], [6, 6, 17], [4, 4, 20], [2, 2, 20]])
            for (map, reference) in zip(maps, references) {
                #expect(map.values.count == reference.values.count)
                #expect(zip(map.values, reference.values).allSatisfy { Self.close($0, $1) }, "step \(step), \(map.layer)")
            }
            let batch = randomValues(4 * shape.elementCount, seed: UInt64(100 + step))
            _ = try batch.withUnsafeBufferPointer { images in
                try [Int32(0), 1, 2, 1].withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
            }
        }
    }

    /// The inference plan's outputs may already be plain (oneDNN 2.6 picks NHWC for them on
    /// AVX-512), so the reorder is also run on a training plan's outputs, which oneDNN stores
    /// blocked by channel (nChw16c: 17 and 20 channels padded to 32): they must come out as the same
    /// HWC values.
    @Test func blockedLayoutsAreReorderedIntoChannelsLastOrder() throws {
        let shape = ImageSpec(width: 11, height: 11, channels: 3)
        let model = try Model(
            architecture: Architecture(spec: "conv17,pool:same,conv20:valid,pool,flatten,output"),
            inputSpec: shape, classes: 3, seed: 8, imageLayout: .nchw)
        let image = planar(randomValues(shape.elementCount, seed: 14), shape)
        let maps = try image.withUnsafeBufferPointer { try model.featureMaps(image: $0) }
        let training = try Plan(model.layers, store: model.store, batch: 1, training: true, imageLayout: .nchw, engine: model.engine)
        try image.withUnsafeBufferPointer { images in
            try training.bind(images)
            try training.forward(Runner(engine: model.engine))
        }
        var layouts: [String] = []
        for (index, map) in maps.enumerated() {
            let output = training.output(ofLayer: index)
            layouts.append(output.layout.description)
            let values = try output.channelsLastValues(engine: model.engine, label: "\(map.layer) test reorder")
            #expect(values.count == map.values.count)
            #expect(zip(values, map.values).allSatisfy { Self.close($0, Double($1)) }, "\(map.layer) from \(output.layout)")
        }
        #expect(layouts.contains { $0 != "acdb" }, "oneDNN picked plain layouts only (\(layouts)): nothing blocked was tested")
    }

    @Test func namesAndShapesAreTheSummarysAndChannelsReadOneChannel() throws {
        let model = try Model(
            architecture: Architecture(spec: "conv8:k5:valid,pool3,conv6,pool,flatten,dense8,output"),
            inputSpec: ImageSpec(width: 14, height: 20, channels: 1), classes: 2, seed: 5)
        let maps = try randomValues(280, seed: 13).withUnsafeBufferPointer { try model.featureMaps(image: $0) }
        let summary = model.summary().split(separator: "\n")
        #expect(maps.map(\.layer) == ["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1"])
        for map in maps {
            let row = summary.first { $0.hasPrefix(" \(map.layer) (\(map.kind.rawValue))") }
            #expect(row?.contains("(None, \(map.height), \(map.width), \(map.channels))") == true, "\(map.layer): \(row ?? "no row")")
            #expect(map.values.count == map.height * map.width * map.channels)
            let pixels = map.height * map.width, middle = pixels / 2
            for channel in [0, map.channels - 1] {
                let values = map.channel(channel)
                #expect(values.count == pixels)
                #expect(
                    values[middle] == map.values[middle * map.channels + channel]
                        && values.last == map.values[(pixels - 1) * map.channels + channel])
            }
        }
    }

    @Test func callingItBetweenStepsLeavesTrainingUnchanged() throws {
        let shape = ImageSpec(width: 16, height: 16, channels: 1)
        let spec = try Architecture(spec: "conv4,pool,drop0.25,conv8,pool,flatten,dense8,drop0.5,output")
        let watched = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 6)
        let plain = try Model(architecture: spec, inputSpec: shape, classes: 3, seed: 6)
        let probe = patternBatch(count: 1, seed: 77).images
        for step in 0..<5 {
            let data = patternBatch(count: 8, seed: UInt64(step))
            func trainStep(_ model: Model) throws -> StepResult {
                try data.images.withUnsafeBufferPointer { images in
                    try data.labels.withUnsafeBufferPointer { try model.trainStep(images: images, labels: .indices($0)) }
                }
            }
            _ = try probe.withUnsafeBufferPointer { try watched.featureMaps(image: $0) }
            #expect(try trainStep(watched) == trainStep(plain), "step \(step)")
        }
        #expect(watched.weights == plain.weights)
        #expect(watched.iterations == plain.iterations)
    }

    @Test func anythingButOneImageIsRefusedAndDenseOnlyModelsHaveNoMaps() throws {
        let shape = ImageSpec(width: 4, height: 4, channels: 1)
        let convnet = try Model(architecture: Architecture(spec: "conv2,flatten,output"), inputSpec: shape, classes: 2)
        for count in [15, 32] {
            expectError(TrainerError.self, .invalidArgument, "\(count) values") {
                try randomValues(count, seed: 1).withUnsafeBufferPointer { try convnet.featureMaps(image: $0) }
            }
        }
        let perceptron = try Model(architecture: Architecture(presetOrSpec: "mlp"), inputSpec: shape, classes: 2)
        #expect(try randomValues(16, seed: 1).withUnsafeBufferPointer { try perceptron.featureMaps(image: $0) }.isEmpty)
    }

    /// `values` (H × W × C) in C × H × W order.
    private func planar(_ values: [Float], _ shape: ImageSpec) -> [Float] {
        let pixels = shape.height * shape.width
        return (0..<values.count).map { index in values[(index % pixels) * shape.channels + index / pixels] }
    }
}

/// Keras's Conv2D (stride 1, relu) and MaxPooling2D (2×2, stride 2) on channels-last images in
/// Float64, from their definitions: 'same' pads (total) / 2 before and the rest after, 'valid' not
/// at all; pooling never picks padding.
private enum Reference {
    struct Map {
        var values: [Double]
        var height: Int
        var width: Int
        var channels: Int

        init(_ values: [Double], height: Int, width: Int, channels: Int) {
            self.values = values
            self.height = height
            self.width = width
            self.channels = channels
        }

        func value(_ y: Int, _ x: Int, _ c: Int) -> Double? {
            guard (0..<height).contains(y), (0..<width).contains(x) else { return nil }
            return values[(y * width + x) * channels + c]
        }
    }

    /// Output size and padding before, for a window of `size` at `stride` over `extent`.
    static func fit(_ extent: Int, size: Int, stride: Int, same: Bool) -> (output: Int, before: Int) {
        guard same else { return ((extent - size) / stride + 1, 0) }
        let output = (extent + stride - 1) / stride
        return (output, max((output - 1) * stride + size - extent, 0) / 2)
    }

    /// relu(bias + Σ input · kernel), the kernel in Keras's (kh, kw, in, out) layout.
    static func convolution(_ input: Map, kernel: [Double], bias: [Double], size: Int, same: Bool) -> Map {
        let filters = bias.count
        let rows = fit(input.height, size: size, stride: 1, same: same), columns = fit(input.width, size: size, stride: 1, same: same)
        var output = Map([], height: rows.output, width: columns.output, channels: filters)
        for y in 0..<rows.output {
            for x in 0..<columns.output {
                for o in 0..<filters {
                    var sum = bias[o]
                    for ky in 0..<size {
                        for kx in 0..<size {
                            for i in 0..<input.channels {
                                guard let value = input.value(y + ky - rows.before, x + kx - columns.before, i) else { continue }
                                sum += value * kernel[((ky * size + kx) * input.channels + i) * filters + o]
                            }
                        }
                    }
                    output.values.append(max(sum, 0))
                }
            }
        }
        return output
    }

    /// The maximum of each 2×2 window, stride 2.
    static func maxPooling(_ input: Map, same: Bool) -> Map {
        let rows = fit(input.height, size: 2, stride: 2, same: same), columns = fit(input.width, size: 2, stride: 2, same: same)
        var output = Map([], height: rows.output, width: columns.output, channels: input.channels)
        for y in 0..<rows.output {
            for x in 0..<columns.output {
                for c in 0..<input.channels {
                    let window = (0..<2).flatMap { ky in
                        (0..<2).compactMap { kx in input.value(2 * y + ky - rows.before, 2 * x + kx - columns.before, c) }
                    }
                    output.values.append(window.max()!)
                }
            }
        }
        return output
    }
}
