// MARK: - Fill modes

/// How points outside the source are filled (Keras's `fill_mode`), drawn for a row `abcd`:
/// `nearest` `aaaa|abcd|dddd`, `constant` `kkkk|abcd|kkkk` (k = cval), `reflect` `dcba|abcd|dcba`,
/// `wrap` `abcd|abcd|abcd`.
public enum FillMode: String, Sendable, CaseIterable {
    case nearest, constant, reflect, wrap

    /// The in-range index that stands for pixel `i` of an axis of `n` pixels, or nil when the
    /// pixel is the constant (the corrected convention: `wrap` has period n, `reflect` period 2n,
    /// a constant blends with the edge across the half pixel beyond it).
    @inline(__always)
    package func index(_ i: Int, count n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .nearest: return i < 0 ? 0 : n - 1
        case .constant: return nil
        case .reflect:
            let m = i % (2 * n), r = m < 0 ? m + 2 * n : m
            return r < n ? r : 2 * n - 1 - r
        case .wrap:
            let m = i % n
            return m < 0 ? m + n : m
        }
    }
}
