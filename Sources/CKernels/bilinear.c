// The AVX2 build of the fused resampler's one-tap bilinear loop with clamped edges (see
// CKernels.h). Eight output pixels per step: their 16.16 positions in 32-bit lanes, the four taps
// of each as gathered 32-bit words, the blend per channel in float lanes with exactly the Swift
// sampler's operations in its order, then rounding half up. Pixels a vector step cannot take (a
// row whose positions leave the 32-bit range, a tap word that would read past the source, the
// row's last pixels) go through the scalar form of the same arithmetic.
#include "CKernels.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

// Same bytes as the Swift sampler: no fused multiply-add anywhere in this file.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

int dp_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// MARK: - The geometry both paths share

typedef struct {
    const uint8_t *base;
    int64_t channels, row_bytes, last_column, last_row, max_x, max_y, count;
} Source;

/// Swift's `Int((min(max(v, -bound), bound) * 65536).rounded())`.
static inline int64_t fixed_point(double v, double bound) {
    double clamped = v < -bound ? -bound : v;
    clamped = clamped > bound ? bound : clamped;
    return (int64_t)round(clamped * 65536.0);
}

/// Swift's `⌊v + ½⌋` by the 2²³ trick (`roundedBytes`), one lane.
static inline uint8_t rounded_byte(float v) {
    const float magic = 8388608.0f;
    float t = v + 0.5f;
    float nearest = t + magic;
    int32_t bits;
    memcpy(&bits, &nearest, sizeof bits);
    int32_t up = (nearest - magic > t) ? -1 : 0;
    return (uint8_t)(bits + up);
}

static inline float adjusted(float v, float shift, float gain) {
    float s = v + shift;
    s = s < 0.0f ? 0.0f : s;  // pointwiseMax(v + shift, 0)
    s = s > 255.0f ? 255.0f : s;  // pointwiseMin(…, 255)
    s = s * gain;
    return s > 255.0f ? 255.0f : s;
}

/// One output pixel: the Swift sampler's `bilinear(x, y)` with fill `nearest`, byte loads.
static inline void scalar_pixel(const Source *s, int64_t x, int64_t y, int adjust, float shift, float gain, uint8_t *o) {
    int64_t cx = x < 0 ? 0 : (x > s->max_x ? s->max_x : x);
    int64_t cy = y < 0 ? 0 : (y > s->max_y ? s->max_y : y);
    int64_t ix = cx >> 16, iy = cy >> 16;
    int64_t dx = ix < s->last_column ? s->channels : 0, dy = iy < s->last_row ? s->row_bytes : 0;
    const uint8_t *p = s->base + iy * s->row_bytes + ix * s->channels;
    float fx = (float)(cx & 0xFFFF) * 0x1p-16f, fy = (float)(cy & 0xFFFF) * 0x1p-16f;
    for (int64_t c = 0; c < s->channels; c++) {
        float p00 = p[c], p01 = p[dx + c], p10 = p[dy + c], p11 = p[dy + dx + c];
        float upper = p00 + (p01 - p00) * fx, lower = p10 + (p11 - p10) * fx;
        float v = upper + (lower - upper) * fy;
        o[c] = rounded_byte(adjust ? adjusted(v, shift, gain) : v);
    }
}

// MARK: - Eight pixels at a time

__attribute__((target("avx2"))) static inline __m256 channel(__m256i words, int c) {
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(words, 8 * c), _mm256_set1_epi32(0xFF)));
}

/// The blend, colour and rounding of channel `c` of eight pixels, as bytes in the low 8 bits of
/// each lane.
__attribute__((target("avx2"))) static inline __m256i blend_channel(
    __m256i w00, __m256i w01, __m256i w10, __m256i w11, int c, __m256 fx, __m256 fy,
    int adjust, __m256 shift, __m256 gain) {
    __m256 p00 = channel(w00, c), p01 = channel(w01, c), p10 = channel(w10, c), p11 = channel(w11, c);
    __m256 upper = _mm256_add_ps(p00, _mm256_mul_ps(_mm256_sub_ps(p01, p00), fx));
    __m256 lower = _mm256_add_ps(p10, _mm256_mul_ps(_mm256_sub_ps(p11, p10), fx));
    __m256 v = _mm256_add_ps(upper, _mm256_mul_ps(_mm256_sub_ps(lower, upper), fy));
    const __m256 top = _mm256_set1_ps(255.0f);
    if (adjust) {
        v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, shift), _mm256_setzero_ps()), top);
        v = _mm256_min_ps(_mm256_mul_ps(v, gain), top);
    }
    const __m256 magic = _mm256_set1_ps(8388608.0f);
    __m256 t = _mm256_add_ps(v, _mm256_set1_ps(0.5f));
    __m256 nearest = _mm256_add_ps(t, magic);
    __m256i up = _mm256_castps_si256(_mm256_cmp_ps(_mm256_sub_ps(nearest, magic), t, _CMP_GT_OQ));
    return _mm256_and_si256(_mm256_add_epi32(_mm256_castps_si256(nearest), up), _mm256_set1_epi32(0xFF));
}

/// Writes the first `channels` bytes of each of the eight words, packed (8, 24 or 32 bytes).
__attribute__((target("avx2"))) static inline void store_pixels(__m256i words, int64_t channels, uint8_t *o) {
    if (channels == 4) {
        _mm256_storeu_si256((__m256i *)o, words);
    } else if (channels == 3) {
        const __m256i pack = _mm256_setr_epi8(
            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
            0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
        __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, pack), _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
        _mm_storeu_si128((__m128i *)o, _mm256_castsi256_si128(packed));
        _mm_storel_epi64((__m128i *)(o + 16), _mm256_extracti128_si256(packed, 1));
    } else {
        const __m256i pack = _mm256_setr_epi8(
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(words, pack), _mm256_setr_epi32(0, 4, 1, 2, 3, 5, 6, 7));
        _mm_storel_epi64((__m128i *)o, _mm256_castsi256_si128(packed));
    }
}

