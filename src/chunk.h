/* chunk.h: the weight chunk file (.swc), one per transformer layer plus one
 * for the token embedding, final norm and (untied) head.
 *
 * Byte layout, all integers little-endian:
 *   1. offset 0,  4 bytes : magic "SWCK"
 *   2. offset 4,  u32     : version (SW_CHUNK_VERSION = 1)
 *   3. offset 8,  u32     : role (1 = embedding/norm/head, 2 = layer; as sw_file_role)
 *   4. offset 12, i32     : layer index (-1 for the embedding chunk)
 *   5. offset 16, u32     : tensor count N (1..SW_CHUNK_MAX_TENSORS)
 *   6. offset 20, u32     : header size H = 32 + 64 * N rounded up to 64
 *   7. offset 24, u64     : file size in bytes
 *   8. offset 32          : N tensor entries of 64 bytes each:
 *        +0  char[32] name, NUL-padded, NUL-terminated ("q", "up", "embed", ...)
 *        +32 u32 dtype (sw_dtype: 0 f32, 1 f16, 2 q8, 3 q4)
 *        +36 u32 rows   (1 for a vector)
 *        +40 u32 cols
 *        +44 u32 reserved, 0
 *        +48 u64 offset of the tensor's bytes from the file start, a multiple of 64
 *        +56 u64 byte count = sw_tensor_bytes(dtype, rows, cols)
 *   9. zero padding up to H, then the tensors' bytes in table order, each
 *      starting at a 64-byte boundary (zero padding between), the last one
 *      ending exactly at the file size.
 * A quantized tensor's bytes are laid out as quant.h says (blocks, then the
 * f16 scale array); every scale must be finite (sw_chunk_parse refuses an
 * infinite or NaN one, naming the tensor and block). 64-byte alignment lets
 * the runtime use the weights in place as views into the chunk buffer, with
 * SIMD-aligned rows.
 *
 * Tensor names: layer chunks hold attn_norm, q, k, v, o, ffn_norm, gate, up,
 * down; the embedding chunk holds embed, norm and, only when the head is not
 * tied to the embedding, head. */
#ifndef SW_CHUNK_H
#define SW_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "quant.h"

#define SW_CHUNK_MAGIC "SWCK"
#define SW_CHUNK_VERSION 1
#define SW_CHUNK_ALIGN 64
#define SW_CHUNK_MAX_TENSORS 16
#define SW_CHUNK_NAME_LEN 32

typedef struct sw_chunk_tensor {
    char name[SW_CHUNK_NAME_LEN];
    sw_dtype dtype;
    uint32_t rows, cols;
    uint64_t offset, nbytes;
    const uint8_t *data;   /* view into the chunk buffer (parse) */
} sw_chunk_tensor;

typedef struct sw_chunk_view {
    uint32_t version;
    uint32_t role;
    int32_t layer;
    uint32_t n_tensors;
    sw_chunk_tensor tensors[SW_CHUNK_MAX_TENSORS];
} sw_chunk_view;

/* Validates a chunk held in memory (untrusted bytes) and fills view with
 * tensors pointing into bytes (no copies). Checks magic, version, sizes,
 * alignment, bounds, overlaps, dtypes and per-tensor byte counts. */
smolweb_status sw_chunk_parse(const uint8_t *bytes, size_t len, sw_chunk_view *view, sw_error *err);

/* Returns the tensor with this name, or NULL. */
const sw_chunk_tensor *sw_chunk_find(const sw_chunk_view *view, const char *name);

/* Writing: describe tensors (name, dtype, rows, cols), compute the header with
 * sw_chunk_layout (fills offsets and nbytes, returns the file size, 0 on
 * overflow or a bad entry), then write sw_chunk_header_bytes followed by each
 * tensor at its offset. */
uint64_t sw_chunk_layout(sw_chunk_view *view);
/* Serialises the header of a laid-out view into buf (header_size bytes,
 * = 32 + 64*N rounded up to 64); returns header_size. */
size_t sw_chunk_header_bytes(const sw_chunk_view *view, uint64_t file_size, uint8_t *buf, size_t buf_len);

#endif
