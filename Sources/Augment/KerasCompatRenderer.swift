public import Codecs
public import Preparation

/// Reproduces what Keras's `ImageDataGenerator` does to one image (Keras 3
/// `keras/src/legacy/preprocessing/image.py`, the same algorithm as tf.keras), step by step, with
/// its quirks; used under ``AugmentConvention/kerasCompat``. Not `Sendable`: one per worker (its
/// scratch buffers are reused).
///
/// 1. `load_img`: the full-scale, un-rotated (EXIF ignored) image is resized to the target with
///    PIL's nearest filter — source index `⌊x₀⌋` where `x₀ = ½·s` and each next column adds
///    `s = W_src / W` in double precision, as Pillow's `ImagingScaleAffine` accumulates it.
/// 2. `apply_affine_transform`: SciPy `affine_transform(order=1)` of each channel with the
///    ``TransformGeometry/augmentation(_:size:convention:)`` map (swapped centre, sin/cos shear), its
///    legacy fill modes (`wrap` period n − 1, `constant` without blending), in double precision,
///    stored as float32. Skipped when the geometric parameters are the identity.
/// 3. `apply_channel_shift`: `clip(x + intensity, min(x), max(x))` in float32, with the min and max
///    over the whole image (every channel).
/// 4. Flips (folded into step 2's output indices; they commute with steps 3 and 5).
/// 5. `apply_brightness_shift(scale=False)`: truncated to uint8, then PIL's `Brightness.enhance(b)`:
///    `⌊float(b) · v⌋` in float32, saturated to [0, 255] when b > 1.
/// 6. The float result is rounded half up to 8 bits (Keras would hand the floats to the model).
public final class KerasCompatRenderer {
    private var resized: [UInt8] = []
    private var values: [Float] = []

    public init() {}

    /// Renders `source` (stored pixels, full scale) at `size` into `output`.
    /// - Parameters:
    ///   - cval: the constant fill, 0…255.
    public func render(
        _ source: Image, parameters p: TransformParameters, size: PixelSize, fill: FillMode, cval: Double,
        into output: UnsafeMutableRawBufferPointer
    ) {
        let channels = source.channels, count = size.width * size.height * channels
        precondition(output.count == count, "output buffer has the wrong size")
        nearestResize(source, to: size)
        if values.count < count { values = [Float](repeating: 0, count: count) }
        resized.withUnsafeBufferPointer { input in
            values.withUnsafeMutableBufferPointer { result in
                transform(input, channels: channels, size: size, p, fill: fill, cval: cval, into: result)
                adjustColors(result, count: count, p, into: output.bindMemory(to: UInt8.self))
            }
        }
    }

    // MARK: - Steps

    /// Step 1: PIL's `resize(NEAREST)` into `resized` (a plain copy when the size already matches,
    /// which is what PIL's nearest gives then).
    private func nearestResize(_ source: Image, to size: PixelSize) {
        let count = size.width * size.height * source.channels
        if resized.count < count { resized = [UInt8](repeating: 0, count: count) }
        resized.withUnsafeMutableBytes {
            let output = UnsafeMutableRawBufferPointer(rebasing: $0[0..<count])
            if source.size == size {
                source.pixels.withUnsafeBytes { output.copyMemory(from: $0) }
            } else {
                PILNearest.resize(source, to: size, into: output)
            }
        }
    }

    /// Steps 2 and 4: the SciPy-style affine (or a copy) with flips, into float32 `result`.
    private func transform(
        _ input: UnsafeBufferPointer<UInt8>, channels: Int, size: PixelSize, _ p: TransformParameters,
        fill: FillMode, cval: Double, into result: UnsafeMutableBufferPointer<Float>
    ) {
        let (w, h) = (size.width, size.height)
        var geometry = p
        (geometry.flipHorizontal, geometry.flipVertical) = (false, false)
        let m = TransformGeometry.augmentation(geometry, size: size, convention: .kerasCompat)
        for y in 0..<h {
            for x in 0..<w {
                let o = (y * w + x) * channels
                let fx = p.flipHorizontal ? w - 1 - x : x, fy = p.flipVertical ? h - 1 - y : y
                if p.isAffineIdentity {
                    for c in 0..<channels { result[o + c] = Float(input[(fy * w + fx) * channels + c]) }
                    continue
                }
                // SciPy's order of operations on (row, col): Σ coordinate·matrix, then + offset.
                let sy = (Double(fy) * m.e + Double(fx) * m.d) + m.f
                let sx = (Double(fy) * m.b + Double(fx) * m.a) + m.c
                guard let cy = fill.scipyCoordinate(sy, count: h), let cx = fill.scipyCoordinate(sx, count: w) else {
                    for c in 0..<channels { result[o + c] = Float(cval) }
                    continue
                }
                let y0 = Int(cy.rounded(.down)), x0 = Int(cx.rounded(.down))
                let ty = cy - Double(y0), tx = cx - Double(x0)
                let rows = (fill.scipyIndex(y0, count: h), fill.scipyIndex(y0 + 1, count: h))
                let cols = (fill.scipyIndex(x0, count: w), fill.scipyIndex(x0 + 1, count: w))
                for c in 0..<channels {
                    func at(_ r: Int, _ q: Int) -> Double { Double(input[(r * w + q) * channels + c]) }
                    let value =
                        (1 - ty) * ((1 - tx) * at(rows.0, cols.0) + tx * at(rows.0, cols.1))
                        + ty * ((1 - tx) * at(rows.1, cols.0) + tx * at(rows.1, cols.1))
                    result[o + c] = Float(value)
                }
            }
        }
    }

    /// Steps 3, 5 and 6.
    private func adjustColors(
        _ values: UnsafeMutableBufferPointer<Float>, count: Int, _ p: TransformParameters,
        into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        if let shift = p.channelShift {
            var low = Float.infinity, high = -Float.infinity
            for i in 0..<count { low = min(low, values[i]); high = max(high, values[i]) }
            for i in 0..<count { values[i] = min(max(values[i] + Float(shift), low), high) }
        }
        if let brightness = p.brightness {
            let factor = Float(brightness)
            for i in 0..<count {
                let enhanced = factor * Float(UInt8(max(0, min(255, values[i]))))
                output[i] = factor <= 1 ? UInt8(enhanced) : UInt8(min(255, enhanced))
            }
        } else {
            for i in 0..<count { output[i] = UInt8(max(0, min(255, values[i])) + 0.5) }
        }
    }
}
