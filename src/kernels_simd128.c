/* kernels_simd128.c: the kernels of kernels.h in WebAssembly SIMD128.
 *
 * Same signatures and contracts as the scalar reference (kernels_scalar.c).
 * Compiled only for wasm with -msimd128 (__wasm_simd128__), where this file
 * defines sw_kernels_best(); or natively through SIMDe's portable
 * implementation of <wasm_simd128.h> when SW_SIMD128_VIA_SIMDE is defined
 * (CMake -DSMOLWEB_SIMDE=ON), so tests/test_kernels.c can check every kernel
 * against the scalar one without a wasm engine. Elsewhere it is empty.
 *
 * Every result is bit-identical to the scalar kernel's: the scalar kernels
 * fix the order of every float sum (kernels_scalar.c, "Summation order") and
 * the lanes here follow it; quantize_act rounds half to even like lrintf;
 * integer block sums are exact. So the WebAssembly build computes the same
 * logits as the native one.
 *
 * Every loop ends in the scalar kernel's own float expression for what is left over
 * (elements; for blocked matrix products, the 1-3 blocks after the groups of
 * four, whose exact integer sums come from the SIMD block dot product).
 * Hot loops live in small functions called once per row: V8 has no on-stack
 * replacement for wasm, so a long loop inside one call would stay in the
 * baseline tier (research/wasm-feasibility.md, "Important V8 pitfall"). */
#if defined(SW_SIMD128_VIA_SIMDE)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#define SW_HAVE_SIMD128 1
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define SW_HAVE_SIMD128 1
#endif

#ifdef SW_HAVE_SIMD128

#include <math.h>
#include <string.h>

#include "f16.h"
#include "expf.h"
#include "kernels.h"

/* ---- helpers ---- */

static inline float hsum_f32x4(v128_t v) {
    /* (v0 + v2) + (v1 + v3), the same order every time */
    v128_t s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}

static inline int32_t hsum_i32x4(v128_t v) {
    v128_t s = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1);
}

/* [sum(a), sum(b), sum(c), sum(d)] of four i32x4 vectors. */
static inline v128_t hsum4_i32x4(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    /* ab = [a0+a2, b0+b2, a1+a3, b1+b3] */
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* Four f16 values (zero-extended in 32-bit lanes) to f32, exact for every
 * input as sw_f16_to_f32: the 15 magnitude bits shifted into an f32's
 * exponent and mantissa and scaled by 2^112 rebias normals and subnormals
 * alike; exponent 31 (inf/NaN) is handled apart. */
static inline v128_t f16x4_to_f32x4(v128_t h) {
    v128_t mag = wasm_v128_and(h, wasm_i32x4_splat(0x7fff));
    v128_t sign = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16);
    v128_t bits = wasm_i32x4_shl(mag, 13);
    v128_t fin = wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
    v128_t inf = wasm_v128_or(bits, wasm_i32x4_splat(0x7f800000));
    v128_t special = wasm_i32x4_ge(mag, wasm_i32x4_splat(0x7c00));
    return wasm_v128_or(wasm_v128_bitselect(inf, fin, special), sign);
}

static inline v128_t load_f16x4(const uint16_t *p) { return f16x4_to_f32x4(wasm_u32x4_load16x4(p)); }

/* Four finite f16 block scales to f32, exact (sw_f16_to_f32's value): the
 * sign-extended half shifted so its sign lands in bit 31 and its exponent
 * and mantissa in an f32's low exponent bits and mantissa, scaled by 2^112
 * (normals and subnormals alike). Three integer ops and a multiply instead
 * of f16x4_to_f32x4's nine: in decode the scale conversion took 17-20% of
 * the q4 matrix products (bench/kernels.c, n=1). Only finite scales: the
 * chunk parser (sw_chunk_parse) refuses an infinite or NaN block scale, so
 * blocked weights never reach here with one. */
static inline v128_t load_scales4(const uint16_t *p) {
    v128_t h = wasm_i32x4_load16x4((const int16_t *)p);
    v128_t bits = wasm_v128_and(wasm_i32x4_shr(wasm_i32x4_shl(h, 16), 3), wasm_i32x4_splat((int32_t)0x8fffffff));
    return wasm_f32x4_mul(bits, wasm_f32x4_splat(0x1p112f));
}

/* ---- quantize_act ---- */

/* One block of 32 floats to int8 (q) and to int16 in the q4 kernel's order
 * (x16, see sw_qact); returns the block's sum, sets *d. */
