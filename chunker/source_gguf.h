/* source_gguf.h: the pieces of the GGUF model source (source.h) that the
 * GGUF writer and the fuzzer share: llama.cpp's tensor names and its Q/K row
 * permutation, and the llama configuration from GGUF metadata. */
#ifndef SW_SOURCE_GGUF_H
#define SW_SOURCE_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "gguf.h"
#include "source.h"

/* Which rows of a tensor llama.cpp's converter permutes. */
typedef enum sw_gguf_perm { SW_GGUF_PERM_NONE = 0, SW_GGUF_PERM_Q = 1, SW_GGUF_PERM_K = 2 } sw_gguf_perm;

/* Maps a Hugging Face llama tensor name to llama.cpp's GGUF name
 * ("model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight").
 * Returns 1 and writes out (cap bytes) and *perm (may be NULL), or 0 for a
 * name with no GGUF counterpart. */
int sw_gguf_name_from_hf(const char *hf_name, char *out, size_t cap, sw_gguf_perm *perm);

/* llama.cpp's converter stores each head's rows of q_proj (n_head = heads)
 * and k_proj (n_head = kv heads) interleaved: within a head of R rows, HF row
 * j*R/2 + i becomes GGUF row 2i + j (j = 0, 1), i.e. numpy's
 * w.reshape(n_head, 2, R/2, cols).swapaxes(1, 2).reshape(rows, cols).
 * sw_gguf_permute_rows applies it (inverse = 0) or undoes it (inverse = 1)
 * from src to dst (distinct buffers of rows * cols floats). rows must be a
 * multiple of 2 * n_head; returns 0 otherwise. */
int sw_gguf_permute_rows(const float *src, float *dst, int64_t rows, int64_t cols, int n_head, int inverse);

/* Reads the llama configuration from a GGUF header (llama.* keys, vocab from
 * tokenizer.ggml.tokens or llama.vocab_size, special ids, general.name, with
 * display_name's basename without ".gguf" as the fallback name). Messages
 * start with display_name. Refuses an architecture other than llama. */
smolweb_status sw_gguf_llama_config(const sw_gguf *g, const char *display_name, sw_model_config *cfg, sw_error *err);

#endif
