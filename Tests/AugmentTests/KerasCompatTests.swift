import Augment
import Codecs
import Foundation
import Preparation
import TestSupport
import Testing

/// `--keras-compat` against values worked out by hand from Keras's formulas
/// (`keras/src/legacy/preprocessing/image.py`), on small non-square images.
@Suite struct KerasCompatTests {
    let keras = RenderSettings(convention: .kerasCompat, fill: .constant, cval: 0)

    @Test func quarterTurnUsesTheSwappedCentre() {
        // 8 rows × 12 columns, one bright pixel at row 2, column 3. Keras rotates about
        // (x, y) = (h/2 − ½, w/2 − ½) = (3.5, 5.5), so it lands at row 6, column 0 (quirk Q2);
        // the true centre (5.5, 3.5) puts it at row 6, column 4.
        let image = grayImage(12, 8) { x, y in x == 3 && y == 2 ? 255 : 0 }
        func bright(_ out: Image) -> [[Int]] {
            (0..<8).flatMap { y in (0..<12).filter { out.gray($0, y) > 128 }.map { [y, $0] } }
        }
        #expect(bright(render(image, TransformParameters(theta: 90), keras)) == [[6, 0]])
        #expect(bright(render(image, TransformParameters(theta: 90), RenderSettings(fill: .constant))) == [[6, 4]])
    }

    @Test func widthShiftMovesRowsUnderKerasCompat() {
        // width_shift_range=[5] on a 20×40 image moves a pixel 5 rows (quirk Q1): the draw feeds ty.
        let image = grayImage(40, 20) { x, y in x == 20 && y == 10 ? 255 : 0 }
        let random = RandomTransform(widthShift: .choices([5]))
        let p = random.parameters(outputSize: image.size, random: SampleRandom(seed: 0, index: 0, copy: 0), convention: .kerasCompat)
        let out = render(image, p, keras)
        let y = 10 - Int(p.ty)  // positive ty samples further down: the content moves up
        #expect(out.gray(20, y) == 255 && out.pixels.filter { $0 > 0 }.count == 1)
    }

