/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to appear upright.
///
/// Raw values are the tag's values 1–8. The case names say what to do to the stored image, in the
/// same terms as PIL's `ImageOps.exif_transpose`.
public enum Orientation: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// 1: already upright.
    case up = 1
    /// 2: mirror left–right.
    case flipHorizontal = 2
    /// 3: turn 180°.
    case rotate180 = 3
    /// 4: mirror top–bottom.
    case flipVertical = 4
    /// 5: mirror across the main diagonal (out(x, y) = in(y, x)).
    case transpose = 5
    /// 6: turn 90° clockwise.
    case rotate90Clockwise = 6
    /// 7: mirror across the anti-diagonal.
    case transverse = 7
    /// 8: turn 90° counter-clockwise.
    case rotate90CounterClockwise = 8

    /// Whether the upright image has width and height exchanged (values 5–8).
    public var swapsDimensions: Bool { rawValue >= 5 }

    public var description: String {
        switch self {
        case .up: "1 (upright)"
        case .flipHorizontal: "2 (mirror horizontal)"
        case .rotate180: "3 (rotate 180°)"
        case .flipVertical: "4 (mirror vertical)"
        case .transpose: "5 (transpose)"
        case .rotate90Clockwise: "6 (rotate 90° CW)"
        case .transverse: "7 (transverse)"
        case .rotate90CounterClockwise: "8 (rotate 90° CCW)"
        }
    }

    /// For an output pixel of the upright image, the stored pixel it comes from.
    /// - Parameters:
    ///   - x: column in the upright image.
    ///   - y: row in the upright image.
    ///   - stored: the size of the stored image.
    func sourcePixel(x: Int, y: Int, stored: PixelSize) -> (x: Int, y: Int) {
        let w = stored.width, h = stored.height
        switch self {
        case .up: return (x, y)
        case .flipHorizontal: return (w - 1 - x, y)
        case .rotate180: return (w - 1 - x, h - 1 - y)
        case .flipVertical: return (x, h - 1 - y)
        case .transpose: return (y, x)
        case .rotate90Clockwise: return (y, h - 1 - x)
        case .transverse: return (w - 1 - y, h - 1 - x)
        case .rotate90CounterClockwise: return (w - 1 - y, x)
        }
    }
}

extension Image {
    /// The image turned upright according to an EXIF orientation; `self` when it already is.
    ///
    /// For values 5–8 the result is `height × width`.
    public func oriented(_ orientation: Orientation) -> Image {
        guard orientation != .up else { return self }
        let stored = size
        let out = orientation.swapsDimensions ? stored.transposed : stored
        let c = channels
        return pixels.withUnsafeBufferPointer { src in
            Image(width: out.width, height: out.height, format: format) { dst in
                var o = 0
                for y in 0..<out.height {
                    for x in 0..<out.width {
                        let s = orientation.sourcePixel(x: x, y: y, stored: stored)
                        let i = (s.y * stored.width + s.x) * c
                        for k in 0..<c { dst[o + k] = src[i + k] }
                        o += c
                    }
                }
            }
        }
    }
}
