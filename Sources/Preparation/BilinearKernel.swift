// The one Swift file that imports CKernels.
import CKernels
import Codecs
import Foundation

/// The C builds of ``AffineSampler``'s common case (bilinear, one tap per output pixel, fill
/// `nearest`, any ``ColorAdjustment``), chosen at run time: AVX2 (eight output pixels per step)
/// and AVX-512 (sixteen); and the AVX-512 build of its nearest loop with fill `nearest` (pack
/// `--interpolation nearest`). The same bytes as the portable Swift loop: the tests compare every
/// path the CPU runs with it on random maps, sizes and channels, and skip, saying why, a path it
/// cannot run.
///
/// The release build targets baseline x86-64, so each kernel is compiled for its instruction set
/// alone (`__attribute__((target(…)))`) and runs only where the CPU reports it; elsewhere
/// ``AffineSampler`` keeps to its Swift loop.
public enum BilinearKernel {
    /// One build of the bilinear loop.
    public enum Path: String, Sendable, CaseIterable, CustomStringConvertible {
        /// The portable Swift loop.
        case baseline
        /// AVX2: eight pixels per step.
        case avx2
        /// AVX-512 F, BW, VL, VBMI and VNNI: sixteen pixels per step, bilinear and nearest.
        case avx512

        public var description: String { rawValue }

        /// Whether this CPU runs it (the baseline always runs).
        public var isSupported: Bool {
            switch self {
            case .baseline: true
            case .avx2: BilinearKernel.hasAVX2
            case .avx512: BilinearKernel.hasAVX512
            }
        }

        /// Why this CPU cannot run it, or nil when it can.
        public var missingReason: String? {
            guard !isSupported else { return nil }
            return self == .avx2
                ? "this CPU has no AVX2"
                : "this CPU lacks one of AVX-512 F, BW, VL, VBMI and VNNI (or its OS does not enable AVX-512)"
        }
    }

    private static let hasAVX2 = dp_cpu_has_avx2() != 0
    private static let hasAVX512 = dp_cpu_has_avx512() != 0

    /// The path ``AffineSampler`` takes, read once: the widest this CPU runs, or the one the
    /// environment's `DATAPREP_SIMD` (`baseline`, `avx2` or `avx512`) asks for, to measure or
    /// compare one in a whole command. A path the CPU cannot run is not taken: the widest it runs
    /// is, with a warning on standard error.
    public static let selected: Path = {
        let (path, warning) = choose(requested: ProcessInfo.processInfo.environment["DATAPREP_SIMD"], supported: \.isSupported)
        if let warning { FileHandle.standardError.write(Data("dataprep: \(warning)\n".utf8)) }
        return path
    }()

    /// Whether ``selected`` is a C kernel (not the Swift loop).
    public static var isAvailable: Bool { selected != .baseline }

    /// The path for a `DATAPREP_SIMD` value (nil or empty: none asked for) on a CPU that runs the
    /// paths `supported` says, and a warning when the value is not used as asked.
    static func choose(requested: String?, supported: (Path) -> Bool) -> (path: Path, warning: String?) {
        let widest = Path.allCases.last(where: supported) ?? .baseline
        guard let requested, !requested.isEmpty else { return (widest, nil) }
        guard let path = Path(rawValue: requested.lowercased()) else {
            let names = Path.allCases.map(\.rawValue).joined(separator: ", ")
            return (widest, "DATAPREP_SIMD=\(requested) is not one of \(names); using \(widest)")
        }
        guard supported(path) else {
            return (widest, "DATAPREP_SIMD=\(requested): this CPU cannot run that path; using \(widest)")
        }
        return (path, nil)
    }

    /// Whether `path` has a C build of the nearest loop (fill `nearest`).
    static func hasNearest(_ path: Path) -> Bool { path == .avx512 }

    /// Resamples `pixels` (`source`-sized, `channels` 1, 3 or 4, row-major HWC) through `map` into
    /// the `size` output (exactly `size.width · size.height · channels` bytes) with clamped edges,
    /// bilinear or (`nearest`) nearest, with the C kernel `path`.
    /// - Precondition: `path` is a supported C kernel (not `.baseline`; for `nearest`,
    ///   ``hasNearest(_:)``); for bilinear, the map takes one tap per output pixel (it shrinks by at
    ///   most 2× along each output axis).
    static func render(
        _ pixels: UnsafeBufferPointer<UInt8>, of source: PixelSize, channels: Int, map: AffineMap, size: PixelSize,
        color: ColorAdjustment, into output: UnsafeMutableRawBufferPointer, path: Path, nearest: Bool = false
    ) {
        precondition(path != .baseline && path.isSupported, "the \(path) kernel cannot run here")
        precondition(!nearest || hasNearest(path), "no \(path) build of the nearest loop")
        precondition(channels == 1 || channels == 3 || channels == 4, "1, 3 or 4 channels")
        precondition(pixels.count == source.width * source.height * channels && output.count == size.width * size.height * channels)
        let kernel =
            nearest ? dp_nearest_clamped_avx512 : path == .avx512 ? dp_bilinear_clamped_avx512 : dp_bilinear_clamped_avx2
        // The map's six coefficients as a C array on the stack (a homogeneous tuple is laid out
        // contiguously): no allocation per image.
        var map = (map.a, map.b, map.c, map.d, map.e, map.f)
        withUnsafePointer(to: &map) { map in
            let coefficients = UnsafeRawPointer(map).assumingMemoryBound(to: Double.self)
            kernel(
                pixels.baseAddress, Int64(source.width), Int64(source.height), Int64(pixels.count), Int64(channels),
                coefficients, output.bindMemory(to: UInt8.self).baseAddress, Int64(size.width), Int64(size.height),
                color.isIdentity ? 0 : 1, color.shift, color.gain)
        }
    }
}
