import Codecs
import Foundation
import Support
import Testing

@testable import Preparation

/// The AVX2 kernel against the portable Swift loop (``BilinearKernelCases``).
@Suite(.enabled(if: BilinearKernel.Path.avx2.isSupported, "skipped: \(BilinearKernel.Path.avx2.missingReason ?? "")"))
struct AVX2KernelTests {
    @Test(arguments: [1, 3, 4])
    func randomMapsGiveTheSameBytes(channels: Int) { BilinearKernelCases.randomMaps(channels: channels, path: .avx2) }

    @Test(arguments: [1, 3, 4])
    func resizesGiveTheSameBytes(channels: Int) { BilinearKernelCases.resizes(channels: channels, path: .avx2) }

    @Test func farPositionsGiveTheSameBytes() { BilinearKernelCases.farPositions(path: .avx2) }
}

/// The AVX-512 kernel against the portable Swift loop (``BilinearKernelCases``).
@Suite(.enabled(if: BilinearKernel.Path.avx512.isSupported, "skipped: \(BilinearKernel.Path.avx512.missingReason ?? "")"))
struct AVX512KernelTests {
    @Test(arguments: [1, 3, 4])
    func randomMapsGiveTheSameBytes(channels: Int) { BilinearKernelCases.randomMaps(channels: channels, path: .avx512) }

    @Test(arguments: [1, 3, 4])
    func resizesGiveTheSameBytes(channels: Int) { BilinearKernelCases.resizes(channels: channels, path: .avx512) }

    @Test func farPositionsGiveTheSameBytes() { BilinearKernelCases.farPositions(path: .avx512) }

    @Test(arguments: [1, 3, 4])
    func nearestRandomMapsGiveTheSameBytes(channels: Int) {
        BilinearKernelCases.randomMaps(channels: channels, path: .avx512, interpolation: .nearest)
    }

    @Test(arguments: [1, 3, 4])
    func nearestResizesGiveTheSameBytes(channels: Int) {
        BilinearKernelCases.resizes(channels: channels, path: .avx512, interpolation: .nearest)
    }

    @Test func nearestFarPositionsGiveTheSameBytes() { BilinearKernelCases.farPositions(path: .avx512, interpolation: .nearest) }
}

/// `DATAPREP_SIMD`: a path the CPU runs is taken as asked; one it cannot run, or an unknown
/// name, gives the widest it runs and a warning.
struct KernelChoiceTests {
    @Test func theEnvironmentPicksAPathTheCPURuns() {
        let all: (BilinearKernel.Path) -> Bool = { _ in true }
        let noAVX512: (BilinearKernel.Path) -> Bool = { $0 != .avx512 }
        #expect(BilinearKernel.choose(requested: nil, supported: all) == (.avx512, nil))
        #expect(BilinearKernel.choose(requested: "", supported: noAVX512) == (.avx2, nil))
        #expect(BilinearKernel.choose(requested: "baseline", supported: all) == (.baseline, nil))
        #expect(BilinearKernel.choose(requested: "AVX2", supported: all) == (.avx2, nil))
        let refused = BilinearKernel.choose(requested: "avx512", supported: noAVX512)
        #expect(refused.path == .avx2 && refused.warning?.contains("cannot run") == true)
        let unknown = BilinearKernel.choose(requested: "neon", supported: all)
        #expect(unknown.path == .avx512 && unknown.warning?.contains("not one of baseline, avx2, avx512") == true)
        #expect(BilinearKernel.choose(requested: nil, supported: { $0 == .baseline }) == (.baseline, nil))
    }

    @Test func theSelectedPathRunsHere() {
        #expect(BilinearKernel.selected.isSupported)
        #expect(BilinearKernel.Path.baseline.missingReason == nil)
    }
}

