// What every compiled layer shares: the kernel protocol and its build context, the runner that
// executes (and optionally times) primitives, and the adapters that give a primitive its tensors in
// the layout it wants (reordering only where layouts differ).
import Dispatch

// MARK: - Kernels

/// One layer compiled for one batch size: its primitives and tensors, built once and run every step.
protocol LayerKernel: AnyObject {
    /// What the next layer reads.
    var output: Tensor { get }
    /// d(loss)/d(output), in `output`'s layout, written by the next layer's backward pass (or the
    /// loss); nil when nothing before this layer needs gradients, and in inference plans.
    var outputGradient: Tensor? { get }
    func forward(_ runner: Runner) throws
    /// Gradients of the layer's parameters into the store's gradient arena, and of its input into
    /// the previous layer's `outputGradient` when that exists.
    func backward(_ runner: Runner) throws
}

/// What a kernel is built from.
struct KernelContext {
    let engine: Engine
    let store: ParameterStore
    /// The layer's parameters in the store (kernel, bias), empty for layers without any.
    let parameters: [StoredParameter]
    let batch: Int
    /// A training plan (forward-training primitives, backward passes) or an inference plan.
    let training: Bool
    /// The previous layer's output, or the input images.
    let input: Tensor
    /// Where the gradient of the input goes (the previous layer's `outputGradient`); nil for the
    /// first layer and whenever no earlier layer has parameters.
    let inputGradient: Tensor?
    /// Whether this layer must keep `outputGradient` (it has parameters, or an earlier layer does).
    let needsOutputGradient: Bool
    /// The last layer: its activation is left to the loss, which works on logits.
    let isLast: Bool
    /// This layer's activation backward is done by the next layer, a max-pool, on its 4× smaller
    /// output: max-pooling commutes with monotone activations, and relu′ or sigmoid′ at the chosen
    /// maximum follows from the pooled value itself.
    let activationBackwardDeferred: Bool
    /// For a max-pool: the activation of the layer before whose backward it applies (see above);
    /// linear when none.
    let inheritedActivation: Activation
    /// The layer's position in the model (dropout masks depend on it).
    let layerIndex: Int
}

// MARK: - Running

/// Runs a plan's primitives on the engine; when profiling, waits for each and records its time.
final class Runner {
    let engine: Engine
    /// The model's seed and the optimizer steps taken so far: dropout masks are drawn from
    /// (seed, layer, step).
    var seed: UInt64 = 0
    var step: UInt64 = 0
    /// Collected timings while profiling, nil otherwise.
    private(set) var timings: [StepTiming]?

    init(engine: Engine) {
        self.engine = engine
    }

    func run(_ primitive: Primitive) throws {
        guard timings != nil else {
            try primitive.execute()
            return
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try primitive.execute()
        try engine.wait()
        record(primitive.label, primitive.implementation, since: start)
    }

    /// Runs a Swift step (no oneDNN work in flight), timed when profiling.
    func measure(_ label: @autoclosure () -> String, _ body: () throws -> Void) rethrows {
        guard timings != nil else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        record(label(), "swift", since: start)
    }

    func startProfiling() {
        timings = []
    }

    /// Stops profiling and returns what was recorded.
    func stopProfiling() -> [StepTiming] {
        defer { timings = nil }
        return timings ?? []
    }

    private func record(_ label: String, _ implementation: String, since start: UInt64) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        timings?.append(StepTiming(label: label, implementation: implementation, seconds: seconds))
    }
}

// MARK: - Layout adapters

/// A tensor in the layout a primitive wants: the tensor itself when the layouts match, otherwise a
/// copy and the reorder that fills it from the original (`read`) or writes it back (`write`).
final class LayoutView {
    enum Direction { case read, write }

    /// What the primitive binds.
    let tensor: Tensor
    private let reorder: Primitive?

    init(_ original: Tensor, as layout: TensorLayout, _ direction: Direction, engine: Engine, label: String) throws {
        if original.layout.matches(layout) {
            tensor = original
            reorder = nil
        } else {
            let copy = try Tensor(layout, engine: engine)
            tensor = copy
            reorder =
                switch direction {
                case .read: try Primitive(reorder: original, into: copy, engine: engine, label: label)
                case .write: try Primitive(reorder: copy, into: original, engine: engine, label: label)
                }
        }
    }

