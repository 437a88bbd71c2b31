/* test_quant.c: the weight formats of quant.h against independent references.
 * - f16: every half value round-trips; f32 -> f16 rounding equals the
 *   compiler's own _Float16 conversion (an independent IEEE implementation).
 * - bf16: round to nearest even, checked against a direct formula.
 * - q4: nibble order and the decode formula on a hand-made block; on random
 *   blocks every weight inside the representable range is within half a step,
 *   and each block's squared error is at most llama.cpp Q4_0's choice
 *   (scale = signed max / -8), recomputed here independently.
 * - q8: every weight within half a step.
 * - tensor layout: blocks first, then the scale array; row r's scales at r*K/32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f16.h"
#include "quant.h"

#include "check.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static float nrand(void) {
    double u1 = urand() + 1e-300, u2 = urand();
    return (float)(sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2));
}

static void test_f16(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = sw_f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            CHECK(((h >> 10) & 31) == 31 && (h & 0x3ff), "NaN from non-NaN half %04x", h);
            continue;
        }
        CHECK(sw_f32_to_f16(f) == h, "half %04x -> %g -> %04x", h, f, sw_f32_to_f16(f));
#ifdef __FLT16_MAX__
        _Float16 hv;
        uint16_t h16 = (uint16_t)h;
        memcpy(&hv, &h16, 2);
        CHECK((float)hv == f, "half %04x decodes to %g", h, f);
#endif
    }
#ifdef __FLT16_MAX__
    for (int i = 0; i < 2000000; i++) {
        /* random bit patterns cover every exponent, including subnormal results and overflow */
        uint32_t bits = (uint32_t)(urand() * 4294967296.0);
        float f = sw_bits_f32(bits);
        if (isnan(f)) continue;
        _Float16 ref = (_Float16)f;
        uint16_t rb;
        memcpy(&rb, &ref, 2);
        CHECK(sw_f32_to_f16(f) == rb, "f32 %08x -> %04x, compiler says %04x", bits, sw_f32_to_f16(f), rb);
        if (failures > 20) return;
    }
#else
    fprintf(stderr, "note: no _Float16 in this compiler; f32->f16 rounding checked by round trips only\n");
#endif
}

static void test_bf16(void) {
    for (int i = 0; i < 1000000; i++) {
        uint32_t bits = (uint32_t)(urand() * 4294967296.0);
        float f = sw_bits_f32(bits);
        if (isnan(f)) continue;
        /* reference: pick the nearer of the two neighbours, ties to even */
        uint32_t lo = bits & 0xffff0000u, rem = bits & 0xffffu;
        uint32_t up = lo + 0x10000u;
        uint32_t want = rem > 0x8000u ? up : rem < 0x8000u ? lo : (((lo >> 16) & 1) ? up : lo);
        CHECK(sw_f32_to_bf16(f) == (uint16_t)(want >> 16), "bf16 of %08x", bits);
        CHECK(sw_bf16_to_f32(sw_f32_to_bf16(f)) == sw_bits_f32((want >> 16) << 16), "bf16 decode of %08x", bits);
        if (failures > 20) return;
    }
}

static void test_q4_layout(void) {
    /* w[j] = (j % 16) - 8 steps of 0.5: low nibbles 0..15 for j < 16, the same for j >= 16 */
    float x[SW_QK], y[SW_QK];
    for (int j = 0; j < SW_QK; j++) x[j] = 0.5f * (float)((j % 16) - 8);
    sw_block_q4 b;
    uint16_t sc;
    sw_quantize_row(SW_DTYPE_Q4, x, SW_QK, &b, &sc);
    CHECK(sw_f16_to_f32(sc) == 0.5f, "scale %g, want 0.5", sw_f16_to_f32(sc));
    for (int j = 0; j < 16; j++) CHECK(b.qs[j] == (uint8_t)(j | (j << 4)), "byte %d = %02x", j, b.qs[j]);
    sw_dequantize_row(SW_DTYPE_Q4, &b, &sc, SW_QK, y);
    for (int j = 0; j < SW_QK; j++) CHECK(y[j] == x[j], "w[%d] = %g, want %g", j, y[j], x[j]);
    /* byte j holds w[j] (low) and w[j+16] (high) */
    for (int j = 0; j < SW_QK; j++) x[j] = j < 16 ? -4.0f : 3.5f;
    sw_quantize_row(SW_DTYPE_Q4, x, SW_QK, &b, &sc);
    sw_dequantize_row(SW_DTYPE_Q4, &b, &sc, SW_QK, y);
    for (int j = 0; j < SW_QK; j++) CHECK(fabsf(y[j] - x[j]) <= 0.5f * sw_f16_to_f32(sc) + 1e-6f, "w[%d]", j);
    CHECK((b.qs[0] & 15) < (b.qs[0] >> 4), "low nibble is w[0] (negative), high nibble w[16] (positive)");
}

