// An architecture fitted to an input image spec and a class count: every layer with its Keras name,
// its input and output shapes, its padding and its parameters. Pure arithmetic, no oneDNN: the summary
// and the parameter store are built from it, and so are the kernels of each compiled plan.
import Shards

// MARK: - Shapes

extension ImageSpec {
    /// `150x150x3`: width, height and channels, all the layers are fitted to.
    var shapeDescription: String { "\(sizeDescription)x\(channels)" }

    /// `150x150x3 keras-nearest, rescale 0.003921569`: every field a shard set must match to be fed
    /// to a model.
    var fullDescription: String { "\(self), rescale \(rescale)" }
}

/// A layer's output for one sample: what Keras reports (`dims`) and how oneDNN stores it (`storage`,
/// channels first). They differ after a Flatten, which moves no data: the vector of
/// height·width·channels values is still stored as the image it came from.
struct TensorShape: Hashable {
    /// Keras's shape without the batch: [height, width, channels] or [features].
    let dims: [Int]
    /// oneDNN's dims without the batch: [channels, height, width] or [features].
    let storage: [Int]

    static func image(_ height: Int, _ width: Int, _ channels: Int) -> TensorShape {
        TensorShape(dims: [height, width, channels], storage: [channels, height, width])
    }

    static func flat(_ features: Int) -> TensorShape {
        TensorShape(dims: [features], storage: [features])
    }

    var isImage: Bool { dims.count == 3 }
    var elementCount: Int { dims.reduce(1, *) }

    /// `(None, 75, 75, 16)`, as Keras's summary prints it.
    var kerasDescription: String { "(None, " + dims.map(String.init).joined(separator: ", ") + ")" }
}

// MARK: - Resolved layers

/// One parameter tensor of a layer (a kernel or a bias).
struct ParameterSpec {
    /// `conv2d/kernel`, `dense_1/bias`: Keras's weight names.
    let name: String
    /// Keras's shape: (kh, kw, in, out) for a convolution kernel, (in, out) for a dense kernel,
    /// (units) for a bias.
    let shape: [Int]
    /// oneDNN's dims for the same values: (out, in, kh, kw), (out, in) or (out, c, h, w) after a
    /// flatten, (units).
    let dnnlDims: [Int]
    /// How the values lie in the parameter arena: Keras's layout (hwio kernels, x biases), or for a
    /// dense kernel its transpose (oi, ohwi), which oneDNN's gemm runs fastest on.
    let format: TensorLayout.Format
    /// Whether the arena holds the transpose of Keras's (in, out) matrix (dense kernels).
    var isTransposed: Bool { format == .oi || format == .ohwi }
    /// Glorot-uniform fans (Keras's `compute_fans`); nil for a bias, which starts at zero.
    let fans: (fanIn: Int, fanOut: Int)?

    var count: Int { shape.reduce(1, *) }
}

/// A layer fitted to its input.
struct ResolvedLayer {
    enum Operation {
        case convolution(filters: Int, window: Window, activation: Activation)
        case maxPooling(window: Window)
        case dense(units: Int, activation: Activation)
        case flatten
        case dropout(rate: Float)
    }

    /// Keras's automatic name: `conv2d`, `conv2d_1`, `max_pooling2d`, `dense_1`, ...
    let name: String
    /// Keras's class name: `Conv2D`, `MaxPooling2D`, `Dense`, `Flatten`, `Dropout`.
    let typeName: String
    let operation: Operation
    let input: TensorShape
    let output: TensorShape
    /// Kernel then bias, for layers that have them.
    let parameters: [ParameterSpec]

    /// The activation the layer ends with (linear for layers without one).
    var activation: Activation {
        switch operation {
        case let .convolution(_, _, activation), let .dense(_, activation): activation
        case .maxPooling, .flatten, .dropout: .linear
        }
    }

    var isMaxPooling: Bool {
        if case .maxPooling = operation { true } else { false }
    }
}

