// Feature maps: what every convolution and max-pooling layer outputs for one image, copied out of
// whatever layout oneDNN picked for it (blocked, such as nChw16c, or plain NHWC) into plain
// channels-last arrays, for the activation grids of the Keras tutorial (`dataprep visualize`). The
// image runs through the inference plan for one image, the one `predict` uses, and the reorders are
// built for the call only: training plans and steps do no extra work.

/// One layer's output for one image, in plain channels-last order.
public struct FeatureMap: Sendable, Hashable {
    /// The kind of layer a feature map comes from.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A `Conv2D` layer; its output is after the activation (relu by default).
        case convolution = "Conv2D"
        /// A `MaxPooling2D` layer.
        case maxPooling = "MaxPooling2D"
    }

    /// Keras's layer name, as in the summary: `conv2d`, `max_pooling2d_1`.
    public let layer: String
    /// The layer's class.
    public let kind: Kind
    /// Rows of the output.
    public let height: Int
    /// Columns of the output.
    public let width: Int
    /// Channels (filters) of the output.
    public let channels: Int
    /// height × width × channels values in HWC order (channels last, as Keras's `predict` gives one
    /// sample): channel `c` at row `y`, column `x` is `values[(y * width + x) * channels + c]`.
    public let values: [Float]

    /// Channel `channel`'s height × width values, row-major.
    /// - Precondition: `0 ≤ channel < channels`.
    public func channel(_ channel: Int) -> [Float] {
        precondition((0..<channels).contains(channel), "channel \(channel) of a \(channels)-channel feature map")
        return stride(from: channel, to: values.count, by: channels).map { values[$0] }
    }
}

extension FeatureMap.Kind {
    /// The kind of a layer that has feature maps; nil for dense, flatten and dropout layers.
    init?(_ operation: ResolvedLayer.Operation) {
        switch operation {
        case .convolution: self = .convolution
        case .maxPooling: self = .maxPooling
        case .dense, .flatten, .dropout: return nil
        }
    }
}

extension Model {
    /// Runs one image forward in inference mode (dropout off) and returns the output of every
    /// Conv2D and MaxPooling2D layer, in layer order: Keras's
    /// `Model(inputs, [layer.output for layer in conv_and_pool_layers]).predict(image)`.
    ///
    /// Each output is reordered by oneDNN out of the layout its primitive chose (blocked or plain)
    /// into plain HWC. The weights, step count and dropout masks are untouched, so training on
    /// afterwards gives the same results as without the call, and training steps do no extra work
    /// for it.
    /// - Parameter image: one image, ``inputSpec`` `.elementCount` Float32 values laid out as
    ///   ``imageLayout`` says (H × W × C, or C × H × W with NCHW), scaled as in training; read only
    ///   during the call.
    /// - Returns: one ``FeatureMap`` per convolution and max-pooling layer, in layer order; empty for
    ///   a model without any.
    /// - Throws: ``TrainerError`` `invalidArgument` when `image` is not exactly one image, `library`
    ///   if oneDNN fails.
    public func featureMaps(image: UnsafeBufferPointer<Float>) throws -> [FeatureMap] {
        guard image.count == inputSpec.elementCount else {
            throw TrainerError(
                .invalidArgument, "\(image.count) values are not one \(inputSpec.shapeDescription) image (\(inputSpec.elementCount) values)"
            )
        }
        let plan = try forwardInference(image, batch: 1)
        return try layers.enumerated().compactMap { index, layer in
            guard let kind = FeatureMap.Kind(layer.operation) else { return nil }
            let values = try plan.output(ofLayer: index).channelsLastValues(engine: engine, label: "\(layer.name) feature-map reorder")
            return FeatureMap(
                layer: layer.name, kind: kind, height: layer.output.dims[0], width: layer.output.dims[1],
                channels: layer.output.dims[2], values: values)
        }
    }
}

extension Tensor {
    /// The values of an N × C × H × W tensor in plain NHWC order, without block padding, reordered
    /// by a oneDNN primitive made for this one copy.
    /// - Throws: ``TrainerError`` `library` if oneDNN cannot make or run the reorder.
    func channelsLastValues(engine: Engine, label: String) throws -> [Float] {
        let plain = try Tensor(TensorLayout(layout.dims, .nhwc), engine: engine)
        try Primitive(reorder: self, into: plain, engine: engine, label: label).execute()
        try engine.wait()
        return Array(UnsafeBufferPointer(start: plain.floats, count: layout.dims.reduce(1, *)))
    }
}