/* llama.cpp Q4_0's block error: d = signed max / -8 rounded to f16, q = clamp(round(x/d)+8). */
static double q4_0_error(const float *x) {
    float am = 0, m = 0;
    for (int j = 0; j < SW_QK; j++)
        if (fabsf(x[j]) > am) { am = fabsf(x[j]); m = x[j]; }
    float d = sw_f16_to_f32(sw_f32_to_f16(m / -8.0f)), id = d ? 1.0f / d : 0.0f;
    double e = 0;
    for (int j = 0; j < SW_QK; j++) {
        float q = floorf(x[j] * id + 8.5f);
        q = q < 0 ? 0 : (q > 15 ? 15 : q);
        double r = x[j] - (q - 8) * d;
        e += r * r;
    }
    return e;
}

static void test_q4_random(void) {
    double err_ours = 0, err_q40 = 0, sum2 = 0;
    for (int it = 0; it < 20000; it++) {
        float x[SW_QK], y[SW_QK];
        float scale = (float)pow(10.0, urand() * 6 - 4); /* 1e-4 .. 1e2 */
        for (int j = 0; j < SW_QK; j++) x[j] = nrand() * scale;
        if (it % 97 == 0) x[3] = 0, x[5] = -x[5] * 9; /* outliers */
        sw_block_q4 b;
        uint16_t sc;
        sw_quantize_row(SW_DTYPE_Q4, x, SW_QK, &b, &sc);
        sw_dequantize_row(SW_DTYPE_Q4, &b, &sc, SW_QK, y);
        float d = sw_f16_to_f32(sc);
        double e = 0;
        for (int j = 0; j < SW_QK; j++) {
            double r = (double)x[j] - y[j];
            e += r * r;
            sum2 += (double)x[j] * x[j];
            float lo = fminf(-8.0f * d, 7.0f * d), hi = fmaxf(-8.0f * d, 7.0f * d);
            if (x[j] >= lo && x[j] <= hi)
                CHECK(fabs(r) <= 0.5 * fabs(d) * (1 + 1e-5) + fabs(x[j]) * 1e-6 + 1e-30, "in-range weight off by %g (step %g)", r, d);
        }
        double e0 = q4_0_error(x);
        CHECK(e <= e0 * (1 + 1e-5) + 1e-30, "block error %g above Q4_0's %g", e, e0);
        err_ours += e;
        err_q40 += e0;
        if (failures > 20) return;
    }
    printf("q4 relative RMS error on random blocks: ours %.5f, Q4_0 rule %.5f\n", sqrt(err_ours / sum2),
           sqrt(err_q40 / sum2));
}

