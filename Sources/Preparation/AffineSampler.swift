public import Codecs

/// How the source is sampled at each output pixel's mapped position.
public enum Interpolation: String, Sendable, CaseIterable {
    /// Bilinear between the four nearest source pixels, with weights in 128ths of a pixel (exact
    /// integer arithmetic, the same bytes on every CPU path); when the map shrinks by more than 2× along
    /// an axis, the output pixel averages ⌈shrink⌉ bilinear taps spread evenly over its footprint
    /// along that axis (an area filter), so shrinking does not alias.
    case bilinear
    /// The source pixel whose centre is nearest (`⌊x + ½⌋`).
    case nearest
}

/// The colour operations of the corrected convention, applied to each sample after the resample:
/// `out = clamp(clamp(v + shift, 0, 255) · gain, 0, 255)`.
public struct ColorAdjustment: Sendable {
    /// Added to every sample (0…255 scale).
    public var shift: Float
    /// Multiplies every sample after the shift (non-negative).
    public var gain: Float

    /// No change: shift 0, gain 1.
    public static let identity = ColorAdjustment(shift: 0, gain: 1)

    public init(shift: Float, gain: Float) {
        self.shift = shift
        self.gain = gain
    }

    var isIdentity: Bool { shift == 0 && gain == 1 }

    /// `pointwiseMin((v + shift).clamped(0, 255) · gain, 255)`, written with lane selects: the
    /// standard library's `pointwiseMin` and `pointwiseMax` are not inlined into the pixel loops
    /// (a call each per pixel). The same values (only the sign of a zero can differ, which no
    /// rounded byte shows).
    @inline(__always)
    func apply(_ v: SIMD4<Float>) -> SIMD4<Float> {
        let zero = SIMD4<Float>(repeating: 0), top = SIMD4<Float>(repeating: 255)
        var s = v + shift
        s.replace(with: zero, where: s .< zero)
        s.replace(with: top, where: s .> top)
        s *= gain
        s.replace(with: top, where: s .> top)
        return s
    }
}

// MARK: - The fused resampler

/// Samples a source image once per output pixel through an output→source ``AffineMap`` (resize,
/// EXIF orientation, rotation, shift, shear, zoom and flips folded into one map), fills points
/// outside it with a ``FillMode`` on the source grid, applies the colour operations, and writes
/// 8-bit samples rounded half up. The corrected convention's renderer; allocation-free.
///
/// Positions are 16.16 fixed point, stepped exactly along each output row (clamped to ±2¹⁴ pixels
/// beyond the image), so a map that lands on pixel centres (flips, 90° turns, integer shifts) copies
/// pixels exactly. Each pixel is one SSE2 vector of its channels: the four taps are loaded as 32-bit
/// words, widened and blended in float (exact: the weights are 128ths) and rounded back without a
/// branch.
///
/// The common case (bilinear, one tap per pixel, fill `nearest`) runs ``BilinearKernel``'s AVX-512
/// or AVX2 code on CPUs that have it (sixteen or eight pixels per step), and nearest with fill
/// `nearest` its AVX-512 code, the same bytes.
public enum AffineSampler {
    /// The most bilinear taps averaged along one axis of an output pixel's footprint.
    public static let maximumTaps = 64

    /// Writes the `size` output into `output` (exactly `size.width · size.height · channels` bytes).
    public static func render(
        _ source: Image, map: AffineMap, size: PixelSize, fill: FillMode, cval: Double,
        interpolation: Interpolation, color: ColorAdjustment, into output: UnsafeMutableRawBufferPointer
    ) {
        source.pixels.withUnsafeBufferPointer { pixels in
            render(
                pixels, of: source.size, format: source.format, map: map, size: size, fill: fill, cval: cval,
                interpolation: interpolation, color: color, into: output)
        }
    }

