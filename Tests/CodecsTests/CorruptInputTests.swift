import Codecs
import Support
import TestSupport
import Testing

/// Damaged input must give an image or a typed error, every time, and never crash the process.
@Suite struct CorruptInputTests {
    /// A generous cap so that a flipped size field fails fast with `tooLarge` instead of allocating
    /// hundreds of megabytes thousands of times.
    static let options = DecodeOptions(maximumPixels: 4_000_000)

    static func samples() throws -> [(String, [UInt8])] {
        let photo = SyntheticImages.photoLike(width: 48, height: 40, seed: 11)
        let encoder = try JPEGEncoder()
        return [
            ("baseline JPEG", try encoder.encode(photo)),
            ("progressive JPEG", try encoder.encode(photo, options: JPEGEncodeOptions(progressive: true))),
            ("EXIF JPEG", JPEGFixtures.withEXIF(orientation: 6, in: try encoder.encode(photo))),
            ("YCCK JPEG", JPEGFixtures.ycck(inks: [(1, 2, 3, 4), (200, 100, 50, 25)], block: 8)),
            ("RGBA PNG", try PNGEncoder().encode(SyntheticImages.ramp(width: 30, height: 20, format: .rgba))),
            (
                "palette PNG",
                PNGBuilder.file(
                    width: 8, height: 2, bitDepth: 4, colorType: .palette,
                    samples: (0..<16).map { $0 % 3 }, palette: [(1, 2, 3), (4, 5, 6), (7, 8, 9)],
                    transparency: [0, 255])
            ),
        ]
    }

    /// Decodes and checks the outcome is one of the two allowed ones.
    static func decodeDamaged(_ bytes: [UInt8], decoder: ImageDecoder, _ label: @autoclosure () -> String) {
        do {
            let decoded = try decoder.decode(bytes, options: options)
            #expect(decoded.image.pixels.count == decoded.image.width * decoded.image.height * decoded.image.channels, "\(label())")
        } catch is CodecError {
            // a typed error is a correct answer for damaged data
        } catch {
            Issue.record("\(label()): untyped error \(error)")
        }
    }

    @Test func truncationAtEveryOffsetGivesAnImageOrATypedError() throws {
        let decoder = ImageDecoder()
        for (name, file) in try Self.samples() {
            for length in 0..<file.count {
                Self.decodeDamaged(Array(file.prefix(length)), decoder: decoder, "\(name) cut at \(length)")
            }
        }
    }

    @Test func cutsThroughTheImageDataAreReportedAsTruncated() throws {
        let decoder = ImageDecoder()
        for (name, file) in try Self.samples() {
            // From three quarters of the file on, only image data is left to lose (for PNG, up to
            // its 12-byte IEND chunk, whose absence loses nothing and is accepted, as PIL does).
            let end = name.hasSuffix("PNG") ? file.count - 12 : file.count - 1
            for length in stride(from: file.count * 3 / 4, to: end, by: 3) {
                let error = expectCodecError(.truncated) { try decoder.decode(Array(file.prefix(length)), options: Self.options) }
                #expect(error != nil, "\(name) cut at \(length)")
            }
        }
    }

    @Test func thousandsOfRandomByteFlipsGiveAnImageOrATypedError() throws {
        var rng = SplitMix64(seed: 2024)
        let decoder = ImageDecoder()
        for (name, file) in try Self.samples() {
            for trial in 0..<600 {
                var damaged = file
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                Self.decodeDamaged(damaged, decoder: decoder, "\(name) flip trial \(trial)")
            }
        }
    }

    @Test func aDecoderStaysUsableAfterErrors() throws {
        let decoder = ImageDecoder()
        for (name, good) in try Self.samples() {
            let expected = try decoder.decode(good).image
            // Cuts inside the headers and tables, then damaged data: none may spoil the next decode.
            for length in stride(from: 3, to: min(good.count, 700), by: 7) {
                _ = try? decoder.decode(Array(good.prefix(length)))
                #expect(try decoder.decode(good).image == expected, "\(name) after a cut at \(length)")
            }
            _ = try? decoder.decode(good.map { $0 ^ 0x5A })
            #expect(try decoder.decode(good).image == expected, "\(name) after damaged data")
        }
    }
}
