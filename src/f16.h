/* f16.h: IEEE 754 binary16 and bfloat16 conversions (round to nearest even).
 * Header-only so both the chunker and every kernel inline them. */
#ifndef SW_F16_H
#define SW_F16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t sw_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float sw_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary16 -> f32, exact for every input including subnormals, inf and NaN. */
static inline float sw_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sw_bits_f32(sw_f32_bits(v) | sign);
    }
    if (exp == 31) return sw_bits_f32(sign | 0x7f800000u | (man << 13));
    return sw_bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* f32 -> binary16, round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t sw_f32_to_f16(float f) {
    uint32_t x = sw_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {
        /* result is subnormal or zero: scale so the f16 subnormal ulp (2^-24) is 1 */
        float a = sw_bits_f32(ax) * 16777216.0f;
        /* rint-like rounding to nearest even via the 2^23 trick */
        float r = (a + 8388608.0f) - 8388608.0f;
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant_odd = (ax >> 13) & 1u;
    ax += 0xfffu + mant_odd;          /* round to nearest even at bit 13 */
    return (uint16_t)(sign | ((ax - (112u << 23)) >> 13));
}

/* bfloat16 -> f32 is a shift. */
static inline float sw_bf16_to_f32(uint16_t h) { return sw_bits_f32((uint32_t)h << 16); }

/* f32 -> bfloat16, round to nearest even; NaN stays NaN. */
static inline uint16_t sw_f32_to_bf16(float f) {
    uint32_t x = sw_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif
