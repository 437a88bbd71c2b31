/* test_kernels.c: the compute kernels (kernels.h) against double-precision
 * references, and the SIMD128 kernels against the scalar ones.
 *
 * Every kernel table this build has is checked against references computed
 * here in double from the dequantized weights (quant.c) and the definitions
 * in kernels.h, on random inputs of every SmolLM shape class (135M: 576/1536,
 * 360M: 960/2560, 1.7B: 2048/8192, kv 192, head 64) with batch 1 and 7
 * (activations) and 1 and 11 (matrix products: a group of 8 prefill tokens
 * plus 3 single ones):
 *   - quantize_act: scale = max|x|/127, every value within half a step,
 *     sums exact; an all-zero block gives scale 0.
 *   - matmul (q4, q8, f16, f32): within the recursive-summation bound
 *     (terms + 4) * FLT_EPSILON * sum|terms| of the exact sum; rows outside
 *     [r0, r1) untouched; f16 weights converted exactly for all finite halves.
 *   - rmsnorm, swiglu, dot, axpy: within named relative bounds.
 * With SW_TEST_SIMD128 the SIMD128 kernels are checked the same way and
 * directly against the scalar ones, which must agree to the bit (matmul of
 * every type, dot, swiglu, axpy, quantize_act): the scalar kernels fix the
 * order of every float sum and the SIMD ones follow it. SW_TEST_SIMD128
 * comes from -DSMOLWEB_SIMDE=ON (natively, through SIMDe) or from
 * tests/test_wasm_node.sh, which compiles this file with emcc -msimd128 and
 * runs it in real wasm under Node. Without it only the scalar table is
 * tested, and the test says so. Prints max abs/rel error per check. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "expf.h"
#include "kernels.h"
#include "quant.h"

#ifdef SW_TEST_SIMD128
const sw_kernels *sw_kernels_simd128(void); /* src/kernels_simd128.c (SIMDe or -msimd128) */
#endif

/* Named tolerances. */
#define TOL_SUM(terms) (((double)(terms) + 4.0) * FLT_EPSILON) /* relative to sum|terms| */
#define TOL_RMSNORM(n) (((double)(n) / 2.0 + 8.0) * FLT_EPSILON) /* relative per element */
#define TOL_SWIGLU (8.0 * FLT_EPSILON)                          /* relative per element */
#define TOL_AXPY (2.0 * FLT_EPSILON)                            /* relative to |y| + |a x| */
/* SIMD vs scalar: none. Both run every float sum in the same order
 * (kernels_scalar.c says which), so they must agree to the bit. */
#define TOL_SIMD_VS_SCALAR 0.0

static int failures;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            if (++failures < 30) {                                    \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
                fprintf(stderr, __VA_ARGS__);                         \
                fprintf(stderr, "\n");                                \
            }                                                         \
        }                                                             \
    } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
