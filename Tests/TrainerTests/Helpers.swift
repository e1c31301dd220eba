import Foundation

@testable import Trainer

/// Deterministic pseudo-random values in [−1, 1).
func randomValues(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<count).map { _ in
        state = mix(state, 0xA5A5)
        return Float(Double(state >> 11) * 0x1p-53 * 2 - 1)
    }
}

/// A labelled batch of synthetic `size`×`size` gray (or `channels`-channel) NHWC images of three
/// pattern classes: horizontal stripes (0), vertical stripes (1), a checkerboard (2), each with a
/// random phase, contrast and noise. With `classes` 2 only the first two appear.
func patternBatch(count: Int, size: Int = 16, channels: Int = 1, classes: Int = 3, seed: UInt64) -> (images: [Float], labels: [Int32]) {
    var generator = SplitMixGenerator(seed: seed)
    var images: [Float] = [], labels: [Int32] = []
    for _ in 0..<count {
        let label = Int(generator.next() % UInt64(classes))
        let phase = Int(generator.next() % 4), period = 2 + Int(generator.next() % 3)
        let contrast = 0.5 + generator.unit() * 0.5
        for y in 0..<size {
            for x in 0..<size {
                let stripe =
                    switch label {
                    case 0: (y + phase) / period % 2
                    case 1: (x + phase) / period % 2
                    default: ((x + phase) / period + (y + phase) / period) % 2
                    }
                let value = Float(Double(stripe) * contrast + generator.unit() * 0.3)
                for _ in 0..<channels { images.append(value) }
            }
        }
        labels.append(Int32(label))
    }
    return (images, labels)
}

/// A generator for test data: each output is `mix(previous output, 0x5DEECE66D)`. Not Support's
/// ``SplitMix64``, which adds its constant to a hidden state and outputs the mixed state: the two
/// sequences differ, and the tests' thresholds (accuracy after N epochs) were set on this one's data.
struct SplitMixGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = mix(state, 0x5_DEEC_E66D)
        return state
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