static int32_t quantize_block(const float *x, int8_t *q, int16_t *x16, float *d) {
    v128_t v[8];
    v128_t am = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < 8; i++) {
        v[i] = wasm_v128_load(x + 4 * i);
        /* pmax(am, a) = am < a ? a : am: a NaN is ignored, as fmaxf does */
        am = wasm_f32x4_pmax(am, wasm_f32x4_abs(v[i]));
    }
    am = wasm_f32x4_pmax(am, wasm_i32x4_shuffle(am, am, 2, 3, 0, 1));
    float m = fmaxf(wasm_f32x4_extract_lane(am, 0), wasm_f32x4_extract_lane(am, 1));
    float dd = m / 127.0f, id = dd != 0.0f ? 127.0f / m : 0.0f;
    v128_t vid = wasm_f32x4_splat(id);
    v128_t sum = wasm_i32x4_splat(0);
    v128_t i32[8];
    for (int i = 0; i < 8; i++) {
        /* nearest rounds half to even, as lrintf in the default mode */
        i32[i] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[i], vid)));
        sum = wasm_i32x4_add(sum, i32[i]);
    }
    for (int i = 0; i < 2; i++) {
        v128_t lo = wasm_i16x8_narrow_i32x4(i32[4 * i], i32[4 * i + 1]);     /* x[16i .. 16i+7] */
        v128_t hi = wasm_i16x8_narrow_i32x4(i32[4 * i + 2], i32[4 * i + 3]); /* x[16i+8 .. 16i+15] */
        wasm_v128_store(q + 16 * i, wasm_i8x16_narrow_i16x8(lo, hi));
        wasm_v128_store(x16 + 16 * i, wasm_i16x8_shuffle(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14));
        wasm_v128_store(x16 + 16 * i + 8, wasm_i16x8_shuffle(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15));
    }
    *d = dd;
    return hsum_i32x4(sum);
}

static void quantize_act(const float *x, int32_t n, int32_t cols, sw_qact *q) {
    int32_t nb = cols / SW_QK;
    for (int32_t t = 0; t < n; t++) {
        for (int32_t b = 0; b < nb; b++) {
            size_t i = (size_t)t * nb + b;
            q->sums[i] = quantize_block(x + i * SW_QK, q->qs + i * SW_QK, q->x16 + i * SW_QK, &q->d[i]);
        }
    }
    q->cols = cols;
}

/* ---- matmul: integer block dot products ---- */

/* A q4 block's 32 nibbles as four i16x8 vectors, with no byte shifts or
 * widening: read as eight 16-bit lanes, lane k holds w[2k] (bits 0-3),
 * w[2k+16] (4-7), w[2k+1] (8-11) and w[2k+17] (12-15), so masks and 16-bit
 * shifts give n[0] = w[0,2..14], n[1] = w[1,3..15], n[2] = w[16,18..30],
 * n[3] = w[17..31]: the order of sw_qact.x16. */
typedef struct q4_nibbles {
    v128_t n[4];
} q4_nibbles;

static inline q4_nibbles q4_unpack(const uint8_t *qs) {
    v128_t v = wasm_v128_load(qs), m = wasm_i16x8_splat(0x000f);
    q4_nibbles r;
    r.n[0] = wasm_v128_and(v, m);
    r.n[1] = wasm_v128_and(wasm_u16x8_shr(v, 8), m);
    r.n[2] = wasm_v128_and(wasm_u16x8_shr(v, 4), m);
    r.n[3] = wasm_u16x8_shr(v, 12);
    return r;
}

/* Unpacked nibbles against one block of x16: i32x4 whose lanes sum to
 * sum_j nibble_j * x_j (the -8 offset is applied later through the sums). */
static inline v128_t dot_q4_nibbles(const q4_nibbles *w, const int16_t *x) {
    v128_t a = wasm_i32x4_dot_i16x8(w->n[0], wasm_v128_load(x));
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(w->n[1], wasm_v128_load(x + 8)));
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(w->n[2], wasm_v128_load(x + 16)));
    return wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(w->n[3], wasm_v128_load(x + 24)));
}

static inline v128_t dot_q4_block(const uint8_t *qs, const int16_t *x) {
    q4_nibbles w = q4_unpack(qs);
    return dot_q4_nibbles(&w, x);
}

/* One q8 block against 32 int8 activations (lanes sum to the dot product). */
static inline v128_t dot_q8_block(const int8_t *w, const int8_t *x) {
    v128_t a = wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w), wasm_i16x8_load8x8(x));
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w + 8), wasm_i16x8_load8x8(x + 8)));
    a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w + 16), wasm_i16x8_load8x8(x + 16)));
    return wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w + 24), wasm_i16x8_load8x8(x + 24)));
}

