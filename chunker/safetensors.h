/* safetensors.h: a bounds-checked reader of Hugging Face .safetensors files.
 *
 * Byte layout of a file (all integers little-endian):
 *   1. u64 N: the header's byte length (at most 100 MB and at most file size - 8)
 *   2. N bytes of UTF-8 JSON, an object mapping each tensor name to
 *      {"dtype": "F32"|"F16"|"BF16", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
 *      plus an optional "__metadata__" object of strings; writers pad it with
 *      spaces to a multiple of 8 bytes
 *   3. the data section: each tensor's elements row-major at [begin, end)
 *      relative to the section's start, end - begin = product(shape) * dtype size
 *
 * The input is untrusted. Opening reads and validates only the header (every
 * dtype known, shapes non-negative with an overflow-safe element count,
 * offsets inside the data section and consistent with the shape, no two
 * tensors overlapping); tensor data is read on demand, a bounded piece at a
 * time, so a 7 GB file never needs 7 GB of memory. */
#ifndef SW_SAFETENSORS_H
#define SW_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SW_ST_MAX_HEADER (100u * 1000u * 1000u) /* header length limit, bytes */
#define SW_ST_MAX_DIMS 8                         /* deeper shapes are refused */

typedef enum sw_st_elem { SW_ST_ELEM_F32 = 0, SW_ST_ELEM_F16 = 1, SW_ST_ELEM_BF16 = 2 } sw_st_elem;

typedef struct sw_st_tensor {
    const char *name;               /* owned by the file handle */
    sw_st_elem dtype;
    int ndim;                       /* 0..SW_ST_MAX_DIMS (0: a scalar) */
    int64_t shape[SW_ST_MAX_DIMS];
    uint64_t count;                 /* product of the shape */
    uint64_t begin, end;            /* byte range inside the data section */
} sw_st_tensor;

typedef struct sw_st_file sw_st_file;

/* Opens path and validates its header; the display name used in messages is
 * the path's last component ("model.safetensors: truncated header").
 * Returns NULL with err set on failure (SMOLWEB_ERR_MISSING if the file does
 * not exist). The handle keeps the file open for sw_st_read_f32. */
sw_st_file *sw_st_open(const char *path, sw_error *err);

/* Same from a memory buffer (the fuzzer's entry point). bytes is borrowed
 * and must outlive the handle; name is copied and used in messages. */
sw_st_file *sw_st_open_memory(const uint8_t *bytes, size_t len, const char *name, sw_error *err);

/* Frees the handle (closing its file); NULL is a no-op. */
void sw_st_free(sw_st_file *f);

/* The display name given at open (owned by the handle). */
const char *sw_st_name(const sw_st_file *f);

/* Number of tensors, and the i-th in name order (NULL if i is out of range). */
size_t sw_st_count(const sw_st_file *f);
const sw_st_tensor *sw_st_tensor_at(const sw_st_file *f, size_t i);

/* Finds a tensor by name; NULL if absent. Pointers stay valid until sw_st_free. */
const sw_st_tensor *sw_st_find(const sw_st_file *f, const char *name);

/* Reads tensor t (from this file) into out as f32, converting F16/BF16
 * exactly; count must equal t->count. Fails with "NAME: tensor X: ..." on a
 * short read or a count mismatch. */
smolweb_status sw_st_read_f32(sw_st_file *f, const sw_st_tensor *t, float *out, size_t count, sw_error *err);

/* The dtype's name in the header ("F32"...) and its element size in bytes. */
const char *sw_st_elem_name(sw_st_elem e);
size_t sw_st_elem_size(sw_st_elem e);

#endif
