/* quant.c: scalar reference quantizers and dequantizers (the specification the
 * SIMD kernels are checked against). Formats are described in quant.h. */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "f16.h"

static const char *const k_names[SW_DTYPE_COUNT_] = {"f32", "f16", "q8", "q4"};

const char *sw_dtype_name(sw_dtype t) {
    return (t >= 0 && t < SW_DTYPE_COUNT_) ? k_names[t] : NULL;
}

int sw_dtype_from_name(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < SW_DTYPE_COUNT_; i++)
        if (strcmp(name, k_names[i]) == 0) return i;
    return -1;
}

int sw_dtype_is_blocked(sw_dtype t) { return t == SW_DTYPE_Q8 || t == SW_DTYPE_Q4; }

double sw_dtype_bits_per_weight(sw_dtype t) {
    switch (t) {
    case SW_DTYPE_F32: return 32.0;
    case SW_DTYPE_F16: return 16.0;
    case SW_DTYPE_Q8: return (32.0 + 2.0) * 8.0 / SW_QK;
    case SW_DTYPE_Q4: return (16.0 + 2.0) * 8.0 / SW_QK;
    default: return 0.0;
    }
}

static uint64_t block_bytes(sw_dtype t) {
    return t == SW_DTYPE_Q8 ? sizeof(sw_block_q8) : sizeof(sw_block_q4);
}

uint64_t sw_tensor_bytes(sw_dtype t, uint64_t rows, uint64_t cols) {
    if (rows == 0 || cols == 0) return 0;
    if (rows > (UINT64_C(1) << 32) || cols > (UINT64_C(1) << 32)) return 0;
    uint64_t n = rows * cols; /* < 2^64 by the bounds above */
    switch (t) {
    case SW_DTYPE_F32: return n * 4;
    case SW_DTYPE_F16: return n * 2;
    case SW_DTYPE_Q8:
    case SW_DTYPE_Q4:
        if (cols % SW_QK) return 0;
        return (n / SW_QK) * (block_bytes(t) + 2);
    default: return 0;
    }
}

/* Squared error of a q4 block coded with f16 scale h. */
static float q4_block_error(const float *x, uint16_t h) {
    float d = sw_f16_to_f32(h), id = d != 0.0f ? 1.0f / d : 0.0f, e = 0.0f;
    for (int j = 0; j < SW_QK; j++) {
        float q = roundf(x[j] * id);
        q = q < -8.0f ? -8.0f : (q > 7.0f ? 7.0f : q);
        float r = x[j] - q * d;
        e += r * r;
    }
    return e;
}

/* Picks the f16 scale with the least squared error among candidates: the
 * extreme weight mapped to -8 (llama.cpp Q4_0's choice) or just inside the
 * range, each followed by a least-squares refit of the scale. */
static uint16_t q4_block_scale(const float *x) {
    float m = 0.0f, am = 0.0f;
    for (int j = 0; j < SW_QK; j++) {
        float a = fabsf(x[j]);
        if (a > am) { am = a; m = x[j]; }
    }
    if (am == 0.0f) return 0;
    static const float divs[] = {-8.0f, -7.75f, -7.5f, -7.25f, -7.0f, 7.0f, 7.5f};
    uint16_t best = sw_f32_to_f16(m / -8.0f);
    float best_e = q4_block_error(x, best);
    for (size_t c = 0; c < sizeof divs / sizeof divs[0]; c++) {
        float d = m / divs[c];
        for (int pass = 0; pass < 2; pass++) {
            uint16_t h = sw_f32_to_f16(d);
            float e = q4_block_error(x, h);
            if (e < best_e) { best_e = e; best = h; }
            /* refit: d = <x, q> / <q, q> with q fixed */
            float hd = sw_f16_to_f32(h), id = hd != 0.0f ? 1.0f / hd : 0.0f, xq = 0.0f, qq = 0.0f;
            for (int j = 0; j < SW_QK; j++) {
                float q = roundf(x[j] * id);
                q = q < -8.0f ? -8.0f : (q > 7.0f ? 7.0f : q);
                xq += x[j] * q;
                qq += q * q;
            }
            if (qq == 0.0f) break;
            d = xq / qq;
        }
    }
    return best;
}

static void quantize_q4_block(const float *x, sw_block_q4 *b, uint16_t *scale) {
    uint16_t h = q4_block_scale(x);
    float d = sw_f16_to_f32(h), id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t n[SW_QK];
    for (int j = 0; j < SW_QK; j++) {
        float q = roundf(x[j] * id);
        q = q < -8.0f ? -8.0f : (q > 7.0f ? 7.0f : q);
        n[j] = (uint8_t)((int)q + 8);
    }
    for (int j = 0; j < SW_QK / 2; j++) b->qs[j] = (uint8_t)(n[j] | (n[j + 16] << 4));
    *scale = h;
}

