// The AVX-512 build of the fused resampler's one-tap bilinear loop with clamped edges (see
// CKernels.h): the AVX2 build's arithmetic, sixteen output pixels per step, one channel per
// register.
//
// Per step: the sixteen 16.16 positions, offsets and weights in the 32-bit lanes of one register;
// each pixel's taps as two 8-byte reads (the top pair p00 p01 and the bottom pair p10 p11: a
// pixel's samples, then its right-hand neighbour's); for each channel c, `vpermt2b` takes from the
// sixteen pixels' reads the 16-bit pairs (p00, p01) and (p10, p11) of channel c, one pixel per
// 32-bit lane, and two `vpdpwssd` add `p00·(128 − wx)(128 − wy) + p01·wx(128 − wy)` and
// `p10·(128 − wx)wy + p11·wx·wy` to the rounding constant: the Swift sampler's sum (weights in
// 128ths, the sum in 2¹⁴ths; each weight product is at most 2¹⁴ and fits a signed 16-bit word,
// and every sum is exact in 32 bits). The sums are rounded (or put through the colour in float,
// as the AVX2 build does), packed to bytes, interleaved by `vpermb` and stored. On rows whose
// positions share one y (resizes: pack and validation sets) the sixteen pixels' taps lie within 128
// bytes of two source rows, read as four 64-byte loads instead of 32 8-byte reads. The last step of
// a row takes the pixels left (its other lanes are computed and not stored, or stored and written
// again by the pixels after them). Pixels a step cannot take (a row whose positions leave the
// 32-bit range, a read that would pass the end of the source) go through the scalar form of the
// same arithmetic.
//
// Measured on the benchmark's 239×193 → 150×150 RGB resample (AMD EPYC family 26, one core),
// against 58 µs for the AVX2 build: 25.6 µs; the taps gathered with `vpgatherdq` instead of the
// 8-byte loads, 27 µs; each pixel's channels in four lanes of its own (weights spread by `vpermd`,
// 8 `vpdpwssd` per step instead of 6 for RGB), 30 µs with loads and 33 µs with gathers. pack's
// resize of the same sizes: 24.1 µs with the 8-byte reads, 9.6 µs with the row stretches (AVX2:
// 54.8 µs).
//
// Needs AVX-512 F, BW, VL, VBMI (`vpermb`, `vpermt2b`) and VNNI (`vpdpwssd`): AMD Zen 4 and later,
// Intel Ice Lake and later.
#include "CKernels.h"
#include "bilinear_common.h"

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni")))

int dp_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni");
}

// MARK: - Sixteen pixels at a time

/// The constant permutations for `channels` samples per pixel. `reads`: where pixel j's 8-byte
/// read starts among the sixteen pixels' reads (pixels 0–7 in the first register, 8–15 in the
/// second), `8j` in both words of lane j (see ``blend_pixels``). `pack`: after the packs, 128-bit
/// lane i holds channel 0's bytes of pixels 4i…4i+3, then channel 1's, 2's and 3's; this puts the
/// sixteen pixels' `channels` bytes in order. `nearest`: from sixteen 4-byte reads (a pixel's
/// samples, then whatever follows), the sixteen pixels' `channels` bytes in order.
typedef struct {
    __m512i reads, pack, nearest;
} Tables;

AVX512 static Tables tables_for(int64_t channels) {
    Tables t;
    t.reads = _mm512_setr_epi32(
        0, 8 * 0x10001, 16 * 0x10001, 24 * 0x10001, 32 * 0x10001, 40 * 0x10001, 48 * 0x10001, 56 * 0x10001, 64 * 0x10001,
        72 * 0x10001, 80 * 0x10001, 88 * 0x10001, 96 * 0x10001, 104 * 0x10001, 112 * 0x10001, 120 * 0x10001);
    int8_t pack[64] = {0};
    for (int j = 0; j < 16; j++) {
        for (int c = 0; c < channels; c++) pack[j * channels + c] = (int8_t)(16 * (j / 4) + 4 * c + (j % 4));
    }
    t.pack = _mm512_loadu_si512(pack);
    int8_t nearest[64] = {0};
    for (int j = 0; j < 16; j++) {
        for (int c = 0; c < channels; c++) nearest[j * channels + c] = (int8_t)(4 * j + c);
    }
    t.nearest = _mm512_loadu_si512(nearest);
    return t;
}

