/* smolweb.h: the public C API of the smolweb runtime.
 *
 * One prefix (smolweb_), opaque handles, *_default_params(), create/free
 * pairs, a status enum with smolweb_status_str(). This is what the wasm build
 * exports and the JavaScript library wraps, so weights are pushed in by the
 * caller (no file or network access here) and every call is synchronous.
 *
 * Typical use:
 *   smolweb_model_create(manifest_json, len, &params, &model, &err);
 *   for each chunk i: fill smolweb_model_chunk_buffer(model, i) with the
 *     file's bytes (e.g. stream them straight in), then
 *     smolweb_model_chunk_commit(model, i)    -- validates, weights become views
 *   smolweb_tokenize(model, text, ...);
 *   smolweb_prefill(model, ids, n, slice, &done) until done == n
 *   loop: smolweb_decode_step(model, sampler, &id)
 */
#ifndef SMOLWEB_H
#define SMOLWEB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum smolweb_status {
    SMOLWEB_OK = 0,
    SMOLWEB_ERR_INVALID_ARG = 1,   /* a caller passed a bad value */
    SMOLWEB_ERR_IO = 2,            /* a file could not be opened, read or written */
    SMOLWEB_ERR_FORMAT = 3,        /* bytes do not follow their format (truncated, bad magic, out of bounds) */
    SMOLWEB_ERR_UNSUPPORTED = 4,   /* a valid input this build does not handle (dtype, version, architecture) */
    SMOLWEB_ERR_SHAPE = 5,         /* a tensor's shape or a config value disagrees with the model */
    SMOLWEB_ERR_MISSING = 6,       /* a required tensor, file, key or chunk is absent */
    SMOLWEB_ERR_INTEGRITY = 7,     /* a size or SHA-256 does not match the manifest */
    SMOLWEB_ERR_NOMEM = 8,         /* an allocation failed */
    SMOLWEB_ERR_CONTEXT = 9,       /* the sequence would exceed the KV cache */
    SMOLWEB_ERR_STATE = 10,        /* the call is not valid now (e.g. generation before all chunks) */
    SMOLWEB_STATUS_COUNT_
} smolweb_status;

/* Returns a static, human-readable name for a status; never NULL. */
const char *smolweb_status_str(smolweb_status status);


/* ------------------------------------------------------------------ */
/* Sampler: greedy, temperature, top-k, top-p, min-p, repetition penalty,
 * with a seeded generator that gives the same tokens on every platform. */

typedef struct smolweb_sampler smolweb_sampler;

typedef struct smolweb_sampler_params {
    float temperature;     /* <= 0: greedy (argmax; ties go to the lowest id) */
    int32_t top_k;         /* keep the k most likely tokens; <= 0: off */
    float top_p;           /* keep the smallest set with probability >= p; >= 1: off */
    float min_p;           /* drop tokens below min_p * p(max); <= 0: off */
    float repeat_penalty;  /* CTRL-style penalty on recent tokens; 1: off */
    int32_t repeat_last_n; /* how many recent tokens the penalty looks at */
    uint64_t seed;
} smolweb_sampler_params;

/* temperature 0.7, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1.1 over 64 tokens, seed 0 */
smolweb_sampler_params smolweb_sampler_default_params(void);

/* Returns a sampler for a vocabulary of n_vocab ids, or NULL (bad params or out of memory). */
smolweb_sampler *smolweb_sampler_create(const smolweb_sampler_params *params, int32_t n_vocab);
/* NULL is a no-op. */
void smolweb_sampler_free(smolweb_sampler *s);
/* Forgets the token history and restarts the random sequence from the seed. */
void smolweb_sampler_reset(smolweb_sampler *s);
/* Records a token (prompt or generated) for the repetition penalty. */
void smolweb_sampler_accept(smolweb_sampler *s, int32_t token);
/* Picks the next token from n_vocab logits (not modified) and records it.
 * Returns the id, or -1 if the logits are unusable (all NaN). */
int32_t smolweb_sampler_sample(smolweb_sampler *s, const float *logits);

/* ------------------------------------------------------------------ */
/* Model: created from manifest.json; weights pushed in chunk by chunk. */

typedef struct smolweb_model smolweb_model;

typedef struct smolweb_model_params {
    int32_t n_ctx;         /* KV cache length in tokens; 0: the model's max_position_embeddings */
    int32_t n_threads;     /* worker threads for the matrix products (1 = none) */
    int32_t kv_f16;        /* 1: KV cache in f16 (half the memory); 0: f32 */
    int32_t prefill_batch; /* tokens per prefill matrix product (memory vs speed); 0: 64 */
} smolweb_model_params;

/* n_ctx 0, 1 thread, f32 KV cache, prefill_batch 64. */
smolweb_model_params smolweb_model_default_params(void);

/* Parses and validates manifest_json (len bytes, untrusted) and allocates the
 * model's state (KV cache, scratch). No weights yet. On failure returns a
 * status, *out = NULL, and writes a message into err (err_len bytes, may be 0). */
smolweb_status smolweb_model_create(const char *manifest_json, size_t len, const smolweb_model_params *params,
                                    smolweb_model **out, char *err, size_t err_len);
/* Frees the model and every chunk buffer it owns; NULL is a no-op. */
void smolweb_model_free(smolweb_model *m);
/* The message of the last failed call on this model ("" if none); owned by the model. */
const char *smolweb_model_error(const smolweb_model *m);

/* Chunks are the manifest's files, in its order (tokenizer, embedding, layers). */
int32_t smolweb_model_chunk_count(const smolweb_model *m);
/* The file's relative path, byte size, SHA-256 (hex) and layer (-1 if none);
 * strings are owned by the model. Returns SMOLWEB_ERR_INVALID_ARG for a bad index. */
