import Codecs
import Support
import TestSupport
import Testing

@Suite struct PNGTests {
    // MARK: Round trips (exact: PNG is lossless)

    @Test(arguments: PixelFormat.allCases, [false, true])
    func roundTripIsExact(format: PixelFormat, fast: Bool) throws {
        let image = SyntheticImages.ramp(width: 37, height: 23, format: format, seed: format.channels)
        let decoded = try decode(try PNGEncoder(fast: fast).encode(image))
        #expect(decoded.image == image)
        #expect(decoded.info.format == .png)
        #expect(decoded.info.channels == format.channels)
        #expect(decoded.warning == nil)
    }

    @Test func largeNoisyImageRoundTrips() throws {
        // Noise does not compress: exercises the encoder's retry when its first buffer guess is short.
        var rng = SplitMix64(seed: 7)
        let noise = Image(width: 300, height: 200, format: .rgba) { px in
            for i in px.indices { px[i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        #expect(try decode(try PNGEncoder().encode(noise)).image == noise)
    }

    // MARK: Stored formats (files written byte by byte, not by libpng)

    @Test(arguments: [1, 2, 4, 8])
    func lowBitDepthGrayExpandsToFullRange(bitDepth: Int) throws {
        let maxValue = (1 << bitDepth) - 1
        let samples = (0..<16).map { $0 % (maxValue + 1) }
        let file = PNGBuilder.file(width: 16, height: 1, bitDepth: bitDepth, colorType: .gray, samples: samples)
        let decoded = try decode(file)
        #expect(decoded.image.format == .gray)
        #expect(decoded.image.pixels == samples.map { UInt8($0 * 255 / maxValue) })
        #expect(decoded.info.colorModel == "gray")
    }

    @Test func sixteenBitSamplesScaleToEightBits() throws {
        // v·257 is exactly v in 8 bits; other values round to nearest (v·255/65535).
        let samples = [0, 257, 128 * 257, 65_535, 1000, 30_000, 65_000, 32_896]
        let file = PNGBuilder.file(width: 8, height: 1, bitDepth: 16, colorType: .gray, samples: samples)
        let decoded = try decode(file)
        #expect(decoded.info.bitDepth == 16)
        #expect(decoded.image.pixels == samples.map { UInt8((Double($0) * 255 / 65_535).rounded()) })
    }

    @Test func sixteenBitRGBAndRGBA() throws {
        let rgb = [0, 65_535, 257 * 10, 257 * 200, 257 * 100, 0]
        let decodedRGB = try decode(PNGBuilder.file(width: 2, height: 1, bitDepth: 16, colorType: .rgb, samples: rgb))
        #expect(decodedRGB.image.format == .rgb)
        #expect(decodedRGB.image.pixels == [0, 255, 10, 200, 100, 0])

        let rgba = [257 * 10, 257 * 20, 257 * 30, 65_535, 257 * 40, 257 * 50, 257 * 60, 257 * 128]
        let decodedRGBA = try decode(PNGBuilder.file(width: 2, height: 1, bitDepth: 16, colorType: .rgba, samples: rgba))
        #expect(decodedRGBA.image.pixels == [10, 20, 30, 255, 40, 50, 60, 128])
    }

    @Test func grayAlphaBecomesRGBAByDefault() throws {
        let file = PNGBuilder.file(width: 2, height: 1, bitDepth: 8, colorType: .grayAlpha, samples: [10, 255, 200, 64])
        let decoded = try decode(file)
        #expect(decoded.info.channels == 2)
        #expect(decoded.info.colorModel == "gray+alpha")
        #expect(decoded.image.format == .rgba)
        #expect(decoded.image.pixels == [10, 10, 10, 255, 200, 200, 200, 64])
    }

    @Test func sixteenBitGrayAlpha() throws {
        let file = PNGBuilder.file(width: 1, height: 1, bitDepth: 16, colorType: .grayAlpha, samples: [257 * 90, 65_535])
        #expect(try decode(file).image.pixels == [90, 90, 90, 255])
    }

    @Test func paletteExpandsToRGB() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (12, 34, 56)]
        let file = PNGBuilder.file(
            width: 4, height: 2, bitDepth: 2, colorType: .palette,
            samples: [0, 1, 2, 3, 3, 2, 1, 0], palette: palette)
        let decoded = try decode(file)
        #expect(decoded.info.colorModel == "palette (RGB)")
        #expect(decoded.image.format == .rgb)
        let expected = [0, 1, 2, 3, 3, 2, 1, 0].flatMap { [palette[$0].0, palette[$0].1, palette[$0].2] }
        #expect(decoded.image.pixels == expected)
    }

    @Test func paletteWithTransparencyExpandsToRGBA() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0)]
        let file = PNGBuilder.file(
            width: 2, height: 1, bitDepth: 8, colorType: .palette, samples: [0, 1],
            palette: palette, transparency: [0, 128])
        let decoded = try decode(file)
        #expect(decoded.info.colorModel == "palette (RGBA)")
        #expect(decoded.image.pixels == [255, 0, 0, 0, 0, 255, 0, 128])
    }

    @Test func grayWithTransparentValueGainsAlpha() throws {
        // tRNS for gray: the 16-bit sample value that is fully transparent (here 7).
        let file = PNGBuilder.file(width: 2, height: 1, bitDepth: 8, colorType: .gray, samples: [7, 9], transparency: [0, 7])
        #expect(try decode(file).image.pixels == [7, 7, 7, 0, 9, 9, 9, 255])
    }

    // MARK: Requested pixel formats

    @Test func alphaIsCompositedOnTheBackground() throws {
        let rgba: [Int] = [200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128]
        let file = PNGBuilder.file(width: 3, height: 1, bitDepth: 8, colorType: .rgba, samples: rgba)

        let onWhite = try decode(file, DecodeOptions(pixelFormat: .rgb))
        // (c·a + 255·(255 − a) + 127) / 255 for a = 128: 200 → 227, 100 → 177, 50 → 152.
        #expect(onWhite.image.pixels == [200, 100, 50, 255, 255, 255, 227, 177, 152])

        let background = RGBColor(red: 0, green: 64, blue: 255)
        let onColor = try decode(file, DecodeOptions(pixelFormat: .rgb, background: background))
        // 200·128/255 → 100; (100·128 + 64·127 + 127)/255 → 82; (50·128 + 255·127 + 127)/255 → 152.
        #expect(onColor.image.pixels == [200, 100, 50, 0, 64, 255, 100, 82, 152])
    }

    @Test func colourToGrayUsesBT601Luma() throws {
        let file = PNGBuilder.file(
            width: 4, height: 1, bitDepth: 8, colorType: .rgb,
            samples: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30])
        let gray = try decode(file, DecodeOptions(pixelFormat: .gray))
        // (19595 R + 38470 G + 7471 B + 32768) >> 16
        #expect(gray.image.pixels == [76, 150, 29, 124])
    }

    @Test func everyConversionPathAgreesWithTheFormulas() throws {
        let background = RGBColor(red: 30, green: 60, blue: 90)
        let g: UInt8 = 100, a: UInt8 = 51
        func comp(_ c: UInt8, _ bg: UInt8) -> UInt8 { referenceComposite(c, alpha: a, on: bg) }
        let luma = referenceLuma
        let grayFile = PNGBuilder.file(width: 1, height: 1, bitDepth: 8, colorType: .gray, samples: [Int(g)])
        let gaFile = PNGBuilder.file(width: 1, height: 1, bitDepth: 8, colorType: .grayAlpha, samples: [Int(g), Int(a)])
        let rgbaFile = PNGBuilder.file(width: 1, height: 1, bitDepth: 8, colorType: .rgba, samples: [10, 20, 250, Int(a)])
        func pixels(_ file: [UInt8], _ format: PixelFormat) throws -> [UInt8] {
            try decode(file, DecodeOptions(pixelFormat: format, background: background)).image.pixels
        }
        #expect(try pixels(grayFile, .gray) == [g])
        #expect(try pixels(grayFile, .rgb) == [g, g, g])
        #expect(try pixels(grayFile, .rgba) == [g, g, g, 255])
        #expect(try pixels(gaFile, .gray) == [comp(g, luma(30, 60, 90))])
        #expect(try pixels(gaFile, .rgb) == [comp(g, 30), comp(g, 60), comp(g, 90)])
        #expect(try pixels(gaFile, .rgba) == [g, g, g, a])
        #expect(try pixels(rgbaFile, .rgb) == [comp(10, 30), comp(20, 60), comp(250, 90)])
        #expect(try pixels(rgbaFile, .gray) == [luma(comp(10, 30), comp(20, 60), comp(250, 90))])
        #expect(try pixels(rgbaFile, .rgba) == [10, 20, 250, a])
    }

    @Test func imageConversionMatchesDecoderConversion() throws {
        let rgba = SyntheticImages.ramp(width: 9, height: 7, format: .rgba)
        let file = try PNGEncoder().encode(rgba)
        for format in PixelFormat.allCases {
            #expect(try decode(file, DecodeOptions(pixelFormat: format)).image == rgba.converted(to: format))
        }
        let rgb = rgba.converted(to: .rgb)
        #expect(rgb.converted(to: .rgba).pixels.enumerated().allSatisfy { $0.offset % 4 != 3 || $0.element == 255 })
    }

    // MARK: Damage

    @Test func truncatedPNGIsTruncated() throws {
        let file = try PNGEncoder().encode(SyntheticImages.ramp(width: 40, height: 30, format: .rgb))
        expectCodecError(.truncated) { try decode(Array(file.prefix(file.count / 2))) }
    }

    @Test func badChecksumIsCorrupt() throws {
        var file = PNGBuilder.file(width: 2, height: 2, bitDepth: 8, colorType: .gray, samples: [1, 2, 3, 4])
        file[8 + 8 + 13] ^= 0xFF  // IHDR's CRC
        let error = expectCodecError(.corrupt) { try decode(file) }
        #expect(error?.message.isEmpty == false)
    }

    @Test func hugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        let file = PNGBuilder.file(width: 3, height: 3, bitDepth: 8, colorType: .gray, samples: Array(repeating: 0, count: 9))
        expectCodecError(.tooLarge) { try decode(file, DecodeOptions(maximumPixels: 8)) }
    }
}