/* Four blocks' float terms s_b * (scale_w_b * d_x_b), as in the scalar kernel. */
static inline v128_t block_terms(v128_t s, const uint16_t *ws, const float *xd) {
    v128_t scale = wasm_f32x4_mul(load_scales4(ws), wasm_v128_load(xd));
    return wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), scale);
}

/* Blocks [b, nb) of a q4 row (the 1-3 left over after groups of four; SmolLM
 * rows of 576 have 18 blocks), added to r block by block with the scalar
 * kernel's float expression; the integer block sums are exact either way. */
static float q4_tail(const sw_block_q4 *w, const uint16_t *ws, const int16_t *x16, const float *xd,
                     const int32_t *xs, int32_t b, int32_t nb, float r) {
    for (; b < nb; b++) {
        int32_t s = hsum_i32x4(dot_q4_block(w[b].qs, x16 + (size_t)b * SW_QK)) - 8 * xs[b];
        r += (float)s * (sw_f16_to_f32(ws[b]) * xd[b]);
    }
    return r;
}

/* Four blocks' integer sums with the -8 offset (nibble n stands for n - 8). */
static inline v128_t q4_offset(v128_t s, const int32_t *xs) {
    return wasm_i32x4_sub(s, wasm_i32x4_shl(wasm_v128_load(xs), 3));
}

/* One q4 row against token t of q (decode: one token). */
static float row_q4(const sw_block_q4 *w, const uint16_t *ws, const sw_qact *q, int32_t t, int32_t nb) {
    const int16_t *x = q->x16 + (size_t)t * q->cols;
    const float *xd = q->d + (size_t)t * nb;
    const int32_t *xs = q->sums + (size_t)t * nb;
    v128_t acc = wasm_f32x4_splat(0.0f);
    int32_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        const int16_t *xb = x + (size_t)b * SW_QK;
        v128_t s = hsum4_i32x4(dot_q4_block(w[b].qs, xb), dot_q4_block(w[b + 1].qs, xb + 32),
                               dot_q4_block(w[b + 2].qs, xb + 64), dot_q4_block(w[b + 3].qs, xb + 96));
        acc = wasm_f32x4_add(acc, block_terms(q4_offset(s, xs + b), ws + b, xd + b));
    }
    return q4_tail(w, ws, x, xd, xs, b, nb, hsum_f32x4(acc));
}

/* Prefill tokens per unpacked q4 block. Measured with bench/kernels.c in
 * Node 20 (16-token batches, 135M shapes): 2 -> 80, 4 -> 55-59, 6 -> 72-88,
 * 8 -> 98-140, 16 -> 111-114 tokens/s; 4 loses to 2 (clang unrolls it into
 * more live vectors than V8 keeps in registers), 8 is the best. */
#ifndef SW_Q4_NT
#define SW_Q4_NT 8
#endif
/* One q4 row against SW_Q4_NT tokens from t0 (prefill): each block is
 * unpacked once and used for every token; per token the arithmetic is row_q4's. */
static void row_q4_multi(const sw_block_q4 *w, const uint16_t *ws, const sw_qact *q, int32_t t0, int32_t nb,
                      float out[SW_Q4_NT]) {
    const int32_t cols = q->cols;
    const int16_t *x = q->x16 + (size_t)t0 * cols;
    v128_t acc[SW_Q4_NT];
    for (int t = 0; t < SW_Q4_NT; t++) acc[t] = wasm_f32x4_splat(0.0f);
    int32_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        v128_t d[SW_Q4_NT][4]; /* [token][block] */
        for (int j = 0; j < 4; j++) {
            q4_nibbles u = q4_unpack(w[b + j].qs);
            for (int t = 0; t < SW_Q4_NT; t++) d[t][j] = dot_q4_nibbles(&u, x + (size_t)t * cols + (size_t)(b + j) * SW_QK);
        }
        for (int t = 0; t < SW_Q4_NT; t++) {
            size_t o = (size_t)(t0 + t) * nb + (size_t)b;
            v128_t s = q4_offset(hsum4_i32x4(d[t][0], d[t][1], d[t][2], d[t][3]), q->sums + o);
            acc[t] = wasm_f32x4_add(acc[t], block_terms(s, ws + b, q->d + o));
        }
    }
    for (int t = 0; t < SW_Q4_NT; t++) {
        size_t o = (size_t)(t0 + t) * nb;
        out[t] = q4_tail(w, ws, x + (size_t)t * cols, q->d + o, q->sums + o, b, nb, hsum_f32x4(acc[t]));
    }
}

