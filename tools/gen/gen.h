/* gen.h: the random-weight model generator's shared pieces.
 *
 * Tensors are produced on demand by a fill callback (deterministic from the
 * seed and the tensor's name), so every writer streams one tensor at a time
 * and the safetensors and GGUF outputs of one seed hold the same weights. */
#ifndef SW_GEN_H
#define SW_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "source.h"

/* One tensor to write, by its Hugging Face name and PyTorch shape. */
typedef struct sw_gen_tensor {
    char hf_name[96];
    int ndim;          /* 1 or 2 */
    int64_t shape[2];  /* [rows, cols]; shape[1] unused when ndim == 1 */
} sw_gen_tensor;

/* Fills out (count f32 values, row-major in the PyTorch shape) with the
 * tensor's weights, un-permuted (HF layout). */
typedef smolweb_status (*sw_gen_fill_fn)(void *user, const sw_gen_tensor *t, float *out, size_t count, sw_error *err);

typedef enum sw_st_dtype { SW_ST_F32 = 0, SW_ST_F16 = 1, SW_ST_BF16 = 2 } sw_st_dtype;

/* Writes dir/model.safetensors (n_shards <= 1) or dir/model-0000i-of-0000N.safetensors
 * plus dir/model.safetensors.index.json (n_shards > 1), tensors converted to dtype. */
smolweb_status sw_safetensors_write(const char *dir, const sw_gen_tensor *tensors, int n, sw_st_dtype dtype, int n_shards,
                                    sw_gen_fill_fn fill, void *user, sw_error *err);

/* GGUF tensor type choice, as llama.cpp's quantizer names them. */
typedef enum sw_gguf_ftype {
    SW_GGUF_OUT_F32 = 0,
    SW_GGUF_OUT_F16 = 1,
    SW_GGUF_OUT_Q8_0 = 2,
    SW_GGUF_OUT_Q4_0 = 3,        /* every linear weight and the token embedding in Q4_0 */
    SW_GGUF_OUT_Q4_0_EMB_Q8 = 4  /* Q4_0 with token_embd in Q8_0, as llama.cpp's quantizer does */
} sw_gguf_ftype;

/* Writes a GGUF v3 file llama.cpp loads: llama architecture metadata from cfg,
 * the tokenizer from tokenizer_dir (tokenizer.json + tokenizer_config.json:
 * tokens, token types, merges, special ids, chat template, pre-tokenizer
 * "smollm"), and the tensors under llama.cpp's names, Q and K rows permuted
 * as llama.cpp's converter does. Norms stay F32. */
smolweb_status sw_gguf_write(const char *path, const sw_model_config *cfg, const sw_gen_tensor *tensors, int n,
                             sw_gguf_ftype ftype, const char *tokenizer_dir, sw_gen_fill_fn fill, void *user,
                             sw_error *err);

#endif
