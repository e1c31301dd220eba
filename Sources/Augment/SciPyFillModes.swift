import Preparation

// MARK: - SciPy's legacy modes (keras-compat)

extension FillMode {
    /// What `scipy.ndimage.affine_transform(order=1, mode=self)` does with coordinate `x` on an axis
    /// of `n` pixels: the coordinate to interpolate at (nil: the output pixel is `cval`). SciPy's
    /// `constant` gives cval as soon as `x` leaves `[0, n−1]` (no blending), and its legacy `wrap`
    /// has period n − 1 (Keras's quirk Q3: `x ≥ n − 1` wraps to `x − (n−1)·⌊x/(n−1)⌋`, `x < 0` to
    /// `x + (n−1)·(⌊−x/(n−1)⌋ + 1)`), exactly as `ni_interpolation.c` computes it.
    func scipyCoordinate(_ x: Double, count n: Int) -> Double? {
        let last = Double(n - 1)
        if x >= 0 && x <= last { return x }
        switch self {
        case .constant: return nil
        case .nearest, .reflect: return x  // the neighbour indices are extended by `scipyIndex`
        case .wrap:
            guard n > 1 else { return 0 }
            return x < 0 ? x + last * (Double(Int(-x / last)) + 1) : x - last * Double(Int(x / last))
        }
    }

    /// The in-range index SciPy reads for neighbour index `i` once the coordinate is mapped by
    /// ``scipyCoordinate(_:count:)`` (`nearest` clamps, `reflect` is half-sample symmetric).
    func scipyIndex(_ i: Int, count n: Int) -> Int {
        switch self {
        case .reflect: index(i, count: n)!
        case .nearest, .constant, .wrap: min(max(i, 0), n - 1)
        }
    }
}
