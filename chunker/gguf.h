/* gguf.h: a bounds-checked reader of GGUF v2/v3 files (llama.cpp's format).
 *
 * The whole header (metadata key/values and tensor infos) is parsed and
 * validated at open; tensor data is read on demand from the file. All sizes
 * are checked for overflow; every string and array is length-checked against
 * the file size. */
#ifndef SW_GGUF_H
#define SW_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sw_gguf sw_gguf;

/* ggml tensor types the reader can dequantize (values are ggml's own). */
enum {
    SW_GGML_F32 = 0, SW_GGML_F16 = 1, SW_GGML_Q4_0 = 2, SW_GGML_Q4_1 = 3,
    SW_GGML_Q5_0 = 6, SW_GGML_Q5_1 = 7, SW_GGML_Q8_0 = 8,
    SW_GGML_Q4_K = 12, SW_GGML_Q5_K = 13, SW_GGML_Q6_K = 14, SW_GGML_BF16 = 30
};

/* Parses the file's header from a memory buffer (used by the fuzzer and by
 * sw_gguf_open). The buffer must outlive the handle only if data is read from it. */
sw_gguf *sw_gguf_open_memory(const uint8_t *bytes, size_t len, const char *name, sw_error *err);
/* Opens and parses a file; returns NULL with err set ("x.gguf: truncated header", ...). */
sw_gguf *sw_gguf_open(const char *path, sw_error *err);
void sw_gguf_free(sw_gguf *g);

uint32_t sw_gguf_version(const sw_gguf *g);

/* Metadata getters: return 1 and set *out when the key exists with a
 * compatible type (any integer type for get_int, any float or integer for
 * get_float), else 0. Strings are NUL-terminated copies owned by the handle. */
int sw_gguf_get_str(const sw_gguf *g, const char *key, const char **out);
int sw_gguf_get_int(const sw_gguf *g, const char *key, int64_t *out);
int sw_gguf_get_float(const sw_gguf *g, const char *key, double *out);
int sw_gguf_get_bool(const sw_gguf *g, const char *key, int *out);
/* Arrays of strings: *items[i] is NUL-terminated, *lens[i] its byte length. */
int sw_gguf_get_str_array(const sw_gguf *g, const char *key, size_t *n, const char *const **items, const uint32_t **lens);
/* Arrays of integers (any integer element type), widened to int64. */
int sw_gguf_get_int_array(const sw_gguf *g, const char *key, size_t *n, const int64_t **items);

/* Tensor lookup by GGUF name ("blk.7.ffn_up.weight"). ne[0] is the fastest
 * dimension (columns). Returns 1 if found. */
int sw_gguf_tensor(const sw_gguf *g, const char *name, uint32_t *ggml_type, int *n_dims, int64_t ne[4]);
size_t sw_gguf_tensor_count(const sw_gguf *g);
const char *sw_gguf_tensor_name(const sw_gguf *g, size_t i);

/* Reads and dequantizes a whole tensor to f32 (count elements, ggml order). */
smolweb_status sw_gguf_read_f32(sw_gguf *g, const char *name, float *out, size_t count, sw_error *err);

#endif
