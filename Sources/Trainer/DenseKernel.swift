// Dense on oneDNN's inner product, with the kernel stored as (units, features): the transpose of
// Keras's (in, out), and after a flatten (units, h, w, c) over an NHWC source, so the features
// are in Keras's flatten order. oneDNN's gemm implementation runs forward and both backward passes
// on that layout (measured on the tutorial's 20736 → 512 layer at batch 100: 33 ms for the three,
// against 39 ms with Keras's (in, out) order, whose backward-data gemm is slow, and 35–37 ms with
// a layout of oneDNN's choosing plus the reorder its backward-data pass then needs). So the largest
// tensor of a typical model is never reordered; only the (small) activation is, from the blocked
// layout of a convolution stack into NHWC and back for its gradient.

/// A compiled Dense layer.
final class DenseKernel: LayerKernel {
    let outputGradient: Tensor?
    private let forwardHalf: WeightedForward
    private let backward: Backward?

    var output: Tensor { forwardHalf.output }

    private struct Backward {
        let activation: Primitive?
        let weightsPass: Primitive
        let weightsGradient: LayoutView
        let data: (pass: Primitive, inputGradient: LayoutView)?
    }

    init(_ layer: ResolvedLayer, units: Int, activation: Activation, _ context: KernelContext) throws {
        let engine = context.engine, store = context.store
        let kernel = context.parameters[0], bias = context.parameters[1]
        // The loss works on the last layer's logits; its sigmoid or softmax is applied there.
        let activation = context.isLast ? .linear : activation
        let image = layer.input.storage.count == 3
        let sourceLayout = try TensorLayout([context.batch] + layer.input.storage, image ? .nhwc : .nc)
        let weightsLayout = try TensorLayout(kernel.spec.dnnlDims, kernel.spec.format)
        let biasLayout = try TensorLayout([units], .x)
        let descriptor = try Operations.innerProductForward(
            engine: engine, training: context.training, src: sourceLayout, weights: weightsLayout, bias: biasLayout,
            dst: TensorLayout([context.batch, units], .nc), activation: activation == .softmax ? .linear : activation)
        forwardHalf = try WeightedForward(descriptor, layer: layer, softmax: activation == .softmax, context)
        let input = forwardHalf.input, weights = forwardHalf.weights, output = forwardHalf.output

        guard context.training, context.needsOutputGradient else {
            outputGradient = nil
            backward = nil
            return
        }
        let gradient = try Tensor(output.layout, engine: engine)
        outputGradient = gradient
        let weightsDescriptor = try Operations.innerProductBackwardWeights(
            engine: engine, src: input.tensor.layout, diffWeights: weightsLayout, diffBias: biasLayout, diffDst: gradient.layout,
            hint: descriptor)
        let weightsGradient = try LayoutView(
            try store.gradientTensor(kernel, engine: engine), as: weightsDescriptor.layout(.diffWeights),
            .write, engine: engine, label: "\(layer.name) weight-gradient reorder")
        let weightsPass = try Primitive(
            weightsDescriptor,
            [
                (.src, input.tensor), (.diffDst, gradient),
                (.diffWeights, weightsGradient.tensor),
                (.diffBias, try store.gradientTensor(bias, engine: engine)),
            ],
            label: "\(layer.name) backward weights")
        var data: (Primitive, LayoutView)?
        if let inputGradient = context.inputGradient {
            let dataDescriptor = try Operations.innerProductBackwardData(
                engine: engine, diffSrc: input.tensor.layout, weights: weights.tensor.layout, diffDst: gradient.layout,
                hint: descriptor)
            let target = try LayoutView(
                inputGradient, as: dataDescriptor.layout(.diffSrc), .write, engine: engine,
                label: "\(layer.name) input-gradient reorder")
            let pass = try Primitive(
                dataDescriptor, [(.diffDst, gradient), (.weights, weights.tensor), (.diffSrc, target.tensor)],
                label: "\(layer.name) backward data")
            data = (pass, target)
        }
        backward = Backward(
            activation: try activationBackward(
                activation, output: output, gradient: gradient, engine: engine,
                label: "\(layer.name) \(activation) backward"),
            weightsPass: weightsPass, weightsGradient: weightsGradient, data: data)
    }

    func forward(_ runner: Runner) throws {
        try forwardHalf.run(runner)
    }

    func backward(_ runner: Runner) throws {
        guard let backward else { return }
        if let activation = backward.activation { try runner.run(activation) }
        try runner.run(backward.weightsPass)
        try backward.weightsGradient.sync(runner)
        if let data = backward.data {
            try runner.run(data.pass)
            try data.inputGradient.sync(runner)
        }
    }
}
