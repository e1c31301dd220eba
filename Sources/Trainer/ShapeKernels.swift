// The layers that move no weights: Flatten (a new name for the same tensor) and Dropout (Swift
// loops over the tensor in whatever layout it has; elementwise, so the layout does not matter).

// MARK: - Flatten

/// A compiled Flatten layer: the output is the input tensor itself. The dense layer after it reads
/// the (h, w, c) order Keras flattens in straight from the image (see DenseKernel).
final class FlattenKernel: LayerKernel {
    let output: Tensor
    let outputGradient: Tensor?

    init(_ context: KernelContext) {
        output = context.input
        outputGradient = context.training ? context.inputGradient : nil
    }

    func forward(_ runner: Runner) {}
    func backward(_ runner: Runner) {}
}

// MARK: - Dropout

/// A compiled Dropout layer: in training, each value is kept with probability 1 − rate and scaled by
/// 1 / (1 − rate) (inverted dropout, as Keras); in inference (and at rate 0) the output is the input.
///
/// The mask is counter-based: value i of layer L at optimizer step t is kept when a 16-bit slice of
/// `mix(mix(mix(seed, L), t), i / 4)` is at least round(rate · 65536). It depends on nothing else
/// (not on threads or earlier steps), so a resumed run draws the same masks as an uninterrupted one.
final class DropoutKernel: LayerKernel {
    let output: Tensor
    let outputGradient: Tensor?
    private let input: Tensor
    private let inputGradient: Tensor?
    /// 0 or 1 / (1 − rate) per value; nil when dropout is the identity.
    private let mask: FloatBuffer?
    private let threshold: UInt64
    private let scale: Float
    private let layerIndex: UInt64
    private let label: String

    init(_ layer: ResolvedLayer, rate: Float, _ context: KernelContext) throws {
        input = context.input
        label = layer.name
        threshold = UInt64((Double(rate) * 65536).rounded())
        scale = 1 / (1 - rate)
        layerIndex = UInt64(context.layerIndex)
        guard context.training, rate > 0 else {
            output = context.input
            outputGradient = context.training ? context.inputGradient : nil
            inputGradient = nil
            mask = nil
            return
        }
        output = try Tensor(context.input.layout, engine: context.engine)
        outputGradient = context.needsOutputGradient ? try Tensor(context.input.layout, engine: context.engine) : nil
        inputGradient = context.inputGradient
        mask = FloatBuffer(count: context.input.elementCount)
    }

    func forward(_ runner: Runner) {
        guard let mask else { return }
        let stepKey = mix(mix(runner.seed, layerIndex), runner.step)
        let source = input.floats, destination = output.floats, factors = mask.pointer
        let threshold = threshold, scale = scale
        runner.measure("\(label) forward") {
            parallelChunks(mask.count) { range in
                // Chunks start at multiples of 64, so each group of 4 values shares one hash.
                var bits: UInt64 = 0
                for i in range {
                    if i & 3 == 0 { bits = mix(stepKey, UInt64(i >> 2)) }
                    let keep = (bits >> UInt64((i & 3) * 16)) & 0xFFFF >= threshold
                    let factor: Float = keep ? scale : 0
                    factors[i] = factor
                    destination[i] = source[i] * factor
                }
            }
        }
    }

    func backward(_ runner: Runner) {
        guard let mask, let inputGradient, let outputGradient else { return }
        let source = outputGradient.floats, destination = inputGradient.floats, factors = mask.pointer
        runner.measure("\(label) backward") {
            parallelChunks(mask.count) { range in
                for i in range { destination[i] = source[i] * factors[i] }
            }
        }
    }
}
