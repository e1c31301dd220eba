// A read-only public view of a built model's layers, fitted to its input: what an exporter (the
// ONNX target) needs to rebuild the graph without reaching into the trainer's internals.

/// One layer of a built ``Model``, fitted to its input: its Keras name, what it computes, its
/// window geometry (with the explicit padding the trainer uses, Keras's 'same' included) and its
/// shapes. The weights themselves come from ``Model/weights``, named as ``weightNames`` says.
public struct LayerDescription: Sendable, Hashable {
    /// A convolution or pooling window along (rows, columns).
    public struct Window: Sendable, Hashable {
        /// Window height and width.
        public let size: [Int]
        /// Row and column strides.
        public let strides: [Int]
        /// Padding before the first row and column (top, left).
        public let paddingLow: [Int]
        /// Padding after the last row and column (bottom, right); Keras's 'same' puts the odd one
        /// here.
        public let paddingHigh: [Int]
    }

    /// What the layer computes.
    public enum Operation: Sendable, Hashable {
        /// `Conv2D` with bias, then `activation`; kernel (kh, kw, in, out) as in Keras.
        case convolution(filters: Int, window: Window, activation: Activation)
        /// `MaxPooling2D`; padding is never picked as a maximum.
        case maxPooling(window: Window)
        /// `Dense` with bias, then `activation`; kernel (in, out) as in Keras. The last layer's
        /// activation is the model's ``Model/outputActivation``.
        case dense(units: Int, activation: Activation)
        /// `Flatten` in (height, width, channel) order.
        case flatten
        /// `Dropout`: the identity at inference.
        case dropout(rate: Float)
    }

    /// Keras's automatic name: `conv2d`, `max_pooling2d_1`, `dense`, ...
    public let name: String
    /// What the layer computes.
    public let operation: Operation
    /// Keras's input shape without the batch: [height, width, channels] or [features].
    public let inputShape: [Int]
    /// Keras's output shape without the batch.
    public let outputShape: [Int]
    /// The names of its parameters in ``Model/weights`` (kernel, then bias), empty for layers
    /// without any.
    public let weightNames: [String]
}

extension Model {
    /// The layers as built, input first, with the output layer resolved (units and activation).
    public var layerDescriptions: [LayerDescription] {
        layers.map { layer in
            func window(_ window: Trainer.Window) -> LayerDescription.Window {
                .init(size: window.size, strides: window.strides, paddingLow: window.paddingLow, paddingHigh: window.paddingHigh)
            }
            let operation: LayerDescription.Operation =
                switch layer.operation {
                case let .convolution(filters, geometry, activation):
                    .convolution(filters: filters, window: window(geometry), activation: activation)
                case let .maxPooling(geometry): .maxPooling(window: window(geometry))
                case let .dense(units, activation): .dense(units: units, activation: activation)
                case .flatten: .flatten
                case let .dropout(rate): .dropout(rate: rate)
                }
            return LayerDescription(
                name: layer.name, operation: operation, inputShape: layer.input.dims, outputShape: layer.output.dims,
                weightNames: layer.parameters.map(\.name))
        }
    }
}
