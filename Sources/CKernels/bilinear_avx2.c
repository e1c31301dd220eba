// The AVX2 build of the fused resampler's one-tap bilinear loop with clamped edges (see
// CKernels.h). Eight output pixels per step: their 16.16 positions, offsets and weights in 32-bit
// lanes; then each pixel's four taps as two 8-byte reads (top pair, bottom pair), shuffled into
// 16-bit pairs and blended with `pmaddwd` in exact integers (weights in 128ths, the sum in 2¹⁴ths,
// the Swift sampler's numbers), then rounded half up. Pixels a vector step cannot take (a row whose positions leave the
// 32-bit range, a read that would pass the end of the source, the row's last pixels) go through
// the scalar form of the same arithmetic.
//
// Why no gathers: on the first EPYC generation (Zen 1) this was measured on, `vpgatherdd` is
// microcoded; a gather version took 195 µs for the benchmark's 239×193 → 150×150 resample, slower
// than these plain 8-byte loads.
#include "CKernels.h"
#include "bilinear_common.h"

#include <immintrin.h>

int dp_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

// MARK: - Eight pixels at a time

/// Byte-shuffle masks for one pixel's taps, by channel count. From the 16 bytes `p[0..<8]`,
/// `p[dy..<dy+8]`: `upper` and `lower` give the 16-bit pairs (p00, p01) and (p10, p11) of each
/// channel, for `pmaddwd` with the weights (128 − wx, wx); `interleave` pairs each channel's upper
/// and lower sums for the vertical `pmaddwd`; `pack` takes the low byte of each 32-bit lane. The
/// right-hand taps are always read `channels` bytes on: on the last column their weight is exactly
/// 0, so whatever they hold, the sum is the clamped tap's.
typedef struct { __m128i upper, lower, interleave, pack; } Masks;

__attribute__((target("avx2"))) static Masks masks_for(int64_t channels) {
    int8_t upper[16], lower[16];
    for (int lane = 0; lane < 4; lane++) {
        int used = lane < channels;
        int8_t left = (int8_t)lane, right = (int8_t)(channels + lane);
        int8_t bytes[4] = {used ? left : -1, -1, used ? right : -1, -1};
        for (int b = 0; b < 4; b++) {
            upper[4 * lane + b] = bytes[b];
            lower[4 * lane + b] = bytes[b] < 0 ? -1 : (int8_t)(bytes[b] + 8);
        }
    }
    Masks m;
    m.upper = _mm_loadu_si128((const __m128i *)upper);
    m.lower = _mm_loadu_si128((const __m128i *)lower);
    m.interleave = _mm_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
    m.pack = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    return m;
}

/// One pixel from its taps' 16 bytes and its weight pairs (`(128 − w) | w << 16` in each 32-bit
/// lane): the bilinear sums in 32-bit lanes (one per channel), exact; rounded half up, or through
/// the colour in float; the result's first `channels` bytes in the low bytes of a word.
__attribute__((target("avx2"))) static inline uint32_t blend_pixel(
    __m128i taps, const Masks *m, __m128i wx, __m128i wy, int adjust, __m128 shift, __m128 gain) {
    __m128i upper = _mm_madd_epi16(_mm_shuffle_epi8(taps, m->upper), wx);  // ≤ 255·128: fits 16 bits
    __m128i lower = _mm_madd_epi16(_mm_shuffle_epi8(taps, m->lower), wx);
    __m128i sum = _mm_madd_epi16(_mm_shuffle_epi8(_mm_packs_epi32(upper, lower), m->interleave), wy);
    __m128i bytes;
    if (adjust) {
        __m128 v = _mm_mul_ps(_mm_cvtepi32_ps(sum), _mm_set1_ps(0x1p-14f));
        const __m128 top = _mm_set1_ps(255.0f), magic = _mm_set1_ps(8388608.0f);
        v = _mm_min_ps(_mm_max_ps(_mm_add_ps(v, shift), _mm_setzero_ps()), top);
        v = _mm_min_ps(_mm_mul_ps(v, gain), top);
        __m128 t = _mm_add_ps(v, _mm_set1_ps(0.5f));
        __m128 nearest = _mm_add_ps(t, magic);
        __m128i up = _mm_castps_si128(_mm_cmpgt_ps(_mm_sub_ps(nearest, magic), t));
        bytes = _mm_add_epi32(_mm_castps_si128(nearest), up);
    } else {
        bytes = _mm_srli_epi32(_mm_add_epi32(sum, _mm_set1_epi32(8192)), 14);
    }
    return (uint32_t)_mm_cvtsi128_si32(_mm_shuffle_epi8(bytes, m->pack));
}

