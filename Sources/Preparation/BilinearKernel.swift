// The one Swift file that imports CKernels.
import CKernels
import Codecs
import Foundation

/// The AVX2 build of ``AffineSampler``'s common case (bilinear, one tap per output pixel, fill
/// `nearest`, any ``ColorAdjustment``), chosen at run time: eight output pixels per step, the same
/// bytes as the portable Swift loop (the tests compare them on random maps, sizes and channels).
///
/// The release build targets baseline x86-64, so the kernel is compiled for AVX2 alone
/// (`__attribute__((target("avx2")))`) and runs only where the CPU reports AVX2; elsewhere
/// ``AffineSampler`` keeps to its Swift loop. There is no AVX-512 build: the machines this was
/// measured on report AVX2 only, and a path that cannot be run here cannot be tested here.
public enum BilinearKernel {
    /// Whether this CPU runs the kernel (AVX2), read once; false when the environment sets
    /// `DATAPREP_SIMD=baseline`, to measure or compare the Swift loop in a whole command.
    public static let isAvailable: Bool = {
        if let choice = getenv("DATAPREP_SIMD"), String(cString: choice) == "baseline" { return false }
        return dp_cpu_has_avx2() != 0
    }()

    /// Resamples `pixels` (`source`-sized, `channels` 1, 3 or 4, row-major HWC) through `map` into
    /// the `size` output (exactly `size.width · size.height · channels` bytes) with clamped edges.
    /// - Precondition: ``isAvailable``, and the map takes one tap per output pixel (it shrinks by at
    ///   most 2× along each output axis).
    static func render(
        _ pixels: UnsafeBufferPointer<UInt8>, of source: PixelSize, channels: Int, map: AffineMap, size: PixelSize,
        color: ColorAdjustment, into output: UnsafeMutableRawBufferPointer
    ) {
        precondition(isAvailable, "the AVX2 kernel needs an AVX2 CPU")
        precondition(channels == 1 || channels == 3 || channels == 4, "1, 3 or 4 channels")
        precondition(pixels.count == source.width * source.height * channels && output.count == size.width * size.height * channels)
        // The map's six coefficients as a C array on the stack (a homogeneous tuple is laid out
        // contiguously): no allocation per image.
        var map = (map.a, map.b, map.c, map.d, map.e, map.f)
        withUnsafePointer(to: &map) { map in
            let coefficients = UnsafeRawPointer(map).assumingMemoryBound(to: Double.self)
            dp_bilinear_clamped_avx2(
                pixels.baseAddress, Int64(source.width), Int64(source.height), Int64(pixels.count), Int64(channels),
                coefficients, output.bindMemory(to: UInt8.self).baseAddress, Int64(size.width), Int64(size.height),
                color.isIdentity ? 0 : 1, color.shift, color.gain)
        }
    }
}
