import Codecs
import TestSupport
import Testing

@Suite struct JPEGTests {
    static let photo = SyntheticImages.photoLike(width: 96, height: 64, seed: 3)

    static func jpeg(_ image: Image = photo, _ options: JPEGEncodeOptions = JPEGEncodeOptions()) throws -> [UInt8] {
        try JPEGEncoder().encode(image, options: options)
    }

    // MARK: Round trips (lossy: within tolerances)

    @Test(arguments: ChromaSubsampling.allCases)
    func roundTripStaysCloseAtQuality90(subsampling: ChromaSubsampling) throws {
        let file = try Self.jpeg(Self.photo, JPEGEncodeOptions(quality: 90, subsampling: subsampling))
        let decoded = try decode(file)
        #expect(decoded.image.format == .rgb)
        #expect(decoded.image.size == Self.photo.size)
        #expect(decoded.info.colorModel == "YCbCr \(subsampling.rawValue)")
        #expect(decoded.warning == nil)
        // JPEG quantises DCT coefficients (and, below 4:4:4, averages chroma over 2-4 pixels), so the
        // samples come back close, not equal: at quality 90 a photo-like image keeps > 32 dB PSNR,
        // > 29 dB with 4:1:1, which keeps a quarter of the chroma columns.
        #expect(psnr(decoded.image.pixels, Self.photo.pixels) > (subsampling == .s411 ? 29 : 32))
    }

    @Test func quality100At444IsNearlyExact() throws {
        let file = try Self.jpeg(Self.photo, JPEGEncodeOptions(quality: 100, subsampling: .s444))
        // Only rounding in the DCT and the YCbCr conversion remains: a few levels at most.
        #expect(maxDifference(try decode(file).image.pixels, Self.photo.pixels) <= 4)
    }

    @Test func lowerQualityMakesSmallerFiles() throws {
        #expect(try Self.jpeg(Self.photo, JPEGEncodeOptions(quality: 50)).count < Self.jpeg(Self.photo).count)
        expectCodecError(.encodeFailed) { try Self.jpeg(Self.photo, JPEGEncodeOptions(quality: 0)) }
    }

    @Test func grayImagesStayGray() throws {
        let gray = Self.photo.converted(to: .gray)
        let decoded = try decode(try Self.jpeg(gray))
        #expect(decoded.info.channels == 1)
        #expect(decoded.info.colorModel == "gray")
        #expect(decoded.image.format == .gray)
        #expect(psnr(decoded.image.pixels, gray.pixels) > 32)  // lossy, see above
        // Asked for RGB, the gray samples are repeated.
        let rgb = try decode(try Self.jpeg(gray), DecodeOptions(pixelFormat: .rgb)).image
        #expect(rgb.pixels == decoded.image.converted(to: .rgb).pixels)
    }

    @Test func progressiveDecodesToTheSamePixelsAsBaseline() throws {
        // Progressive scans re-order the same quantised coefficients, so the pixels are identical.
        let baseline = try decode(try Self.jpeg(Self.photo, JPEGEncodeOptions(progressive: false)))
        let progressiveFile = try Self.jpeg(Self.photo, JPEGEncodeOptions(progressive: true))
        #expect(progressiveFile.contains(0xC2) && progressiveFile.firstRange(of: [0xFF, 0xC2]) != nil)  // SOF2
        #expect(try decode(progressiveFile).image == baseline.image)
    }

    @Test func requestedFormatsFromColourJPEG() throws {
        let file = try Self.jpeg()
        let rgb = try decode(file).image
        let rgba = try decode(file, DecodeOptions(pixelFormat: .rgba)).image
        #expect(rgba == rgb.converted(to: .rgba))  // same colour samples, opaque alpha
        let gray = try decode(file, DecodeOptions(pixelFormat: .gray)).image
        // libjpeg-turbo takes the stored luma directly; luma recomputed from the upsampled RGB
        // differs only by rounding in the colour conversion.
        #expect(maxDifference(gray.pixels, rgb.converted(to: .gray).pixels) <= 2)
    }

    // MARK: Scaled decode

    @Test(arguments: [
        (PixelSize(width: 150, height: 150), PixelSize(width: 250, height: 188), "1/2"),
        (PixelSize(width: 200, height: 200), PixelSize(width: 313, height: 235), "5/8"),
        (PixelSize(width: 63, height: 47), PixelSize(width: 63, height: 47), "1/8"),
        (PixelSize(width: 64, height: 10), PixelSize(width: 125, height: 94), "1/4"),
        (PixelSize(width: 500, height: 375), PixelSize(width: 500, height: 375), "1/1"),
        (PixelSize(width: 1000, height: 100), PixelSize(width: 500, height: 375), "1/1"),
    ])
    func scaledDecodePicksTheSmallestCoveringFactor(minimum: PixelSize, expected: PixelSize, factor: String) throws {
        let file = try Self.jpeg(SyntheticImages.photoLike(width: 500, height: 375))
        let decoded = try decode(file, DecodeOptions(minimumSize: minimum))
        #expect(decoded.scale.description == factor)
        #expect(decoded.image.size == expected)
        #expect(decoded.info.width == 500 && decoded.info.height == 375)
        #expect(ScaleFactor.smallest(for: PixelSize(width: 500, height: 375), covering: minimum).description == factor)
    }