smolweb_status smolweb_model_chunk_info(const smolweb_model *m, int32_t i, const char **path, uint64_t *bytes,
                                        const char **sha256, int32_t *layer);
/* The model-owned buffer for chunk i, exactly its manifest size, 64-byte
 * aligned, allocated on first call: a caller streams the file's bytes straight
 * into it. NULL for a bad index or out of memory (see smolweb_model_error). */
uint8_t *smolweb_model_chunk_buffer(smolweb_model *m, int32_t i);
/* Validates the bytes in chunk i's buffer (SHA-256 when verify_sha is 1, then
 * the format and the shapes the manifest implies) and makes the weights live
 * as views into it. On failure the chunk stays missing and its buffer is kept. */
smolweb_status smolweb_model_chunk_commit(smolweb_model *m, int32_t i, int32_t verify_sha);
/* Frees chunk i's buffer (e.g. after a failed commit). The chunk becomes missing. */
void smolweb_model_chunk_drop(smolweb_model *m, int32_t i);
/* Copies len bytes into chunk i's buffer and commits it (verify_sha as above). */
smolweb_status smolweb_model_load_chunk(smolweb_model *m, int32_t i, const uint8_t *bytes, size_t len,
                                        int32_t verify_sha);
/* Writes up to cap indices of chunks not yet committed; returns how many are missing. */
int32_t smolweb_model_missing_chunks(const smolweb_model *m, int32_t *out, int32_t cap);

/* Model facts. */
int32_t smolweb_model_n_vocab(const smolweb_model *m);
int32_t smolweb_model_n_ctx(const smolweb_model *m);
int32_t smolweb_model_n_layers(const smolweb_model *m);
/* Threads the model computes with (params.n_threads, or fewer if the build or
 * the host could not start that many; 1 without thread support). */
int32_t smolweb_model_n_threads(const smolweb_model *m);
/* Ids that end generation (EOS and the like); returns the count, writes up to cap. */
int32_t smolweb_model_stop_ids(const smolweb_model *m, int32_t *out, int32_t cap);
/* The manifest's chat template (NULL if none) and chat_format ("chatml"/"other"). */
const char *smolweb_model_chat_template(const smolweb_model *m);
const char *smolweb_model_chat_format(const smolweb_model *m);

/* ------------------------------------------------------------------ */
/* Tokenizer (needs the tokenizer chunk). */

/* Encodes len bytes of text (special-token strings match as special tokens;
 * no BOS added). Writes up to cap ids and sets *n_ids to the full count: if
 * *n_ids > cap, call again with a larger buffer (ids may be NULL to ask). */
smolweb_status smolweb_tokenize(smolweb_model *m, const char *text, size_t len, int32_t *ids, int32_t cap,
                                int32_t *n_ids);
/* Decodes ids to UTF-8 (special tokens as their text). Writes up to cap bytes
 * and sets *n_bytes to the full length (no NUL added); out may be NULL to ask. */
smolweb_status smolweb_detokenize(smolweb_model *m, const int32_t *ids, int32_t n, char *out, size_t cap,
                                  size_t *n_bytes);
/* Streaming decode: feed ids one at a time, get back only complete UTF-8
 * characters; the returned bytes are owned by the model and valid until the
 * next call. Reset at the start of each generation. */
smolweb_status smolweb_decode_piece(smolweb_model *m, int32_t id, const char **text, size_t *len);
smolweb_status smolweb_decode_flush(smolweb_model *m, const char **text, size_t *len);
void smolweb_decode_reset(smolweb_model *m);

/* ------------------------------------------------------------------ */
/* Generation on the model's single sequence. */

/* How many leading tokens of ids the KV cache already holds. */
int32_t smolweb_common_prefix(const smolweb_model *m, const int32_t *ids, int32_t n);
/* Brings the KV cache to ids[0..n): keeps the cached prefix shared with ids
 * and runs at most max_tokens (<= 0: all) of the rest through the model as a
 * batch, then returns, so a caller can check for abort between calls.
 * *n_done is how many tokens of ids are now cached; when it reaches n, the
 * logits of the last token are ready. Errors: SMOLWEB_ERR_STATE before every
 * chunk is committed, SMOLWEB_ERR_CONTEXT when n exceeds the KV cache. */
smolweb_status smolweb_prefill(smolweb_model *m, const int32_t *ids, int32_t n, int32_t max_tokens, int32_t *n_done);
/* One decode step: runs the previously sampled token through the model (if
 * any), then samples the next from the logits into *token (not yet run, so a
 * final EOS costs no forward pass). SMOLWEB_ERR_CONTEXT when the cache is full. */
smolweb_status smolweb_decode_step(smolweb_model *m, smolweb_sampler *s, int32_t *token);
/* The logits (n_vocab floats) of the last token run; owned by the model. */
const float *smolweb_logits(const smolweb_model *m);
/* Forgets the KV cache. */
void smolweb_reset(smolweb_model *m);

/* ------------------------------------------------------------------ */
/* ABI description for language bindings (the JavaScript layer over wasm). */

/* Writes this build's binary interface as one JSON document (NUL-terminated,
 * truncated to fit cap bytes) into out, which may be NULL to ask: every status
 * name and value, the size, alignment, field offsets/types and default values
 * of the params structs, sizeof pointer and size_t, the build's features and
 * an ABI version (src/abi.c documents the shape). Returns the document's full
 * length without the NUL; call again with a larger buffer if it is >= cap. */
int32_t smolweb_abi_json(char *out, int32_t cap);

#ifdef __cplusplus
}
#endif
#endif