/// Eight pixels from 32-bit positions `xs`, `ys`. Returns 0, writing nothing, when a tap word
/// would read past the source.
__attribute__((target("avx2"))) static inline int vector_pixels(
    const Source *s, __m256i xs, __m256i ys, int adjust, __m256 shift, __m256 gain, uint8_t *o) {
    const __m256i zero = _mm256_setzero_si256(), low = _mm256_set1_epi32(0xFFFF);
    __m256i cx = _mm256_min_epi32(_mm256_max_epi32(xs, zero), _mm256_set1_epi32((int32_t)s->max_x));
    __m256i cy = _mm256_min_epi32(_mm256_max_epi32(ys, zero), _mm256_set1_epi32((int32_t)s->max_y));
    __m256i ix = _mm256_srli_epi32(cx, 16), iy = _mm256_srli_epi32(cy, 16);
    __m256i dx = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)s->last_column), ix),
                                  _mm256_set1_epi32((int32_t)s->channels));
    __m256i dy = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)s->last_row), iy),
                                  _mm256_set1_epi32((int32_t)s->row_bytes));
    __m256i offset = _mm256_add_epi32(_mm256_mullo_epi32(iy, _mm256_set1_epi32((int32_t)s->row_bytes)),
                                      _mm256_mullo_epi32(ix, _mm256_set1_epi32((int32_t)s->channels)));
    __m256i last = _mm256_add_epi32(offset, _mm256_add_epi32(dx, dy));
    // A 32-bit word at `last` must end inside the source: last + 3 < count.
    if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(last, _mm256_set1_epi32((int32_t)(s->count - 4)))) != 0) return 0;
    const int *base = (const int *)s->base;
    __m256i w00 = _mm256_i32gather_epi32(base, offset, 1);
    __m256i w01 = _mm256_i32gather_epi32(base, _mm256_add_epi32(offset, dx), 1);
    __m256i w10 = _mm256_i32gather_epi32(base, _mm256_add_epi32(offset, dy), 1);
    __m256i w11 = _mm256_i32gather_epi32(base, last, 1);
    const __m256 scale = _mm256_set1_ps(0x1p-16f);
    __m256 fx = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(cx, low)), scale);
    __m256 fy = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(cy, low)), scale);
    __m256i words = blend_channel(w00, w01, w10, w11, 0, fx, fy, adjust, shift, gain);
    for (int c = 1; c < s->channels; c++) {
        words = _mm256_or_si256(words, _mm256_slli_epi32(blend_channel(w00, w01, w10, w11, c, fx, fy, adjust, shift, gain), 8 * c));
    }
    store_pixels(words, s->channels, o);
    return 1;
}

// MARK: - The image

__attribute__((target("avx2"))) void dp_bilinear_clamped_avx2(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain) {
    const Source s = {
        .base = source, .channels = channels, .row_bytes = source_width * channels,
        .last_column = source_width - 1, .last_row = source_height - 1,
        .max_x = (source_width - 1) << 16, .max_y = (source_height - 1) << 16, .count = source_count,
    };
    const double limit_x = (double)(source_width + 16384), limit_y = (double)(source_height + 16384);
    const int64_t step_x = fixed_point(map[0], limit_x / (double)output_width);
    const int64_t step_y = fixed_point(map[3], limit_y / (double)output_width);
    // Lanes hold 32-bit positions and offsets: the vector step needs the source's offsets to fit.
    const int vectors = source_count < INT32_MAX && s.max_x <= INT32_MAX && s.max_y <= INT32_MAX;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lane_step_x = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int32_t)step_x));
    const __m256i lane_step_y = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int32_t)step_y));
    const __m256 shift_v = _mm256_set1_ps(shift), gain_v = _mm256_set1_ps(gain);

    for (int64_t row = 0; row < output_height; row++) {
        uint8_t *o = output + row * output_width * channels;
        int64_t x = fixed_point(map[1] * (double)row + map[2], limit_x);
        int64_t y = fixed_point(map[4] * (double)row + map[5], limit_y);
        int64_t column = 0;
        // Positions along the row are linear, so both ends in 32-bit range puts every one there.
        // (The lanes' offsets k·step may wrap; the sums are exact modulo 2³², so they are exact.)
        const int64_t x_end = x + (output_width - 1) * step_x, y_end = y + (output_width - 1) * step_y;
        const int in_range = x >= INT32_MIN && x <= INT32_MAX && x_end >= INT32_MIN && x_end <= INT32_MAX
            && y >= INT32_MIN && y <= INT32_MAX && y_end >= INT32_MIN && y_end <= INT32_MAX;
        if (vectors && in_range) {
            for (; column + 8 <= output_width; column += 8) {
                __m256i xs = _mm256_add_epi32(_mm256_set1_epi32((int32_t)x), lane_step_x);
                __m256i ys = _mm256_add_epi32(_mm256_set1_epi32((int32_t)y), lane_step_y);
                if (!vector_pixels(&s, xs, ys, adjust_color, shift_v, gain_v, o)) {
                    for (int k = 0; k < 8; k++) {
                        scalar_pixel(&s, x + k * step_x, y + k * step_y, adjust_color, shift, gain, o + k * channels);
                    }
                }
                x += 8 * step_x;
                y += 8 * step_y;
                o += 8 * channels;
            }
        }
        for (; column < output_width; column++) {
            scalar_pixel(&s, x, y, adjust_color, shift, gain, o);
            x += step_x;
            y += step_y;
            o += channels;
        }
    }
}