    /// Runs the reorder, if there is one: before the primitive reads (`read`), after it writes (`write`).
    func sync(_ runner: Runner) throws {
        if let reorder { try runner.run(reorder) }
    }
}

/// A parameter in the layout a primitive wants, re-copied from the store only when the values
/// changed since the last copy: at most once per training step.
final class WeightView {
    private let view: LayoutView
    private let store: ParameterStore
    private var copiedVersion = -1

    var tensor: Tensor { view.tensor }

    init(_ parameter: StoredParameter, as layout: TensorLayout, store: ParameterStore, engine: Engine, label: String) throws {
        view = try LayoutView(try store.valueTensor(parameter, engine: engine), as: layout, .read, engine: engine, label: label)
        self.store = store
    }

    func refresh(_ runner: Runner) throws {
        guard copiedVersion != store.version else { return }
        try view.sync(runner)
        copiedVersion = store.version
    }
}

extension ParameterStore {
    /// A tensor over the parameter's values in the arena, in Keras's layout.
    func valueTensor(_ parameter: StoredParameter, engine: Engine) throws -> Tensor {
        try Tensor(
            TensorLayout(parameter.spec.dnnlDims, parameter.spec.format), engine: engine,
            over: UnsafeMutableRawPointer(values.pointer + parameter.offset))
    }

    /// A tensor over the parameter's gradient in the arena, in Keras's layout.
    func gradientTensor(_ parameter: StoredParameter, engine: Engine) throws -> Tensor {
        try Tensor(
            TensorLayout(parameter.spec.dnnlDims, parameter.spec.format), engine: engine,
            over: UnsafeMutableRawPointer(gradients.pointer + parameter.offset))
    }
}

// MARK: - Activations

/// An activation's forward pass when it cannot be fused into the layer's primitive (softmax), in
/// place on the layer's output.
func softmaxInPlace(_ output: Tensor, training: Bool, engine: Engine, label: String) throws -> Primitive {
    let descriptor = try Operations.softmaxForward(engine: engine, training: training, data: output.layout)
    return try Primitive(descriptor, [(.src, output), (.dst, output)], label: label)
}

/// An activation's backward pass in place on a gradient, computed from the activation's output.
/// Nil for linear.
func activationBackward(
    _ activation: Activation, output: Tensor, gradient: Tensor, engine: Engine,
    label: String
) throws -> Primitive? {
    guard let descriptor = try Operations.activationBackward(engine: engine, activation: activation, data: output.layout) else {
        return nil
    }
    return try Primitive(descriptor, [(.dst, output), (.diffDst, gradient), (.diffSrc, gradient)], label: label)
}

// MARK: - The forward half of weighted layers

/// What Conv2D and Dense share once oneDNN has described their forward primitive: views of the
/// input and the weights in the layouts the primitive chose (reordering only where they differ),
/// the output, the primitive itself (bias and any fused activation included), and an in-place
/// softmax when the layer's activation is softmax.
struct WeightedForward {
    let input: LayoutView
    let weights: WeightView
    let output: Tensor
    private let pass: Primitive
    private let softmax: Primitive?

    init(_ descriptor: PrimitiveDescriptor, layer: ResolvedLayer, softmax isSoftmax: Bool, _ context: KernelContext) throws {
        let engine = context.engine, store = context.store
        let kernel = context.parameters[0], bias = context.parameters[1]
        input = try LayoutView(context.input, as: descriptor.layout(.src), .read, engine: engine, label: "\(layer.name) input reorder")
        weights = try WeightView(
            kernel, as: descriptor.layout(.weights), store: store, engine: engine,
            label: "\(layer.name) weights reorder")
        output = try Tensor(descriptor.layout(.dst), engine: engine)
        pass = try Primitive(
            descriptor,
            [
                (.src, input.tensor), (.weights, weights.tensor),
                (.bias, try store.valueTensor(bias, engine: engine)), (.dst, output),
            ],
            label: "\(layer.name) forward")
        softmax = isSoftmax ? try softmaxInPlace(output, training: context.training, engine: engine, label: "\(layer.name) softmax") : nil
    }

    /// Brings the input and weights up to date, then runs the primitive (and the softmax).
    func run(_ runner: Runner) throws {
        try input.sync(runner)
        try weights.refresh(runner)
        try runner.run(pass)
        if let softmax { try runner.run(softmax) }
    }
}
