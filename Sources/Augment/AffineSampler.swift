import Codecs

/// How the source is sampled at each output pixel's mapped position.
public enum Interpolation: String, Sendable, CaseIterable {
    /// Bilinear between the four nearest source pixels; when the map shrinks by more than 2× along
    /// an axis, the output pixel averages ⌈shrink⌉ bilinear taps spread evenly over its footprint
    /// along that axis (an area filter), so shrinking does not alias.
    case bilinear
    /// The source pixel whose centre is nearest (`⌊x + ½⌋`).
    case nearest
}

/// The colour operations of the corrected convention, applied to each sample after the resample:
/// `out = clamp(clamp(v + shift, 0, 255) · gain, 0, 255)`, rounded half up.
struct ColorAdjustment {
    var shift: Float
    var gain: Float

    init(_ p: TransformParameters) {
        shift = Float(p.channelShift ?? 0)
        gain = Float(p.brightness ?? 1)
    }

    var isIdentity: Bool { shift == 0 && gain == 1 }

    /// The 8-bit output for a sample `v · 2¹⁶` (v in 0…255).
    @inline(__always)
    func apply(_ scaled: Int) -> UInt8 {
        let v = min(max(Float(scaled) * 0x1p-16 + shift, 0), 255) * gain
        return UInt8(min(v, 255) + 0.5)
    }
}

// MARK: - The fused resampler

/// Samples a source image once per output pixel through an output→source ``AffineMap`` (resize,
/// EXIF orientation, rotation, shift, shear, zoom and flips folded into one map), fills points
/// outside it with a ``FillMode`` on the source grid, applies the colour operations, and writes
/// 8-bit samples. The corrected convention's renderer; allocation-free.
///
/// Positions are 16.16 fixed point, stepped along each output row (clamped to ±2³⁰ pixels);
/// bilinear weights keep 8 bits (1/256 pixel) and are blended in integers, rounded half up, so a
/// map that lands on pixel centres (flips, 90° turns, integer shifts) copies pixels exactly.
enum AffineSampler {
    /// Writes the `size` output into `output` (exactly `size.width · size.height · channels` bytes).
    static func render(_ source: Image, map: AffineMap, size: PixelSize, fill: FillMode, cval: Double,
                       interpolation: Interpolation, color: ColorAdjustment, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count == size.width * size.height * source.channels, "output buffer has the wrong size")
        source.pixels.withUnsafeBufferPointer { pixels in
            switch source.format {
            case .gray: run(Sampler<OneChannel>(pixels, source, fill, cval), map, size, interpolation, color, output)
            case .rgb: run(Sampler<ThreeChannels>(pixels, source, fill, cval), map, size, interpolation, color, output)
            case .rgba: run(Sampler<FourChannels>(pixels, source, fill, cval), map, size, interpolation, color, output)
            }
        }
    }

    private static func run<C: ChannelCount>(_ sampler: Sampler<C>, _ map: AffineMap, _ size: PixelSize,
                                             _ interpolation: Interpolation, _ color: ColorAdjustment,
                                             _ output: UnsafeMutableRawBufferPointer) {
        // Taps per output pixel along each output axis: 1 unless the map shrinks by more than 2×.
        func taps(_ stretch: Double) -> Int { interpolation == .bilinear && stretch > 2 ? Int(stretch.rounded(.up)) : 1 }
        let tapsX = taps((map.a * map.a + map.d * map.d).squareRoot())
        let tapsY = taps((map.b * map.b + map.e * map.e).squareRoot())
        let out = output.bindMemory(to: UInt8.self).baseAddress!
        let step = (x: fixed(map.a), y: fixed(map.d))

        for row in 0..<size.height {
            var o = out + row * size.width * C.value
            if tapsX > 1 || tapsY > 1 {
                // Area: the mean of tapsX × tapsY bilinear taps spread evenly over the footprint.
                for column in 0..<size.width {
                    var sums = SIMD4<Int>(repeating: 0)
                    for j in 0..<tapsY {
                        for i in 0..<tapsX {
                            let (sx, sy) = map.apply(Double(column) + (Double(i) + 0.5) / Double(tapsX) - 0.5,
                                                     Double(row) + (Double(j) + 0.5) / Double(tapsY) - 0.5)
                            sums &+= sampler.bilinear(fixed(sx), fixed(sy))
                        }
                    }
                    store(sums / SIMD4(repeating: tapsX * tapsY), C.self, o, color)
                    o += C.value
                }
                continue
            }
            var x = fixed(map.b * Double(row) + map.c), y = fixed(map.e * Double(row) + map.f)
            let end = o + size.width * C.value
            if interpolation == .bilinear && color.isIdentity && sampler.fill == .nearest {
                // The hot loop (the default fill): one pixel per iteration, straight to bytes.
                while o < end {
                    sampler.bilinearClamped(x, y, into: o)
                    x &+= step.x
                    y &+= step.y
                    o += C.value
                }
                continue
            }
            if interpolation == .bilinear && color.isIdentity {
                while o < end {
                    sampler.bilinear(x, y, into: o)
                    x &+= step.x
                    y &+= step.y
                    o += C.value
                }
                continue
            }
            while o < end {
                store(interpolation == .bilinear ? sampler.bilinear(x, y) : sampler.nearest(x, y), C.self, o, color)
                x &+= step.x
                y &+= step.y
                o += C.value
            }
        }
    }

    /// `v` in 16.16 fixed point, clamped to ±2³⁰.
    @inline(__always)
    private static func fixed(_ v: Double) -> Int { Int((min(max(v, -0x1p30), 0x1p30) * 65536).rounded()) }

    /// Writes the first `C.value` lanes of `v` (each `sample · 2¹⁶`, sample in 0…255) as bytes.
    @inline(__always)
    private static func store<C: ChannelCount>(_ v: SIMD4<Int>, _: C.Type, _ o: UnsafeMutablePointer<UInt8>,
                                               _ color: ColorAdjustment) {
        if color.isIdentity {
            for c in 0..<C.value { o[c] = UInt8(truncatingIfNeeded: (v[c] &+ 0x8000) >> 16) }
        } else {
            for c in 0..<C.value { o[c] = color.apply(v[c]) }
        }
    }
}