static float row_q8(const sw_block_q8 *w, const uint16_t *ws, const int8_t *x, const float *xd, int32_t nb) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    int32_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        const int8_t *xb = x + (size_t)b * SW_QK;
        v128_t s = hsum4_i32x4(dot_q8_block(w[b].qs, xb), dot_q8_block(w[b + 1].qs, xb + 32),
                               dot_q8_block(w[b + 2].qs, xb + 64), dot_q8_block(w[b + 3].qs, xb + 96));
        acc = wasm_f32x4_add(acc, block_terms(s, ws + b, xd + b));
    }
    float r = hsum_f32x4(acc);
    for (; b < nb; b++) { /* blocks left over: the scalar float expression */
        int32_t s = hsum_i32x4(dot_q8_block(w[b].qs, x + (size_t)b * SW_QK));
        r += (float)s * (sw_f16_to_f32(ws[b]) * xd[b]);
    }
    return r;
}

static float row_f16(const uint16_t *w, const float *x, int32_t n) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(load_f16x4(w + i), wasm_v128_load(x + i)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(load_f16x4(w + i + 4), wasm_v128_load(x + i + 4)));
    }
    float acc = hsum_f32x4(wasm_f32x4_add(a0, a1));
    for (; i < n; i++) acc += sw_f16_to_f32(w[i]) * x[i];
    return acc;
}

/* Also dot(): sum_i a[i] * b[i]. */
static float row_f32(const float *w, const float *x, int32_t n) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w + i), wasm_v128_load(x + i)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(w + i + 4), wasm_v128_load(x + i + 4)));
    }
    float acc = hsum_f32x4(wasm_f32x4_add(a0, a1));
    for (; i < n; i++) acc += w[i] * x[i];
    return acc;
}

/* q4 rows [r0, r1) against n tokens: SW_Q4_NT tokens at a time share each
 * unpacked block, the remaining tokens go one by one. */
static void matmul_q4(const sw_wmat *w, const sw_qact *q, int32_t n, float *y, int32_t ldy, int32_t r0, int32_t r1) {
    int32_t nb = w->cols / SW_QK;
    for (int32_t r = r0; r < r1; r++) {
        const sw_block_q4 *wr = (const sw_block_q4 *)w->data + (size_t)r * nb;
        const uint16_t *ws = w->scales + (size_t)r * nb;
        int32_t t = 0;
        for (; t + SW_Q4_NT <= n; t += SW_Q4_NT) {
            float o[SW_Q4_NT];
            row_q4_multi(wr, ws, q, t, nb, o);
            for (int i = 0; i < SW_Q4_NT; i++) y[(size_t)(t + i) * ldy + r] = o[i];
        }
        for (; t < n; t++) y[(size_t)t * ldy + r] = row_q4(wr, ws, q, t, nb);
    }
}

