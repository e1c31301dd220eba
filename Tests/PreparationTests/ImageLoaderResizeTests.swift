import Codecs
import Preparation
import TestSupport
import Testing

/// `pack`'s resize (``ImageLoader/resize(_:to:interpolation:into:)``): the fused sampler through the
/// resize map.
@Suite struct ImageLoaderResizeTests {
    func resize(_ image: Image, to size: PixelSize, _ interpolation: Interpolation = .bilinear) -> Image {
        Image(width: size.width, height: size.height, format: image.format) {
            ImageLoader.resize(image, to: size, interpolation: interpolation, into: UnsafeMutableRawBufferPointer($0))
        }
    }

    @Test(arguments: Interpolation.allCases)
    func sameSizeIsAnExactCopy(interpolation: Interpolation) {
        let image = SyntheticImages.ramp(width: 13, height: 9, format: .rgb)
        #expect(resize(image, to: image.size, interpolation) == image)
    }

    @Test(arguments: Interpolation.allCases, PixelFormat.allCases)
    func flatImagesStayFlat(interpolation: Interpolation, format: PixelFormat) {
        let flat = Image(width: 37, height: 23, format: format, pixels: [UInt8](repeating: 77, count: 37 * 23 * format.channels))
        for size in [PixelSize(width: 10, height: 7), PixelSize(width: 80, height: 50), PixelSize(width: 5, height: 40)] {
            #expect(resize(flat, to: size, interpolation).pixels.allSatisfy { $0 == 77 }, "\(size)")
        }
    }

    @Test func bilinearEnlargementInterpolatesBetweenCentres() {
        // Output centres of a 2→4 enlargement sit at source x = -0.25, 0.25, 0.75, 1.25; the edges clamp.
        let row = Image(width: 2, height: 1, format: .gray, pixels: [0, 255])
        #expect(resize(row, to: PixelSize(width: 4, height: 1)).pixels == [0, 64, 191, 255])
    }

    @Test func halvingAveragesPairs() {
        // A 2× shrink puts each output centre between two sources: bilinear weights ½, ½ (half up).
        let row = Image(width: 8, height: 1, format: .gray, pixels: [0, 10, 20, 30, 100, 200, 255, 255])
        #expect(resize(row, to: PixelSize(width: 4, height: 1)).pixels == [5, 25, 150, 255])
    }

    @Test func shrinkingMoreThanTwiceIsAntialiased() {
        // A 1-pixel checkerboard shrunk 4×: every output pixel averages taps over its footprint, so
        // it lands near the mean (nearest gives pure 0 or 255).
        let checker = Image(width: 64, height: 64, format: .gray) { px in
            for y in 0..<64 { for x in 0..<64 { px[y * 64 + x] = (x + y) % 2 == 0 ? 0 : 255 } }
        }
        let small = resize(checker, to: PixelSize(width: 16, height: 16))
        #expect(small.pixels.allSatisfy { abs(Int($0) - 128) <= 20 })
        let nearest = resize(checker, to: PixelSize(width: 16, height: 16), .nearest)
        #expect(nearest.pixels.allSatisfy { $0 == 0 || $0 == 255 })
    }

    @Test func nearestPicksTheSourcePixelUnderEachCentre() {
        let row = Image(width: 6, height: 1, format: .gray, pixels: [0, 1, 2, 3, 4, 5])
        // Centres at 0.5, 2.5, 4.5 → round half up: 1, 3, 5.
        #expect(resize(row, to: PixelSize(width: 3, height: 1), .nearest).pixels == [1, 3, 5])
    }
}