// MARK: - Source access with fill

/// The number of interleaved channels, as a type so that each count gets its own unrolled loops.
protocol ChannelCount { static var value: Int { get } }
enum OneChannel: ChannelCount { static var value: Int { 1 } }
enum ThreeChannels: ChannelCount { static var value: Int { 3 } }
enum FourChannels: ChannelCount { static var value: Int { 4 } }

/// Reads a source image at 16.16 fixed-point positions, extending it by a fill mode. Samples come
/// back as `value · 2¹⁶` in the first `C.value` lanes.
private struct Sampler<C: ChannelCount> {
    let base: UnsafePointer<UInt8>
    let width: Int
    let height: Int
    let rowBytes: Int
    /// `width − 1` and `height − 1`: a 2×2 block starting below them is inside the image.
    let lastColumn: UInt
    let lastRow: UInt
    /// The last column and row in 16.16.
    let maxX: Int
    let maxY: Int
    let fill: FillMode
    let constant: Int

    init(_ pixels: UnsafeBufferPointer<UInt8>, _ image: Image, _ fill: FillMode, _ cval: Double) {
        base = pixels.baseAddress!
        width = image.width
        height = image.height
        rowBytes = image.rowBytes
        lastColumn = UInt(image.width - 1)
        lastRow = UInt(image.height - 1)
        maxX = (image.width - 1) << 16
        maxY = (image.height - 1) << 16
        self.fill = fill
        constant = Int(cval.rounded())
    }

    /// The address of pixel `(x, y)` after the fill mode, or nil for the constant.
    @inline(__always)
    private func address(_ x: Int, _ y: Int) -> UnsafePointer<UInt8>? {
        guard let i = fill.index(x, count: width), let j = fill.index(y, count: height) else { return nil }
        return base + j * rowBytes + i * C.value
    }

    /// Bilinear at `(x, y)` (16.16), each sample `value · 2¹⁶`:
    /// `(p00·(256−wx) + p01·wx)·(256−wy) + (p10·(256−wx) + p11·wx)·wy` with 8-bit weights `wx`, `wy`.
    @inline(__always)
    func bilinear(_ x: Int, _ y: Int) -> SIMD4<Int> {
        let ix = x &>> 16, iy = y &>> 16
        guard UInt(bitPattern: ix) < lastColumn && UInt(bitPattern: iy) < lastRow else { return bilinearAtEdge(x, y) }
        let p = base + (iy &* rowBytes &+ ix &* C.value), wx = (x &>> 8) & 0xFF, wy = (y &>> 8) & 0xFF
        var v = SIMD4<Int>(repeating: 0)
        for c in 0..<C.value { v[c] = Self.blend(p + c, rowBytes, wx, wy) }
        return v
    }

