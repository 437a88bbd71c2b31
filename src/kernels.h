/* kernels.h: the compute kernels of the forward pass, behind one table.
 *
 * Every kernel has one signature; the scalar versions (kernels_scalar.c) are
 * the specification and the SIMD versions drop in with the same signature.
 * The table is chosen once at model creation; model code has no #ifdef.
 *
 * Matrix products take activations already prepared for the weight type:
 * f32/f16 weights use f32 activations; q4/q8 weights use activations
 * quantized per block of 32 to int8 with one f32 scale (sw_qact), so the inner
 * loop is an exact integer dot product and only the per-block scaling is float. */
#ifndef SW_KERNELS_H
#define SW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

/* A weight matrix: rows x cols (PyTorch [out, in]) viewed in a chunk buffer. */
typedef struct sw_wmat {
    sw_dtype type;
    int32_t rows, cols;
    const void *data;        /* q4/q8: blocks, row-major; f16/f32: values */
    const uint16_t *scales;  /* q4/q8: rows * cols/32 f16 scales; else NULL */
} sw_wmat;

/* Activations of n tokens quantized per block of 32: int8 values and one f32
 * scale per block, plus each block's sum of values (for q4's -8 offset). */
typedef struct sw_qact {
    int8_t *qs;     /* n * cols */
    float *d;       /* n * cols/32 */
    int32_t *sums;  /* n * cols/32 */
    int32_t cols;   /* per token */
    /* n * cols: the same values widened to int16 for the SIMD q4 kernel, each
     * block of 32 ordered [x0 x2 .. x14][x1 x3 .. x15][x16 x18 .. x30][x17 .. x31]
     * to match the nibbles of a q4 block read as eight 16-bit lanes. Filled by
     * the kernels that use it (SIMD128); the scalar kernels leave it alone. */
    int16_t *x16;
} sw_qact;

typedef struct sw_kernels {
    const char *name;
    /* Quantizes n rows of cols floats (cols % 32 == 0) into q. */
    void (*quantize_act)(const float *x, int32_t n, int32_t cols, sw_qact *q);
    /* y[t][r] = sum_c W[r][c] * x[t][c] for rows r in [r0, r1), tokens t < n.
     * x is f32 [n][W.cols] (f32/f16 weights) or q (q4/q8 weights); y is [n][ldy]. */
    void (*matmul)(const sw_wmat *w, const float *x, const sw_qact *q, int32_t n, float *y, int32_t ldy,
                   int32_t r0, int32_t r1);
    /* y = x / sqrt(mean(x^2) + eps) * weight, n elements. */
    void (*rmsnorm)(float *y, const float *x, const float *weight, int32_t n, float eps);
    /* out[i] = silu(gate[i]) * up[i]. */
    void (*swiglu)(float *out, const float *gate, const float *up, int32_t n);
    /* sum_i a[i] * b[i]. */
    float (*dot)(const float *a, const float *b, int32_t n);
    /* y[i] += a * x[i]. */
    void (*axpy)(float *y, float a, const float *x, int32_t n);
    /* Attention scores of one query head: sc[p] = dot(q, k + p * k_stride, hd)
     * * scale for p < n_pos, each dot in dot()'s order. */
    void (*attn_scores)(const float *q, const float *k, size_t k_stride, int32_t n_pos, int32_t hd, float scale,
                        float *sc);
    /* Attention output of one head: out[i] = sum over p = 0, 1, .. n_pos - 1
     * of w[p] * v[p * v_stride + i], accumulated from 0 in that order (the
     * same float operations as zeroing out and calling axpy per position). */
    void (*attn_values)(const float *w, const float *v, size_t v_stride, int32_t n_pos, int32_t hd, float *out);
    /* attn_scores and attn_values over an f16 KV cache: each cached value is
     * widened to f32 exactly (sw_f16_to_f32), then the same float operations
     * in the same order as the f32 kernels on the widened rows. */
    void (*attn_scores_f16)(const float *q, const uint16_t *k, size_t k_stride, int32_t n_pos, int32_t hd,
                            float scale, float *sc);
    void (*attn_values_f16)(const float *w, const uint16_t *v, size_t v_stride, int32_t n_pos, int32_t hd,
                            float *out);
    /* Softmax in place over n > 0 values: x[i] = e^(x[i] - max) / sum, with
     * sw_expf (expf.h) and the sum in four partials (element i into partial
     * i % 4 over the groups of four, then (p0 + p2) + (p1 + p3), then the
     * elements left over), each x then multiplied by 1 / sum. */
    void (*softmax)(float *x, int32_t n);
} sw_kernels;

/* The scalar reference kernels. */
const sw_kernels *sw_kernels_scalar(void);
/* The fastest kernels this build has (SIMD when compiled for it). */
const sw_kernels *sw_kernels_best(void);

#endif
