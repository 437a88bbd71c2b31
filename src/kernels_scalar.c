/* kernels_scalar.c: the reference kernels (see kernels.h). Plain C with a
 * fixed operation order; the SIMD kernels are checked against these. */
#include <math.h>
#include <string.h>

#include "f16.h"
#include "kernels.h"

static void quantize_act(const float *x, int32_t n, int32_t cols, sw_qact *q) {
    int32_t nb = cols / SW_QK;
    for (int32_t t = 0; t < n; t++) {
        for (int32_t b = 0; b < nb; b++) {
            const float *xb = x + (size_t)t * cols + (size_t)b * SW_QK;
            int8_t *qb = q->qs + (size_t)t * cols + (size_t)b * SW_QK;
            float am = 0.0f;
            for (int j = 0; j < SW_QK; j++) am = fmaxf(am, fabsf(xb[j]));
            float d = am / 127.0f, id = d != 0.0f ? 127.0f / am : 0.0f;
            int32_t sum = 0;
            for (int j = 0; j < SW_QK; j++) {
                int v = (int)lrintf(xb[j] * id);
                qb[j] = (int8_t)v;
                sum += v;
            }
            q->d[(size_t)t * nb + b] = d;
            q->sums[(size_t)t * nb + b] = sum;
        }
    }
    q->cols = cols;
}

/* One row of q4 weights against one token's quantized activations. */
static float row_q4(const sw_block_q4 *w, const uint16_t *ws, const int8_t *x, const float *xd, const int32_t *xs,
                    int32_t nb) {
    float acc = 0.0f;
    for (int32_t b = 0; b < nb; b++) {
        const uint8_t *qs = w[b].qs;
        const int8_t *xb = x + (size_t)b * SW_QK;
        int32_t s = 0;
        for (int j = 0; j < SW_QK / 2; j++) s += (qs[j] & 0x0f) * xb[j] + (qs[j] >> 4) * xb[j + 16];
        s -= 8 * xs[b]; /* nibble n stands for n - 8 */
        acc += (float)s * (sw_f16_to_f32(ws[b]) * xd[b]);
    }
    return acc;
}

static float row_q8(const sw_block_q8 *w, const uint16_t *ws, const int8_t *x, const float *xd, int32_t nb) {
    float acc = 0.0f;
    for (int32_t b = 0; b < nb; b++) {
        const int8_t *xb = x + (size_t)b * SW_QK;
        int32_t s = 0;
        for (int j = 0; j < SW_QK; j++) s += w[b].qs[j] * xb[j];
        acc += (float)s * (sw_f16_to_f32(ws[b]) * xd[b]);
    }
    return acc;
}

static float row_f16(const uint16_t *w, const float *x, int32_t n) {
    float acc = 0.0f;
    for (int32_t i = 0; i < n; i++) acc += sw_f16_to_f32(w[i]) * x[i];
    return acc;
}

static float row_f32(const float *w, const float *x, int32_t n) {
    float acc = 0.0f;
    for (int32_t i = 0; i < n; i++) acc += w[i] * x[i];
    return acc;
}

static void matmul(const sw_wmat *w, const float *x, const sw_qact *q, int32_t n, float *y, int32_t ldy, int32_t r0,
                   int32_t r1) {
    int32_t cols = w->cols, nb = cols / SW_QK;
    for (int32_t r = r0; r < r1; r++) {
        for (int32_t t = 0; t < n; t++) {
            float v;
            switch (w->type) {
            case SW_DTYPE_Q4:
                v = row_q4((const sw_block_q4 *)w->data + (size_t)r * nb, w->scales + (size_t)r * nb,
                           q->qs + (size_t)t * cols, q->d + (size_t)t * nb, q->sums + (size_t)t * nb, nb);
                break;
            case SW_DTYPE_Q8:
                v = row_q8((const sw_block_q8 *)w->data + (size_t)r * nb, w->scales + (size_t)r * nb,
                           q->qs + (size_t)t * cols, q->d + (size_t)t * nb, nb);
                break;
            case SW_DTYPE_F16:
                v = row_f16((const uint16_t *)w->data + (size_t)r * cols, x + (size_t)t * cols, cols);
                break;
            default:
                v = row_f32((const float *)w->data + (size_t)r * cols, x + (size_t)t * cols, cols);
                break;
            }
            y[(size_t)t * ldy + r] = v;
        }
    }
}

static void rmsnorm(float *y, const float *x, const float *weight, int32_t n, float eps) {
    float ss = 0.0f;
    for (int32_t i = 0; i < n; i++) ss += x[i] * x[i];
    float s = 1.0f / sqrtf(ss / (float)n + eps);
    for (int32_t i = 0; i < n; i++) y[i] = x[i] * s * weight[i];
}

static void swiglu(float *out, const float *gate, const float *up, int32_t n) {
    for (int32_t i = 0; i < n; i++) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static float dot(const float *a, const float *b, int32_t n) {
    float s = 0.0f;
    for (int32_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void axpy(float *y, float a, const float *x, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] += a * x[i];
}

static const sw_kernels k_scalar = {"scalar", quantize_act, matmul, rmsnorm, swiglu, dot, axpy};

const sw_kernels *sw_kernels_scalar(void) { return &k_scalar; }

#ifndef __wasm_simd128__
const sw_kernels *sw_kernels_best(void) { return &k_scalar; }
#endif