/// The first `16 · C` of `bytes` (sixteen pixels) into `o`, of which the first `count` pixels are
/// wanted; `end` is the end of the output. The store is a whole 64-byte one when it stays before
/// `end` (the bytes past the wanted pixels are written again by the pixels after them), else a
/// masked one of the wanted bytes.
AVX512 static inline __attribute__((always_inline)) void store_bytes(
    __m512i bytes, const int C, uint8_t *o, const uint8_t *end, int64_t count) {
    if (o + 64 <= end) {
        _mm512_storeu_si512(o, bytes);
    } else {
        int64_t wanted = count * C;
        _mm512_mask_storeu_epi8(o, wanted == 64 ? ~(__mmask64)0 : ((__mmask64)1 << wanted) - 1, bytes);
    }
}

/// Sixteen pixels into `o`, of which the first `count` are wanted, from their channels' values
/// (`values[c]`, one pixel per 32-bit lane): bytes as they are, or with `adjust` each value times
/// `scale` through the colour (`min(clamp(v + shift, 0, 255) · gain, 255)`, in float as the Swift
/// sampler does) rounded half up. See ``store_bytes``.
AVX512 static inline __attribute__((always_inline)) void store_pixels(
    const Tables *t, const int C, __m512i values[4], int adjust, __m512 scale, __m512 shift, __m512 gain, uint8_t *o,
    const uint8_t *end, int64_t count) {
    if (adjust) {
        const __m512 top_value = _mm512_set1_ps(255.0f), magic = _mm512_set1_ps(8388608.0f);
        for (int c = 0; c < C; c++) {
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(values[c]), scale);
            v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, shift), _mm512_setzero_ps()), top_value);
            v = _mm512_min_ps(_mm512_mul_ps(v, gain), top_value);
            __m512 half_up = _mm512_add_ps(v, _mm512_set1_ps(0.5f));
            __m512 nearest = _mm512_add_ps(half_up, magic);
            __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(nearest, magic), half_up, _CMP_GT_OQ);
            __m512i bits = _mm512_mask_sub_epi32(_mm512_castps_si512(nearest), up, _mm512_castps_si512(nearest), _mm512_set1_epi32(1));
            values[c] = _mm512_and_si512(bits, _mm512_set1_epi32(0xFF));
        }
    }
    for (int c = C; c < 4; c++) values[c] = _mm512_setzero_si512();
    __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(values[0], values[1]), _mm512_packus_epi32(values[2], values[3]));
    store_bytes(_mm512_permutexvar_epi8(t->pack, bytes), C, o, end, count);
}

/// Sixteen bilinear pixels into `o`, of which the first `count` are wanted, from their taps in
/// 128 bytes of the top row (`top[0]`, `top[1]`) and 128 of the bottom row (`bottom`), and their
/// weights: `index` holds, in both 16-bit words of pixel j's lane, the byte where its top-left
/// tap lies in the top 128 (its bottom-left tap lies at the same byte of the bottom 128, the
/// right-hand taps `C` bytes on). For each channel c, `vpermt2b` takes the pairs (p00, p01) and
/// (p10, p11) as bytes 0 and 2 of the lane (bytes 1 and 3 are zeroed by the mask `words`), and two
/// `vpdpwssd` add them, times the weights, to the rounding constant. See ``store_pixels``.
AVX512 static inline __attribute__((always_inline)) void blend_pixels(
    const Tables *t, const int C, __m512i index, const __m512i top[2], const __m512i bottom[2], __m512i top_weights,
    __m512i bottom_weights, int adjust, __m512 shift, __m512 gain, uint8_t *o, const uint8_t *end, int64_t count) {
    const __mmask64 words = 0x5555555555555555ull;
    const __m512i start = adjust ? _mm512_setzero_si512() : _mm512_set1_epi32(8192);
    __m512i sums[4];
    for (int c = 0; c < C; c++) {
        __m512i channel = _mm512_add_epi32(index, _mm512_set1_epi32(c | (C + c) << 16));
        __m512i upper = _mm512_maskz_permutex2var_epi8(words, top[0], channel, top[1]);
        __m512i lower = _mm512_maskz_permutex2var_epi8(words, bottom[0], channel, bottom[1]);
        sums[c] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(start, upper, top_weights), lower, bottom_weights);
    }
    if (!adjust) {
        for (int c = 0; c < C; c++) sums[c] = _mm512_srli_epi32(sums[c], 14);
    }
    store_pixels(t, C, sums, adjust, _mm512_set1_ps(0x1p-14f), shift, gain, o, end, count);
}

