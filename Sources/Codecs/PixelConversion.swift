/// An opaque sRGB colour, used as the background that alpha is composited on.
public struct RGBColor: Hashable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The default background: white, what an image viewer shows behind a transparent image.
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
}

/// How the samples of a decoder's output buffer are laid out, before conversion to a ``PixelFormat``.
enum SampleLayout: Equatable {
    case gray, grayAlpha, rgb, rgba
    /// Four channels of ink amounts. `inverted` is Adobe's convention (255 = no ink), which
    /// libjpeg-turbo returns for files carrying an Adobe APP14 marker.
    case cmyk(inverted: Bool)

    var channels: Int {
        switch self {
        case .gray: 1
        case .grayAlpha: 2
        case .rgb: 3
        case .rgba, .cmyk: 4
        }
    }

    /// The pixel format that keeps everything this layout holds (gray+alpha widens to RGBA).
    var natural: PixelFormat {
        switch self {
        case .gray: .gray
        case .rgb, .cmyk: .rgb
        case .grayAlpha, .rgba: .rgba
        }
    }
}

// MARK: - Conversion formulas

/// BT.601 luma with libjpeg's fixed-point weights: Y = (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16,
/// the same value libjpeg-turbo computes when it converts RGB to grayscale.
@inline(__always)
func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (19595 * UInt32(r) + 38470 * UInt32(g) + 7471 * UInt32(b) + 32768) >> 16)
}

/// Straight alpha composited on an opaque background in sRGB space: (c·a + bg·(255 − a)) / 255,
/// rounded to nearest.
@inline(__always)
func composite(_ c: UInt8, alpha a: UInt8, on background: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt32(c) * UInt32(a) + UInt32(background) * UInt32(255 - a) + 127) / 255)
}

/// One ink channel to RGB: inverted (Adobe) samples give c·k / 255, plain ones (255 − c)(255 − k) / 255.
@inline(__always)
func inkToRGB(_ c: UInt8, _ k: UInt8, inverted: Bool) -> UInt8 {
    let (c, k) = inverted ? (UInt32(c), UInt32(k)) : (255 - UInt32(c), 255 - UInt32(k))
    return UInt8(truncatingIfNeeded: (c * k + 127) / 255)
}

// MARK: - Buffer conversion

/// Converts `pixelCount` pixels laid out as `layout` to `format`.
///
/// Alpha that `format` cannot hold is composited on `background`; gray becomes equal R, G and B;
/// colour becomes gray by ``luma(_:_:_:)``; formats without alpha gain an opaque one (255).
func convert(
    _ src: UnsafeBufferPointer<UInt8>, layout: SampleLayout, pixelCount: Int,
    to format: PixelFormat, background: RGBColor
) -> [UInt8] {
    let bgGray = luma(background.red, background.green, background.blue)
    return [UInt8](unsafeUninitializedCapacity: pixelCount * format.channels) { dst, initialized in
        var s = 0, d = 0
        for _ in 0..<pixelCount {
            // Read one pixel as RGB + alpha (alpha 255 when the source has none).
            var r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255
            switch layout {
            case .gray: r = src[s]; g = r; b = r
            case .grayAlpha: r = src[s]; g = r; b = r; a = src[s + 1]
            case .rgb: r = src[s]; g = src[s + 1]; b = src[s + 2]
            case .rgba: r = src[s]; g = src[s + 1]; b = src[s + 2]; a = src[s + 3]
            case .cmyk(let inverted):
                let k = src[s + 3]
                r = inkToRGB(src[s], k, inverted: inverted)
                g = inkToRGB(src[s + 1], k, inverted: inverted)
                b = inkToRGB(src[s + 2], k, inverted: inverted)
            }
            s += layout.channels
            switch format {
            case .gray:
                if layout == .gray || layout == .grayAlpha {
                    dst[d] = a == 255 ? r : composite(r, alpha: a, on: bgGray)
                } else if a == 255 {
                    dst[d] = luma(r, g, b)
                } else {
                    dst[d] = luma(
                        composite(r, alpha: a, on: background.red),
                        composite(g, alpha: a, on: background.green),
                        composite(b, alpha: a, on: background.blue))
                }
            case .rgb:
                if a == 255 {
                    dst[d] = r; dst[d + 1] = g; dst[d + 2] = b
                } else {
                    dst[d] = composite(r, alpha: a, on: background.red)
                    dst[d + 1] = composite(g, alpha: a, on: background.green)
                    dst[d + 2] = composite(b, alpha: a, on: background.blue)
                }
            case .rgba:
                dst[d] = r; dst[d + 1] = g; dst[d + 2] = b; dst[d + 3] = a
            }
            d += format.channels
        }
        initialized = pixelCount * format.channels
    }
}

extension Image {
    /// The image in another pixel format; `self` when it already is in `format`.
    ///
    /// RGB → gray uses BT.601 luma (libjpeg's weights); gray → RGB repeats the sample; dropping
    /// alpha composites on `background` in sRGB space; adding alpha makes every pixel opaque.
    public func converted(to format: PixelFormat, background: RGBColor = .white) -> Image {
        guard format != self.format else { return self }
        let layout: SampleLayout =
            switch self.format {
            case .gray: .gray
            case .rgb: .rgb
            case .rgba: .rgba
            }
        let converted = pixels.withUnsafeBufferPointer {
            convert($0, layout: layout, pixelCount: width * height, to: format, background: background)
        }
        return Image(width: width, height: height, format: format, pixels: converted)
    }
}