    @Test func wrapHasPeriodNMinusOne() {
        // SciPy's legacy wrap (quirk Q3): a 0…9 ramp shifted by 3 gives …, 9, 1, 2, 3 (0 is skipped).
        let ramp = grayImage(10, 1) { x, _ in x }
        #expect(
            render(ramp, TransformParameters(tx: 3), RenderSettings(convention: .kerasCompat, fill: .wrap)).grayRows
                == [[3, 4, 5, 6, 7, 8, 9, 1, 2, 3]])
        #expect(render(ramp, TransformParameters(tx: 3), RenderSettings(fill: .wrap)).grayRows == [[3, 4, 5, 6, 7, 8, 9, 0, 1, 2]])
    }

    /// SciPy's modes on `10 20 30 40 50 60` shifted by 2 to the right: `constant` does not blend,
    /// `wrap` has period 5.
    @Test(arguments: [
        (FillMode.nearest, [10, 10, 10, 20, 30, 40]), (FillMode.constant, [99, 99, 10, 20, 30, 40]),
        (FillMode.reflect, [20, 10, 10, 20, 30, 40]), (FillMode.wrap, [40, 50, 10, 20, 30, 40]),
    ])
    func scipyFillModes(fill: FillMode, expected: [Int]) {
        let row = grayImage(6, 1) { x, _ in 10 * (x + 1) }
        #expect(
            render(row, TransformParameters(tx: -2), RenderSettings(convention: .kerasCompat, fill: fill, cval: 99)).grayRows
                == [expected])
        // Half a pixel beyond the edge is already cval in SciPy's constant mode.
        #expect(
            render(row, TransformParameters(tx: -0.5), RenderSettings(convention: .kerasCompat, fill: .constant, cval: 0))
                .grayRows[0][0] == 0)
    }

    @Test func shearUsesSineAndCosine() {
        // A linear ramp is interpolated exactly; Keras's shear maps output (x, y) to
        // (cx + (x − cx) − sin s·(y − cy), cy + cos s·(y − cy)) with (cx, cy) = (h/2 − ½, w/2 − ½).
        let (w, h) = (10, 7)
        let image = grayImage(w, h) { x, y in 20 + 9 * x + 13 * y }
        let out = render(image, TransformParameters(shear: 30), RenderSettings(convention: .kerasCompat, fill: .constant, cval: 0))
        let (cx, cy) = (Double(h) / 2 - 0.5, Double(w) / 2 - 0.5), s = 30 * Double.pi / 180
        for y in 0..<h {
            for x in 0..<w {
                let sx = cx + (Double(x) - cx) - sin(s) * (Double(y) - cy), sy = cy + cos(s) * (Double(y) - cy)
                let expected =
                    (0...Double(w - 1)).contains(sx) && (0...Double(h - 1)).contains(sy)
                    ? roundedHalfUp(20 + 9 * sx + 13 * sy) : 0
                #expect(out.gray(x, y) == expected, "(\(x), \(y))")
            }
        }
    }

    @Test func channelShiftClipsToTheImageRange() {
        let image = grayImage(3, 1) { x, _ in [50, 120, 200][x] }
        // Keras clips to the image's own min and max (50…200); dataprep to 0…255.
        #expect(render(image, TransformParameters(channelShift: 100), keras).grayRows == [[150, 200, 200]])
        #expect(render(image, TransformParameters(channelShift: -100), keras).grayRows == [[50, 50, 100]])
        #expect(render(image, TransformParameters(channelShift: 100)).grayRows == [[150, 220, 255]])
    }

    @Test func brightnessQuantisesToBytes() {
        // After a half-pixel shift the values are 7x + 3.5; Keras truncates them to bytes before
        // PIL's enhance, which truncates b·v again: factor 1 gives 7x + 3, dataprep rounds to 7x + 4.
        let ramp = grayImage(6, 1) { x, _ in 7 * x }
        let quantised = render(ramp, TransformParameters(tx: 0.5, brightness: 1), RenderSettings(convention: .kerasCompat))
        #expect(quantised.grayRows == [[3, 10, 17, 24, 31, 35]])
        #expect(render(ramp, TransformParameters(tx: 0.5, brightness: 1)).grayRows == [[4, 11, 18, 25, 32, 35]])
        // 105 · 1.1 = 115.5: PIL truncates, dataprep rounds.
        let flat = grayImage(2, 1) { _, _ in 105 }
        #expect(render(flat, TransformParameters(brightness: 1.1), keras).grayRows == [[115, 115]])
        #expect(render(flat, TransformParameters(brightness: 1.1)).grayRows == [[116, 116]])
        #expect(render(flat, TransformParameters(brightness: 3), keras).grayRows == [[255, 255]])
    }

    @Test func targetSizeIsANearestResizeBeforeTheAffine() {
        // PIL's nearest 6 → 4: positions 0.75, 2.25, 3.75, 5.25 → columns 0, 2, 3, 5.
        let row = grayImage(6, 1) { x, _ in 10 * x }
        #expect(render(row, TransformParameters(), size: PixelSize(width: 4, height: 1), keras).grayRows == [[0, 20, 30, 50]])
        // The corrected convention resizes with the filter instead (bilinear 1.5×: blends).
        #expect(render(row, TransformParameters(), size: PixelSize(width: 4, height: 1)).grayRows == [[3, 18, 33, 48]])
    }

    @Test func nearestInterpolationIsRefusedWithKerasCompat() {
        expectError(AugmentError.self, .invalidOption) { try RenderSettings(convention: .kerasCompat, interpolation: .nearest).validate() }
        expectError(AugmentError.self, .invalidOption) { try RenderSettings(cval: 300).validate() }
    }
}