/// The 8 bytes at `offset` in the source (unaligned).
static inline long long tap_pair(const Source *s, int32_t offset) {
    long long bytes;
    memcpy(&bytes, s->base + offset, sizeof bytes);
    return bytes;
}

/// Sixteen pixels at 32-bit positions `xs`, `ys` into `o`, of which the first `count` are wanted;
/// `end` is the end of the output: the store is a whole 64-byte one when it stays before `end`
/// (the bytes past the wanted pixels are written again by the pixels after them), else a masked
/// one of the wanted bytes. Returns 0, writing nothing, when a tap pair's 8-byte read would pass
/// the end of the source. `C` is the channel count, a constant where this is inlined.
AVX512 static inline __attribute__((always_inline)) int vector_pixels(
    const Source *s, const Tables *t, const int C, __m512i xs, __m512i ys, int adjust, __m512 shift, __m512 gain, uint8_t *o,
    const uint8_t *end, int64_t count) {
    const __m512i zero = _mm512_setzero_si512(), low = _mm512_set1_epi32(0xFFFF), w128 = _mm512_set1_epi32(128);
    __m512i cx = _mm512_min_epi32(_mm512_max_epi32(xs, zero), _mm512_set1_epi32((int32_t)s->max_x));
    __m512i cy = _mm512_min_epi32(_mm512_max_epi32(ys, zero), _mm512_set1_epi32((int32_t)s->max_y));
    __m512i ix = _mm512_srli_epi32(cx, 16), iy = _mm512_srli_epi32(cy, 16);
    __mmask16 inside = _mm512_cmpgt_epi32_mask(_mm512_set1_epi32((int32_t)s->last_row), iy);
    __m512i offset = _mm512_add_epi32(_mm512_mullo_epi32(iy, _mm512_set1_epi32((int32_t)s->row_bytes)),
                                      _mm512_mullo_epi32(ix, _mm512_set1_epi32((int32_t)C)));
    __m512i bottom = _mm512_mask_add_epi32(offset, inside, offset, _mm512_set1_epi32((int32_t)s->row_bytes));
    // Each tap pair is one 8-byte read from `offset` and from `bottom`: it must end inside the source.
    if (_mm512_cmpgt_epi32_mask(bottom, _mm512_set1_epi32((int32_t)(s->count - 8))) != 0) return 0;

    // The weights (128 − wx, wx) as a word pair in each pixel's lane, times 128 − wy (top pair)
    // and wy (bottom pair) in both words: at most 128 · 128 = 2¹⁴ each.
    __m512i wx = _mm512_srli_epi32(_mm512_and_si512(cx, low), 9), wy = _mm512_srli_epi32(_mm512_and_si512(cy, low), 9);
    __m512i pair = _mm512_or_si512(_mm512_sub_epi32(w128, wx), _mm512_slli_epi32(wx, 16));
    __m512i upper_y = _mm512_sub_epi32(w128, wy);
    __m512i top_weights = _mm512_mullo_epi16(pair, _mm512_or_si512(upper_y, _mm512_slli_epi32(upper_y, 16)));
    __m512i bottom_weights = _mm512_mullo_epi16(pair, _mm512_or_si512(wy, _mm512_slli_epi32(wy, 16)));

    __attribute__((aligned(64))) int32_t offs[16], bots[16];
    _mm512_store_si512(offs, offset);
    _mm512_store_si512(bots, bottom);
    __m512i top[2], low_taps[2];
    for (int h = 0; h < 2; h++) {
        const int32_t *f = offs + 8 * h, *g = bots + 8 * h;
        top[h] = _mm512_set_epi64(
            tap_pair(s, f[7]), tap_pair(s, f[6]), tap_pair(s, f[5]), tap_pair(s, f[4]),
            tap_pair(s, f[3]), tap_pair(s, f[2]), tap_pair(s, f[1]), tap_pair(s, f[0]));
        low_taps[h] = _mm512_set_epi64(
            tap_pair(s, g[7]), tap_pair(s, g[6]), tap_pair(s, g[5]), tap_pair(s, g[4]),
            tap_pair(s, g[3]), tap_pair(s, g[2]), tap_pair(s, g[1]), tap_pair(s, g[0]));
    }
    blend_pixels(t, C, t->reads, top, low_taps, top_weights, bottom_weights, adjust, shift, gain, o, end, count);
    return 1;
}

