/* quant_variants: reconstruction error of q4 layouts we considered, at their
 * bits per weight, on Gaussian and heavy-tailed (Laplace) weights.
 *   build/bench-quant_variants
 * The chosen format (quant.h) is "g32 sym, searched scale". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "f16.h"
#include "quant.h"

static uint64_t s = 0x9e3779b97f4a7c15ull;
static double u01(void) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return ((double)(s >> 11) + 0.5) / 9007199254740992.0;
}
static float gauss(void) { return (float)(sqrt(-2 * log(u01())) * cos(6.283185307179586 * u01())); }
static float laplace(void) { double u = u01() - 0.5; return (float)(u < 0 ? log(1 + 2 * u) : -log(1 - 2 * u)); }

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* symmetric, group g, scale = signed max / -8 (llama.cpp Q4_0's rule) */
static double sym_maxrule(const float *x, int g) {
    float am = 0, m = 0;
    for (int j = 0; j < g; j++) if (fabsf(x[j]) > am) { am = fabsf(x[j]); m = x[j]; }
    float d = sw_f16_to_f32(sw_f32_to_f16(m / -8)), id = d ? 1 / d : 0;
    double e = 0;
    for (int j = 0; j < g; j++) { float q = clampf(roundf(x[j] * id), -8, 7); e += (x[j] - q * d) * (double)(x[j] - q * d); }
    return e;
}

/* symmetric, group g, searched scale: the library's own quantizer for g = 32;
 * for g = 64 the same search done here block-wise */
static double sym_search(const float *x, int g) {
    if (g == SW_QK) {
        sw_block_q4 b; uint16_t sc; float y[SW_QK];
        sw_quantize_row(SW_DTYPE_Q4, x, SW_QK, &b, &sc);
        sw_dequantize_row(SW_DTYPE_Q4, &b, &sc, SW_QK, y);
        double e = 0;
        for (int j = 0; j < g; j++) e += (x[j] - y[j]) * (double)(x[j] - y[j]);
        return e;
    }
    float am = 0, m = 0;
    for (int j = 0; j < g; j++) if (fabsf(x[j]) > am) { am = fabsf(x[j]); m = x[j]; }
    double best = 1e300;
    for (float div = -8; div <= -6.5f; div += 0.25f) {
        float d = sw_f16_to_f32(sw_f32_to_f16(m / div)), id = d ? 1 / d : 0;
        double e = 0;
        for (int j = 0; j < g; j++) { float q = clampf(roundf(x[j] * id), -8, 7); e += (x[j] - q * d) * (double)(x[j] - q * d); }
        if (e < best) best = e;
    }
    return best;
}

/* asymmetric: value = n * scale + min, n in 0..15, f16 scale and min */
static double asym(const float *x, int g) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < g; j++) { lo = fminf(lo, x[j]); hi = fmaxf(hi, x[j]); }
    float d = sw_f16_to_f32(sw_f32_to_f16((hi - lo) / 15)), mn = sw_f16_to_f32(sw_f32_to_f16(lo)), id = d ? 1 / d : 0;
    double e = 0;
    for (int j = 0; j < g; j++) { float q = clampf(roundf((x[j] - mn) * id), 0, 15); e += (x[j] - (q * d + mn)) * (double)(x[j] - (q * d + mn)); }
    return e;
}

int main(void) {
    enum { N = 1 << 21 };
    float *x = malloc(N * sizeof *x);
    const char *dist_names[2] = {"gaussian", "laplace"};
    struct { const char *name; double bpw; int g; double (*f)(const float *, int); } v[] = {
        {"q4 g32 sym, searched scale (chosen)", 4.50, 32, sym_search},
        {"q4 g32 sym, signed max / -8 (Q4_0)", 4.50, 32, sym_maxrule},
        {"q4 g64 sym, searched scale", 4.25, 64, sym_search},
        {"q4 g32 asym, f16 scale + min (Q4_1-like)", 5.00, 32, asym},
        {"q4 g64 asym, f16 scale + min", 4.50, 64, asym},
    };
    printf("%-44s %5s  %-10s %-10s\n", "variant", "bpw", "gaussian", "laplace");
    double res[5][2];
    for (int d = 0; d < 2; d++) {
        for (int i = 0; i < N; i++) x[i] = d ? laplace() : gauss();
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[i] * x[i];
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            double e = 0;
            for (int i = 0; i < N; i += v[k].g) e += v[k].f(x + i, v[k].g);
            res[k][d] = sqrt(e / ss);
        }
    }
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        printf("%-44s %5.2f  %.5f    %.5f\n", v[k].name, v[k].bpw, res[k][0], res[k][1]);
    (void)dist_names;
    free(x);
    return 0;
}