/// Eight pixels from 32-bit positions `xs`, `ys` into `o`, whose row has `room` bytes from `o` on:
/// each pixel is stored as one 4-byte word (running into the next pixel, which is written after
/// it) where the row has room for it, else byte by byte. Returns 0, writing nothing, when a tap's
/// 8-byte read would pass the end of the source.
__attribute__((target("avx2"))) static inline int vector_pixels(
    const Source *s, const Masks *m, __m256i xs, __m256i ys, int adjust, __m128 shift, __m128 gain,
    uint8_t *o, int64_t room) {
    const __m256i zero = _mm256_setzero_si256(), low = _mm256_set1_epi32(0xFFFF);
    __m256i cx = _mm256_min_epi32(_mm256_max_epi32(xs, zero), _mm256_set1_epi32((int32_t)s->max_x));
    __m256i cy = _mm256_min_epi32(_mm256_max_epi32(ys, zero), _mm256_set1_epi32((int32_t)s->max_y));
    __m256i ix = _mm256_srli_epi32(cx, 16), iy = _mm256_srli_epi32(cy, 16);
    __m256i dy = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)s->last_row), iy),
                                  _mm256_set1_epi32((int32_t)s->row_bytes));
    __m256i offset = _mm256_add_epi32(_mm256_mullo_epi32(iy, _mm256_set1_epi32((int32_t)s->row_bytes)),
                                      _mm256_mullo_epi32(ix, _mm256_set1_epi32((int32_t)s->channels)));
    __m256i bottom = _mm256_add_epi32(offset, dy);
    // Each tap pair is one 8-byte read from `offset` and from `bottom`: it must end inside the source.
    if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(bottom, _mm256_set1_epi32((int32_t)(s->count - 8)))) != 0) return 0;
    // The weight pairs (128 − w, w) of each pixel, as one 32-bit lane of two 16-bit weights.
    const __m256i w128 = _mm256_set1_epi32(128);
    __m256i wx = _mm256_srli_epi32(_mm256_and_si256(cx, low), 9), wy = _mm256_srli_epi32(_mm256_and_si256(cy, low), 9);
    __attribute__((aligned(32))) int32_t offsets[8], bottoms[8], wxs[8], wys[8];
    _mm256_store_si256((__m256i *)offsets, offset);
    _mm256_store_si256((__m256i *)bottoms, bottom);
    _mm256_store_si256((__m256i *)wxs, _mm256_or_si256(_mm256_sub_epi32(w128, wx), _mm256_slli_epi32(wx, 16)));
    _mm256_store_si256((__m256i *)wys, _mm256_or_si256(_mm256_sub_epi32(w128, wy), _mm256_slli_epi32(wy, 16)));
    const int64_t c = s->channels;
    for (int k = 0; k < 8; k++) {
        __m128i taps = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(s->base + offsets[k])),
                                          _mm_loadl_epi64((const __m128i *)(s->base + bottoms[k])));
        uint32_t word = blend_pixel(taps, m, _mm_set1_epi32(wxs[k]), _mm_set1_epi32(wys[k]), adjust, shift, gain);
        uint8_t *pixel = o + k * c;
        if (k * c + 4 <= room) {
            memcpy(pixel, &word, 4);
        } else {
            for (int64_t b = 0; b < c; b++) pixel[b] = (uint8_t)(word >> (8 * b));
        }
    }
    return 1;
}

// MARK: - The image

__attribute__((target("avx2"))) void dp_bilinear_clamped_avx2(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain) {
    const Source s = make_source(source, source_width, source_height, source_count, channels);
    const double limit_x = (double)(source_width + 16384), limit_y = (double)(source_height + 16384);
    const int64_t step_x = fixed_point(map[0], limit_x / (double)output_width);
    const int64_t step_y = fixed_point(map[3], limit_y / (double)output_width);
    // Lanes hold 32-bit positions and offsets: the vector step needs the source's offsets to fit.
    const int vectors = source_count < INT32_MAX && s.max_x <= INT32_MAX && s.max_y <= INT32_MAX;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lane_step_x = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int32_t)step_x));
    const __m256i lane_step_y = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int32_t)step_y));
    const __m128 shift_v = _mm_set1_ps(shift), gain_v = _mm_set1_ps(gain);
    const Masks masks = masks_for(channels);

    for (int64_t row = 0; row < output_height; row++) {
        uint8_t *o = output + row * output_width * channels;
        int64_t x = fixed_point(map[1] * (double)row + map[2], limit_x);
        int64_t y = fixed_point(map[4] * (double)row + map[5], limit_y);
        int64_t column = 0;
        // (The lanes' offsets k·step may wrap; the sums are exact modulo 2³², so they are exact.)
        if (vectors && row_in_range(x, y, step_x, step_y, output_width)) {
            for (; column + 8 <= output_width; column += 8) {
                __m256i xs = _mm256_add_epi32(_mm256_set1_epi32((int32_t)x), lane_step_x);
                __m256i ys = _mm256_add_epi32(_mm256_set1_epi32((int32_t)y), lane_step_y);
                if (!vector_pixels(&s, &masks, xs, ys, adjust_color, shift_v, gain_v, o, (output_width - column) * channels)) {
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
