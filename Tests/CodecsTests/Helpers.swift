import Codecs
import Foundation
import TestSupport
import Testing

/// Decodes with a fresh decoder.
func decode(_ bytes: [UInt8], _ options: DecodeOptions = DecodeOptions()) throws -> DecodedImage {
    try ImageDecoder().decode(bytes, options: options)
}

/// Expects `body` to throw a ``CodecError`` with `code`, and returns it.
@discardableResult
func expectCodecError<T>(
    _ code: CodecError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> T
) -> CodecError? {
    expectError(CodecError.self, code, sourceLocation: sourceLocation, body)
}

/// Largest absolute difference between two equally long sample arrays.
func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count)
    return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

/// Peak signal-to-noise ratio in dB.
func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
    var sum = 0.0
    for (x, y) in zip(a, b) {
        let d = Double(Int(x) - Int(y))
        sum += d * d
    }
    let mse = sum / Double(a.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

// MARK: - Reference formulas, written independently of Codecs' implementation

/// (c·a + bg·(255 − a) + 127) / 255.
func referenceComposite(_ c: UInt8, alpha: UInt8, on background: UInt8) -> UInt8 {
    let a = Int(alpha)
    let sum: Int = Int(c) * a + Int(background) * (255 - a) + 127
    return UInt8(sum / 255)
}

/// (19595 R + 38470 G + 7471 B + 32768) >> 16.
func referenceLuma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    let sum: Int = 19595 * Int(r) + 38470 * Int(g) + 7471 * Int(b) + 32768
    return UInt8(sum >> 16)
}
