/* kernels_scalar.c: the reference kernels (see kernels.h). Plain C with a
 * fixed operation order; the SIMD kernels are checked against these. */
#include <math.h>
#include <string.h>

#include "f16.h"
#include "expf.h"
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

/* Summation order. Every float sum here runs in a fixed order that the SIMD
 * kernels (kernels_simd128.c) follow lane for lane, so both give bit-identical
 * results and the WebAssembly build's greedy tokens equal the native build's:
 *   blocked rows (q4/q8): four partial sums, block b into partial b % 4, over
 *     the groups of four blocks; then (p0 + p2) + (p1 + p3); then the blocks
 *     left over one by one;
 *   float rows (f16/f32 weights, dot, sum of squares): eight partial sums,
 *     element i into partial i % 8, over the groups of eight; then
 *     q_k = p_k + p_(k+4), (q0 + q2) + (q1 + q3); then the elements left over.
 * Integer block sums are exact in any order. */

static float combine4(const float p[4]) { return (p[0] + p[2]) + (p[1] + p[3]); }

/* One q4 block's integer dot product with its -8 offset. */
static int32_t block_q4(const uint8_t *qs, const int8_t *xb, int32_t xsum) {
    int32_t s = 0;
    for (int j = 0; j < SW_QK / 2; j++) s += (qs[j] & 0x0f) * xb[j] + (qs[j] >> 4) * xb[j + 16];
    return s - 8 * xsum; /* nibble n stands for n - 8 */
}

/* One row of q4 weights against one token's quantized activations. */
static float row_q4(const sw_block_q4 *w, const uint16_t *ws, const int8_t *x, const float *xd, const int32_t *xs,
                    int32_t nb) {
    float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int32_t b = 0;
    for (; b + 4 <= nb; b += 4)
        for (int j = 0; j < 4; j++)
            p[j] += (float)block_q4(w[b + j].qs, x + (size_t)(b + j) * SW_QK, xs[b + j]) *
                    (sw_f16_to_f32(ws[b + j]) * xd[b + j]);
    float acc = combine4(p);
    for (; b < nb; b++)
        acc += (float)block_q4(w[b].qs, x + (size_t)b * SW_QK, xs[b]) * (sw_f16_to_f32(ws[b]) * xd[b]);
    return acc;
}

static int32_t block_q8(const int8_t *w, const int8_t *xb) {
    int32_t s = 0;
    for (int j = 0; j < SW_QK; j++) s += w[j] * xb[j];
    return s;
}

static float row_q8(const sw_block_q8 *w, const uint16_t *ws, const int8_t *x, const float *xd, int32_t nb) {
    float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int32_t b = 0;
    for (; b + 4 <= nb; b += 4)
        for (int j = 0; j < 4; j++)
            p[j] += (float)block_q8(w[b + j].qs, x + (size_t)(b + j) * SW_QK) * (sw_f16_to_f32(ws[b + j]) * xd[b + j]);
    float acc = combine4(p);
    for (; b < nb; b++) acc += (float)block_q8(w[b].qs, x + (size_t)b * SW_QK) * (sw_f16_to_f32(ws[b]) * xd[b]);
    return acc;
}

/* The eight partial sums of a float row, combined (see the order above). */
static float combine8(const float p[8]) {
    float q[4];
    for (int k = 0; k < 4; k++) q[k] = p[k] + p[k + 4];
    return combine4(q);
}

static float row_f16(const uint16_t *w, const float *x, int32_t n) {
    float p[8] = {0};
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) p[k] += sw_f16_to_f32(w[i + k]) * x[i + k];
    float acc = combine8(p);
    for (; i < n; i++) acc += sw_f16_to_f32(w[i]) * x[i];
    return acc;
}

static float row_f32(const float *w, const float *x, int32_t n) {
    float p[8] = {0};
    int32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) p[k] += w[i + k] * x[i + k];
    float acc = combine8(p);
    for (; i < n; i++) acc += w[i] * x[i];
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
    float ss = row_f32(x, x, n);
    float s = 1.0f / sqrtf(ss / (float)n + eps);
    for (int32_t i = 0; i < n; i++) y[i] = x[i] * s * weight[i];
}

static void swiglu(float *out, const float *gate, const float *up, int32_t n) {
    for (int32_t i = 0; i < n; i++) out[i] = gate[i] / (1.0f + sw_expf(-gate[i])) * up[i];
}

static void axpy(float *y, float a, const float *x, int32_t n) {
    for (int32_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void attn_scores(const float *q, const float *k, size_t k_stride, int32_t n_pos, int32_t hd, float scale,
                        float *sc) {
    for (int32_t p = 0; p < n_pos; p++) sc[p] = row_f32(q, k + (size_t)p * k_stride, hd) * scale;
}

static void attn_values(const float *w, const float *v, size_t v_stride, int32_t n_pos, int32_t hd, float *out) {
    for (int32_t i = 0; i < hd; i++) out[i] = 0.0f;
    for (int32_t p = 0; p < n_pos; p++) axpy(out, w[p], v + (size_t)p * v_stride, hd);
}

static void attn_scores_f16(const float *q, const uint16_t *k, size_t k_stride, int32_t n_pos, int32_t hd,
                            float scale, float *sc) {
    for (int32_t p = 0; p < n_pos; p++) sc[p] = row_f16(k + (size_t)p * k_stride, q, hd) * scale;
}

static void attn_values_f16(const float *w, const uint16_t *v, size_t v_stride, int32_t n_pos, int32_t hd,
                            float *out) {
    for (int32_t i = 0; i < hd; i++) out[i] = 0.0f;
    for (int32_t p = 0; p < n_pos; p++) {
        const uint16_t *vp = v + (size_t)p * v_stride;
        for (int32_t i = 0; i < hd; i++) out[i] += w[p] * sw_f16_to_f32(vp[i]);
    }
}

static void softmax(float *x, int32_t n) {
    float mx = x[0];
    for (int32_t i = 1; i < n; i++) mx = mx < x[i] ? x[i] : mx;
    float p[4] = {0};
    int32_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            x[i + k] = sw_expf(x[i + k] - mx);
            p[k] += x[i + k];
        }
    float sum = combine4(p);
    for (; i < n; i++) {
        x[i] = sw_expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (i = 0; i < n; i++) x[i] *= inv;
}

static const sw_kernels k_scalar = {
    "scalar", quantize_act, matmul, rmsnorm, swiglu, row_f32, axpy, attn_scores, attn_values, attn_scores_f16,
    attn_values_f16, softmax};

const sw_kernels *sw_kernels_scalar(void) { return &k_scalar; }

#ifndef __wasm_simd128__
const sw_kernels *sw_kernels_best(void) { return &k_scalar; }
#endif
