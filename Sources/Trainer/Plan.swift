// A model compiled for one batch size and one purpose (training or inference): every layer's
// kernel with its primitives and tensors, created once and reused by every step of that shape.
import Shards

/// The compiled layers of a model for `batch` images.
final class Plan {
    let batch: Int
    let training: Bool
    /// The caller's images, bound before each step (never written).
    private let input: Tensor
    private let kernels: [any LayerKernel]
    /// The last layer's output: batch × units logits (before the output sigmoid/softmax), row-major.
    let logits: Tensor
    /// Where the loss writes d(loss)/d(logits); nil in inference plans.
    let logitsGradient: Tensor?

    init(
        _ layers: [ResolvedLayer], store: ParameterStore, batch: Int, training: Bool,
        imageLayout: BatchOptions.ImageLayout, engine: Engine
    ) throws {
        self.batch = batch
        self.training = training
        let first = layers[0].input.storage
        input = try Tensor(TensorLayout([batch] + first, imageLayout == .nhwc ? .nhwc : .nchw), engine: engine, over: nil)
        var kernels: [any LayerKernel] = []
        var current = input, currentGradient: Tensor? = nil
        var parametersSoFar = 0
        var parametersBefore = false
        for (index, layer) in layers.enumerated() {
            let next = index + 1 < layers.count ? layers[index + 1] : nil
            let deferred = training && next?.isMaxPooling == true && [.relu, .sigmoid].contains(layer.activation)
            let inherited: Activation =
                index > 0 && layer.isMaxPooling && training
                    && [.relu, .sigmoid].contains(layers[index - 1].activation) ? layers[index - 1].activation : .linear
            let parameters = store.parameters[parametersSoFar..<parametersSoFar + layer.parameters.count]
            parametersSoFar += layer.parameters.count
            let context = KernelContext(
                engine: engine, store: store, parameters: Array(parameters), batch: batch, training: training,
                input: current, inputGradient: currentGradient,
                needsOutputGradient: training && (parametersBefore || !layer.parameters.isEmpty),
                isLast: next == nil, activationBackwardDeferred: deferred, inheritedActivation: inherited,
                layerIndex: index)
            let kernel: any LayerKernel =
                switch layer.operation {
                case let .convolution(filters, window, activation):
                    try ConvolutionKernel(layer, filters: filters, window: window, activation: activation, context)
                case let .maxPooling(window):
                    try PoolingKernel(layer, window: window, context)
                case let .dense(units, activation):
                    try DenseKernel(layer, units: units, activation: activation, context)
                case .flatten:
                    FlattenKernel(context)
                case let .dropout(rate):
                    try DropoutKernel(layer, rate: rate, context)
                }
            kernels.append(kernel)
            current = kernel.output
            currentGradient = kernel.outputGradient
            parametersBefore = parametersBefore || !layer.parameters.isEmpty
        }
        self.kernels = kernels
        logits = current
        logitsGradient = currentGradient
    }

    /// Points the plan's input at `images` (batch × H × W × C or batch × C × H × W Float32 values,
    /// as the model's image layout says); the plan only reads them.
    func bind(_ images: UnsafeBufferPointer<Float>) throws {
        try input.bind(UnsafeMutableRawPointer(mutating: images.baseAddress!))
    }

    /// Layer `index`'s output tensor (in the layout its primitive chose), as the last forward pass
    /// left it.
    func output(ofLayer index: Int) -> Tensor { kernels[index].output }

    func forward(_ runner: Runner) throws {
        for kernel in kernels { try kernel.forward(runner) }
        try runner.engine.wait()
    }

    func backward(_ runner: Runner) throws {
        for kernel in kernels.reversed() { try kernel.backward(runner) }
        try runner.engine.wait()
    }
}