/* Roughly normal values with an occasional outlier, like activations. */
static float arand(void) {
    double s = urand() + urand() + urand() - 1.5;
    if (urand() < 0.01) s *= 20.0;
    return (float)(2.0 * s);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Largest error seen by one named check, printed at the end. */
typedef struct stat {
    char name[64];
    double max_abs, max_rel, tol;
    long count;
} stat;
static stat stats[64];
static int n_stats;

static stat *stat_get(const char *kname, const char *check, double tol) {
    char name[64];
    snprintf(name, sizeof name, "%s %s", kname, check);
    for (int i = 0; i < n_stats; i++)
        if (!strcmp(stats[i].name, name)) return &stats[i];
    if (n_stats == 64) abort();
    stat *s = &stats[n_stats++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->tol = tol;
    return s;
}

/* Records |got - want| against scale (the quantity the tolerance is relative
 * to); returns 1 if within tol * scale. */
static int stat_add(stat *s, double got, double want, double scale, double tol) {
    double ae = fabs(got - want), re = scale > 0 ? ae / scale : (ae > 0 ? INFINITY : 0);
    if (ae > s->max_abs) s->max_abs = ae;
    if (re > s->max_rel) s->max_rel = re;
    if (tol > s->tol) s->tol = tol;
    s->count++;
    return ae <= tol * scale;
}

/* ---- quantize_act ---- */

static const int32_t k_widths[] = {576, 1536, 960, 2560, 2048, 8192, 192, 64};
#define N_WIDTHS ((int)(sizeof k_widths / sizeof k_widths[0]))

typedef struct qbuf {
    sw_qact q;
    int8_t *qs;
    float *d;
    int32_t *sums;
    int16_t *x16;
} qbuf;

static void qbuf_init(qbuf *b, int32_t n, int32_t cols) {
    size_t nb = (size_t)n * cols / SW_QK;
    b->qs = xmalloc((size_t)n * cols);
    b->d = xmalloc(nb * sizeof(float));
    b->sums = xmalloc(nb * sizeof(int32_t));
    b->x16 = xmalloc((size_t)n * cols * sizeof(int16_t));
    b->q = (sw_qact){b->qs, b->d, b->sums, 0, b->x16};
}
static void qbuf_free(qbuf *b) {
    free(b->qs);
    free(b->d);
    free(b->sums);
    free(b->x16);
}

/* Checks q (from kernel table k) against the definition. */
static void check_quantized(const char *kname, const float *x, int32_t n, int32_t cols, const sw_qact *q) {
    int32_t nb = cols / SW_QK;
    stat *s = stat_get(kname, "quantize_act |q*d - x| / d", 0.5);
    CHECK(q->cols == cols, "%s quantize_act: cols %d, want %d", kname, q->cols, cols);
    for (int32_t i = 0; i < n * nb; i++) {
        const float *xb = x + (size_t)i * SW_QK;
        const int8_t *qb = q->qs + (size_t)i * SW_QK;
        float am = 0.0f;
        for (int j = 0; j < SW_QK; j++) am = fmaxf(am, fabsf(xb[j]));
        CHECK(q->d[i] == am / 127.0f, "%s quantize_act cols %d block %d: scale %g, want %g", kname, cols, i,
              q->d[i], am / 127.0f);
        int32_t sum = 0;
        for (int j = 0; j < SW_QK; j++) {
            sum += qb[j];
            if (am == 0.0f) {
                CHECK(qb[j] == 0, "%s quantize_act: zero block gives %d", kname, qb[j]);
                continue;
            }
            /* half a step, plus the rounding of x * (127 / am) */
            double d = (double)am / 127.0;
            int ok = stat_add(s, (double)qb[j], (double)xb[j] / d, 1.0, 0.5 + 1e-5);
            CHECK(ok && qb[j] >= -127 && qb[j] <= 127, "%s quantize_act cols %d: x %g -> %d (d %g)", kname, cols,
                  xb[j], qb[j], d);
        }
        CHECK(q->sums[i] == sum, "%s quantize_act cols %d block %d: sum %d, want %d", kname, cols, i, q->sums[i],
              sum);
    }
}

static void test_quantize(const sw_kernels *k, const sw_kernels *ref) {
    for (int wi = 0; wi < N_WIDTHS; wi++) {
        for (int32_t n = 1; n <= 7; n += 6) {
            int32_t cols = k_widths[wi];
            float *x = xmalloc((size_t)n * cols * sizeof(float));
            for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = arand();
            /* block 0: scale exactly 1 and halves, so rounding ties (to even); block 1 all zero */
            x[0] = 127.0f;
            for (int j = 1; j < SW_QK; j++) x[j] = (float)(j - 16) + 0.5f;
            for (int j = 0; j < SW_QK; j++) x[SW_QK + j] = 0.0f;
            qbuf a, b;
            qbuf_init(&a, n, cols);
            qbuf_init(&b, n, cols);
            k->quantize_act(x, n, cols, &a.q);
            check_quantized(k->name, x, n, cols, &a.q);
            if (ref) {
                ref->quantize_act(x, n, cols, &b.q);
                size_t nb = (size_t)n * cols / SW_QK;
                CHECK(!memcmp(a.qs, b.qs, (size_t)n * cols) && !memcmp(a.d, b.d, nb * 4) &&
                          !memcmp(a.sums, b.sums, nb * 4),
                      "%s quantize_act cols %d n %d: differs from %s", k->name, cols, n, ref->name);
                /* the SIMD kernels' int16 copy: each block's even then odd
                 * elements of each half (the q4 nibble order, kernels.h) */
                int bad = 0;
                for (size_t i = 0; i < (size_t)n * cols && !bad; i++) {
                    size_t blk = i / SW_QK * SW_QK, j = i % SW_QK, half = j / 16, k8 = j % 16;
                    size_t src = blk + half * 16 + (k8 < 8 ? 2 * k8 : 2 * (k8 - 8) + 1);
                    bad = a.x16[i] != a.qs[src];
                }
                CHECK(!bad, "%s quantize_act cols %d n %d: int16 copy out of order", k->name, cols, n);
            }
            qbuf_free(&a);
            qbuf_free(&b);
            free(x);
        }
    }
}

/* ---- matmul ---- */

typedef struct shape {
    int32_t rows, cols;
} shape;
/* Every weight shape of the SmolLM family (q/o, k/v, gate/up, down per size)
 * plus small ones whose block count leaves only tail blocks. */
static const shape k_shapes[] = {{576, 576},   {192, 576},   {1536, 576},  {576, 1536}, {960, 960},
                                 {320, 960},   {2560, 960},  {960, 2560},  {2048, 2048}, {8192, 2048},
                                 {2048, 8192}, {64, 64},     {192, 192},   {64, 96}};
#define N_SHAPES ((int)(sizeof k_shapes / sizeof k_shapes[0]))
#define MAX_TESTED_ROWS 24

/* A weight tensor whose rows [r0, r1) hold random values; the rest is never
 * read, so it is left unset. */
typedef struct wtensor {
    sw_wmat w;
    unsigned char *buf;
    float *deq; /* (r1 - r0) x cols dequantized rows, the reference's weights */
} wtensor;

static void wtensor_init(wtensor *t, sw_dtype type, int32_t rows, int32_t cols, int32_t r0, int32_t r1) {
    uint64_t bytes = sw_tensor_bytes(type, (uint64_t)rows, (uint64_t)cols);
    t->buf = xmalloc((size_t)bytes);
    t->deq = xmalloc((size_t)(r1 - r0) * cols * sizeof(float));
    float *row = xmalloc((size_t)cols * sizeof(float));
    size_t nb = (size_t)cols / SW_QK, bs = type == SW_DTYPE_Q4 ? 16 : 32;
    size_t scales_off = (size_t)rows * nb * bs;
    for (int32_t r = r0; r < r1; r++) {
        for (int32_t c = 0; c < cols; c++) row[c] = (float)(urand() * 2.0 - 1.0) * 0.1f;
        if (sw_dtype_is_blocked(type))
            sw_quantize_row(type, row, cols, t->buf + (size_t)r * nb * bs,
                            (uint16_t *)(void *)(t->buf + scales_off) + (size_t)r * nb);
        else
            sw_quantize_row(type, row, cols, t->buf + (size_t)r * cols * (type == SW_DTYPE_F32 ? 4 : 2), NULL);
        sw_dequantize_tensor_row(type, t->buf, rows, cols, r, t->deq + (size_t)(r - r0) * cols);
    }
    free(row);
    t->w = (sw_wmat){type, rows, cols, t->buf,
                     sw_dtype_is_blocked(type) ? (const uint16_t *)(const void *)(t->buf + scales_off) : NULL};
}

static void wtensor_free(wtensor *t) {
    free(t->buf);
    free(t->deq);
}

/* y from table k over rows [r0, r1) for n tokens, checked against the exact
 * sum of dequantized weights times the activations the kernel consumed. */
static float *run_matmul(const sw_kernels *k, const wtensor *t, const float *x, int32_t n, int32_t r0, int32_t r1) {
    int32_t rows = t->w.rows, cols = t->w.cols;
    qbuf q;
    qbuf_init(&q, n, cols);
    if (sw_dtype_is_blocked(t->w.type)) k->quantize_act(x, n, cols, &q.q);
    float *y = xmalloc((size_t)n * rows * sizeof(float));
    for (size_t i = 0; i < (size_t)n * rows; i++) y[i] = -12345.0f; /* sentinel */
    k->matmul(&t->w, x, &q.q, n, y, rows, r0, r1);
    char check[32];
    snprintf(check, sizeof check, "matmul %s vs exact", sw_dtype_name(t->w.type));
    stat *s = stat_get(k->name, check, 0);
    int32_t nb = cols / SW_QK;
    for (int32_t tok = 0; tok < n; tok++) {
        for (int32_t r = 0; r < rows; r++) {
            float got = y[(size_t)tok * rows + r];
            if (r < r0 || r >= r1) {
                if (r == r0 - 1 || r == r1) CHECK(got == -12345.0f, "%s matmul: row %d outside range written", k->name, r);
                continue;
            }
            const float *w = t->deq + (size_t)(r - r0) * cols;
            double sum = 0, abs = 0;
            for (int32_t c = 0; c < cols; c++) {
                double xv = sw_dtype_is_blocked(t->w.type)
                                ? (double)q.qs[(size_t)tok * cols + c] * q.d[(size_t)tok * nb + c / SW_QK]
                                : (double)x[(size_t)tok * cols + c];
                sum += (double)w[c] * xv;
                abs += fabs((double)w[c] * xv);
            }
            double tol = TOL_SUM(sw_dtype_is_blocked(t->w.type) ? nb : cols);
            int ok = stat_add(s, got, sum, abs, tol);
            CHECK(ok, "%s matmul %s %dx%d n %d row %d token %d: %.9g, exact %.9g (sum|terms| %g)", k->name,
                  sw_dtype_name(t->w.type), rows, cols, n, r, tok, got, sum, abs);
        }
    }
    qbuf_free(&q);
    return y;
}

static void test_matmul(const sw_kernels *k, const sw_kernels *ref) {
    static const sw_dtype types[] = {SW_DTYPE_Q4, SW_DTYPE_Q8, SW_DTYPE_F16, SW_DTYPE_F32};
    for (int si = 0; si < N_SHAPES; si++) {
        for (int ti = 0; ti < 4; ti++) {
            int32_t rows = k_shapes[si].rows, cols = k_shapes[si].cols;
            /* the last rows, from an odd start, as a worker thread's range */
            int32_t r1 = rows, r0 = rows > MAX_TESTED_ROWS ? rows - MAX_TESTED_ROWS + 1 : 0;
            wtensor t;
            wtensor_init(&t, types[ti], rows, cols, r0, r1);
            for (int32_t n = 1; n <= 11; n += 10) {
                float *x = xmalloc((size_t)n * cols * sizeof(float));
                for (size_t i = 0; i < (size_t)n * cols; i++) x[i] = arand();
                float *y = run_matmul(k, &t, x, n, r0, r1);
                if (ref) {
                    float *yr = run_matmul(ref, &t, x, n, r0, r1);
                    char check[32];
                    snprintf(check, sizeof check, "matmul %s vs scalar", sw_dtype_name(t.w.type));
                    stat *s = stat_get(k->name, check, 0);
                    for (int32_t tok = 0; tok < n; tok++)
                        for (int32_t r = r0; r < r1; r++) {
                            /* the scale of the bound: sum|terms| again, in float is enough */
                            const float *w = t.deq + (size_t)(r - r0) * cols;
                            double abs = 0;
                            for (int32_t c = 0; c < cols; c++) abs += fabs((double)w[c] * x[(size_t)tok * cols + c]);
                            size_t i = (size_t)tok * rows + r;
                            double tol = TOL_SIMD_VS_SCALAR;
                            int ok = stat_add(s, y[i], yr[i], abs, tol);
                            CHECK(ok, "%s matmul %s %dx%d: row %d token %d %.9g, scalar %.9g", k->name,
                                  sw_dtype_name(t.w.type), rows, cols, r, tok, y[i], yr[i]);
                        }
                    free(yr);
                }
                free(y);
                free(x);
            }
            wtensor_free(&t);
        }
    }
}

/* Every finite half through the f16 matmul path: 2048 rows x 32 columns
 * holding all 65536 bit patterns, times one-hot tokens, must give each
 * weight exactly (inf/NaN patterns are replaced by 0, as 0 * inf is NaN). */
static void test_f16_all_values(const sw_kernels *k) {
    int32_t rows = 2048, cols = 32, n = 32;
    uint16_t *w = xmalloc((size_t)rows * cols * 2);
    for (uint32_t i = 0; i < 65536; i++) w[i] = ((i >> 10) & 0x1f) == 0x1f ? 0 : (uint16_t)i;
    float *x = calloc((size_t)n * cols, sizeof(float)), *y = xmalloc((size_t)n * rows * sizeof(float));
    if (!x) abort();
    for (int32_t t = 0; t < n; t++) x[(size_t)t * cols + t] = 1.0f;
    sw_wmat m = {SW_DTYPE_F16, rows, cols, w, NULL};
    k->matmul(&m, x, NULL, n, y, rows, 0, rows);
    int bad = 0;
    for (int32_t r = 0; r < rows; r++)
        for (int32_t t = 0; t < n; t++)
            bad += y[(size_t)t * rows + r] != sw_f16_to_f32(w[(size_t)r * cols + t]);
    CHECK(bad == 0, "%s matmul f16: %d of 65536 half values converted wrongly", k->name, bad);
    free(w);
    free(x);
    free(y);
}

/* Every finite half as a block scale (negative, subnormal, the largest) in
 * q4 and q8 matrices: the table's products must equal the reference's bit
 * for bit (the SIMD kernel converts scales its own way, load_scales4). Row r
 * holds scales r*18 .. r*18+17 (18 blocks of 576 columns, as SmolLM's rows),
 * over all 63488 finite patterns; random nibbles/bytes; two tokens. */
static void test_scales_all_values(const sw_kernels *k, const sw_kernels *ref) {
    enum { COLS = 576, NB = COLS / SW_QK, N = 2 };
    uint16_t finite[65536];
    int32_t nf = 0;
    for (uint32_t i = 0; i < 65536; i++)
        if (((i >> 10) & 0x1f) != 0x1f) finite[nf++] = (uint16_t)i;
    int32_t rows = (nf + NB - 1) / NB;
    float *x = xmalloc((size_t)N * COLS * sizeof(float));
    for (int32_t i = 0; i < N * COLS; i++) x[i] = (float)(urand() * 2.0 - 1.0);
    for (int qi = 0; qi < 2; qi++) {
        sw_dtype type = qi ? SW_DTYPE_Q8 : SW_DTYPE_Q4;
        size_t bs = type == SW_DTYPE_Q4 ? 16 : 32, nblocks = (size_t)rows * NB;
        unsigned char *buf = xmalloc(nblocks * (bs + 2));
        for (size_t i = 0; i < nblocks * bs; i++) buf[i] = (unsigned char)(urand() * 256.0);
        uint16_t *sc = (uint16_t *)(void *)(buf + nblocks * bs);
        for (size_t b = 0; b < nblocks; b++) sc[b] = finite[b % (size_t)nf];
        sw_wmat w = {type, rows, COLS, buf, sc};
        qbuf q, qr; /* each table's own activations (the SIMD table adds x16) */
        qbuf_init(&q, N, COLS);
        qbuf_init(&qr, N, COLS);
        k->quantize_act(x, N, COLS, &q.q);
        ref->quantize_act(x, N, COLS, &qr.q);
        float *y = xmalloc((size_t)N * rows * sizeof(float)), *yr = xmalloc((size_t)N * rows * sizeof(float));
        k->matmul(&w, x, &q.q, N, y, rows, 0, rows);
        ref->matmul(&w, x, &qr.q, N, yr, rows, 0, rows);
        int bad = 0;
        for (size_t i = 0; i < (size_t)N * rows; i++) bad += memcmp(&y[i], &yr[i], sizeof(float)) != 0;
        CHECK(bad == 0, "%s matmul %s: %d of %d outputs differ from %s's with every finite half as a scale", k->name,
              sw_dtype_name(type), bad, N * rows, ref->name);
        free(y);
        free(yr);
        qbuf_free(&q);
        qbuf_free(&qr);
        free(buf);
    }
    free(x);
}

/* ---- element-wise kernels ---- */

static const int32_t k_lengths[] = {64, 576, 960, 1536, 2048, 2560, 8192, 1536 * 7, 61, 3};
#define N_LENGTHS ((int)(sizeof k_lengths / sizeof k_lengths[0]))

static void test_rmsnorm(const sw_kernels *k) {
    for (int li = 0; li < N_LENGTHS; li++) {
        int32_t n = k_lengths[li];
        float *x = xmalloc((size_t)n * 4), *w = xmalloc((size_t)n * 4), *y = xmalloc((size_t)n * 4);
        for (int32_t i = 0; i < n; i++) x[i] = arand(), w[i] = (float)(0.5 + urand());
        float eps = 1e-5f;
        k->rmsnorm(y, x, w, n, eps);
        double ss = 0;
        for (int32_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
        double s = 1.0 / sqrt(ss / n + eps);
        stat *st = stat_get(k->name, "rmsnorm", TOL_RMSNORM(n));
        for (int32_t i = 0; i < n; i++) {
            double want = x[i] * s * w[i];
            int ok = stat_add(st, y[i], want, fabs(want), TOL_RMSNORM(n));
            CHECK(ok, "%s rmsnorm n %d [%d]: %.9g, want %.9g", k->name, n, i, y[i], want);
        }
        free(x);
        free(w);
        free(y);
    }
}

static void test_swiglu(const sw_kernels *k, const sw_kernels *ref) {
    for (int li = 0; li < N_LENGTHS; li++) {
        int32_t n = k_lengths[li];
        float *g = xmalloc((size_t)n * 4), *u = xmalloc((size_t)n * 4), *y = xmalloc((size_t)n * 4);
        float *yr = xmalloc((size_t)n * 4);
        for (int32_t i = 0; i < n; i++) g[i] = 4.0f * arand(), u[i] = arand();
        k->swiglu(y, g, u, n);
        stat *st = stat_get(k->name, "swiglu", TOL_SWIGLU);
        for (int32_t i = 0; i < n; i++) {
            double want = g[i] / (1.0 + exp(-(double)g[i])) * u[i];
            int ok = stat_add(st, y[i], want, fabs(want) + 1e-30, TOL_SWIGLU);
            CHECK(ok, "%s swiglu [%d] gate %g up %g: %.9g, want %.9g", k->name, i, g[i], u[i], y[i], want);
        }
        if (ref) {
            ref->swiglu(yr, g, u, n);
            stat *sr = stat_get(k->name, "swiglu vs scalar", TOL_SIMD_VS_SCALAR);
            for (int32_t i = 0; i < n; i++) {
                int ok = stat_add(sr, y[i], yr[i], fabs(yr[i]) + 1e-30, TOL_SIMD_VS_SCALAR);
                CHECK(ok, "%s swiglu [%d]: %.9g, scalar %.9g", k->name, i, y[i], yr[i]);
            }
        }
        /* in place, as forward.c calls it */
        memcpy(yr, g, (size_t)n * 4);
        k->swiglu(yr, yr, u, n);
        CHECK(!memcmp(yr, y, (size_t)n * 4), "%s swiglu n %d: in place differs", k->name, n);
        free(g);
        free(u);
        free(y);
        free(yr);
    }
}

static void test_dot_axpy(const sw_kernels *k, const sw_kernels *ref) {
    for (int li = 0; li < N_LENGTHS; li++) {
        int32_t n = k_lengths[li];
        float *a = xmalloc((size_t)n * 4), *b = xmalloc((size_t)n * 4), *y = xmalloc((size_t)n * 4);
        float *yr = xmalloc((size_t)n * 4);
        for (int32_t i = 0; i < n; i++) a[i] = arand(), b[i] = arand(), y[i] = yr[i] = arand();
        double sum = 0, abs = 0;
        for (int32_t i = 0; i < n; i++) sum += (double)a[i] * b[i], abs += fabs((double)a[i] * b[i]);
        float got = k->dot(a, b, n);
        int ok = stat_add(stat_get(k->name, "dot", TOL_SUM(n)), got, sum, abs, TOL_SUM(n));
        CHECK(ok, "%s dot n %d: %.9g, exact %.9g", k->name, n, got, sum);
        if (ref) {
            float r = ref->dot(a, b, n);
            ok = stat_add(stat_get(k->name, "dot vs scalar", TOL_SIMD_VS_SCALAR), got, r, abs, TOL_SIMD_VS_SCALAR);
            CHECK(ok, "%s dot n %d: %.9g, scalar %.9g", k->name, n, got, r);
        }
        float alpha = (float)(urand() - 0.5);
        k->axpy(y, alpha, a, n);
        stat *st = stat_get(k->name, "axpy", TOL_AXPY);
        for (int32_t i = 0; i < n; i++) {
            double want = (double)yr[i] + (double)alpha * a[i];
            ok = stat_add(st, y[i], want, fabs(yr[i]) + fabs((double)alpha * a[i]), TOL_AXPY);
            CHECK(ok, "%s axpy n %d [%d]: %.9g, want %.9g", k->name, n, i, y[i], want);
        }
        if (ref) {
            ref->axpy(yr, alpha, a, n);
            stat *sr = stat_get(k->name, "axpy vs scalar", TOL_SIMD_VS_SCALAR);
            for (int32_t i = 0; i < n; i++) {
                ok = stat_add(sr, y[i], yr[i], fabs(yr[i]) + 1e-30, TOL_SIMD_VS_SCALAR);
                CHECK(ok, "%s axpy [%d]: %.9g, scalar %.9g", k->name, i, y[i], yr[i]);
            }
        }
        free(a);
        free(b);
        free(y);
        free(yr);
    }
}

/* The f16-cache attention kernels: the same rows stored as halves (with a
 * subnormal, the largest half, a negative zero and an infinity's neighbour
 * among them) must give exactly what the f32 kernels give on the rows
 * widened by sw_f16_to_f32, and the SIMD table what the scalar one gives. */
static void test_attention_f16(const sw_kernels *k, const sw_kernels *ref, const float *q, const float *kv,
                               size_t stride, int32_t n, int32_t hd, const float *w) {
    static const uint16_t specials[] = {0x0001, 0x03ff, 0x7bff, 0xfbff, 0x8000, 0x0400, 0x8001};
    uint16_t *kh = xmalloc(stride * n * 2);
    float *wide = xmalloc(stride * n * 4), *a = xmalloc((size_t)n * 4), *b = xmalloc((size_t)n * 4);
    float *oa = xmalloc((size_t)hd * 4), *ob = xmalloc((size_t)hd * 4);
    for (size_t i = 0; i < stride * n; i++) {
        kh[i] = i % 53 == 7 ? specials[(i / 53) % 7] : sw_f32_to_f16(kv[i]);
        wide[i] = sw_f16_to_f32(kh[i]);
    }
    float scale = 0.125f;
    k->attn_scores_f16(q, kh + hd, stride, n, hd, scale, a);
    k->attn_scores(q, wide + hd, stride, n, hd, scale, b);
    CHECK(!memcmp(a, b, (size_t)n * 4), "%s attn_scores_f16 hd %d n %d differs from attn_scores on widened rows",
          k->name, hd, n);
    k->attn_values_f16(w, kh + hd, stride, n, hd, oa);
    k->attn_values(w, wide + hd, stride, n, hd, ob);
    CHECK(!memcmp(oa, ob, (size_t)hd * 4), "%s attn_values_f16 hd %d n %d differs from attn_values on widened rows",
          k->name, hd, n);
    if (ref) {
        ref->attn_scores_f16(q, kh + hd, stride, n, hd, scale, b);
        CHECK(!memcmp(a, b, (size_t)n * 4), "%s attn_scores_f16 hd %d n %d differs from scalar", k->name, hd, n);
        ref->attn_values_f16(w, kh + hd, stride, n, hd, ob);
        CHECK(!memcmp(oa, ob, (size_t)hd * 4), "%s attn_values_f16 hd %d n %d differs from scalar", k->name, hd, n);
    }
    free(kh), free(wide), free(a), free(b), free(oa), free(ob);
}

/* Attention kernels against double references and against the table's own
 * dot/axpy (their definition: the same float operations), and the SIMD table
 * against the scalar one bit for bit. Head dims 64 (SmolLM) and 72/12 (not a
 * multiple of 16 or 8: the tails); position counts odd and even; a row
 * stride wider than the head (a KV cache row holds every KV head). */
static void test_attention(const sw_kernels *k, const sw_kernels *ref) {
    static const int32_t hds[] = {64, 72, 12};
    static const int32_t npos[] = {1, 2, 7, 130};
    for (int hi = 0; hi < 3; hi++) {
        for (int pi = 0; pi < 4; pi++) {
            int32_t hd = hds[hi], n = npos[pi];
            size_t stride = (size_t)hd * 3 + 4;
            float *q = xmalloc((size_t)hd * 4), *kv = xmalloc(stride * n * 4), *w = xmalloc((size_t)n * 4);
            float *sc = xmalloc((size_t)n * 4), *sr = xmalloc((size_t)n * 4);
            float *out = xmalloc((size_t)hd * 4), *outr = xmalloc((size_t)hd * 4);
            float scale = 0.125f;
            for (int32_t i = 0; i < hd; i++) q[i] = arand();
            for (size_t i = 0; i < stride * n; i++) kv[i] = arand();
            for (int32_t p = 0; p < n; p++) w[p] = (float)urand();
            const float *kb = kv + hd; /* the second head of each row */
            k->attn_scores(q, kb, stride, n, hd, scale, sc);
            stat *st = stat_get(k->name, "attn_scores", TOL_SUM(hd));
            for (int32_t p = 0; p < n; p++) {
                double want = 0, abs = 0;
                for (int32_t i = 0; i < hd; i++)
                    want += (double)q[i] * kb[p * stride + i], abs += fabs((double)q[i] * kb[p * stride + i]);
                int ok = stat_add(st, sc[p], want * scale, abs * scale, TOL_SUM(hd));
                CHECK(ok, "%s attn_scores hd %d p %d: %.9g, exact %.9g", k->name, hd, p, sc[p], want * scale);
                float viadot = k->dot(q, kb + p * stride, hd) * scale;
                CHECK(sc[p] == viadot, "%s attn_scores hd %d p %d: %.9g, dot() gives %.9g", k->name, hd, p, sc[p],
                      viadot);
            }
            k->attn_values(w, kb, stride, n, hd, out);
            for (int32_t i = 0; i < hd; i++) outr[i] = 0.0f;
            for (int32_t p = 0; p < n; p++) k->axpy(outr, w[p], kb + p * stride, hd);
            CHECK(!memcmp(out, outr, (size_t)hd * 4), "%s attn_values hd %d n %d differs from axpy per position",
                  k->name, hd, n);
            st = stat_get(k->name, "attn_values", TOL_SUM(n));
            for (int32_t i = 0; i < hd; i++) {
                double want = 0, abs = 0;
                for (int32_t p = 0; p < n; p++)
                    want += (double)w[p] * kb[p * stride + i], abs += fabs((double)w[p] * kb[p * stride + i]);
                int ok = stat_add(st, out[i], want, abs, TOL_SUM(n));
                CHECK(ok, "%s attn_values hd %d [%d]: %.9g, exact %.9g", k->name, hd, i, out[i], want);
            }
            if (ref) {
                ref->attn_scores(q, kb, stride, n, hd, scale, sr);
                CHECK(!memcmp(sc, sr, (size_t)n * 4), "%s attn_scores hd %d n %d differs from scalar", k->name, hd, n);
                ref->attn_values(w, kb, stride, n, hd, outr);
                CHECK(!memcmp(out, outr, (size_t)hd * 4), "%s attn_values hd %d n %d differs from scalar", k->name, hd,
                      n);
            }
            test_attention_f16(k, ref, q, kv, stride, n, hd, w);
            free(q), free(kv), free(w), free(sc), free(sr), free(out), free(outr);
        }
    }
}

/* sw_expf against libm's double exp over a sweep of [-87.3, 88.3] (and the
 * clamps outside), then softmax against a double reference and, for the SIMD
 * table, the scalar one bit for bit. */
static void test_softmax(const sw_kernels *k, const sw_kernels *ref) {
    if (!ref) {
        double worst = 0;
        for (float x = -87.3f; x <= 88.3f; x += 0.0137f) {
            double want = exp((double)x), got = sw_expf(x);
            double rel = fabs(got - want) / want;
            if (rel > worst) worst = rel;
        }
        CHECK(worst < 3.0 * FLT_EPSILON, "sw_expf: relative error %.3g above 3 ulp", worst);
        CHECK(sw_expf(-1000.0f) == 0.0f, "sw_expf(-1000) = %g", sw_expf(-1000.0f));
        CHECK(isinf(sw_expf(1000.0f)), "sw_expf(1000) = %g", sw_expf(1000.0f));
        CHECK(isnan(sw_expf(NAN)), "sw_expf(NaN) = %g", sw_expf(NAN));
        CHECK(sw_expf(0.0f) == 1.0f, "sw_expf(0) = %.9g", sw_expf(0.0f));
    }
    static const int32_t ns[] = {1, 3, 4, 9, 130, 1000};
    for (int ni = 0; ni < 6; ni++) {
        int32_t n = ns[ni];
        float *x = xmalloc((size_t)n * 4), *xr = xmalloc((size_t)n * 4);
        for (int32_t i = 0; i < n; i++) x[i] = xr[i] = arand() * 4.0f;
        double mx = -INFINITY, sum = 0;
        for (int32_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
        for (int32_t i = 0; i < n; i++) sum += exp((double)x[i] - mx);
        float *orig = xmalloc((size_t)n * 4);
        memcpy(orig, x, (size_t)n * 4);
        k->softmax(x, n);
        stat *st = stat_get(k->name, "softmax", 8 * FLT_EPSILON);
        for (int32_t i = 0; i < n; i++) {
            double want = exp((double)orig[i] - mx) / sum;
            /* relative to the value, and to 1e-30 for values near underflow */
            int ok = stat_add(st, x[i], want, want + 1e-30, 8 * FLT_EPSILON);
            CHECK(ok, "%s softmax n %d [%d]: %.9g, want %.9g", k->name, n, i, x[i], want);
        }
        if (ref) {
            ref->softmax(xr, n);
            CHECK(!memcmp(x, xr, (size_t)n * 4), "%s softmax n %d differs from scalar", k->name, n);
        }
        free(x), free(xr), free(orig);
    }
}

/* All checks of table k; ref (or NULL) is the scalar table to compare with. */
static void test_table(const sw_kernels *k, const sw_kernels *ref) {
    test_quantize(k, ref);
    test_matmul(k, ref);
    test_f16_all_values(k);
    if (ref) test_scales_all_values(k, ref);
    test_rmsnorm(k);
    test_swiglu(k, ref);
    test_dot_axpy(k, ref);
    test_attention(k, ref);
    test_softmax(k, ref);
}

int main(void) {
    const sw_kernels *scalar = sw_kernels_scalar();
    CHECK(sw_kernels_best() != NULL && sw_kernels_best()->name != NULL, "sw_kernels_best() has no table");
    printf("sw_kernels_best() = %s\n", sw_kernels_best()->name);
    test_table(scalar, NULL);
#ifdef SW_TEST_SIMD128
    const sw_kernels *simd = sw_kernels_simd128();
    CHECK(simd != scalar && !strcmp(simd->name, "simd128"), "sw_kernels_simd128() is not the SIMD128 table");
    test_table(simd, scalar);
#else
    printf("simd128 kernels: not in this build (configure with -DSMOLWEB_SIMDE=ON to test them through SIMDe);\n"
           "testing the scalar kernels against double-precision references only\n");
#endif
    for (int i = 0; i < n_stats; i++)
        printf("%-34s checks %8ld  max abs err %.3g  max rel err %.3g  (tol %.3g)\n", stats[i].name, stats[i].count,
               stats[i].max_abs, stats[i].max_rel, stats[i].tol);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
