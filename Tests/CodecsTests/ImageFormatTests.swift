import Codecs
import Foundation
import TestSupport
import Testing

@Suite struct ImageFormatTests {
    static let signatures: [(ImageFormat, [UInt8])] = [
        (.jpeg, [0xFF, 0xD8, 0xFF, 0xE0]),
        (.png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        (.gif, Array("GIF89a".utf8) + [1, 0, 1, 0]),
        (.gif, Array("GIF87a".utf8) + [1, 0, 1, 0]),
        (.bmp, Array("BM".utf8) + [UInt8](repeating: 0, count: 20)),
        (.webp, Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)),
        (.tiff, [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]),
        (.tiff, [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8]),
        (.heif, [0, 0, 0, 0x18] + Array("ftypheic".utf8)),
        (.avif, [0, 0, 0, 0x1C] + Array("ftypavif".utf8)),
        (.jpeg2000, [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A]),
        (.jpegXL, [0xFF, 0x0A, 0x00]),
        (.ico, [0x00, 0x00, 0x01, 0x00, 1, 0]),
        (.psd, Array("8BPS".utf8) + [0, 1]),
        (.qoi, Array("qoif".utf8) + [0, 0, 0, 1]),
        (.pnm, Array("P6\n2 2\n255\n".utf8)),
        (.unknown, Array("hello, world".utf8)),
        (.unknown, []),
    ]

    @Test func formatsAreRecognisedByTheirMagicBytes() {
        for (format, bytes) in Self.signatures {
            #expect(bytes.withUnsafeBytes { ImageFormat(detecting: $0) } == format, "\(bytes)")
        }
    }

    @Test func unsupportedFormatsAreNamedInTheError() {
        for (format, bytes) in Self.signatures where format != .jpeg && format != .png && format != .unknown {
            let error = expectCodecError(.unsupportedFormat) { try decode(bytes) }
            #expect(error?.message.contains(format.description) == true, "\(String(describing: error))")
        }
    }

    @Test func dataThatIsNoImageIsUnknown() {
        expectCodecError(.unknownFormat) { try decode(Array("not an image at all".utf8)) }
        expectCodecError(.unknownFormat) { try decode([]) }
    }

    @Test func theFileNameNeverDecidesTheFormat() throws {
        // A PNG saved under a .jpg name decodes as PNG.
        let png = try PNGEncoder().encode(SyntheticImages.ramp(width: 5, height: 4, format: .rgb))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("misnamed-\(UUID()).jpg").path
        try Data(png).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ImageDecoder().decode(fileAt: path).info.format == .png)
    }

    @Test func fileErrorsCarryThePath() {
        let missing = "/nonexistent/dir/cat.jpg"
        let error = expectCodecError(.readFailed) { try ImageDecoder().decode(fileAt: missing) }
        #expect(error?.path == missing)
        #expect(error?.description.hasPrefix(missing) == true)
        expectCodecError(.readFailed) { try ImageDecoder().decode(fileAt: NSTemporaryDirectory()) }
    }
}
