public import Codecs

// MARK: - 2-D affine maps

/// The affine map `(x, y) ↦ (a·x + b·y + c, d·x + e·y + f)`, in Double.
public struct AffineMap: Hashable, Sendable {
    public var a, b, c, d, e, f: Double

    public init(a: Double, b: Double, c: Double, d: Double, e: Double, f: Double) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    public static let identity = AffineMap(a: 1, b: 0, c: 0, d: 0, e: 1, f: 0)

    /// Adds `(dx, dy)`.
    public static func translation(_ dx: Double, _ dy: Double) -> AffineMap { AffineMap(a: 1, b: 0, c: dx, d: 0, e: 1, f: dy) }

    /// Multiplies x by `sx` and y by `sy`.
    public static func scale(_ sx: Double, _ sy: Double) -> AffineMap { AffineMap(a: sx, b: 0, c: 0, d: 0, e: sy, f: 0) }

    /// `lhs ∘ rhs`: apply `rhs` first (matrix product `lhs · rhs`).
    public static func * (lhs: AffineMap, rhs: AffineMap) -> AffineMap {
        AffineMap(
            a: lhs.a * rhs.a + lhs.b * rhs.d, b: lhs.a * rhs.b + lhs.b * rhs.e, c: lhs.a * rhs.c + lhs.b * rhs.f + lhs.c,
            d: lhs.d * rhs.a + lhs.e * rhs.d, e: lhs.d * rhs.b + lhs.e * rhs.e, f: lhs.d * rhs.c + lhs.e * rhs.f + lhs.f)
    }

    /// The image of `(x, y)`.
    public func apply(_ x: Double, _ y: Double) -> (x: Double, y: Double) { (a * x + b * y + c, d * x + e * y + f) }

    /// The resize of an upright `source` onto `output` (aspect ratio not kept, like Keras's
    /// `target_size`): `u = (x + ½)·Ws/W − ½`, `v = (y + ½)·Hs/H − ½`.
    public static func resize(from source: PixelSize, to output: PixelSize) -> AffineMap {
        let sx = Double(source.width) / Double(output.width), sy = Double(source.height) / Double(output.height)
        return AffineMap(a: sx, b: 0, c: 0.5 * sx - 0.5, d: 0, e: sy, f: 0.5 * sy - 0.5)
    }
}