    /// As ``render(_:map:size:fill:cval:interpolation:color:into:)``, from `pixels`: a `source`-sized
    /// image of `format`, row-major HWC without padding (a shard record's image, read in place).
    ///
    /// `path` picks the build of the common case: ``BilinearKernel/selected`` unless given;
    /// `.baseline` keeps to the portable Swift code (what the tests compare each kernel with).
    /// - Precondition: `path` is supported by this CPU.
    public static func render(
        _ pixels: UnsafeBufferPointer<UInt8>, of source: PixelSize, format: PixelFormat, map: AffineMap, size: PixelSize,
        fill: FillMode, cval: Double, interpolation: Interpolation, color: ColorAdjustment,
        into output: UnsafeMutableRawBufferPointer, path: BilinearKernel.Path = BilinearKernel.selected
    ) {
        precondition(pixels.count == source.width * source.height * format.channels, "source buffer has the wrong size")
        precondition(output.count == size.width * size.height * format.channels, "output buffer has the wrong size")
        if path != .baseline && fill == .nearest && interpolation == .bilinear
            && taps(map.a, map.d, interpolation) == 1 && taps(map.b, map.e, interpolation) == 1
        {
            BilinearKernel.render(
                pixels, of: source, channels: format.channels, map: map, size: size, color: color, into: output, path: path)
            return
        }
        if fill == .nearest && interpolation == .nearest && BilinearKernel.hasNearest(path) {
            BilinearKernel.render(
                pixels, of: source, channels: format.channels, map: map, size: size, color: color, into: output, path: path,
                nearest: true)
            return
        }
        switch format {
        case .gray: run(Sampler<OneChannel>(pixels, source, fill, cval), map, size, interpolation, color, output)
        case .rgb: run(Sampler<ThreeChannels>(pixels, source, fill, cval), map, size, interpolation, color, output)
        case .rgba: run(Sampler<FourChannels>(pixels, source, fill, cval), map, size, interpolation, color, output)
        }
    }

    /// Taps per output pixel along the output axis whose source step is `(dx, dy)`: 1 unless the map
    /// shrinks by more than 2×, and at most ``maximumTaps`` (a footprint wider than that is sampled
    /// by that many evenly spread taps), so no map, however extreme, makes the loop unbounded.
    static func taps(_ dx: Double, _ dy: Double, _ interpolation: Interpolation) -> Int {
        let stretch = (dx * dx + dy * dy).squareRoot()
        guard interpolation == .bilinear, stretch > 2 else { return 1 }
        return stretch.isFinite ? min(Int(min(stretch, Double(maximumTaps)).rounded(.up)), maximumTaps) : maximumTaps
    }

