// What a model is made of, before it meets an input shape: layer specs, the bundled presets and the
// canonical layer-spec text (`conv16,pool,...`) they print as. Parsing lives in SpecParser.swift;
// fitting the layers to an input shape and class count in ModelGraph.swift.
public import Shards

// MARK: - Layer specs

/// A layer's activation function.
public enum Activation: String, Sendable, Hashable, CaseIterable {
    /// max(x, 0).
    case relu
    /// 1 / (1 + e^−x).
    case sigmoid
    /// e^x / Σ e^x over the channels (the features of a dense layer).
    case softmax
    /// The identity.
    case linear
}

/// How a convolution or pooling window treats the border, as in Keras.
public enum Padding: String, Sendable, Hashable, CaseIterable {
    /// Output size ⌈input / stride⌉; the input is padded (more at the bottom/right when the padding
    /// is odd). Pooling never picks padding as a maximum.
    case same
    /// No padding: output size ⌊(input − window) / stride⌋ + 1.
    case valid
}

/// One layer of a sequential model, with Keras's meaning and defaults.
public enum LayerSpec: Hashable, Sendable, CustomStringConvertible {
    /// `Conv2D(filters, kernelSize × kernelSize, strides=stride, padding, activation)` with bias;
    /// Glorot-uniform kernel, zero bias.
    case conv2D(filters: Int, kernelSize: Int = 3, stride: Int = 1, padding: Padding = .same, activation: Activation = .relu)
    /// `MaxPooling2D(poolSize × poolSize, strides=stride ?? poolSize, padding)`.
    case maxPooling2D(poolSize: Int = 2, stride: Int? = nil, padding: Padding = .valid)
    /// `Dense(units, activation)` with bias; Glorot-uniform kernel, zero bias. A nil activation is
    /// relu, except on the last layer, where it is the output activation (sigmoid for 1 unit,
    /// softmax otherwise).
    case dense(units: Int, activation: Activation? = nil)
    /// `Flatten()`: an image becomes a vector in (height, width, channel) order, as in Keras.
    case flatten
    /// `Dropout(rate)`: inverted dropout, active only in training; `rate` in [0, 1).
    case dropout(rate: Float)
    /// The output layer the class count calls for: `Dense(1, sigmoid)` for 2 classes,
    /// `Dense(classes, softmax)` otherwise. Only as the last layer.
    case output

    /// The layer's token in the layer-spec grammar, with only non-default options written out:
    /// `conv32:k5:valid`, `pool`, `dense128`, `drop0.25`, `flatten`, `output`.
    public var description: String {
        switch self {
        case let .conv2D(filters, kernelSize, stride, padding, activation):
            return "conv\(filters)" + (kernelSize != 3 ? ":k\(kernelSize)" : "") + (stride != 1 ? ":s\(stride)" : "")
                + (padding != .same ? ":\(padding.rawValue)" : "") + (activation != .relu ? ":\(activation.rawValue)" : "")
        case let .maxPooling2D(poolSize, stride, padding):
            return "pool" + (poolSize != 2 ? "\(poolSize)" : "") + (stride.map { $0 != poolSize ? ":s\($0)" : "" } ?? "")
                + (padding != .valid ? ":\(padding.rawValue)" : "")
        case let .dense(units, activation):
            return "dense\(units)" + (activation.map { ":\($0.rawValue)" } ?? "")
        case .flatten:
            return "flatten"
        case let .dropout(rate):
            return "drop\(rate)"
        case .output:
            return "output"
        }
    }
}

// MARK: - Architectures

/// A sequential model's layers, independent of input shape and class count (those come from the
/// shard manifest when the ``Model`` is built).
public struct Architecture: Hashable, Sendable, CustomStringConvertible {
    /// The layers, input first.
    public var layers: [LayerSpec]

    /// An architecture of `layers`; they are checked when a ``Model`` fits them to an input.
    public init(layers: [LayerSpec]) {
        self.layers = layers
    }

    /// Parses a layer-spec string: a compact way to write any sequential model on a command line.
    ///
    /// ```
    /// spec       = layer *("," layer)              spaces around layers are ignored
    /// layer      = conv | pool | dense | drop | "flatten" | "output"
    /// conv       = "conv" FILTERS *(":" conv-opt)   conv-opt  = "k" SIZE | "s" STRIDE | padding | activation
    /// pool       = "pool" [SIZE] *(":" pool-opt)    pool-opt  = "s" STRIDE | padding
    /// dense      = "dense" UNITS [":" activation]
    /// drop       = "drop" RATE                      RATE a decimal in [0, 1), e.g. 0.25
    /// padding    = "same" | "valid"
    /// activation = "relu" | "sigmoid" | "softmax" | "linear"
    /// ```
    ///
    /// Defaults follow Keras: `conv` is 3×3, stride 1, `same`, relu; `pool` is 2×2 with the stride equal
    /// to its size, `valid`; `dense` is relu, except as the last layer, where it takes the output
    /// activation (sigmoid for 1 unit, softmax otherwise). `output` is the output layer the class count
    /// calls for. FILTERS, UNITS, SIZE and STRIDE are whole numbers ≥ 1. Each option may appear once.
    ///
    /// Example: `conv32,pool,drop0.25,conv64:k5:valid,pool,flatten,dense128,drop0.5,output`.
    ///
    /// - Throws: ``TrainerError`` `invalidSpec` naming the layer (position and text) and what is wrong.
    public init(spec: String) throws {
        layers = try SpecParser.parse(spec)
    }