/// ``vector_pixels`` for sixteen pixels on a row whose positions share one y (the map's step
/// along a row has no vertical part: a resize, and flips, shifts and zooms without rotation or
/// shear): their taps lie on two source rows within 128 bytes of the leftmost, so each row's are
/// read as two 64-byte loads and `vpermt2b` takes each pixel's pairs from them, instead of 32
/// 8-byte reads. Returns 0, writing nothing, when the pixels' taps span more than the 128 bytes or
/// the reads would pass the end of the source; `x` is the first pixel's position and
/// `lane_x = x + lane · step_x` the sixteen's in 32-bit lanes.
AVX512 static inline __attribute__((always_inline)) int aligned_pixels(
    const Source *s, const Tables *t, const int C, int64_t x, int64_t y, int64_t step_x, __m512i lane_x, int adjust,
    __m512 shift, __m512 gain, uint8_t *o, const uint8_t *end, int64_t count) {
    const int64_t first = x < 0 ? 0 : (x > s->max_x ? s->max_x : x);
    const int64_t x_last = x + (count - 1) * step_x, last = x_last < 0 ? 0 : (x_last > s->max_x ? s->max_x : x_last);
    const int64_t left = (first < last ? first : last) >> 16, right = (first < last ? last : first) >> 16;
    if ((right - left + 2) * C > 128) return 0;
    const int64_t cy = y < 0 ? 0 : (y > s->max_y ? s->max_y : y), iy = cy >> 16;
    const int64_t dy = iy < s->last_row ? s->row_bytes : 0, start = iy * s->row_bytes + left * C;
    if (start + dy + 128 > s->count) return 0;

    const __m512i zero = _mm512_setzero_si512(), low = _mm512_set1_epi32(0xFFFF), w128 = _mm512_set1_epi32(128);
    __m512i cx = _mm512_min_epi32(_mm512_max_epi32(lane_x, zero), _mm512_set1_epi32((int32_t)s->max_x));
    // Each pixel's byte offset in the stretch, in both words of its lane (bytes 0 and 2 pick p00
    // and p01 once the channel is added). Lanes past `count` may hold anything: they are not kept.
    __m512i relative = _mm512_mullo_epi32(_mm512_sub_epi32(_mm512_srli_epi32(cx, 16), _mm512_set1_epi32((int32_t)left)),
                                          _mm512_set1_epi32((int32_t)C));
    __m512i index = _mm512_add_epi32(relative, _mm512_slli_epi32(relative, 16));
    __m512i wx = _mm512_srli_epi32(_mm512_and_si512(cx, low), 9);
    __m512i pair = _mm512_or_si512(_mm512_sub_epi32(w128, wx), _mm512_slli_epi32(wx, 16));
    const int32_t wy = weight(cy);
    __m512i top_weights = _mm512_mullo_epi16(pair, _mm512_set1_epi32((128 - wy) * 0x10001));
    __m512i bottom_weights = _mm512_mullo_epi16(pair, _mm512_set1_epi32(wy * 0x10001));

    const uint8_t *p = s->base + start;
    const __m512i top[2] = {_mm512_loadu_si512(p), _mm512_loadu_si512(p + 64)};
    const __m512i bottom[2] = {_mm512_loadu_si512(p + dy), _mm512_loadu_si512(p + dy + 64)};
    blend_pixels(t, C, index, top, bottom, top_weights, bottom_weights, adjust, shift, gain, o, end, count);
    return 1;
}

