import Augment
import Codecs
import Foundation
import Preparation
import TestSupport
import Testing

/// The corrected convention on known patterns: maps that land on pixel centres copy pixels exactly.
@Suite struct GeometryTests {
    let ramp = SyntheticImages.ramp(width: 8, height: 6, format: .rgb)

    @Test func quarterTurnOfASquareImage() {
        let square = SyntheticImages.ramp(width: 5, height: 5, format: .rgb)
        let turned = render(square, TransformParameters(theta: 90))
        // Counter-clockwise about the centre (2, 2): out(x, y) = in(4 − y, x).
        for y in 0..<5 { for x in 0..<5 { #expect(turned.pixel(x: x, y: y) == square.pixel(x: 4 - y, y: x)) } }
        let back = render(square, TransformParameters(theta: -90))
        for y in 0..<5 { for x in 0..<5 { #expect(back.pixel(x: x, y: y) == square.pixel(x: y, y: 4 - x)) } }
        #expect(
            render(square, TransformParameters(theta: 180)).pixels
                == render(square, TransformParameters(flipHorizontal: true, flipVertical: true)).pixels)
    }

    @Test func quarterTurnOfANonSquareImageTurnsAboutItsTrueCentre() {
        // 8×6, centre (3.5, 2.5): out(x, y) = in(6 − y, x − 1); outside, the constant.
        let turned = render(ramp, TransformParameters(theta: 90), RenderSettings(fill: .constant, cval: 7))
        for y in 0..<6 {
            for x in 0..<8 {
                let (sx, sy) = (6 - y, x - 1)
                let expected = (0..<8).contains(sx) && (0..<6).contains(sy) ? Array(ramp.pixel(x: sx, y: sy)) : [7, 7, 7]
                #expect(Array(turned.pixel(x: x, y: y)) == expected, "(\(x), \(y))")
            }
        }
    }

    @Test func flipsMirrorExactly() {
        let h = render(ramp, TransformParameters(flipHorizontal: true)), v = render(ramp, TransformParameters(flipVertical: true))
        for y in 0..<6 {
            for x in 0..<8 {
                #expect(h.pixel(x: x, y: y) == ramp.pixel(x: 7 - x, y: y))
                #expect(v.pixel(x: x, y: y) == ramp.pixel(x: x, y: 5 - y))
            }
        }
    }

    @Test func integerShiftsMoveContentByWholePixels() {
        // Positive tx samples further right: the content moves left (Keras's sign), here by 2; ty = −1 moves it down.
        let shifted = render(ramp, TransformParameters(tx: 2, ty: -1))
        for y in 0..<6 {
            for x in 0..<8 {
                #expect(shifted.pixel(x: x, y: y) == ramp.pixel(x: min(x + 2, 7), y: max(y - 1, 0)), "(\(x), \(y))")
            }
        }
    }

    @Test func zoomScalesAboutTheCentre() {
        let image = grayImage(5, 5) { x, y in 10 * x + 40 * y }
        // zx = zy = 2 samples twice the area: out(x, y) = in(2x − 2, 2y − 2), nearest fill outside.
        let out = render(image, TransformParameters(zx: 2, zy: 2))
        for y in 0..<5 { for x in 0..<5 { #expect(out.gray(x, y) == image.gray(min(max(2 * x - 2, 0), 4), min(max(2 * y - 2, 0), 4))) } }
        // zx = zy = 0.5 zooms in: out(x, y) = in(1 + x/2, 1 + y/2), halves blend the neighbours.
        let zoomed = render(image, TransformParameters(zx: 0.5, zy: 0.5))
        for y in 0..<5 {
            for x in 0..<5 { #expect(zoomed.gray(x, y) == roundedHalfUp(10 * (1 + Double(x) / 2) + 40 * (1 + Double(y) / 2))) }
        }
    }

    @Test func shearAndRotationInterpolateLinearRampsExactly() {
        // Bilinear interpolation reproduces a linear function, so any map can be checked by formula.
        let image = grayImage(12, 9) { x, y in 10 + 7 * x + 11 * y }
        let p = TransformParameters(theta: 17, shear: 25, zx: 0.9, zy: 0.8)
        let out = render(image, p)
        let (cx, cy) = (5.5, 4.0), t = 17 * Double.pi / 180, s = tan(25 * Double.pi / 180)
        for y in 0..<9 {
            for x in 0..<12 {
                let (u, v) = (0.9 * (Double(x) - cx), 0.8 * (Double(y) - cy))
                let (su, sv) = (u - s * v, v)
                let (sx, sy) = (cx + cos(t) * su - sin(t) * sv, cy + sin(t) * su + cos(t) * sv)
                guard (0...11).contains(sx), (0...8).contains(sy) else { continue }
                // Float blending of 16-bit fractions: within one level of the exact value.
                #expect(abs(out.gray(x, y) - roundedHalfUp(10 + 7 * sx + 11 * sy)) <= 1, "(\(x), \(y))")
            }
        }
    }

    /// A row `10 20 30 40 50 60` shifted by 2 either way, under each fill mode.
    @Test(arguments: [
        (FillMode.nearest, [10, 10, 10, 20, 30, 40], [30, 40, 50, 60, 60, 60]),
        (FillMode.constant, [99, 99, 10, 20, 30, 40], [30, 40, 50, 60, 99, 99]),
        (FillMode.reflect, [20, 10, 10, 20, 30, 40], [30, 40, 50, 60, 60, 50]),
        (FillMode.wrap, [50, 60, 10, 20, 30, 40], [30, 40, 50, 60, 10, 20]),
    ])
    func fillModesAtTheBorder(fill: FillMode, right: [Int], left: [Int]) {
        let row = grayImage(6, 1) { x, _ in 10 * (x + 1) }
        let settings = RenderSettings(fill: fill, cval: 99)
        #expect(render(row, TransformParameters(tx: -2), settings).grayRows == [right])
        #expect(render(row, TransformParameters(tx: 2), settings).grayRows == [left])
    }

    @Test func constantFillBlendsAcrossTheHalfPixelBeyondTheEdge() {
        let row = grayImage(4, 1) { _, _ in 200 }
        // Shifted by half a pixel: the first sample is half image, half cval.
        #expect(render(row, TransformParameters(tx: -0.5), RenderSettings(fill: .constant, cval: 0)).grayRows == [[100, 200, 200, 200]])
    }

    @Test func resizeIsFoldedIntoTheSameResample() {
        // A linear ramp resized 24×18 → 8×6 (a 3× shrink: area-averaged) stays linear.
        let image = grayImage(24, 18) { x, y in 5 * x + 7 * y }
        let out = render(image, TransformParameters(), size: PixelSize(width: 8, height: 6))
        for y in 0..<6 {
            for x in 0..<8 { #expect(abs(out.gray(x, y) - roundedHalfUp(5 * (3.0 * Double(x) + 1) + 7 * (3.0 * Double(y) + 1))) <= 1) }
        }
    }

    @Test func shrinkingMoreThanTwiceIsAntialiased() {
        let checker = grayImage(64, 64) { x, y in (x + y) % 2 == 0 ? 0 : 255 }
        let small = render(checker, TransformParameters(theta: 10), size: PixelSize(width: 16, height: 16))
        #expect(small.pixels.allSatisfy { abs(Int($0) - 128) <= 24 }, "\(small.grayRows)")
        let nearest = render(
            checker, TransformParameters(), size: PixelSize(width: 16, height: 16), RenderSettings(interpolation: .nearest))
        #expect(nearest.pixels.allSatisfy { $0 == 0 || $0 == 255 })
    }

    @Test func colourOperationsClampToTheByteRange() {
        let image = grayImage(3, 1) { x, _ in [50, 150, 250][x] }
        #expect(render(image, TransformParameters(channelShift: 20)).grayRows == [[70, 170, 255]])
        #expect(render(image, TransformParameters(brightness: 1.1)).grayRows == [[55, 165, 255]])
        // Shift first, then brightness: (50 − 60 → 0) · 2 = 0.
        #expect(render(image, TransformParameters(channelShift: -60, brightness: 2)).grayRows == [[0, 180, 255]])
    }

    @Test(arguments: Orientation.allCases)
    func exifOrientationIsFoldedIntoTheResample(orientation: Orientation) throws {
        let photo = SyntheticImages.photoLike(width: 48, height: 32, seed: 3)
        let jpeg = JPEGFixtures.withEXIF(orientation: orientation.rawValue, in: try JPEGEncoder().encode(photo))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("orient-\(UUID()).jpg").path
        try Data(jpeg).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let upright = try ImageDecoder().decode(fileAt: path).image
        let augmenter = ImageAugmenter(settings: RenderSettings())
        let source = try augmenter.decode(fileAt: path, for: nil)
        #expect(source.orientation == orientation && source.uprightSize == upright.size)
        #expect(augmenter.render(source, parameters: TransformParameters(), size: upright.size) == upright)
    }
}
