// Conv2D on oneDNN: forward with bias and relu/sigmoid fused as a post-op, backward weights, and
// backward data only when an earlier layer needs it (never for the first layer: the input image
// needs no gradient). oneDNN picks the layouts (blocked nChw16c activations, blocked weights);
// the Keras-layout (HWIO) kernel is reordered into them once per step.
//
// Convolutions over 16 or more input channels let oneDNN use Winograd F(4×4, 3×3) where it has a
// kernel for it. Measured on the tutorial model at batch 100 (2 threads, AMD EPYC, AVX-512):
// 16→32 channels at 75×75, forward + backward data + backward weights, 88 ms direct against 50 ms
// Winograd; 32→64 at 37×37, 70 against 37 ms. On the 3-channel input it is the other way round
// (the first layer took 75 ms with Winograd, 26 ms direct), so layers with fewer input channels
// stay direct.

/// A compiled Conv2D layer.
final class ConvolutionKernel: LayerKernel {
    let outputGradient: Tensor?
    private let forwardHalf: WeightedForward
    private let backward: Backward?

    var output: Tensor { forwardHalf.output }

    /// The backward pass's primitives and tensors. Each backward primitive picks its own layouts
    /// (with the forward one as a hint); views reorder where its choice differs from the forward
    /// pass's (never for the usual 16/32/64-channel stacks, where they agree).
    private struct Backward {
        let activation: Primitive?
        let weightsInputs: [LayoutView]
        let weightsPass: Primitive
        let weightsGradient: LayoutView
        let data: (inputs: [LayoutView], weights: WeightView, pass: Primitive, inputGradient: LayoutView)?
    }

    init(_ layer: ResolvedLayer, filters: Int, window: Window, activation: Activation, _ context: KernelContext) throws {
        let engine = context.engine, store = context.store
        let kernel = context.parameters[0], bias = context.parameters[1]
        let fused: Activation = activation == .softmax ? .linear : activation
        let algorithm: ConvolutionAlgorithm = layer.input.storage[0] >= 16 ? .winogradWherePossible : .direct
        let anyWeights = try TensorLayout(kernel.spec.dnnlDims, .any), biasLayout = try TensorLayout([filters], .x)
        let descriptor = try Operations.convolutionForward(
            engine: engine, training: context.training, algorithm: algorithm,
            src: TensorLayout([context.batch] + layer.input.storage, .any),
            weights: anyWeights, bias: biasLayout, dst: TensorLayout([context.batch] + layer.output.storage, .any),
            window: window, activation: fused)
        forwardHalf = try WeightedForward(descriptor, layer: layer, softmax: activation == .softmax, context)
        let input = forwardHalf.input, output = forwardHalf.output

        guard context.training, context.needsOutputGradient else {
            outputGradient = nil
            backward = nil
            return
        }
        let gradient = try Tensor(output.layout, engine: engine)
        outputGradient = gradient
        let weightsDescriptor = try Operations.convolutionBackwardWeights(
            engine: engine, algorithm: algorithm, src: TensorLayout(input.tensor.layout.dims, .any), diffWeights: anyWeights,
            diffBias: biasLayout,
            diffDst: TensorLayout(gradient.layout.dims, .any), window: window, hint: descriptor)
        let weightsSource = try LayoutView(
            input.tensor, as: weightsDescriptor.layout(.src), .read, engine: engine,
            label: "\(layer.name) backward-weights input reorder")
        let weightsOutputGradient = try LayoutView(
            gradient, as: weightsDescriptor.layout(.diffDst), .read, engine: engine,
            label: "\(layer.name) backward-weights gradient reorder")
        let weightsGradient = try LayoutView(
            try store.gradientTensor(kernel, engine: engine), as: weightsDescriptor.layout(.diffWeights),
            .write, engine: engine, label: "\(layer.name) weight-gradient reorder")
        let weightsPass = try Primitive(
            weightsDescriptor,
            [
                (.src, weightsSource.tensor), (.diffDst, weightsOutputGradient.tensor),
                (.diffWeights, weightsGradient.tensor),
                (.diffBias, try store.gradientTensor(bias, engine: engine)),
            ],
            label: "\(layer.name) backward weights")
        var data: ([LayoutView], WeightView, Primitive, LayoutView)?
        if let inputGradient = context.inputGradient {
            let dataDescriptor = try Operations.convolutionBackwardData(
                engine: engine, algorithm: algorithm, diffSrc: TensorLayout(input.tensor.layout.dims, .any), weights: anyWeights,
                diffDst: TensorLayout(gradient.layout.dims, .any), window: window, hint: descriptor)
            let dataOutputGradient = try LayoutView(
                gradient, as: dataDescriptor.layout(.diffDst), .read, engine: engine,
                label: "\(layer.name) backward-data gradient reorder")
            let dataWeights = try WeightView(
                kernel, as: dataDescriptor.layout(.weights), store: store, engine: engine,
                label: "\(layer.name) backward-data weights reorder")
            let target = try LayoutView(
                inputGradient, as: dataDescriptor.layout(.diffSrc), .write, engine: engine,
                label: "\(layer.name) input-gradient reorder")
            let pass = try Primitive(
                dataDescriptor,
                [
                    (.diffDst, dataOutputGradient.tensor), (.weights, dataWeights.tensor),
                    (.diffSrc, target.tensor),
                ],
                label: "\(layer.name) backward data")
            data = ([dataOutputGradient], dataWeights, pass, target)
        }
        backward = Backward(
            activation: context.activationBackwardDeferred
                ? nil
                : try activationBackward(
                    activation, output: output, gradient: gradient, engine: engine,
                    label: "\(layer.name) \(activation) backward"),
            weightsInputs: [weightsSource, weightsOutputGradient], weightsPass: weightsPass, weightsGradient: weightsGradient,
            data: data)
    }

    func forward(_ runner: Runner) throws {
        try forwardHalf.run(runner)
    }

    func backward(_ runner: Runner) throws {
        guard let backward else { return }
        if let activation = backward.activation { try runner.run(activation) }
        for view in backward.weightsInputs { try view.sync(runner) }
        try runner.run(backward.weightsPass)
        try backward.weightsGradient.sync(runner)
        if let data = backward.data {
            for view in data.inputs { try view.sync(runner) }
            try data.weights.refresh(runner)
            try runner.run(data.pass)
            try data.inputGradient.sync(runner)
        }
    }
}
