// Counter-based random numbers: every augmented sample's draws are a pure function of
// (seed, sample index, copy, draw slot), so the output is the same whatever the thread count or the
// order in which workers pick images, and enabling one transform never changes another's draws.

// MARK: - Philox-4x32-10

/// The Philox-4x32-10 block function (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
/// easy as 1, 2, 3", SC 2011; the Random123 library's `philox4x32_10`): a keyed bijection of
/// 128-bit counters, statistically indistinguishable from random (it passes BigCrush).
///
/// Each of the 10 rounds maps counter `(c0, c1, c2, c3)` with key `(k0, k1)` to
/// `(hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0))`, with `M0 = 0xD2511F53`,
/// `M1 = 0xCD9E8D57`; the key is bumped by `(0x9E3779B9, 0xBB67AE85)` before every round but the
/// first.
public enum Philox4x32 {
    /// The 128 random bits for `counter` under `key`.
    public static func block(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter, k = key
        for round in 0..<10 {
            if round > 0 {
                k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85)
            }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0], UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1], UInt32(truncatingIfNeeded: p0))
        }
        return c
    }
}

// MARK: - Per-sample draws

/// The independent uniform draws of one sample, each in its own slot (numbered as the cases are
/// listed). Keras draws in this order too, from one shared stream; here every slot has its own
/// counter, so a transform that is switched off leaves the others' values unchanged.
public enum DrawSlot: UInt32, Sendable, CaseIterable {
    case rotation, heightShift, heightShiftSign, widthShift, widthShiftSign, shear, zoomX, zoomY,
        flipHorizontal, flipVertical, channelShift, brightness
}

/// The random numbers of copy `copy` of sample `index` under `seed`.
///
/// Slot `s` gives `u = ⌊r / 2¹¹⌋ · 2⁻⁵³ ∈ [0, 1)` with `r = w0 · 2³² + w1`, where `(w0, w1, _, _)` is
/// ``Philox4x32/block(counter:key:)`` of counter `(index mod 2³², index ÷ 2³², copy, s)` and key
/// `(seed mod 2³², seed ÷ 2³²)`. No state is shared between samples, so any thread may draw any
/// sample's numbers in any order and get the same values.
public struct SampleRandom: Sendable, Hashable {
    private let key: SIMD2<UInt32>
    private let counter: SIMD3<UInt32>

    /// - Parameters:
    ///   - seed: the run's seed (`--seed`).
    ///   - index: the source image's index in the input order.
    ///   - copy: which augmented copy of it (0 ..< copies).
    public init(seed: UInt64, index: Int, copy: Int) {
        key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let i = UInt64(index)
        counter = SIMD3(UInt32(truncatingIfNeeded: i), UInt32(truncatingIfNeeded: i >> 32), UInt32(truncatingIfNeeded: copy))
    }

    /// The uniform draw of `slot`, in [0, 1).
    public func uniform(_ slot: DrawSlot) -> Double {
        let words = Philox4x32.block(counter: SIMD4(counter, slot.rawValue), key: key)
        let bits = UInt64(words[0]) << 32 | UInt64(words[1])
        return Double(bits >> 11) * 0x1p-53
    }

    /// `low + (high − low) · u` for the draw of `slot` (numpy's `uniform(low, high)`).
    public func uniform(_ slot: DrawSlot, from low: Double, to high: Double) -> Double {
        low + (high - low) * uniform(slot)
    }
}
