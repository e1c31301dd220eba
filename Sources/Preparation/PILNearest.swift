public import Codecs

// MARK: - PIL's nearest

/// Pillow's nearest resize, the one resize outside ``AffineSampler``: Keras's `load_img` makes
/// every image to its `target_size` with it, so `keras-nearest` shards and `--keras-compat` renders
/// use it.
public enum PILNearest {
    /// `image` resized to `size` with PIL's nearest filter, as Keras's `load_img(target_size=...)`
    /// does, into `output` (exactly `size.width · size.height · channels` bytes): source index
    /// `⌊x₀⌋` where `x₀ = ½·s` and each next column adds `s = W_src / W` in double precision, as
    /// Pillow's `ImagingScaleAffine` accumulates it.
    public static func resize(_ image: Image, to size: PixelSize, into output: UnsafeMutableRawBufferPointer) {
        let channels = image.channels
        precondition(output.count == size.width * size.height * channels, "output buffer has the wrong size")
        func indices(from input: Int, to output: Int) -> [Int] {
            let step = Double(input) / Double(output)
            var position = 0.5 * step
            return (0..<output).map { _ in
                defer { position += step }
                return min(Int(position), input - 1)
            }
        }
        let columns = indices(from: image.width, to: size.width), rows = indices(from: image.height, to: size.height)
        let buffer = output.bindMemory(to: UInt8.self)
        image.pixels.withUnsafeBufferPointer { pixels in
            var o = 0
            for y in rows {
                for x in columns {
                    let i = (y * image.width + x) * channels
                    for c in 0..<channels { buffer[o + c] = pixels[i + c] }
                    o += channels
                }
            }
        }
    }
}
