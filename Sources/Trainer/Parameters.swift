// Every trainable value of a model in one arena, in Keras's layouts (HWIO kernels, (in, out) dense
// kernels), with a gradient arena of the same shape. The optimizer updates the arenas in one pass;
// primitives that want another layout get a reordered copy once per update (WeightView).
import Shards

/// A parameter tensor placed in the arenas.
struct StoredParameter {
    let spec: ParameterSpec
    /// Offset of its first value in ``ParameterStore/values`` and ``ParameterStore/gradients``
    /// (a multiple of 16, so every tensor starts 64-byte aligned).
    let offset: Int
}

/// The values and gradients of all parameters, allocated once.
final class ParameterStore {
    let parameters: [StoredParameter]
    let values: FloatBuffer
    /// d(loss)/d(value) from the last backward pass, same offsets as `values`.
    let gradients: FloatBuffer
    /// Values in use, without the alignment gaps (which stay zero: their gradient is always zero).
    let count: Int
    /// Bumped whenever values change (an update, a load, a test's nudge); weight copies in other
    /// layouts are refreshed when it moves.
    private(set) var version = 0

    init(_ layers: [ResolvedLayer]) {
        var parameters: [StoredParameter] = [], end = 0
        for spec in layers.flatMap(\.parameters) {
            parameters.append(StoredParameter(spec: spec, offset: end))
            end += (spec.count + 15) / 16 * 16
        }
        self.parameters = parameters
        count = parameters.reduce(0) { $0 + $1.spec.count }
        values = FloatBuffer(count: end)
        gradients = FloatBuffer(count: end)
    }

    /// The parameter named `name` (`conv2d/kernel`).
    func parameter(named name: String) -> StoredParameter? {
        parameters.first { $0.spec.name == name }
    }

    /// Keras's initialisation: Glorot-uniform kernels, U(−l, l) with l = √(6 / (fanIn + fanOut)),
    /// and zero biases. Each tensor draws from its own SplitMix64 stream derived from `seed` and its
    /// position, so adding a layer at the end leaves the others' initial values unchanged.
    func initialize(seed: UInt64) {
        for (index, parameter) in parameters.enumerated() {
            let start = values.pointer + parameter.offset
            guard let fans = parameter.spec.fans else {
                start.update(repeating: 0, count: parameter.spec.count)
                continue
            }
            let limit = (6 / Double(fans.fanIn + fans.fanOut)).squareRoot()
            var generator = SplitMix64(seed: mix(seed, UInt64(index)))
            for i in 0..<parameter.spec.count {
                let unit = Double(generator.next() >> 11) * 0x1p-53
                start[i] = Float(-limit + 2 * limit * unit)
            }
        }
        valuesChanged()
    }

    /// Records that `values` changed outside the optimizer.
    func valuesChanged() {
        version += 1
    }
}

/// A 64-bit hash of two words (SplitMix64's finaliser over their combination): independent
/// streams for (seed, index) pairs.
func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