/// Sixteen nearest pixels at 32-bit positions `xs`, `ys` into `o` (the Swift sampler's
/// `nearest(x, y)` with fill `nearest`: the source pixel ⌊x + ½⌋, ⌊y + ½⌋ clamped to the image),
/// as ``vector_pixels``: each pixel one 4-byte read, gathered. Returns 0, writing nothing, when a
/// read would pass the end of the source.
AVX512 static inline __attribute__((always_inline)) int nearest_pixels(
    const Source *s, const Tables *t, const int C, __m512i xs, __m512i ys, int adjust, __m512 shift, __m512 gain, uint8_t *o,
    const uint8_t *end, int64_t count) {
    const __m512i zero = _mm512_setzero_si512(), low = _mm512_set1_epi32(0xFFFF);
    // ⌊(x + 2¹⁵) / 2¹⁶⌋ without the sum, which could leave 32 bits: ⌊x / 2¹⁶⌋ + (fraction ≥ ½).
    __m512i ix = _mm512_add_epi32(_mm512_srai_epi32(xs, 16), _mm512_srli_epi32(_mm512_and_si512(xs, low), 15));
    __m512i iy = _mm512_add_epi32(_mm512_srai_epi32(ys, 16), _mm512_srli_epi32(_mm512_and_si512(ys, low), 15));
    ix = _mm512_min_epi32(_mm512_max_epi32(ix, zero), _mm512_set1_epi32((int32_t)s->last_column));
    iy = _mm512_min_epi32(_mm512_max_epi32(iy, zero), _mm512_set1_epi32((int32_t)s->last_row));
    __m512i offset = _mm512_add_epi32(_mm512_mullo_epi32(iy, _mm512_set1_epi32((int32_t)s->row_bytes)),
                                      _mm512_mullo_epi32(ix, _mm512_set1_epi32((int32_t)C)));
    if (_mm512_cmpgt_epi32_mask(offset, _mm512_set1_epi32((int32_t)(s->count - 4))) != 0) return 0;
    __m512i pixels = _mm512_i32gather_epi32(offset, s->base, 1);
    if (!adjust) {
        store_bytes(_mm512_permutexvar_epi8(t->nearest, pixels), C, o, end, count);
    } else {
        __m512i values[4];
        for (int c = 0; c < C; c++) values[c] = _mm512_and_si512(_mm512_srli_epi32(pixels, 8 * c), _mm512_set1_epi32(0xFF));
        store_pixels(t, C, values, adjust, _mm512_set1_ps(1.0f), shift, gain, o, end, count);
    }
    return 1;
}

// MARK: - The image

/// One pixel in scalar form: ``scalar_nearest`` when `nearest`, else ``scalar_pixel``.
static inline void scalar(const Source *s, int nearest, int64_t x, int64_t y, int adjust, float shift, float gain, uint8_t *o) {
    if (nearest) {
        scalar_nearest(s, x, y, adjust, shift, gain, o);
    } else {
        scalar_pixel(s, x, y, adjust, shift, gain, o);
    }
}