    private static func run<C: ChannelCount>(
        _ sampler: Sampler<C>, _ map: AffineMap, _ size: PixelSize,
        _ interpolation: Interpolation, _ color: ColorAdjustment,
        _ output: UnsafeMutableRawBufferPointer
    ) {
        let tapsX = taps(map.a, map.d, interpolation), tapsY = taps(map.b, map.e, interpolation)
        let out = output.bindMemory(to: UInt8.self).baseAddress!
        let limit = (x: Double(sampler.width + 16_384), y: Double(sampler.height + 16_384))
        func fixed(_ v: Double, _ bound: Double) -> Int { Int((min(max(v, -bound), bound) * 65536).rounded()) }
        // Stepping adds `step` once per column: clamp the row's start and the step so it stays in range.
        let step = (x: fixed(map.a, limit.x / Double(size.width)), y: fixed(map.d, limit.y / Double(size.width)))

        for row in 0..<size.height {
            var o = out + row * size.width * C.value
            let end = o + size.width * C.value
            if tapsX > 1 || tapsY > 1 {
                // Area: the mean of tapsX × tapsY bilinear taps spread evenly over the footprint.
                let weight = 1 / Float(tapsX * tapsY)
                for column in 0..<size.width {
                    var sum = SIMD4<Float>(repeating: 0)
                    for j in 0..<tapsY {
                        for i in 0..<tapsX {
                            let (sx, sy) = map.apply(
                                Double(column) + (Double(i) + 0.5) / Double(tapsX) - 0.5,
                                Double(row) + (Double(j) + 0.5) / Double(tapsY) - 0.5)
                            sum += sampler.bilinear(fixed(sx, limit.x), fixed(sy, limit.y))
                        }
                    }
                    Sampler<C>.store(color.apply(sum * weight), o)
                    o += C.value
                }
                continue
            }
            var x = fixed(map.b * Double(row) + map.c, limit.x), y = fixed(map.e * Double(row) + map.f, limit.y)
            switch (interpolation, color.isIdentity) {
            case (.bilinear, true):  // the hot loop
                // Whole 32-bit stores (the 4th byte is the next pixel's, written again next) up to
                // the row's last pixel, so that every lane stays live and the loads stay single words.
                let wordEnd = C.value >= 3 ? end - C.value : o
                while o < wordEnd {
                    Sampler<C>.storeWord(sampler.bilinear(x, y), o)
                    x &+= step.x; y &+= step.y; o += C.value
                }
                while o < end {
                    Sampler<C>.store(sampler.bilinear(x, y), o)
                    x &+= step.x; y &+= step.y; o += C.value
                }
            case (.bilinear, false):
                while o < end {
                    Sampler<C>.store(color.apply(sampler.bilinear(x, y)), o)
                    x &+= step.x; y &+= step.y; o += C.value
                }
            case (.nearest, true):
                // The pixel's bytes as they are (what the float round trip gives for whole values).
                let outside = color.apply(sampler.constant)
                while o < end {
                    if let p = sampler.nearestPixel(x, y) {
                        for c in 0..<C.value { o[c] = p[c] }
                    } else {
                        Sampler<C>.store(outside, o)
                    }
                    x &+= step.x; y &+= step.y; o += C.value
                }
            case (.nearest, false):
                while o < end {
                    Sampler<C>.store(color.apply(sampler.nearest(x, y)), o)
                    x &+= step.x; y &+= step.y; o += C.value
                }
            }
        }
    }
}

// MARK: - Source access with fill

/// The number of interleaved channels, as a type so that each count gets its own unrolled loops.
protocol ChannelCount { static var value: Int { get } }
enum OneChannel: ChannelCount { static var value: Int { 1 } }
enum ThreeChannels: ChannelCount { static var value: Int { 3 } }
enum FourChannels: ChannelCount { static var value: Int { 4 } }

/// Reads a source image at 16.16 fixed-point positions, extending it by a fill mode. A pixel is a
/// SIMD4<Float> whose first `C.value` lanes are its samples (0…255).
private struct Sampler<C: ChannelCount> {
    let base: UnsafePointer<UInt8>
    let width: Int
    let height: Int
    let rowBytes: Int
    /// `width − 1` and `height − 1`.
    let lastColumn: UInt
    let lastRow: UInt
    /// The last column and row in 16.16.
    let maxX: Int
    let maxY: Int
    /// A 32-bit load at an address below this stays inside the pixels.
    let wordLoadLimit: UnsafePointer<UInt8>
    let fill: FillMode
    let constant: SIMD4<Float>

    init(_ pixels: UnsafeBufferPointer<UInt8>, _ size: PixelSize, _ fill: FillMode, _ cval: Double) {
        base = pixels.baseAddress!
        width = size.width
        height = size.height
        rowBytes = size.width * C.value
        lastColumn = UInt(size.width - 1)
        lastRow = UInt(size.height - 1)
        maxX = (size.width - 1) << 16
        maxY = (size.height - 1) << 16
        wordLoadLimit = base + max(0, pixels.count - 3)
        self.fill = fill
        constant = SIMD4(repeating: Float(cval))
    }

    // MARK: Loading and storing pixels

