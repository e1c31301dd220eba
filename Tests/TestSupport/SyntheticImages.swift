public import Codecs
import Foundation
import Support

/// Deterministic images for tests and benchmarks.
public enum SyntheticImages {
    /// A photo-like RGB image: a smooth sky-to-ground gradient, a few soft-edged discs and bars,
    /// and mild per-pixel noise, so a JPEG of it has a realistic mix of flat and detailed areas
    /// (about 0.3 bytes per pixel at quality 90).
    public static func photoLike(width: Int, height: Int, seed: UInt64 = 1) -> Image {
        var rng = SplitMix64(seed: seed)
        struct Disc { var x, y, r: Double; var color: (Double, Double, Double) }
        let discs = (0..<6).map { _ in
            Disc(
                x: Double.random(in: 0...Double(width), using: &rng), y: Double.random(in: 0...Double(height), using: &rng),
                r: Double.random(in: 0.05...0.25, using: &rng) * Double(min(width, height)),
                color: (
                    Double.random(in: 0...255, using: &rng), Double.random(in: 0...255, using: &rng),
                    Double.random(in: 0...255, using: &rng)
                ))
        }
        return Image(width: width, height: height, format: .rgb) { px in
            var i = 0
            for y in 0..<height {
                let t = Double(y) / Double(height)
                for x in 0..<width {
                    var r = 90 + 120 * (1 - t), g = 140 + 60 * (1 - t), b = 200 - 120 * t
                    let stripes = 18 * sin(Double(x) * 0.21 + Double(y) * 0.07)  // texture
                    r += stripes; g += stripes * 0.6
                    for d in discs {
                        let dist = ((Double(x) - d.x) * (Double(x) - d.x) + (Double(y) - d.y) * (Double(y) - d.y)).squareRoot()
                        let w = max(0, min(1, (d.r - dist) / 3))  // soft 3-pixel edge
                        r = r * (1 - w) + d.color.0 * w; g = g * (1 - w) + d.color.1 * w; b = b * (1 - w) + d.color.2 * w
                    }
                    let noise = Double(Int(rng.next() % 17) - 8)
                    px[i] = clamp(r + noise); px[i + 1] = clamp(g + noise); px[i + 2] = clamp(b + noise)
                    i += 3
                }
            }
        }
    }

    /// An image whose every sample is a function of its position: `(x·7 + y·13 + c·101 + seed) mod 256`.
    public static func ramp(width: Int, height: Int, format: PixelFormat, seed: Int = 0) -> Image {
        Image(width: width, height: height, format: format) { px in
            var i = 0
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<format.channels { px[i] = UInt8(truncatingIfNeeded: x * 7 + y * 13 + c * 101 + seed); i += 1 }
                }
            }
        }
    }

    /// An image of `columns × rows` flat blocks of `block × block` pixels, block (i, j) coloured
    /// `colors[j * columns + i]`. Flat blocks survive JPEG almost exactly away from their edges.
    public static func blocks(columns: Int, rows: Int, block: Int, colors: [RGBColor]) -> Image {
        precondition(colors.count == columns * rows)
        return Image(width: columns * block, height: rows * block, format: .rgb) { px in
            var i = 0
            for y in 0..<rows * block {
                for x in 0..<columns * block {
                    let c = colors[(y / block) * columns + x / block]
                    px[i] = c.red; px[i + 1] = c.green; px[i + 2] = c.blue
                    i += 3
                }
            }
        }
    }

    private static func clamp(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v.rounded()))) }
}
