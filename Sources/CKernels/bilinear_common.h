// What the AVX2 and AVX-512 builds of the bilinear loop share: the source's geometry, the 16.16
// positions, and the scalar form of the arithmetic (the Swift sampler's, byte for byte), which
// both run for the pixels a vector step cannot take. Internal to CKernels.
#ifndef DATAPREP_BILINEAR_COMMON_H
#define DATAPREP_BILINEAR_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>

// Same bytes as the Swift sampler: no fused multiply-add in any file that includes this one.
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

typedef struct {
    const uint8_t *base;
    int64_t channels, row_bytes, last_column, last_row, max_x, max_y, count;
} Source;

static inline Source make_source(const uint8_t *source, int64_t width, int64_t height, int64_t count, int64_t channels) {
    const Source s = {
        .base = source, .channels = channels, .row_bytes = width * channels,
        .last_column = width - 1, .last_row = height - 1,
        .max_x = (width - 1) << 16, .max_y = (height - 1) << 16, .count = count,
    };
    return s;
}

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

/// The bilinear weight of the right-hand (or lower) taps at a 16.16 position: its fraction in
/// 128ths, 0…127.
static inline int32_t weight(int64_t position) { return (int32_t)((position & 0xFFFF) >> 9); }

/// `clamp(clamp(v + shift, 0, 255) · gain, 0, 255)` rounded half up, for the bilinear sum `sum`
/// (`v = sum / 2¹⁴`, exact in float).
static inline uint8_t adjusted_byte(int32_t sum, float shift, float gain) {
    return rounded_byte(adjusted((float)sum * 0x1p-14f, shift, gain));
}

/// One output pixel: the Swift sampler's `bilinear(x, y)` with fill `nearest`, byte loads.
static inline void scalar_pixel(const Source *s, int64_t x, int64_t y, int adjust, float shift, float gain, uint8_t *o) {
    int64_t cx = x < 0 ? 0 : (x > s->max_x ? s->max_x : x);
    int64_t cy = y < 0 ? 0 : (y > s->max_y ? s->max_y : y);
    int64_t ix = cx >> 16, iy = cy >> 16;
    int64_t dx = ix < s->last_column ? s->channels : 0, dy = iy < s->last_row ? s->row_bytes : 0;
    const uint8_t *p = s->base + iy * s->row_bytes + ix * s->channels;
    int32_t wx = weight(cx), wy = weight(cy);
    for (int64_t c = 0; c < s->channels; c++) {
        int32_t upper = p[c] * (128 - wx) + p[dx + c] * wx, lower = p[dy + c] * (128 - wx) + p[dy + dx + c] * wx;
        int32_t sum = upper * (128 - wy) + lower * wy;
        o[c] = adjust ? adjusted_byte(sum, shift, gain) : (uint8_t)((sum + 8192) >> 14);
    }
}

/// One output pixel: the Swift sampler's `nearest(x, y)` with fill `nearest` (the pixel
/// `⌊x + ½⌋, ⌊y + ½⌋` clamped to the image), through the colour when `adjust`.
static inline void scalar_nearest(const Source *s, int64_t x, int64_t y, int adjust, float shift, float gain, uint8_t *o) {
    int64_t ix = (x + 0x8000) >> 16, iy = (y + 0x8000) >> 16;
    ix = ix < 0 ? 0 : (ix > s->last_column ? s->last_column : ix);
    iy = iy < 0 ? 0 : (iy > s->last_row ? s->last_row : iy);
    const uint8_t *p = s->base + iy * s->row_bytes + ix * s->channels;
    for (int64_t c = 0; c < s->channels; c++) o[c] = adjust ? rounded_byte(adjusted((float)p[c], shift, gain)) : p[c];
}

/// Whether a row's positions, from `(x, y)` stepping `(step_x, step_y)` for `width` pixels, all
/// fit 32-bit lanes: they are linear, so both ends in range puts every one there.
static inline int row_in_range(int64_t x, int64_t y, int64_t step_x, int64_t step_y, int64_t width) {
    const int64_t x_end = x + (width - 1) * step_x, y_end = y + (width - 1) * step_y;
    return x >= INT32_MIN && x <= INT32_MAX && x_end >= INT32_MIN && x_end <= INT32_MAX
        && y >= INT32_MIN && y <= INT32_MAX && y_end >= INT32_MIN && y_end <= INT32_MAX;
}

#endif
