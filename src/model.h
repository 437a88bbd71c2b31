/* model.h: the model's internal state, shared by model.c (creation, chunk
 * loading), forward.c (the forward pass) and generate.c (prefill/decode). */
#ifndef SW_MODEL_H
#define SW_MODEL_H

#include <stdint.h>

#include "error.h"
#include "kernels.h"
#include "manifest.h"
#include "pool.h"
#include "smolweb.h"
#include "tokenizer.h"

/* Largest head dimension a manifest may ask for (SmolLM2: 64, SmolLM3: 128): a
 * bound on untrusted shapes, not a buffer size. */
#define SW_MAX_HEAD_DIM 512
/* Most threads a model may ask for. */
#define SW_MAX_THREADS 64
/* How long (us) a pool thread polls for the next job before it sleeps: longer
 * than the few microseconds between two matrix products of one token, short
 * enough that a busy machine loses little to polling (see pool.h). Measured
 * in Node, SmolLM2-135M q4, 2 threads, decode: 0 us 50-55, 50 us 54-56,
 * 300 us 54-57 tok/s on a loaded machine; 300 us fell to 11 tok/s when a
 * browser competed for both cores. */
#ifndef SW_POOL_SPIN_US
#define SW_POOL_SPIN_US 50
#endif

/* Phases timed by a -DSW_PROFILE build (bench/profile.mjs). */
enum { SW_PROF_NORM, SW_PROF_QKV, SW_PROF_ROPE, SW_PROF_ATT, SW_PROF_O, SW_PROF_GATE_UP, SW_PROF_DOWN,
       SW_PROF_HEAD, SW_PROF_EMBED, SW_PROF_N };

typedef struct sw_layer {
    const float *attn_norm;  /* (dim) */
    const float *ffn_norm;   /* (dim) */
    sw_wmat q;               /* (n_heads * head_dim, dim) */
    sw_wmat k, v;            /* (n_kv * head_dim, dim) */
    sw_wmat o;               /* (dim, n_heads * head_dim) */
    sw_wmat gate, up;        /* (ff, dim) */
    sw_wmat down;            /* (dim, ff) */
} sw_layer;

/* Scratch for a batch of up to `batch` tokens; allocated once at creation. */
typedef struct sw_scratch {
    float *x;       /* (batch, dim) residual stream */
    float *xb;      /* (batch, dim) normed input */
    float *q;       /* (batch, q_dim) */
    float *k, *v;   /* (batch, kv_dim) */
    float *att_out; /* (batch, q_dim) */
    float *gate;    /* (batch, ff) */
    float *up;      /* (batch, ff) */
    float *scores;  /* (threads, n_ctx) attention weights of one head per thread */
    float *rope;    /* (batch, head_dim): cos then sin of each position */
    float *logits;  /* (vocab) */
    sw_qact qa;     /* quantized activations, (batch, max(dim, ff, q_dim)) */
} sw_scratch;

struct smolweb_model {
    sw_manifest *man;
    smolweb_model_params params;
    const sw_kernels *k;
    sw_pool *pool;             /* threads for the matrix products and attention */
    sw_error err;

    /* dimensions */
    int32_t dim, ff, n_heads, n_kv, head_dim, q_dim, kv_dim, vocab, n_layers, n_ctx, batch;
    float eps;
    double *inv_freq;          /* (head_dim / 2) RoPE frequencies */

    /* chunks: buffers owned here, weights are views into them */
    uint8_t **chunk_buf;       /* (n_files) */
    uint8_t *chunk_ready;      /* (n_files) */
    sw_tokenizer *tok;
    sw_decode_stream *dec;
    sw_wmat embed, head;       /* (vocab, dim); head == embed when tied */
    const float *norm;         /* (dim) */
    sw_layer *layers;          /* (n_layers) */

    /* KV cache: (n_layers, n_ctx, kv_dim), f32 or f16 */
    void *k_cache, *v_cache;
    int32_t *cache_ids;        /* (n_ctx) the tokens the cache holds */
    int32_t n_past;            /* how many positions the cache holds */
    int32_t pending;           /* sampled but not yet run, or -1 */
    int32_t logits_valid;

    sw_scratch s;
#ifdef SW_PROFILE
    double prof[SW_PROF_N]; /* ms per phase (bench builds only, see forward.c) */
#endif
};

/* Runs tokens ids[0..n) at positions n_past.. through the model (n <= batch),
 * appending to the KV cache; computes the last token's logits. */
smolweb_status sw_forward(smolweb_model *m, const int32_t *ids, int32_t n);

/* Records err as the model's last error and returns its status. */
smolweb_status sw_model_fail(smolweb_model *m, const sw_error *err);

/* Takes ownership of buf (len bytes from malloc, at least 8-byte aligned:
 * malloc's guarantee) as chunk i's buffer and commits it like
 * smolweb_model_chunk_commit: no copy, the model free()s it later. On failure
 * buf is freed, the chunk stays missing and the model's error says why (a size
 * mismatch is SMOLWEB_ERR_INTEGRITY as in smolweb_model_load_chunk). Used by
 * the emscripten_fetch loader, whose heap buffers are malloc'd. */
smolweb_status sw_model_chunk_adopt(smolweb_model *m, int32_t i, uint8_t *buf, size_t len, int32_t verify_sha);

#endif