/// The whole image with `C` channels, bilinear or (`nearest`) nearest: both constants where this
/// is inlined.
AVX512 static inline __attribute__((always_inline)) void image(
    const Source s, const int C, const int nearest, const double map[6], uint8_t *output, int64_t output_width,
    int64_t output_height, int adjust_color, float shift, float gain) {
    const double limit_x = (double)(s.last_column + 1 + 16384), limit_y = (double)(s.last_row + 1 + 16384);
    const int64_t step_x = fixed_point(map[0], limit_x / (double)output_width);
    const int64_t step_y = fixed_point(map[3], limit_y / (double)output_width);
    // Lanes hold 32-bit positions and offsets: the vector step needs the source's offsets to fit.
    const int vectors = s.count < INT32_MAX && s.max_x <= INT32_MAX && s.max_y <= INT32_MAX;
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane_step_x = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int32_t)step_x));
    const __m512i lane_step_y = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int32_t)step_y));
    const __m512 shift_v = _mm512_set1_ps(shift), gain_v = _mm512_set1_ps(gain);
    const Tables tables = tables_for(C);
    const uint8_t *end = output + output_width * output_height * C;
    // Rows along which y does not move take their taps from two stretches of source rows.
    const int aligned = !nearest && step_y == 0;
    for (int64_t row = 0; row < output_height; row++) {
        uint8_t *o = output + row * output_width * C;
        int64_t x = fixed_point(map[1] * (double)row + map[2], limit_x);
        int64_t y = fixed_point(map[4] * (double)row + map[5], limit_y);
        int64_t column = 0;
        // (The lanes' offsets k·step may wrap; the sums are exact modulo 2³², so they are exact.)
        if (vectors && row_in_range(x, y, step_x, step_y, output_width)) {
            // Sixteen at a time, the last step taking what is left of the row.
            for (; column < output_width; column += 16) {
                const int64_t count = output_width - column < 16 ? output_width - column : 16;
                __m512i xs = _mm512_add_epi32(_mm512_set1_epi32((int32_t)x), lane_step_x);
                __m512i ys = _mm512_add_epi32(_mm512_set1_epi32((int32_t)y), lane_step_y);
                const int done = nearest
                    ? nearest_pixels(&s, &tables, C, xs, ys, adjust_color, shift_v, gain_v, o, end, count)
                    : (aligned && aligned_pixels(&s, &tables, C, x, y, step_x, xs, adjust_color, shift_v, gain_v, o, end, count))
                        || vector_pixels(&s, &tables, C, xs, ys, adjust_color, shift_v, gain_v, o, end, count);
                for (int k = 0; !done && k < count; k++) {
                    scalar(&s, nearest, x + k * step_x, y + k * step_y, adjust_color, shift, gain, o + k * C);
                }
                x += 16 * step_x;
                y += 16 * step_y;
                o += 16 * C;
            }
        }
        for (; column < output_width; column++) {
            scalar(&s, nearest, x, y, adjust_color, shift, gain, o);
            x += step_x;
            y += step_y;
            o += C;
        }
    }
}

AVX512 void dp_bilinear_clamped_avx512(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain) {
    const Source s = make_source(source, source_width, source_height, source_count, channels);
    switch (channels) {
    case 1: image(s, 1, 0, map, output, output_width, output_height, adjust_color, shift, gain); break;
    case 3: image(s, 3, 0, map, output, output_width, output_height, adjust_color, shift, gain); break;
    default: image(s, 4, 0, map, output, output_width, output_height, adjust_color, shift, gain); break;
    }
}

AVX512 void dp_nearest_clamped_avx512(
    const uint8_t *source, int64_t source_width, int64_t source_height, int64_t source_count, int64_t channels,
    const double map[6], uint8_t *output, int64_t output_width, int64_t output_height,
    int adjust_color, float shift, float gain) {
    const Source s = make_source(source, source_width, source_height, source_count, channels);
    switch (channels) {
    case 1: image(s, 1, 1, map, output, output_width, output_height, adjust_color, shift, gain); break;
    case 3: image(s, 3, 1, map, output, output_width, output_height, adjust_color, shift, gain); break;
    default: image(s, 4, 1, map, output, output_width, output_height, adjust_color, shift, gain); break;
    }
}