/// The layers of `architecture` fitted to `input` (its height, width and channels; resize and
/// rescale do not change the layers) and `classes`, with the output layer made explicit.
/// - Throws: ``TrainerError`` `invalidArchitecture` for a layer that does not fit (naming it), or
///   `invalidArgument` for fewer than 2 classes or an empty input.
func resolve(_ architecture: Architecture, input: ImageSpec, classes: Int) throws -> [ResolvedLayer] {
    guard classes >= 2 else { throw TrainerError(.invalidArgument, "a classifier needs at least 2 classes, got \(classes)") }
    guard input.height >= 1, input.width >= 1, input.channels >= 1 else {
        throw TrainerError(.invalidArgument, "the input image \(input) has an empty dimension")
    }
    guard let last = architecture.layers.last else { throw TrainerError(.invalidArchitecture, "the architecture has no layers") }
    var names = LayerNames()
    var shape = TensorShape.image(input.height, input.width, input.channels)
    var layers: [ResolvedLayer] = []
    for (index, spec) in architecture.layers.enumerated() {
        let isLast = index == architecture.layers.count - 1
        func problem(_ text: String) -> TrainerError {
            TrainerError(.invalidArchitecture, "layer \(index + 1), '\(spec)': \(text)")
        }
        func needsImage() throws -> (height: Int, width: Int, channels: Int) {
            guard shape.isImage else {
                throw problem("needs an image input, but gets a flat vector of \(shape.dims[0]) (it comes after a flatten or dense layer)")
            }
            return (shape.dims[0], shape.dims[1], shape.dims[2])
        }
        let layer: ResolvedLayer
        switch spec {
        case let .conv2D(filters, kernelSize, stride, padding, activation):
            let image = try needsImage()
            guard filters >= 1, kernelSize >= 1, stride >= 1 else { throw problem("filters, kernel size and stride must be at least 1") }
            let window = try fit(size: kernelSize, stride: stride, padding: padding, to: image, problem)
            let name = names.next("conv2d")
            let output = TensorShape.image(window.outputHeight, window.outputWidth, filters)
            let kernel = ParameterSpec(
                name: "\(name)/kernel", shape: [kernelSize, kernelSize, image.channels, filters],
                dnnlDims: [filters, image.channels, kernelSize, kernelSize], format: .hwio,
                fans: (kernelSize * kernelSize * image.channels, kernelSize * kernelSize * filters))
            layer = ResolvedLayer(
                name: name, typeName: "Conv2D",
                operation: .convolution(filters: filters, window: window.window, activation: activation),
                input: shape, output: output, parameters: [kernel, bias(name, filters)])
        case let .maxPooling2D(poolSize, stride, padding):
            let image = try needsImage()
            guard poolSize >= 1, (stride ?? 1) >= 1 else { throw problem("pool size and stride must be at least 1") }
            let window = try fit(size: poolSize, stride: stride ?? poolSize, padding: padding, to: image, problem)
            layer = ResolvedLayer(
                name: names.next("max_pooling2d"), typeName: "MaxPooling2D",
                operation: .maxPooling(window: window.window), input: shape,
                output: .image(window.outputHeight, window.outputWidth, image.channels), parameters: [])
        case .flatten:
            _ = try needsImage()
            layer = ResolvedLayer(
                name: names.next("flatten"), typeName: "Flatten", operation: .flatten, input: shape,
                output: TensorShape(dims: [shape.elementCount], storage: shape.storage), parameters: [])
        case let .dropout(rate):
            guard rate >= 0, rate < 1 else { throw problem("the rate must be in [0, 1)") }
            guard !isLast else { throw problem("the last layer must be the output layer, not a dropout") }
            layer = ResolvedLayer(
                name: names.next("dropout"), typeName: "Dropout", operation: .dropout(rate: rate),
                input: shape, output: shape, parameters: [])
        case .dense, .output:
            guard !shape.isImage else {
                throw problem(
                    "needs a flat input, but gets a \(shape.dims.map(String.init).joined(separator: "×")) image; put a flatten before it")
            }
            let (units, activation) = try denseUnits(spec, isLast: isLast, classes: classes, problem)
            guard units >= 1 else { throw problem("needs at least 1 unit") }
            let name = names.next("dense")
            let features = shape.elementCount
            let kernel = ParameterSpec(
                name: "\(name)/kernel", shape: [features, units], dnnlDims: [units] + shape.storage,
                format: shape.storage.count == 3 ? .ohwi : .oi, fans: (features, units))
            layer = ResolvedLayer(
                name: name, typeName: "Dense", operation: .dense(units: units, activation: activation),
                input: shape, output: .flat(units), parameters: [kernel, bias(name, units)])
        }
        layers.append(layer)
        shape = layer.output
    }
    if case .dense = last {
    } else if case .output = last {
    } else {
        throw TrainerError(
            .invalidArchitecture, "the last layer must be the output layer ('output', or dense\(classes == 2 ? 1 : classes)), not '\(last)'"
        )
    }
    return layers
}

private func bias(_ layer: String, _ count: Int) -> ParameterSpec {
    ParameterSpec(name: "\(layer)/bias", shape: [count], dnnlDims: [count], format: .x, fans: nil)
}

/// A dense layer's units and activation; the last one must give the classes.
private func denseUnits(
    _ spec: LayerSpec, isLast: Bool, classes: Int,
    _ problem: (String) -> TrainerError
) throws -> (Int, Activation) {
    switch spec {
    case .output:
        guard isLast else { throw problem("'output' must be the last layer") }
        return classes == 2 ? (1, .sigmoid) : (classes, .softmax)
    case let .dense(units, activation):
        guard isLast else { return (units, activation ?? .relu) }
        let resolved = activation ?? (units == 1 ? .sigmoid : .softmax)
        let fits = (units == 1 && classes == 2 && resolved == .sigmoid) || (units == classes && resolved == .softmax)
        guard fits else {
            let binary = classes == 2 ? " or dense1 (sigmoid)" : ""
            throw problem("the last layer must give the \(classes) classes: dense\(classes) (softmax)\(binary), or 'output'")
        }
        return (units, resolved)
    default:
        throw problem("is not a dense layer")
    }
}

/// A window (kernel or pool) fitted to an image, Keras's way.
private func fit(
    size: Int, stride: Int, padding: Padding, to image: (height: Int, width: Int, channels: Int),
    _ problem: (String) -> TrainerError
) throws -> (window: Window, outputHeight: Int, outputWidth: Int) {
    func along(_ extent: Int) throws -> (output: Int, low: Int, high: Int) {
        switch padding {
        case .valid:
            guard extent >= size else { throw problem("its \(size)×\(size) window does not fit the \(image.height)×\(image.width) input") }
            return ((extent - size) / stride + 1, 0, 0)
        case .same:
            let output = (extent + stride - 1) / stride
            let total = max((output - 1) * stride + size - extent, 0)
            return (output, total / 2, total - total / 2)
        }
    }
    let rows = try along(image.height), columns = try along(image.width)
    let window = Window(
        size: [size, size], strides: [stride, stride], paddingLow: [rows.low, columns.low],
        paddingHigh: [rows.high, columns.high])
    return (window, rows.output, columns.output)
}

/// Keras's automatic layer names: the first of a kind is `dense`, the next `dense_1`, ...
private struct LayerNames {
    private var used: [String: Int] = [:]

    mutating func next(_ base: String) -> String {
        let count = used[base, default: 0]
        used[base] = count + 1
        return count == 0 ? base : "\(base)_\(count)"
    }
}