    @Test func scaledDecodeLooksLikeTheFullImage() throws {
        let big = SyntheticImages.blocks(
            columns: 2, rows: 1, block: 64,
            colors: [RGBColor(red: 250, green: 10, blue: 10), RGBColor(red: 10, green: 10, blue: 250)])
        let decoded = try decode(try Self.jpeg(big), DecodeOptions(minimumSize: PixelSize(width: 30, height: 15)))
        #expect(decoded.scale.description == "1/4")
        #expect(decoded.image.size == PixelSize(width: 32, height: 16))
        // Block centres keep their colours (tolerance: JPEG's loss on flat blocks is a few levels).
        #expect(maxDifference(Array(decoded.image.pixel(x: 8, y: 8)), [250, 10, 10]) <= 6)
        #expect(maxDifference(Array(decoded.image.pixel(x: 24, y: 8)), [10, 10, 250]) <= 6)
    }

    @Test func minimumSizeRefersToTheUprightImage() throws {
        // Orientation 6 turns a 500×375 file into a 375×500 image: asking for 150 wide × 300 tall
        // means 300 × 150 of the stored image, which 5/8 (313×235) covers and 1/2 (250×188) does not.
        let file = JPEGFixtures.withEXIF(orientation: 6, in: try Self.jpeg(SyntheticImages.photoLike(width: 500, height: 375)))
        let decoded = try decode(file, DecodeOptions(minimumSize: PixelSize(width: 150, height: 300)))
        #expect(decoded.scale.description == "5/8")
        #expect(decoded.image.size == PixelSize(width: 235, height: 313))
    }

    // MARK: CMYK and YCCK

    @Test func ycckInksBecomeTheirRGBColours() throws {
        // Inverted (Adobe) inks: 255 = none. Cyan, magenta, yellow, black, white, 50 % black.
        let inks: [(c: UInt8, m: UInt8, y: UInt8, k: UInt8)] = [
            (0, 255, 255, 255), (255, 0, 255, 255), (255, 255, 0, 255), (255, 255, 255, 0), (255, 255, 255, 255), (255, 255, 255, 128),
        ]
        let expected: [[UInt8]] = [[0, 255, 255], [255, 0, 255], [255, 255, 0], [0, 0, 0], [255, 255, 255], [128, 128, 128]]
        let file = JPEGFixtures.ycck(inks: inks)
        let decoded = try decode(file)
        #expect(decoded.info.colorModel == "YCCK 4:4:4")
        #expect(decoded.info.channels == 4)
        #expect(decoded.image.format == .rgb)
        for (i, rgb) in expected.enumerated() {
            // Lossy YCC round trip of the inks: a few levels (quality 95, flat 16-pixel squares).
            #expect(maxDifference(Array(decoded.image.pixel(x: i * 16 + 8, y: 8)), rgb) <= 4, "square \(i)")
        }
    }

    @Test(arguments: [false, true])
    func cmykFollowsTheInversionOfItsAdobeMarker(dropAdobeMarker: Bool) throws {
        let ycck = JPEGFixtures.ycck(inks: [(10, 200, 60, 240), (255, 128, 0, 30), (90, 90, 90, 90)])
        let cmyk = JPEGFixtures.relabelledAsCMYK(ycck, dropAdobeMarker: dropAdobeMarker)
        let inks = JPEGFixtures.decodeInks(cmyk)
        let decoded = try decode(cmyk)
        #expect(decoded.info.colorModel == "CMYK")
        let inverted = !dropAdobeMarker
        var expected: [UInt8] = []
        for i in stride(from: 0, to: inks.count, by: 4) {
            let k = Int(inks[i + 3])
            for c in inks[i..<(i + 3)] {
                let (ink, key) = inverted ? (Int(c), k) : (255 - Int(c), 255 - k)
                expected.append(UInt8((ink * key + 127) / 255))
            }
        }
        #expect(decoded.image.pixels == expected)
        let gray = try decode(cmyk, DecodeOptions(pixelFormat: .gray)).image
        #expect(gray == decoded.image.converted(to: .gray))
        let rgba = try decode(cmyk, DecodeOptions(pixelFormat: .rgba)).image
        #expect(rgba == decoded.image.converted(to: .rgba))
    }

    // MARK: Truncation and limits

    @Test func truncatedJPEGThrowsByDefault() throws {
        let file = try Self.jpeg()
        let error = expectCodecError(.truncated) { try decode(Array(file.prefix(file.count * 2 / 3))) }
        #expect(error?.message.contains("Premature end") == true)
    }

    @Test func truncatedJPEGCanBeAcceptedAsAPartialImage() throws {
        let file = try Self.jpeg()
        let full = try decode(file).image
        let partial = try decode(Array(file.prefix(file.count * 2 / 3)), DecodeOptions(acceptTruncated: true))
        #expect(partial.warning?.contains("Premature end") == true)
        #expect(partial.image.size == full.size)
        // The top rows decoded before the data ran out are exactly those of the full image.
        let topRows = 8 * full.rowBytes
        #expect(Array(partial.image.pixels.prefix(topRows)) == Array(full.pixels.prefix(topRows)))
        #expect(partial.image.pixels != full.pixels)
    }

    @Test func extraneousBytesAreAWarningNotAnError() throws {
        // Junk between two header segments: libjpeg-turbo warns "Corrupt JPEG data: 3 extraneous
        // bytes before marker 0x..", skips it and decodes the image unharmed.
        var file = try Self.jpeg()
        let app0Length = Int(file[4]) << 8 | Int(file[5])
        file.insert(contentsOf: [0x12, 0x34, 0x56], at: 4 + app0Length)
        let decoded = try decode(file)
        #expect(decoded.warning?.contains("extraneous bytes") == true)
        #expect(decoded.image == (try decode(try Self.jpeg())).image)
    }

    @Test func hugeDeclaredSizeIsRefusedBeforeAllocating() throws {
        expectCodecError(.tooLarge) { try decode(try Self.jpeg(), DecodeOptions(maximumPixels: 96 * 64 - 1)) }
    }
}
