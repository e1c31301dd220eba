public import Codecs
import Foundation
public import Preparation

// MARK: - Geometry of one transform

/// The output→source maps of ``TransformParameters``, in pixel-centre coordinates (pixel `(i, j)`
/// covers `[i − ½, i + ½] × [j − ½, j + ½]`).
public enum TransformGeometry {
    /// The augmentation alone, on an image of `size` (no resize): output pixel → input pixel.
    ///
    /// `T(c)·R(θ)·S(tx, ty)·Sh·Z(zx, zy)·T(−c)·F`, with the flips `F` of the output grid, and:
    /// - ``AugmentConvention/corrected``: `c = ((W−1)/2, (H−1)/2)`, `Sh = [[1, −tan s], [0, 1]]`;
    /// - ``AugmentConvention/kerasCompat``: `c = (H/2 − ½, W/2 − ½)` (Keras's quirk Q2: the centre's
    ///   coordinates are exchanged once the matrix is conjugated by the axis swap) and
    ///   `Sh = [[1, −sin s], [0, cos s]]`.
    public static func augmentation(_ p: TransformParameters, size: PixelSize, convention: AugmentConvention) -> AffineMap {
        let w = Double(size.width), h = Double(size.height)
        let (cx, cy) = convention == .corrected ? ((w - 1) / 2, (h - 1) / 2) : (h / 2 - 0.5, w / 2 - 0.5)
        let theta = p.theta * .pi / 180, shear = p.shear * .pi / 180
        let rotation = AffineMap(a: cos(theta), b: -sin(theta), c: 0, d: sin(theta), e: cos(theta), f: 0)
        let shearing =
            convention == .corrected
            ? AffineMap(a: 1, b: -tan(shear), c: 0, d: 0, e: 1, f: 0)
            : AffineMap(a: 1, b: -sin(shear), c: 0, d: 0, e: cos(shear), f: 0)
        let core = rotation * .translation(p.tx, p.ty) * shearing * .scale(p.zx, p.zy)
        let flips = AffineMap(
            a: p.flipHorizontal ? -1 : 1, b: 0, c: p.flipHorizontal ? w - 1 : 0,
            d: 0, e: p.flipVertical ? -1 : 1, f: p.flipVertical ? h - 1 : 0)
        return .translation(cx, cy) * core * .translation(-cx, -cy) * flips
    }

    /// Upright pixel → stored pixel for an EXIF orientation of a stored image of `stored` size
    /// (the continuous form of the decoder's pixel permutation).
    public static func orientation(_ orientation: Orientation, stored: PixelSize) -> AffineMap {
        let w = Double(stored.width - 1), h = Double(stored.height - 1)
        return switch orientation {
        case .up: .identity
        case .flipHorizontal: AffineMap(a: -1, b: 0, c: w, d: 0, e: 1, f: 0)
        case .rotate180: AffineMap(a: -1, b: 0, c: w, d: 0, e: -1, f: h)
        case .flipVertical: AffineMap(a: 1, b: 0, c: 0, d: 0, e: -1, f: h)
        case .transpose: AffineMap(a: 0, b: 1, c: 0, d: 1, e: 0, f: 0)
        case .rotate90Clockwise: AffineMap(a: 0, b: 1, c: 0, d: -1, e: 0, f: h)
        case .transverse: AffineMap(a: 0, b: -1, c: w, d: -1, e: 0, f: h)
        case .rotate90CounterClockwise: AffineMap(a: 0, b: -1, c: w, d: 1, e: 0, f: 0)
        }
    }

    /// The whole corrected map, output pixel → stored source pixel: orientation ∘ resize ∘
    /// augmentation, so the source is sampled once.
    public static func fused(
        _ p: TransformParameters, output: PixelSize, stored: PixelSize,
        orientation: Orientation
    ) -> AffineMap {
        let upright = orientation.swapsDimensions ? stored.transposed : stored
        return Self.orientation(orientation, stored: stored) * .resize(from: upright, to: output)
            * augmentation(p, size: output, convention: .corrected)
    }
}
