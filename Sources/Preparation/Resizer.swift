public import Codecs

/// How ``Resizer`` samples the source.
public enum ResizeFilter: String, Sendable, CaseIterable {
    /// Triangle (bilinear) filter whose support widens with the shrink factor, so shrinking averages
    /// every source pixel it covers (antialiased, as Pillow's BILINEAR and
    /// `tf.image.resize(antialias=True)`); plain bilinear interpolation when enlarging.
    case bilinear
    /// Box filter over each output pixel's footprint ("area" averaging) when shrinking.
    case area
    /// The nearest source pixel (what Keras's `flow_from_directory` uses by default).
    case nearest
}

/// Separable image resizing with reusable scratch memory: make one per worker thread and call it for
/// every image (its buffers grow to the largest image seen and are then reused).
///
/// Coordinates follow the pixel-centre convention: output pixel x samples source position
/// (x + 0.5)·(source width / output width) − 0.5. Samples are rounded to nearest and clamped.
public final class Resizer {
    private var horizontal: [Float] = []  // source rows resampled horizontally: inHeight × outWidth × C

    public init() {}

    /// `image` resized to `size` (aspect ratio not kept, as Keras's `target_size`).
    public func resize(_ image: Image, to size: PixelSize, filter: ResizeFilter = .bilinear) -> Image {
        Image(width: size.width, height: size.height, format: image.format) { output in
            resize(image, to: size, filter: filter, into: UnsafeMutableRawBufferPointer(output))
        }
    }

    /// Writes `image` resized to `size` into `output` (exactly `size.width · size.height · channels`
    /// bytes, row-major HWC).
    public func resize(
        _ image: Image, to size: PixelSize, filter: ResizeFilter = .bilinear,
        into output: UnsafeMutableRawBufferPointer
    ) {
        let channels = image.channels
        precondition(output.count == size.width * size.height * channels, "output buffer has the wrong size")
        let columns = Taps(from: image.width, to: size.width, filter: filter)
        let rows = Taps(from: image.height, to: size.height, filter: filter)
        let rowFloats = size.width * channels
        if horizontal.count < (image.height + 1) * rowFloats {
            horizontal = [Float](repeating: 0, count: (image.height + 1) * rowFloats)
        }
        image.pixels.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { scratch in
                columns.withPointers { columnFirst, columnCount, columnWeights in
                    rows.withPointers { rowFirst, rowCount, rowWeights in
                        let temporary = scratch.baseAddress!, accumulator = temporary + image.height * rowFloats
                        // Pass 1: every source row, resampled to the output width.
                        for y in 0..<image.height {
                            let sourceRow = source.baseAddress! + y * image.width * channels
                            let temporaryRow = temporary + y * rowFloats
                            for x in 0..<size.width {
                                let first = columnFirst[x], count = columnCount[x], weights = columnWeights + x * columns.maxTaps
                                let pixel = sourceRow + first * channels, out = temporaryRow + x * channels
                                if channels == 3 {  // the common case: one pass over the taps, three sums
                                    var r: Float = 0, g: Float = 0, b: Float = 0
                                    for k in 0..<count {
                                        let w = weights[k], p = pixel + 3 * k
                                        r += w * Float(p[0]); g += w * Float(p[1]); b += w * Float(p[2])
                                    }
                                    out[0] = r; out[1] = g; out[2] = b
                                } else {
                                    for c in 0..<channels {
                                        var sum: Float = 0
                                        for k in 0..<count { sum += weights[k] * Float(pixel[k * channels + c]) }
                                        out[c] = sum
                                    }
                                }
                            }
                        }
                        // Pass 2: each output row as a weighted sum of whole resampled rows (vectorises).
                        let destination = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        for y in 0..<size.height {
                            let first = rowFirst[y], count = rowCount[y], weights = rowWeights + y * rows.maxTaps
                            accumulator.update(repeating: 0, count: rowFloats)
                            for k in 0..<count {
                                let w = weights[k], row = temporary + (first + k) * rowFloats
                                for i in 0..<rowFloats { accumulator[i] += w * row[i] }
                            }
                            let outputRow = destination + y * rowFloats
                            for i in 0..<rowFloats { outputRow[i] = UInt8(max(0, min(255, accumulator[i] + 0.5))) }  // round half up
                        }
                    }
                }
            }
        }
    }
}

// MARK: - PIL's nearest

extension Resizer {
    /// `image` resized to `size` with PIL's nearest filter, as Keras's `load_img(target_size=...)`
    /// does, into `output` (exactly `size.width · size.height · channels` bytes): source index
    /// `⌊x₀⌋` where `x₀ = ½·s` and each next column adds `s = W_src / W` in double precision, as
    /// Pillow's `ImagingScaleAffine` accumulates it.
    public static func pilNearest(_ image: Image, to size: PixelSize, into output: UnsafeMutableRawBufferPointer) {
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

// MARK: - Filter taps

/// For each output index along one axis: the first source index it reads, how many, and their
/// normalised weights (`weights[o · maxTaps + k]`).
private struct Taps {
    var first: [Int]
    var count: [Int]
    var weights: [Float]
    let maxTaps: Int

    /// Runs `body` with raw pointers to `first`, `count` and `weights` (no bounds checks in the loops).
    func withPointers<R>(_ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Float>) -> R) -> R {
        first.withUnsafeBufferPointer { f in
            count.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in body(f.baseAddress!, c.baseAddress!, w.baseAddress!) }
            }
        }
    }

    init(from input: Int, to output: Int, filter: ResizeFilter) {
        let scale = Double(input) / Double(output)
        let spread = max(1, scale)  // filter support grows when shrinking
        let radius: Double =
            switch filter {
            case .bilinear: spread
            case .area: 0.5 * spread
            case .nearest: 0
            }
        maxTaps = filter == .nearest ? 1 : Int((2 * radius).rounded(.up)) + 2
        first = [Int](repeating: 0, count: output)
        count = [Int](repeating: 0, count: output)
        weights = [Float](repeating: 0, count: output * maxTaps)
        for o in 0..<output {
            let centre = (Double(o) + 0.5) * scale - 0.5
            if filter == .nearest {
                first[o] = min(input - 1, max(0, Int((centre + 0.5).rounded(.down))))
                count[o] = 1
                weights[o * maxTaps] = 1
                continue
            }
            let low = max(0, Int((centre - radius).rounded(.up) - (filter == .area ? 1 : 0)))
            let high = min(input - 1, Int((centre + radius).rounded(.down) + (filter == .area ? 1 : 0)))
            var raw: [Double] = []
            for i in low...max(low, high) {
                let distance = abs(Double(i) - centre)
                let w: Double =
                    switch filter {
                    case .bilinear: max(0, 1 - distance / spread)
                    case .area: max(0, min(Double(i) + 0.5, centre + radius) - max(Double(i) - 0.5, centre - radius))
                    case .nearest: 0
                    }
                raw.append(w)
            }
            // Trim zero weights at both ends, then normalise.
            var start = 0, end = raw.count
            while start < end - 1 && raw[start] == 0 { start += 1 }
            while end > start + 1 && raw[end - 1] == 0 { end -= 1 }
            let total = raw[start..<end].reduce(0, +)
            first[o] = low + start
            count[o] = end - start
            for (k, w) in raw[start..<end].enumerated() {
                let normalised: Double = total > 0 ? w / total : 1 / Double(end - start)
                weights[o * maxTaps + k] = Float(normalised)
            }
        }
    }
}
