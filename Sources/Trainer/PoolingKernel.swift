// MaxPooling2D on oneDNN, in the layout of the layer before (blocked after a convolution). In
// training the forward pass keeps a workspace (where each maximum came from) for the backward pass.
// When the layer before ends in relu or sigmoid, that activation's backward pass runs here, on the
// pooled gradient, instead of on the 4× larger one before pooling (see KernelContext).

/// A compiled MaxPooling2D layer.
final class PoolingKernel: LayerKernel {
    let output: Tensor
    let outputGradient: Tensor?
    private let forwardPass: Primitive
    private let backward: (activation: Primitive?, pass: Primitive, inputGradient: LayoutView)?

    init(_ layer: ResolvedLayer, window: Window, _ context: KernelContext) throws {
        let engine = context.engine
        let descriptor = try Operations.maxPoolingForward(
            engine: engine, training: context.training, src: context.input.layout,
            dst: TensorLayout([context.batch] + layer.output.storage, .any), window: window)
        output = try Tensor(descriptor.layout(.dst), engine: engine)
        var bindings: [(Argument, Tensor)] = [(.src, context.input), (.dst, output)]
        let workspaceLayout = descriptor.layout(.workspace)
        let workspace = workspaceLayout.isEmpty ? nil : try Tensor(workspaceLayout, engine: engine)
        if let workspace { bindings.append((.workspace, workspace)) }
        forwardPass = try Primitive(descriptor, bindings, label: "\(layer.name) forward")

        guard context.training, context.needsOutputGradient, let inputGradient = context.inputGradient else {
            outputGradient = nil
            backward = nil
            return
        }
        let gradient = try Tensor(output.layout, engine: engine)
        outputGradient = gradient
        let backwardDescriptor = try Operations.maxPoolingBackward(
            engine: engine, diffSrc: context.input.layout, diffDst: gradient.layout, window: window, hint: descriptor)
        let target = try LayoutView(
            inputGradient, as: backwardDescriptor.layout(.diffSrc), .write, engine: engine,
            label: "\(layer.name) input-gradient reorder")
        var backwardBindings: [(Argument, Tensor)] = [(.diffDst, gradient), (.diffSrc, target.tensor)]
        if let workspace { backwardBindings.append((.workspace, workspace)) }
        let pass = try Primitive(backwardDescriptor, backwardBindings, label: "\(layer.name) backward")
        let activation = try activationBackward(
            context.inheritedActivation, output: output, gradient: gradient, engine: engine,
            label: "\(layer.name) \(context.inheritedActivation) backward (of the layer before)")
        backward = (activation, pass, target)
    }

    func forward(_ runner: Runner) throws {
        try runner.run(forwardPass)
    }

    func backward(_ runner: Runner) throws {
        guard let backward else { return }
        if let activation = backward.activation { try runner.run(activation) }
        try runner.run(backward.pass)
        try backward.inputGradient.sync(runner)
    }
}