    /// A preset by name (``Preset``), or else a layer-spec string.
    /// - Throws: ``TrainerError`` `invalidSpec` when `text` is neither.
    public init(presetOrSpec text: String) throws {
        if let preset = Preset(rawValue: text) {
            self = preset.architecture
            return
        }
        do {
            try self.init(spec: text)
        } catch let error as TrainerError where !text.contains(",") {
            let names = Preset.allCases.map(\.rawValue).joined(separator: ", ")
            throw TrainerError(.invalidSpec, "'\(text)' is neither a preset (\(names)) nor a layer spec: \(error.message)")
        }
    }

    /// The canonical layer-spec string; parsing it gives the same architecture.
    public var description: String { layers.map(\.description).joined(separator: ",") }

    /// The image layout a model of these layers reads without reordering its input: NCHW when the
    /// first layer is a convolution (oneDNN's first-layer kernels read planar images), NHWC
    /// otherwise (a dense layer reads Keras's flatten order).
    public var preferredImageLayout: BatchOptions.ImageLayout {
        if case .conv2D = layers.first { .nchw } else { .nhwc }
    }
}

/// The bundled architectures. Each is a layer-spec string; `output` becomes `Dense(1, sigmoid)` for
/// 2 classes and `Dense(classes, softmax)` otherwise. Convolutions are 3×3, stride 1, relu; pools
/// 2×2, stride 2, valid.
public enum Preset: String, Sendable, CaseIterable {
    /// The Keras image-classification tutorial: Conv 16-32-64 'same', each followed by a max-pool,
    /// Flatten, Dense 512 relu, output. 10,641,441 parameters at 150×150×3, 2 classes.
    case tutorial
    /// ``tutorial`` with Dropout 0.3 after the first pool, 0.3 before Flatten, 0.1 after Dense 512.
    case tutorialDropout = "tutorial-dropout"
    /// Chollet's 2016 small-data convnet: Conv 32-32-64 'valid', each followed by a max-pool,
    /// Flatten, Dense 64 relu, Dropout 0.5, output.
    case chollet
    /// A shallow VGG-style net for CIFAR-10 (32×32×3): 2 × Conv32 'same' + pool, 2 × Conv64 'same'
    /// + pool, Flatten, Dense 512 relu, output.
    case shallowvgg
    /// The Fashion-MNIST convnet (28×28×1): Conv64 'valid' + pool, Conv64 'valid' + pool, Flatten,
    /// Dense 128 relu, output.
    case fashion
    /// A multilayer perceptron: Flatten, Dense 128 relu, output.
    case mlp

    /// The preset's layers.
    public var architecture: Architecture {
        let pool = LayerSpec.maxPooling2D()
        func conv(_ filters: Int, _ padding: Padding = .same) -> LayerSpec { .conv2D(filters: filters, padding: padding) }
        return switch self {
        case .tutorial:
            Architecture(layers: [conv(16), pool, conv(32), pool, conv(64), pool, .flatten, .dense(units: 512), .output])
        case .tutorialDropout:
            Architecture(layers: [
                conv(16), pool, .dropout(rate: 0.3), conv(32), pool, conv(64), pool, .dropout(rate: 0.3),
                .flatten, .dense(units: 512), .dropout(rate: 0.1), .output,
            ])
        case .chollet:
            Architecture(layers: [
                conv(32, .valid), pool, conv(32, .valid), pool, conv(64, .valid), pool, .flatten,
                .dense(units: 64), .dropout(rate: 0.5), .output,
            ])
        case .shallowvgg:
            Architecture(layers: [conv(32), conv(32), pool, conv(64), conv(64), pool, .flatten, .dense(units: 512), .output])
        case .fashion:
            Architecture(layers: [conv(64, .valid), pool, conv(64, .valid), pool, .flatten, .dense(units: 128), .output])
        case .mlp:
            Architecture(layers: [.flatten, .dense(units: 128), .output])
        }
    }

    /// The preset as a layer-spec string, e.g. `conv16,pool,conv32,pool,conv64,pool,flatten,dense512,output`
    /// for ``tutorial``.
    public var spec: String { architecture.description }
}