static void matmul(const sw_wmat *w, const float *x, const sw_qact *q, int32_t n, float *y, int32_t ldy, int32_t r0,
                   int32_t r1) {
    int32_t cols = w->cols, nb = cols / SW_QK;
    if (w->type == SW_DTYPE_Q4) {
        matmul_q4(w, q, n, y, ldy, r0, r1);
        return;
    }
    for (int32_t r = r0; r < r1; r++) {
        for (int32_t t = 0; t < n; t++) {
            float v;
            switch (w->type) {
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

/* ---- element-wise kernels ---- */

static void rmsnorm(float *y, const float *x, const float *weight, int32_t n, float eps) {
    float ss = row_f32(x, x, n);
    float s = 1.0f / sqrtf(ss / (float)n + eps);
    v128_t vs = wasm_f32x4_splat(s);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) /* (x * s) * weight, the scalar order */
        wasm_v128_store(y + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(x + i), vs), wasm_v128_load(weight + i)));
    for (; i < n; i++) y[i] = x[i] * s * weight[i];
}

/* sw_expf (expf.h) on four lanes: the same operations in the same order. */
static inline v128_t exp_f32x4(v128_t x0) {
    v128_t hi = wasm_f32x4_splat(SW_EXP_HI), lo = wasm_f32x4_splat(SW_EXP_LO);
    v128_t x = wasm_f32x4_pmin(hi, x0); /* x0 < HI ? x0 : HI */
    x = wasm_f32x4_pmax(lo, x); /* LO < x ? x : LO */
    v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(SW_EXP_LOG2E)));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(SW_EXP_C1)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(SW_EXP_C2)));
    v128_t z = wasm_f32x4_mul(r, r);
    v128_t y = wasm_f32x4_mul(wasm_f32x4_splat(SW_EXP_P0), r);
    y = wasm_f32x4_mul(wasm_f32x4_add(y, wasm_f32x4_splat(SW_EXP_P1)), r);
    y = wasm_f32x4_mul(wasm_f32x4_add(y, wasm_f32x4_splat(SW_EXP_P2)), r);
    y = wasm_f32x4_mul(wasm_f32x4_add(y, wasm_f32x4_splat(SW_EXP_P3)), r);
    y = wasm_f32x4_mul(wasm_f32x4_add(y, wasm_f32x4_splat(SW_EXP_P4)), r);
    y = wasm_f32x4_mul(wasm_f32x4_add(y, wasm_f32x4_splat(SW_EXP_P5)), z);
    y = wasm_f32x4_add(wasm_f32x4_add(y, r), wasm_f32x4_splat(1.0f));
    v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
    v128_t v = wasm_f32x4_mul(y, e);
    v = wasm_v128_bitselect(wasm_f32x4_splat(INFINITY), v, wasm_f32x4_gt(x0, hi));
    v = wasm_v128_bitselect(wasm_f32x4_splat(0.0f), v, wasm_f32x4_lt(x0, lo));
    return wasm_v128_bitselect(x0, v, wasm_f32x4_ne(x0, x0));
}

/* The scalar expression's operations in its order, so results are identical. */
static void swiglu(float *out, const float *gate, const float *up, int32_t n) {
    v128_t one = wasm_f32x4_splat(1.0f);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t g = wasm_v128_load(gate + i);
        v128_t den = wasm_f32x4_add(one, exp_f32x4(wasm_f32x4_neg(g)));
        wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_div(g, den), wasm_v128_load(up + i)));
    }
    for (; i < n; i++) out[i] = gate[i] / (1.0f + sw_expf(-gate[i])) * up[i];
}

static void softmax(float *x, int32_t n) {
    float mx = x[0];
    int32_t i = 0;
    if (n >= 4) { /* the maximum is exact in any order */
        v128_t m = wasm_v128_load(x);
        for (i = 4; i + 4 <= n; i += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(x + i));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
        m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
        mx = wasm_f32x4_extract_lane(m, 0);
    }
    for (; i < n; i++) mx = mx < x[i] ? x[i] : mx;
    v128_t vm = wasm_f32x4_splat(mx), acc = wasm_f32x4_splat(0.0f);
    for (i = 0; i + 4 <= n; i += 4) {
        v128_t e = exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), vm));
        wasm_v128_store(x + i, e);
        acc = wasm_f32x4_add(acc, e);
    }
    float sum = hsum_f32x4(acc);
    for (; i < n; i++) {
        x[i] = sw_expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    v128_t vi = wasm_f32x4_splat(inv);
    for (i = 0; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), vi));
    for (; i < n; i++) x[i] *= inv;
}

static void axpy(float *y, float a, const float *x, int32_t n) {
    v128_t va = wasm_f32x4_splat(a);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4)
        wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
    for (; i < n; i++) y[i] += a * x[i];
}

/* ---- attention ----
 * One body for an f32 and an f16 KV cache: `half` is a constant at every
 * call, so each kernel below compiles to its own loop. An f16 row is widened
 * with f16x4_to_f32x4 (exact, as sw_f16_to_f32), then the f32 kernel's float
 * operations follow in the same order. */

/* Four cached values from element i of row k (f32, or f16 when half). */
static inline v128_t kv_load4(const void *k, size_t i, int half) {
    return half ? load_f16x4((const uint16_t *)k + i) : wasm_v128_load((const float *)k + i);
}

static inline float kv_at(const void *k, size_t i, int half) {
    return half ? sw_f16_to_f32(((const uint16_t *)k)[i]) : ((const float *)k)[i];
}

/* Two keys (rows at k + o0 and k + o1, head_dim a multiple of 8) against one
 * query: row_f32's order for each, sharing the query's loads. */
