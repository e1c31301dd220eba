// Hot pixel kernels with runtime CPU dispatch: the AVX2 and AVX-512 builds of the fused
// resampler's bilinear loop, and the AVX-512 build of its nearest loop. Swift calls these only through Preparation's `BilinearKernel`; the portable fallback is
// the Swift sampler itself, and every path gives the same bytes (Tests/PreparationTests).
#ifndef DATAPREP_CKERNELS_H
#define DATAPREP_CKERNELS_H

#include <stdint.h>

/// 1 when this CPU runs the AVX2 kernels, else 0.
int dp_cpu_has_avx2(void);

/// 1 when this CPU (and its operating system) runs the AVX-512 kernels: AVX-512 F, BW, VL, VBMI
/// and VNNI, else 0.
int dp_cpu_has_avx512(void);

/// One bilinear resample through an output→source affine map, edges clamped (fill `nearest`),
/// then `out = min(clamp(v + shift, 0, 255) · gain, 255)` when `adjust_color` is non-zero, rounded
/// half up: the arithmetic of the Swift `AffineSampler`'s one-tap bilinear path (weights in
/// 128ths of a pixel, exact integer sums), with the same results.
///
/// `source`: `source_width × source_height × channels` bytes (`source_count`), row-major HWC;
/// `channels` is 1, 3 or 4. `map` is `(a, b, c, d, e, f)`: output `(x, y)` samples source
/// `(a·x + b·y + c, d·x + e·y + f)`. `output`: `output_width × output_height × channels` bytes.
/// Positions are 16.16 fixed point as the Swift sampler makes them. Requires AVX2
/// (`dp_cpu_has_avx2()`); `source_count` below 2³¹.
void dp_bilinear_clamped_avx2(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain);

/// ``dp_bilinear_clamped_avx2`` sixteen pixels at a time: the same arguments, the same bytes.
/// Requires `dp_cpu_has_avx512()`.
void dp_bilinear_clamped_avx512(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain);

/// The nearest-pixel resample, edges clamped (fill `nearest`): output pixel `(x, y)` takes the
/// source pixel `⌊u + ½⌋, ⌊v + ½⌋` (clamped to the image) of its mapped position `(u, v)`, then
/// the colour as ``dp_bilinear_clamped_avx2`` does; the Swift `AffineSampler`'s nearest path with
/// fill `nearest`, the same bytes. Arguments as there. Requires `dp_cpu_has_avx512()`.
void dp_nearest_clamped_avx512(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain);

#endif
