/* kernels: speed of the matrix-product kernel on SmolLM2-135M's per-token
 * weights (30 layers of q/k/v/o/gate/up/down plus the tied head), random
 * q4 weights (head q8, as the default chunks), for one token (decode) and a
 * batch (prefill), single thread. Prints min and median ms per pass and the
 * implied tokens/s and GMAC/s. Natively it times the scalar kernels; compiled
 * with emcc -msimd128 it times the SIMD128 ones (sw_kernels_best):
 *   build/bench-kernels
 *   emcc -O3 -msimd128 -Isrc -Iinclude bench/kernels.c src/kernels_*.c src/quant.c -o k.mjs && node k.mjs */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "f16.h"
#include "kernels.h"

#define DIM 576
#define FF 1536
#define KV 192
#define VOCAB 49152
#define LAYERS 30

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

static sw_wmat make(sw_dtype type, int32_t rows, int32_t cols) {
    size_t nb = (size_t)rows * cols / SW_QK, bytes = nb * (type == SW_DTYPE_Q4 ? 16 : 32);
    uint8_t *d = malloc(bytes);
    uint16_t *s = malloc(nb * 2);
    for (size_t i = 0; i < bytes; i++) d[i] = (uint8_t)next();
    for (size_t i = 0; i < nb; i++) s[i] = sw_f32_to_f16(0.01f + (float)(next() % 100) / 1e4f);
    return (sw_wmat){type, rows, cols, d, s};
}

typedef struct shapes {
    sw_wmat w[7]; /* q k v o gate up down */
    sw_wmat head;
} shapes;

/* Streaming read bandwidth: sum of a 64 MiB array, best of 5 (small calls,
 * so V8 optimises the loop: research/wasm-feasibility.md). */
static uint32_t sum_words(const uint32_t *a, size_t n) {
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= n; i += 4) s0 += a[i], s1 += a[i + 1], s2 += a[i + 2], s3 += a[i + 3];
    return s0 + s1 + s2 + s3;
}

static double bandwidth_gbs(void) {
    size_t n = (64u << 20) / 4, chunk = 1 << 16;
    uint32_t *a = malloc(n * 4);
    for (size_t i = 0; i < n; i++) a[i] = (uint32_t)i;
    double best = 1e30;
    uint32_t sink = 0; /* printed below, so the sums cannot be optimised away */
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_ms();
        for (size_t i = 0; i < n; i += chunk) sink += sum_words(a + i, chunk);
        double t = now_ms() - t0;
        best = t < best ? t : best;
    }
    free(a);
    if (sink == 1) printf("(checksum %u)\n", (unsigned)sink);
    return (double)n * 4 / (best / 1e3) / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    const sw_kernels *k = sw_kernels_best();
    shapes sh;
    int32_t rows[7] = {DIM, KV, KV, DIM, FF, FF, DIM}, cols[7] = {DIM, DIM, DIM, DIM, DIM, DIM, FF};
    /* distinct weights per layer would exceed the cache like the real model:
     * allocate 30 copies of the layer weights */
    sw_wmat layers[LAYERS][7];
    for (int l = 0; l < LAYERS; l++)
        for (int i = 0; i < 7; i++) layers[l][i] = make(SW_DTYPE_Q4, rows[i], cols[i]);
    sh.head = make(SW_DTYPE_Q8, VOCAB, DIM);
    enum { NB = 64 }; /* the model's default prefill batch */
    sw_qact q;
    q.qs = malloc(NB * FF), q.d = malloc(NB * FF / SW_QK * 4), q.sums = malloc(NB * FF / SW_QK * 4);
    q.x16 = malloc(NB * FF * 2);
    float *x = malloc(NB * FF * 4), *y = malloc((size_t)NB * VOCAB * 4);
    for (int i = 0; i < NB * FF; i++) x[i] = (float)((int)(next() % 2001) - 1000) / 1000.0f;
    double macs_layer = 0;
    for (int i = 0; i < 7; i++) macs_layer += (double)rows[i] * cols[i];
    printf("kernels: %s\n", k->name);
    double bytes_layer = 0;
    for (int i = 0; i < 7; i++) bytes_layer += (double)rows[i] * cols[i] / SW_QK * (16 + 2);
    double bytes_token = LAYERS * bytes_layer + (double)VOCAB * DIM / SW_QK * (32 + 2);
    double gbs = bandwidth_gbs();
    printf("memory: %.1f GB/s streaming (sum of a 64 MiB array); decode reads %.1f MB of weights per token "
           "-> bandwidth bound %.0f tok/s\n",
           gbs, bytes_token / 1e6, gbs * 1e9 / bytes_token);
    for (int n = 1; n <= NB; n *= 8) {
        double t[9];
        for (int rep = 0; rep < 9; rep++) {
            double t0 = now_ms();
            for (int l = 0; l < LAYERS; l++) {
                k->quantize_act(x, n, FF, &q); /* FF-wide covers every input width */
                for (int i = 0; i < 7; i++) {
                    sh.w[i] = layers[l][i];
                    k->matmul(&sh.w[i], NULL, &q, n, y, sh.w[i].rows, 0, sh.w[i].rows);
                }
            }
            k->matmul(&sh.head, NULL, &q, 1, y, VOCAB, 0, VOCAB);
            t[rep] = now_ms() - t0;
        }
        qsort(t, 9, sizeof t[0], cmp);
        double macs = LAYERS * macs_layer * n + (double)VOCAB * DIM;
        printf("n=%2d tokens: min %.2f ms, median %.2f ms per pass -> %.1f tok/s, %.2f GMAC/s (layers q4, head q8)\n", n,
               t[0], t[4], n * 1000.0 / t[0], macs / t[0] / 1e6);
    }
    /* the same work with one layer's weights (2 MB) reused for all 30: if the
     * time per token drops little, decode is bound by instructions, not by
     * streaming weights from memory */
    {
        double t[9];
        for (int rep = 0; rep < 9; rep++) {
            double t0 = now_ms();
            for (int l = 0; l < LAYERS; l++) {
                k->quantize_act(x, 1, FF, &q);
                for (int i = 0; i < 7; i++) k->matmul(&layers[0][i], NULL, &q, 1, y, rows[i], 0, rows[i]);
            }
            t[rep] = now_ms() - t0;
        }
        qsort(t, 9, sizeof t[0], cmp);
        double t1[9];
        for (int rep = 0; rep < 9; rep++) {
            double t0 = now_ms();
            for (int l = 0; l < LAYERS; l++) {
                k->quantize_act(x, 1, FF, &q);
                for (int i = 0; i < 7; i++) k->matmul(&layers[l][i], NULL, &q, 1, y, rows[i], 0, rows[i]);
            }
            t1[rep] = now_ms() - t0;
        }
        qsort(t1, 9, sizeof t1[0], cmp);
        printf("layers only, n=1: %.2f ms with 30 distinct layers (%.0f MB streamed), %.2f ms with one cached layer "
               "reused: streaming costs %.0f%%\n",
               t1[0], LAYERS * bytes_layer / 1e6, t[0], (t1[0] / t[0] - 1) * 100);
    }
    return 0;
}