    /// ``bilinear(_:_:)`` rounded half up and written as `C.value` bytes at `o`.
    @inline(__always)
    func bilinear(_ x: Int, _ y: Int, into o: UnsafeMutablePointer<UInt8>) {
        let ix = x &>> 16, iy = y &>> 16
        if UInt(bitPattern: ix) < lastColumn && UInt(bitPattern: iy) < lastRow {
            let p = base + (iy &* rowBytes &+ ix &* C.value), wx = (x &>> 8) & 0xFF, wy = (y &>> 8) & 0xFF
            for c in 0..<C.value {
                o[c] = UInt8(truncatingIfNeeded: (Self.blend(p + c, rowBytes, wx, wy) &+ 0x8000) &>> 16)
            }
        } else {
            let v = bilinearAtEdge(x, y)
            for c in 0..<C.value { o[c] = UInt8(truncatingIfNeeded: (v[c] &+ 0x8000) &>> 16) }
        }
    }

    /// ``bilinear(_:_:into:)`` for the `nearest` fill: the position is clamped to the image first,
    /// which gives the same samples as clamping each tap (a position left of the image has both taps
    /// on column 0; one on the last column has weight 0 for the tap beyond it), with no edge path.
    @inline(__always)
    func bilinearClamped(_ x: Int, _ y: Int, into o: UnsafeMutablePointer<UInt8>) {
        let cx = min(max(x, 0), maxX), cy = min(max(y, 0), maxY)
        let ix = cx &>> 16, iy = cy &>> 16, wx = (cx &>> 8) & 0xFF, wy = (cy &>> 8) & 0xFF
        let dx = UInt(bitPattern: ix) < lastColumn ? C.value : 0, dy = UInt(bitPattern: iy) < lastRow ? rowBytes : 0
        let p = base + (iy &* rowBytes &+ ix &* C.value)
        for c in 0..<C.value {
            let v = Self.blend(Int(p[c]), Int(p[c &+ dx]), Int(p[c &+ dy]), Int(p[c &+ dy &+ dx]), wx, wy)
            o[c] = UInt8(truncatingIfNeeded: (v &+ 0x8000) &>> 16)
        }
    }

    /// One channel's bilinear blend of the 2×2 block whose top-left sample is at `p`.
    @inline(__always)
    private static func blend(_ p: UnsafePointer<UInt8>, _ rowBytes: Int, _ wx: Int, _ wy: Int) -> Int {
        blend(Int(p[0]), Int(p[C.value]), Int(p[rowBytes]), Int(p[rowBytes &+ C.value]), wx, wy)
    }

    /// `(p00·(256−wx) + p01·wx)·(256−wy) + (p10·(256−wx) + p11·wx)·wy`, evaluated as two lerps.
    @inline(__always)
    private static func blend(_ p00: Int, _ p01: Int, _ p10: Int, _ p11: Int, _ wx: Int, _ wy: Int) -> Int {
        let upper = p00 &<< 8 &+ (p01 &- p00) &* wx
        let lower = p10 &<< 8 &+ (p11 &- p10) &* wx
        return upper &<< 8 &+ (lower &- upper) &* wy
    }

    /// ``bilinear(_:_:)`` where a tap falls outside the image: rows and columns through the fill mode.
    @inline(never)
    private func bilinearAtEdge(_ x: Int, _ y: Int) -> SIMD4<Int> {
        let ix = x >> 16, iy = y >> 16, wx = (x >> 8) & 0xFF, wy = (y >> 8) & 0xFF
        let columns = (fill.index(ix, count: width), fill.index(ix + 1, count: width))
        let rows = (fill.index(iy, count: height), fill.index(iy + 1, count: height))
        var v = SIMD4<Int>(repeating: 0)
        if let c0 = columns.0, let c1 = columns.1, let r0 = rows.0, let r1 = rows.1 {
            // Every fill mode but constant always lands inside.
            let p00 = base + r0 * rowBytes + c0 * C.value, p01 = base + r0 * rowBytes + c1 * C.value
            let p10 = base + r1 * rowBytes + c0 * C.value, p11 = base + r1 * rowBytes + c1 * C.value
            for c in 0..<C.value { v[c] = Self.blend(Int(p00[c]), Int(p01[c]), Int(p10[c]), Int(p11[c]), wx, wy) }
            return v
        }
        for c in 0..<C.value {
            func at(_ row: Int?, _ column: Int?) -> Int {
                guard let row, let column else { return constant }
                return Int(base[row * rowBytes + column * C.value + c])
            }
            v[c] = Self.blend(at(rows.0, columns.0), at(rows.0, columns.1), at(rows.1, columns.0), at(rows.1, columns.1), wx, wy)
        }
        return v
    }

    /// The pixel whose centre is nearest `(x, y)` (16.16).
    @inline(__always)
    func nearest(_ x: Int, _ y: Int) -> SIMD4<Int> {
        var v = SIMD4<Int>(repeating: constant << 16)
        if let p = address((x + 0x8000) >> 16, (y + 0x8000) >> 16) {
            for c in 0..<C.value { v[c] = Int(p[c]) << 16 }
        }
        return v
    }
}
