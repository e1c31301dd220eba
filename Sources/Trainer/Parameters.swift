// Every trainable value of a model in one arena, with a gradient arena of the same shape: HWIO
// convolution kernels as Keras has them, dense kernels transposed to (units, features) for oneDNN's
// gemm (see DenseKernel.swift). The optimizer updates the arenas in one pass; primitives that want
// another layout get a reordered copy once per update (WeightView). Everything that leaves the
// model (weights, files) is in Keras's layout.
import Support

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

    /// Keras's initialisation: Glorot-uniform kernels, U(−l, l) with l = √(6 / (fanIn + fanOut)),
    /// and zero biases. Each tensor draws its values in Keras's order from its own SplitMix64
    /// stream derived from `seed` and its position, so adding a layer at the end leaves the others'
    /// initial values unchanged.
    func initialize(seed: UInt64) {
        for (index, parameter) in parameters.enumerated() {
            let start = values.pointer + parameter.offset
            guard let fans = parameter.spec.fans else {
                start.update(repeating: 0, count: parameter.spec.count)
                continue
            }
            let limit = (6 / Double(fans.fanIn + fans.fanOut)).squareRoot()
            var generator = SplitMix64(seed: mix(seed, UInt64(index)))
            let (rows, columns) = parameter.kerasMatrix
            for row in 0..<rows {
                for column in 0..<columns {
                    let unit = Double(generator.next() >> 11) * 0x1p-53
                    let position = parameter.spec.isTransposed ? column * rows + row : row * columns + column
                    start[position] = Float(-limit + 2 * limit * unit)
                }
            }
        }
        valuesChanged()
    }

    /// Copies `parameter` out of `arena` (values, gradients or an optimizer slot of this store's
    /// shape) into `destination` in Keras's layout.
    func copyToKeras(_ parameter: StoredParameter, from arena: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>) {
        let source = arena + parameter.offset
        let (rows, columns) = parameter.kerasMatrix
        guard parameter.spec.isTransposed else { return destination.update(from: source, count: parameter.spec.count) }
        transpose(source, rows: columns, columns: rows, into: destination)
    }

    /// Copies Keras-layout values of `parameter` from `source` into `arena`.
    func copyFromKeras(_ parameter: StoredParameter, _ source: UnsafePointer<Float>, into arena: UnsafeMutablePointer<Float>) {
        let destination = arena + parameter.offset
        let (rows, columns) = parameter.kerasMatrix
        guard parameter.spec.isTransposed else { return destination.update(from: source, count: parameter.spec.count) }
        transpose(source, rows: rows, columns: columns, into: destination)
    }

    /// Records that `values` changed outside the optimizer.
    func valuesChanged() {
        version += 1
    }
}

extension StoredParameter {
    /// The parameter as Keras's matrix: (features, units) for a dense kernel, (count, 1) otherwise.
    var kerasMatrix: (rows: Int, columns: Int) {
        spec.isTransposed ? (spec.shape[0], spec.shape[1]) : (spec.count, 1)
    }
}

/// Writes the transpose of the `rows` × `columns` row-major matrix `source` into `destination`,
/// in 32 × 32 tiles so both sides stay in cache.
private func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into destination: UnsafeMutablePointer<Float>) {
    let tile = 32
    for rowStart in stride(from: 0, to: rows, by: tile) {
        for columnStart in stride(from: 0, to: columns, by: tile) {
            for row in rowStart..<min(rowStart + tile, rows) {
                for column in columnStart..<min(columnStart + tile, columns) {
                    destination[column * rows + row] = source[row * columns + column]
                }
            }
        }
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