static void quantize_q8_block(const float *x, sw_block_q8 *b, uint16_t *scale) {
    float am = 0.0f;
    for (int j = 0; j < SW_QK; j++) am = fmaxf(am, fabsf(x[j]));
    uint16_t h = sw_f32_to_f16(am / 127.0f);
    float d = sw_f16_to_f32(h), id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < SW_QK; j++) {
        float q = roundf(x[j] * id);
        q = q < -127.0f ? -127.0f : (q > 127.0f ? 127.0f : q);
        b->qs[j] = (int8_t)q;
    }
    *scale = h;
}

void sw_quantize_row(sw_dtype t, const float *x, int64_t n, void *qs, uint16_t *scales) {
    switch (t) {
    case SW_DTYPE_F32: memcpy(qs, x, (size_t)n * sizeof(float)); break;
    case SW_DTYPE_F16: {
        uint16_t *o = qs;
        for (int64_t i = 0; i < n; i++) o[i] = sw_f32_to_f16(x[i]);
        break;
    }
    case SW_DTYPE_Q8: {
        sw_block_q8 *b = qs;
        for (int64_t i = 0; i < n / SW_QK; i++) quantize_q8_block(x + i * SW_QK, b + i, scales + i);
        break;
    }
    case SW_DTYPE_Q4: {
        sw_block_q4 *b = qs;
        for (int64_t i = 0; i < n / SW_QK; i++) quantize_q4_block(x + i * SW_QK, b + i, scales + i);
        break;
    }
    default: break;
    }
}

void sw_dequantize_row(sw_dtype t, const void *qs, const uint16_t *scales, int64_t n, float *y) {
    switch (t) {
    case SW_DTYPE_F32: memcpy(y, qs, (size_t)n * sizeof(float)); break;
    case SW_DTYPE_F16: {
        const uint16_t *h = qs;
        for (int64_t i = 0; i < n; i++) y[i] = sw_f16_to_f32(h[i]);
        break;
    }
    case SW_DTYPE_Q8: {
        const sw_block_q8 *b = qs;
        for (int64_t i = 0; i < n / SW_QK; i++) {
            float d = sw_f16_to_f32(scales[i]);
            for (int j = 0; j < SW_QK; j++) y[i * SW_QK + j] = (float)b[i].qs[j] * d;
        }
        break;
    }
    case SW_DTYPE_Q4: {
        const sw_block_q4 *b = qs;
        for (int64_t i = 0; i < n / SW_QK; i++) {
            float d = sw_f16_to_f32(scales[i]);
            float *o = y + i * SW_QK;
            for (int j = 0; j < SW_QK / 2; j++) {
                o[j] = (float)((b[i].qs[j] & 0x0f) - 8) * d;
                o[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
            }
        }
        break;
    }
    default: break;
    }
}

/* Byte offset of row r's blocks, and of its scales, in a blocked tensor. */
static void blocked_row(sw_dtype t, int64_t rows, int64_t cols, int64_t r, size_t *qs_off, size_t *sc_off) {
    size_t nb = (size_t)(cols / SW_QK);
    *qs_off = (size_t)r * nb * block_bytes(t);
    *sc_off = (size_t)rows * nb * block_bytes(t) + (size_t)r * nb * 2;
}

void sw_quantize_tensor(sw_dtype t, const float *x, int64_t rows, int64_t cols, void *dst) {
    uint8_t *base = dst;
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        if (sw_dtype_is_blocked(t)) {
            size_t qo, so;
            blocked_row(t, rows, cols, r, &qo, &so);
            sw_quantize_row(t, row, cols, base + qo, (uint16_t *)(void *)(base + so));
        } else {
            size_t es = t == SW_DTYPE_F32 ? 4 : 2;
            sw_quantize_row(t, row, cols, base + (size_t)r * (size_t)cols * es, NULL);
        }
    }
}

void sw_dequantize_tensor_row(sw_dtype t, const void *src, int64_t rows, int64_t cols, int64_t r, float *y) {
    const uint8_t *base = src;
    if (sw_dtype_is_blocked(t)) {
        size_t qo, so;
        blocked_row(t, rows, cols, r, &qo, &so);
        sw_dequantize_row(t, base + qo, (const uint16_t *)(const void *)(base + so), cols, y);
    } else {
        size_t es = t == SW_DTYPE_F32 ? 4 : 2;
        sw_dequantize_row(t, base + (size_t)r * (size_t)cols * es, NULL, cols, y);
    }
}
