/// Shards: the documented binary shard format (fixed-size uint8 samples, checksums, manifest), the
/// atomic rotating writer, the prefetching Dispatch reader the trainer consumes, and verification
/// (issue 4). Until then it holds the seedable generator every seeded step shares.

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64): the same seed gives the
/// same sequence on every machine, which `RandomNumberGenerator`'s system generator does not.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