/// A kernel against the portable Swift loop: the same bytes for every map, size, channel count
/// and colour adjustment (the kernel's vector steps, its last partial step or scalar tail, the
/// steps it hands to the scalar form near the end of the source, and rows whose positions leave
/// 32 bits).
enum BilinearKernelCases {
    /// Random bytes (noise finds every rounding difference a smooth image would hide).
    static func noise(_ size: PixelSize, channels: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<size.width * size.height * channels).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// Both renders of one case; `#expect`s they are equal.
    static func compare(
        source: PixelSize, channels: Int, map: AffineMap, output output_: PixelSize, color: ColorAdjustment, seed: UInt64,
        path: BilinearKernel.Path, interpolation: Interpolation
    ) {
        let pixels = noise(source, channels: channels, seed: seed)
        let format: PixelFormat = channels == 1 ? .gray : channels == 3 ? .rgb : .rgba
        let count = output_.width * output_.height * channels
        // Each render goes into the front of a larger buffer whose tail must stay untouched.
        let guardBytes = 16, sentinel: UInt8 = 0xA5
        func render(_ path: BilinearKernel.Path) -> [UInt8] {
            var buffer = [UInt8](repeating: sentinel, count: count + guardBytes)
            pixels.withUnsafeBufferPointer { pixels in
                buffer.withUnsafeMutableBytes {
                    AffineSampler.render(
                        pixels, of: source, format: format, map: map, size: output_, fill: .nearest, cval: 0,
                        interpolation: interpolation, color: color, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count]),
                        path: path)
                }
            }
            #expect(buffer[count...].allSatisfy { $0 == sentinel }, "wrote past the output (\(output_)x\(channels))")
            return Array(buffer[..<count])
        }
        let baseline = render(.baseline), kernel = render(path)
        let first = baseline.indices.first { baseline[$0] != kernel[$0] }
        #expect(
            first == nil,
            "\(path) \(interpolation): \(source)x\(channels) → \(output_), \(map), \(color): first difference at byte \(first ?? -1)")
    }

    static func randomMaps(channels: Int, path: BilinearKernel.Path, interpolation: Interpolation = .bilinear) {
        var random = SplitMix64(seed: UInt64(channels))
        for trial in 0..<150 {
            let source = PixelSize(width: Int.random(in: 1...70, using: &random), height: Int.random(in: 1...70, using: &random))
            let output = PixelSize(width: Int.random(in: 1...60, using: &random), height: Int.random(in: 1...40, using: &random))
            // Rotation, anisotropic scale (at most 2× shrink for bilinear: one tap; 4× for nearest)
            // and a shift that can leave the image.
            // One map in four keeps rows level (0 or π: no vertical step along a row, which the AVX-512
            // kernel reads as two stretches of source rows).
            let angle = trial % 4 == 0 ? Double(trial % 8 / 4) * Double.pi : Double.random(in: -Double.pi...Double.pi, using: &random)
            let most = interpolation == .bilinear ? 1.4 : 4.0
            let sx = Double.random(in: 0.2...most, using: &random), sy = Double.random(in: 0.2...most, using: &random)
            let map = AffineMap(
                a: sx * cos(angle), b: -sy * sin(angle), c: Double.random(in: -20...Double(source.width + 20), using: &random),
                d: sx * sin(angle), e: sy * cos(angle), f: Double.random(in: -20...Double(source.height + 20), using: &random))
            let color =
                trial % 3 == 0
                ? ColorAdjustment(shift: Float.random(in: -60...60, using: &random), gain: Float.random(in: 0...2, using: &random))
                : .identity
            compare(
                source: source, channels: channels, map: map, output: output, color: color, seed: UInt64(trial), path: path,
                interpolation: interpolation)
        }
    }

    static func resizes(channels: Int, path: BilinearKernel.Path, interpolation: Interpolation = .bilinear) {
        // pack's map: an axis-aligned resize, enlarging and shrinking up to 2×, down to 1-pixel sizes.
        for (source, output) in [
            ((239, 193), (150, 150)), ((300, 160), (150, 150)), ((150, 150), (150, 150)),
            ((1, 1), (9, 9)), ((2, 17), (16, 9)), ((64, 64), (33, 32)), ((8, 1), (8, 1)),
        ] {
            let s = PixelSize(width: source.0, height: source.1), o = PixelSize(width: output.0, height: output.1)
            compare(
                source: s, channels: channels, map: .resize(from: s, to: o), output: o, color: .identity, seed: 7, path: path,
                interpolation: interpolation)
        }
    }

    static func farPositions(path: BilinearKernel.Path, interpolation: Interpolation = .bilinear) {
        // Maps that send rows beyond ±2¹⁵ pixels (the kernel's 32-bit lanes cannot hold them) or
        // step huge distances per pixel: the clamped edges, from the scalar form.
        let s = PixelSize(width: 40, height: 30), o = PixelSize(width: 24, height: 10)
        for map in [
            AffineMap(a: 1, b: 0, c: 40_000, d: 0, e: 1, f: -40_000),
            AffineMap(a: 0.5, b: 0.1, c: -1e9, d: -0.3, e: 1.2, f: 1e9),
            AffineMap(a: 1.9, b: 0, c: -30_000, d: 0, e: 1, f: 3),
            AffineMap(a: 0, b: 0, c: 12.5, d: 0, e: 0, f: 7.25),
        ] {
            compare(source: s, channels: 3, map: map, output: o, color: .identity, seed: 3, path: path, interpolation: interpolation)
        }
    }
}
