/* quant.h: the weight formats, defined once for the chunker and the runtime.
 *
 * A 2-D weight of R rows by K columns (PyTorch [out, in]; a row is one output)
 * is stored row-major. Quantized formats group each row into blocks of
 * SW_QK = 32 consecutive weights; K must be a multiple of 32 (64 divides every
 * SmolLM dimension). A quantized tensor is two arrays back to back:
 *
 *   qs     : R * (K/32) blocks, row-major (row r's blocks are contiguous)
 *   scales : R * (K/32) f16 scales, row-major, one per block
 *
 * so a kernel streams a row's nibbles as aligned 16-byte vectors and converts
 * its scales four at a time, the layout research/wasm-feasibility.md measured
 * fastest in wasm SIMD128. Total bytes: sw_tensor_bytes().
 *
 * q4 (4.5 bits per weight = (16 B nibbles + 2 B scale) * 8 / 32):
 *   symmetric int4. Block byte j (0..15) holds weight j in its low nibble and
 *   weight j+16 in its high nibble: byte[j] = w[j] | w[j+16] << 4. A nibble n
 *   decodes to (n - 8) * scale, so n in 0..15 spans -8..7 steps. The reference
 *   quantizer picks, per block, the scale among a few candidates around
 *   max|w|/8 that gives the least squared error (the extreme weight lands on
 *   -8, as llama.cpp's Q4_0 does, or just inside the range).
 * q8 (8.5 bits per weight): int8 blocks of 32 (qs is 32 bytes a block, weight
 *   j in byte j), value = q * scale, q in -127..127, scale = max|w| / 127.
 * f16 (16 bits): IEEE binary16, no scales.  f32 (32 bits): no scales.
 * Norm weights always stay f32.
 *
 * Alternatives measured with build/bench-quant_variants (2^21 weights; relative
 * RMS error = rms(w - dequant(w)) / rms(w)):
 *   variant                                    bpw   gaussian  laplace
 *   q4 g32 symmetric, searched f16 scale       4.50  0.0827    0.1039   <- this format
 *   q4 g32 symmetric, signed max / -8 (Q4_0)   4.50  0.0859    0.1070
 *   q4 g64 symmetric, searched f16 scale       4.25  0.0942    0.1239
 *   q4 g32 asymmetric, f16 scale + f16 min     5.00  0.0782    0.0918
 *   q4 g64 asymmetric, f16 scale + f16 min     4.50  0.0896    0.1112
 * At 4.5 bits per weight the searched symmetric g32 scale has the least error
 * (and never more than Q4_0's rule on any block: tests/test_quant.c); the
 * asymmetric g32 variant is better only by spending 0.5 more bits per weight.
 * The format stays g32 symmetric unless a faster kernel on another layout is
 * proven with numbers.
 */
#ifndef SW_QUANT_H
#define SW_QUANT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define SW_QK 32

typedef enum sw_dtype {
    SW_DTYPE_F32 = 0,
    SW_DTYPE_F16 = 1,
    SW_DTYPE_Q8 = 2,
    SW_DTYPE_Q4 = 3,
    SW_DTYPE_COUNT_
} sw_dtype;

/* One q4 block's nibbles; its f16 scale lives in the tensor's scale array. */
typedef struct sw_block_q4 {
    uint8_t qs[SW_QK / 2]; /* byte j = w[j] | w[j+16] << 4, value (n - 8) * scale */
} sw_block_q4;
static_assert(sizeof(sw_block_q4) == 16, "q4 block is 16 bytes");

/* One q8 block's int8 weights; its f16 scale lives in the tensor's scale array. */
typedef struct sw_block_q8 {
    int8_t qs[SW_QK]; /* weight j in byte j, value q * scale */
} sw_block_q8;
static_assert(sizeof(sw_block_q8) == 32, "q8 block is 32 bytes");

/* "f32", "f16", "q8", "q4"; NULL for an unknown value. */
const char *sw_dtype_name(sw_dtype t);
/* Parses a name as above; returns -1 for an unknown name. */
int sw_dtype_from_name(const char *name);
/* 1 if the type is stored in blocks of SW_QK with a scale array. */
int sw_dtype_is_blocked(sw_dtype t);
/* Bits per weight, e.g. 4.5 for q4. */
double sw_dtype_bits_per_weight(sw_dtype t);

/* Bytes of a rows x cols tensor of type t; 0 if cols is not a multiple of
 * SW_QK for a blocked type or the size overflows. */
uint64_t sw_tensor_bytes(sw_dtype t, uint64_t rows, uint64_t cols);

/* Quantize one row of n weights (n % SW_QK == 0 for blocked types) from f32.
 * qs receives the row's blocks (or raw f16/f32 values); scales receives n/32
 * f16 scales (ignored, may be NULL, for f16/f32). */
void sw_quantize_row(sw_dtype t, const float *x, int64_t n, void *qs, uint16_t *scales);

/* Dequantize one row of n weights back to f32. */
void sw_dequantize_row(sw_dtype t, const void *qs, const uint16_t *scales, int64_t n, float *y);

/* Quantize a whole rows x cols tensor into dst (sw_tensor_bytes(t, rows, cols)
 * bytes): blocks first, then the scale array. */
void sw_quantize_tensor(sw_dtype t, const float *x, int64_t rows, int64_t cols, void *dst);

/* Dequantize row r of a tensor laid out as sw_quantize_tensor writes it. */
void sw_dequantize_tensor_row(sw_dtype t, const void *src, int64_t rows, int64_t cols, int64_t r, float *y);

#endif