    /// The pixel at `p` as one 32-bit load widened to floats (lanes past `C.value` hold the next
    /// pixel's samples, which nothing reads). The caller makes sure `p < wordLoadLimit`.
    @inline(__always)
    private static func loadWord(_ p: UnsafePointer<UInt8>) -> SIMD4<Float> {
        let bytes = unsafeBitCast(UnsafeRawPointer(p).loadUnaligned(as: UInt32.self), to: SIMD4<UInt8>.self)
        return SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: bytes))
    }

    /// The pixel at `p`, byte by byte (for the last pixels of the image, where a word would overrun).
    @inline(__always)
    private static func loadBytes(_ p: UnsafePointer<UInt8>) -> SIMD4<Float> {
        var v = SIMD4<Float>(repeating: 0)
        for c in 0..<C.value { v[c] = Float(p[c]) }
        return v
    }

    /// The four lanes of `v` (each in 0…255) rounded half up, `⌊v + ½⌋`, as the bytes of a word:
    /// adding 2²³ rounds to the nearest integer (ties to even) into the low mantissa bits, and the
    /// lanes that rounded up get one taken off.
    @inline(__always)
    private static func roundedBytes(_ v: SIMD4<Float>) -> UInt32 {
        let t = v + 0.5, magic = SIMD4<Float>(repeating: 8_388_608)
        let nearest = t + magic
        let roundedUp = unsafeBitCast(nearest - magic .> t, to: SIMD4<Int32>.self)  // −1 in those lanes
        let bytes = SIMD4<UInt8>(truncatingIfNeeded: unsafeBitCast(nearest, to: SIMD4<Int32>.self) &+ roundedUp)
        return unsafeBitCast(bytes, to: UInt32.self)
    }

    /// Writes the first `C.value` lanes of `v` as bytes, rounded half up.
    @inline(__always)
    static func store(_ v: SIMD4<Float>, _ o: UnsafeMutablePointer<UInt8>) {
        let word = roundedBytes(v)
        for c in 0..<C.value { o[c] = UInt8(truncatingIfNeeded: word &>> UInt32(8 * c)) }
    }

    /// Writes all four lanes of `v` as one 32-bit word at `o`, rounded half up; the bytes past
    /// `C.value` land on the next pixel, so the caller keeps at least 4 bytes of its own at `o`.
    @inline(__always)
    static func storeWord(_ v: SIMD4<Float>, _ o: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(o).storeBytes(of: roundedBytes(v), as: UInt32.self)
    }

    /// The weight of the right-hand (or lower) taps at a 16.16 position: its fraction in 128ths
    /// (0…127), as a float.
    @inline(__always)
    private static func weight(_ position: Int) -> Float { Float((position & 0xFFFF) &>> 9) }

    /// `((p00·(128 − wx) + p01·wx)·(128 − wy) + (p10·(128 − wx) + p11·wx)·wy) / 2¹⁴`: bilinear with
    /// weights in 128ths of a pixel. For samples 0…255 every product and sum is an integer below
    /// 2²⁴, so the float result is exact, the same number the AVX2 kernel's integer `pmaddwd` sums
    /// give, and rounding it gives the same byte on every path.
    @inline(__always)
    private static func blend(
        _ p00: SIMD4<Float>, _ p01: SIMD4<Float>, _ p10: SIMD4<Float>, _ p11: SIMD4<Float>, _ wx: Float, _ wy: Float
    ) -> SIMD4<Float> {
        let upper = p00 * (128 - wx) + p01 * wx, lower = p10 * (128 - wx) + p11 * wx
        return (upper * (128 - wy) + lower * wy) * 0x1p-14
    }

    // MARK: Sampling

    /// Bilinear at `(x, y)` (16.16).
    @inline(__always)
    func bilinear(_ x: Int, _ y: Int) -> SIMD4<Float> {
        let p: UnsafePointer<UInt8>, dx: Int, dy: Int, cx: Int, cy: Int
        if fill == .nearest {
            // Clamping the position gives what clamping each tap gives: left of the image both taps
            // are column 0; on the last column the tap beyond has weight 0. No edge path needed.
            cx = min(max(x, 0), maxX)
            cy = min(max(y, 0), maxY)
            let ix = cx &>> 16, iy = cy &>> 16
            dx = UInt(bitPattern: ix) < lastColumn ? C.value : 0
            dy = UInt(bitPattern: iy) < lastRow ? rowBytes : 0
            p = base + (iy &* rowBytes &+ ix &* C.value)
        } else {
            let ix = x &>> 16, iy = y &>> 16
            guard UInt(bitPattern: ix) < lastColumn && UInt(bitPattern: iy) < lastRow else { return bilinearAtEdge(x, y) }
            (cx, cy, dx, dy) = (x, y, C.value, rowBytes)
            p = base + (iy &* rowBytes &+ ix &* C.value)
        }
        guard p + dy + dx < wordLoadLimit else { return Self.bilinearNearTheEnd(p, dx, dy, cx, cy) }
        return Self.blendWords(p, dx, dy, Self.weight(cx), Self.weight(cy))
    }

    /// The bilinear blend of the four pixels at `p`, `p + dx`, `p + dy`, `p + dy + dx`, each read as
    /// one 32-bit word, with weights `wx`, `wy` in 128ths. Kept out of line: inlined into the row
    /// loop, LLVM's vectoriser splits the word loads into byte loads and scalar lanes, which is
    /// slower than this call.
    @inline(never)
    private static func blendWords(_ p: UnsafePointer<UInt8>, _ dx: Int, _ dy: Int, _ wx: Float, _ wy: Float) -> SIMD4<Float> {
        blend(loadWord(p), loadWord(p + dx), loadWord(p + dy), loadWord(p + dy + dx), wx, wy)
    }

    /// ``bilinear(_:_:)`` for a block that touches the image's last pixel: byte loads.
    @inline(never)
    private static func bilinearNearTheEnd(_ p: UnsafePointer<UInt8>, _ dx: Int, _ dy: Int, _ x: Int, _ y: Int) -> SIMD4<Float> {
        blend(loadBytes(p), loadBytes(p + dx), loadBytes(p + dy), loadBytes(p + dy + dx), weight(x), weight(y))
    }

    /// ``bilinear(_:_:)`` where a tap falls outside the image: each tap through the fill mode.
    @inline(never)
    private func bilinearAtEdge(_ x: Int, _ y: Int) -> SIMD4<Float> {
        let ix = x >> 16, iy = y >> 16
        let columns = (fill.index(ix, count: width), fill.index(ix + 1, count: width))
        let rows = (fill.index(iy, count: height), fill.index(iy + 1, count: height))
        func tap(_ row: Int?, _ column: Int?) -> SIMD4<Float> {
            guard let row, let column else { return constant }
            return Self.loadBytes(base + row * rowBytes + column * C.value)
        }
        return Self.blend(
            tap(rows.0, columns.0), tap(rows.0, columns.1), tap(rows.1, columns.0), tap(rows.1, columns.1),
            Self.weight(x), Self.weight(y))
    }

    /// The pixel whose centre is nearest `(x, y)` (16.16).
    @inline(__always)
    func nearest(_ x: Int, _ y: Int) -> SIMD4<Float> {
        guard let p = nearestPixel(x, y) else { return constant }
        return Self.loadBytes(p)
    }

    /// Where the pixel whose centre is nearest `(x, y)` (16.16) is, or nil where the fill is the
    /// constant.
    @inline(__always)
    func nearestPixel(_ x: Int, _ y: Int) -> UnsafePointer<UInt8>? {
        guard let i = fill.index((x + 0x8000) >> 16, count: width), let j = fill.index((y + 0x8000) >> 16, count: height) else {
            return nil
        }
        return base + j * rowBytes + i * C.value
    }
}