static inline void dot2(const float *q, const void *k, size_t o0, size_t o1, int32_t n, int half, float *s0,
                        float *s1) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, b0 = a0, b1 = a0;
    for (int32_t i = 0; i < n; i += 8) {
        v128_t q0 = wasm_v128_load(q + i), q1 = wasm_v128_load(q + i + 4);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(q0, kv_load4(k, o0 + i, half)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(q1, kv_load4(k, o0 + i + 4, half)));
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q0, kv_load4(k, o1 + i, half)));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(q1, kv_load4(k, o1 + i + 4, half)));
    }
    *s0 = hsum_f32x4(wasm_f32x4_add(a0, a1));
    *s1 = hsum_f32x4(wasm_f32x4_add(b0, b1));
}

static inline void scores(const float *q, const void *k, size_t k_stride, int32_t n_pos, int32_t hd, float scale,
                          float *sc, int half) {
    int32_t p = 0;
    if (hd % 8 == 0) {
        for (; p + 2 <= n_pos; p += 2) {
            float s0, s1;
            dot2(q, k, (size_t)p * k_stride, (size_t)(p + 1) * k_stride, hd, half, &s0, &s1);
            sc[p] = s0 * scale;
            sc[p + 1] = s1 * scale;
        }
    }
    for (; p < n_pos; p++)
        sc[p] = (half ? row_f16((const uint16_t *)k + (size_t)p * k_stride, q, hd)
                      : row_f32(q, (const float *)k + (size_t)p * k_stride, hd)) *
                scale;
}

/* 16 outputs (four vectors) at a time held in registers across positions;
 * per element the operations are axpy's: out + w[p] * v. */
static inline void values(const float *w, const void *v, size_t v_stride, int32_t n_pos, int32_t hd, float *out,
                          int half) {
    int32_t i = 0;
    for (; i + 16 <= hd; i += 16) {
        v128_t o0 = wasm_f32x4_splat(0.0f), o1 = o0, o2 = o0, o3 = o0;
        size_t r = (size_t)i;
        for (int32_t p = 0; p < n_pos; p++, r += v_stride) {
            v128_t a = wasm_f32x4_splat(w[p]);
            o0 = wasm_f32x4_add(o0, wasm_f32x4_mul(a, kv_load4(v, r, half)));
            o1 = wasm_f32x4_add(o1, wasm_f32x4_mul(a, kv_load4(v, r + 4, half)));
            o2 = wasm_f32x4_add(o2, wasm_f32x4_mul(a, kv_load4(v, r + 8, half)));
            o3 = wasm_f32x4_add(o3, wasm_f32x4_mul(a, kv_load4(v, r + 12, half)));
        }
        wasm_v128_store(out + i, o0);
        wasm_v128_store(out + i + 4, o1);
        wasm_v128_store(out + i + 8, o2);
        wasm_v128_store(out + i + 12, o3);
    }
    for (; i < hd; i++) {
        float o = 0.0f;
        for (int32_t p = 0; p < n_pos; p++) o += w[p] * kv_at(v, (size_t)p * v_stride + (size_t)i, half);
        out[i] = o;
    }
}

static void attn_scores(const float *q, const float *k, size_t k_stride, int32_t n_pos, int32_t hd, float scale,
                        float *sc) {
    scores(q, k, k_stride, n_pos, hd, scale, sc, 0);
}

static void attn_values(const float *w, const float *v, size_t v_stride, int32_t n_pos, int32_t hd, float *out) {
    values(w, v, v_stride, n_pos, hd, out, 0);
}

static void attn_scores_f16(const float *q, const uint16_t *k, size_t k_stride, int32_t n_pos, int32_t hd,
                            float scale, float *sc) {
    scores(q, k, k_stride, n_pos, hd, scale, sc, 1);
}

static void attn_values_f16(const float *w, const uint16_t *v, size_t v_stride, int32_t n_pos, int32_t hd,
                            float *out) {
    values(w, v, v_stride, n_pos, hd, out, 1);
}

static const sw_kernels k_simd128 = {
    "simd128", quantize_act, matmul, rmsnorm, swiglu, row_f32, axpy, attn_scores, attn_values, attn_scores_f16,
    attn_values_f16, softmax};

/* The SIMD128 table; declared by tests (and by nothing in the model code). */
const sw_kernels *sw_kernels_simd128(void);
const sw_kernels *sw_kernels_simd128(void) { return &k_simd128; }

#ifndef SW_SIMD128_VIA_SIMDE
const sw_kernels *sw_kernels_best(void) { return &k_simd128; }
#endif

#else
/* Not a SIMD128 build: nothing here (ISO C wants a declaration). */
typedef int sw_kernels_simd128_unused;
#endif
