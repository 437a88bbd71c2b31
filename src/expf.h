/* expf.h: e^x in float arithmetic only (Cephes' expf: n = round(x log2 e),
 * r = x - n ln 2 in two steps, a degree-7 polynomial, times 2^n), within
 * 3 ulp of exp (tests/test_kernels.c sweeps [-87.3, 88.3] against double
 * exp); +inf above that range, 0 below, NaN kept. Written as
 * single float operations in a fixed order, so the scalar kernels and the
 * SIMD128 ones (exp_f32x4 in kernels_simd128.c, the same operations lane by
 * lane) give bit-identical results on every platform, where libm's expf
 * differs between C libraries. Used by SwiGLU and the attention softmax. */
#ifndef SW_EXPF_H
#define SW_EXPF_H

#include <math.h>
#include <stdint.h>

#include "f16.h"

#define SW_EXP_HI 88.3f
#define SW_EXP_LO (-87.3f)
#define SW_EXP_LOG2E 1.44269504088896341f
#define SW_EXP_C1 0.693359375f     /* ln 2, high part: n * C1 is exact */
#define SW_EXP_C2 (-2.12194440e-4f) /* ln 2 - C1 */
#define SW_EXP_P0 1.9875691500e-4f
#define SW_EXP_P1 1.3981999507e-3f
#define SW_EXP_P2 8.3334519073e-3f
#define SW_EXP_P3 4.1665795894e-2f
#define SW_EXP_P4 1.6666665459e-1f
#define SW_EXP_P5 5.0000001201e-1f

static inline float sw_expf(float x0) {
    float x = x0 < SW_EXP_HI ? x0 : SW_EXP_HI; /* a NaN becomes SW_EXP_HI here */
    x = SW_EXP_LO < x ? x : SW_EXP_LO;
    float t = x * SW_EXP_LOG2E;
    float n = rintf(t); /* nearest, ties to even (the default rounding mode) */
    float a = n * SW_EXP_C1;
    float r = x - a;
    float b = n * SW_EXP_C2;
    r = r - b;
    float z = r * r;
    float y = SW_EXP_P0 * r;
    y = y + SW_EXP_P1;
    y = y * r;
    y = y + SW_EXP_P2;
    y = y * r;
    y = y + SW_EXP_P3;
    y = y * r;
    y = y + SW_EXP_P4;
    y = y * r;
    y = y + SW_EXP_P5;
    y = y * z;
    y = y + r;
    y = y + 1.0f;
    uint32_t e = (uint32_t)((int32_t)n + 127) << 23;
    float v = y * sw_bits_f32(e);
    v = x0 > SW_EXP_HI ? INFINITY : v;
    v = x0 < SW_EXP_LO ? 0.0f : v;
    return x0 != x0 ? x0 : v;
}

#endif