static void test_q8_random(void) {
    for (int it = 0; it < 20000; it++) {
        float x[SW_QK], y[SW_QK];
        float scale = (float)pow(10.0, urand() * 6 - 4);
        for (int j = 0; j < SW_QK; j++) x[j] = nrand() * scale;
        sw_block_q8 b;
        uint16_t sc;
        sw_quantize_row(SW_DTYPE_Q8, x, SW_QK, &b, &sc);
        sw_dequantize_row(SW_DTYPE_Q8, &b, &sc, SW_QK, y);
        float d = sw_f16_to_f32(sc);
        for (int j = 0; j < SW_QK; j++) {
            /* the f16-rounded scale may put the max just past 127 steps: clamped, so allow that too */
            /* + float rounding of x / d when x sits on a rounding tie */
            double r = fabs((double)x[j] - y[j]), bound = 0.5 * d * (1 + 1e-5) + fabs(x[j]) * 1e-6;
            if (fabs(x[j]) > 127 * d) bound = fabs(x[j]) - 127 * d + 1e-30;
            CHECK(r <= bound + 1e-30, "q8 weight off by %g (step %g)", r, d);
        }
        if (failures > 20) return;
    }
}

static void test_zero_and_sizes(void) {
    float x[SW_QK] = {0}, y[SW_QK];
    sw_block_q4 b;
    uint16_t sc;
    sw_quantize_row(SW_DTYPE_Q4, x, SW_QK, &b, &sc);
    sw_dequantize_row(SW_DTYPE_Q4, &b, &sc, SW_QK, y);
    for (int j = 0; j < SW_QK; j++) CHECK(y[j] == 0.0f, "zero block decodes to %g", y[j]);
    CHECK(sw_tensor_bytes(SW_DTYPE_Q4, 576, 576) == 576 * 18 * 18, "q4 bytes");
    CHECK(sw_tensor_bytes(SW_DTYPE_Q8, 2, 64) == 2 * 2 * 34, "q8 bytes");
    CHECK(sw_tensor_bytes(SW_DTYPE_F16, 3, 5) == 30, "f16 bytes");
    CHECK(sw_tensor_bytes(SW_DTYPE_Q4, 1, 33) == 0, "q4 needs cols %% 32 == 0");
    CHECK(sw_tensor_bytes(SW_DTYPE_F32, UINT64_C(1) << 40, 4) == 0, "overflow guarded");
    CHECK(sw_dtype_bits_per_weight(SW_DTYPE_Q4) == 4.5, "q4 is 4.5 bpw");
    CHECK(sw_dtype_bits_per_weight(SW_DTYPE_Q8) == 8.5, "q8 is 8.5 bpw");
    CHECK(sw_dtype_from_name("q4") == SW_DTYPE_Q4 && sw_dtype_from_name("int4") == -1, "names");
}

static void test_tensor_layout(void) {
    enum { R = 3, K = 64 };
    float x[R * K], y[K];
    for (int i = 0; i < R * K; i++) x[i] = nrand();
    for (int t = 0; t < SW_DTYPE_COUNT_; t++) {
        uint8_t buf[R * K * 4];
        sw_quantize_tensor((sw_dtype)t, x, R, K, buf);
        for (int r = 0; r < R; r++) {
            float row_ref[K];
            /* independent path: quantize the row alone and decode it */
            uint8_t qs[K * 4];
            uint16_t sc[K / SW_QK];
            sw_quantize_row((sw_dtype)t, x + r * K, K, qs, sc);
            sw_dequantize_row((sw_dtype)t, qs, sc, K, row_ref);
            sw_dequantize_tensor_row((sw_dtype)t, buf, R, K, r, y);
            CHECK(memcmp(y, row_ref, sizeof y) == 0, "%s row %d differs", sw_dtype_name((sw_dtype)t), r);
            if (sw_dtype_is_blocked((sw_dtype)t)) {
                size_t bb = t == SW_DTYPE_Q4 ? 16 : 32;
                const uint16_t *scales = (const uint16_t *)(const void *)(buf + (size_t)R * (K / SW_QK) * bb);
                CHECK(memcmp(scales + r * (K / SW_QK), sc, sizeof sc) == 0, "scales of row %d after the blocks", r);
                CHECK(memcmp(buf + (size_t)r * (K / SW_QK) * bb, qs, (K / SW_QK) * bb) == 0, "blocks of row %d", r);
            }
        }
    }
}

int main(void) {
    test_f16();
    test_bf16();
    test_q4_layout();
    test_q4_random();
    test_q8_random();
    test_zero_and_sizes();
    test_tensor_layout();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_quant: ok\n");
    return 0;
}
