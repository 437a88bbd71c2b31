/* tokpack.h: builds the tokenizer chunk (a compact binary tokenizer, format
 * documented in src/tokenizer_format.h) from a Hugging Face tokenizer.json +
 * tokenizer_config.json, or from a GGUF file's tokenizer.ggml.* metadata. */
#ifndef SW_TOKPACK_H
#define SW_TOKPACK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "gguf.h"

typedef struct sw_tok_meta {
    int bos_id;          /* -1 when none */
    int eos_id;          /* -1 when none */
    int pad_id;          /* -1 when none */
    int n_stop;          /* ids that end generation (eos and e.g. <|im_end|>) */
    int stop_ids[8];
    char *chat_template; /* malloc'd verbatim template, or NULL */
    int vocab_size;      /* number of ids the tokenizer knows */
} sw_tok_meta;

/* Packs dir/tokenizer.json (+ dir/tokenizer_config.json, optional) into a
 * malloc'd buffer (*out, *out_len). Returns status; on failure err names the file. */
smolweb_status sw_tokpack_from_hf_dir(const char *dir, uint8_t **out, size_t *out_len, sw_tok_meta *meta, sw_error *err);

/* Packs a GGUF file's tokenizer metadata (tokenizer.ggml.model "gpt2"). */
smolweb_status sw_tokpack_from_gguf(const sw_gguf *g, uint8_t **out, size_t *out_len, sw_tok_meta *meta, sw_error *err);

/* Frees what a sw_tok_meta owns (not the struct). */
void sw_tok_meta_clear(sw_tok_meta *meta);

#endif
