/* model.c: model creation from a manifest, chunk buffers and commits (weights
 * become views into the chunk buffers, no copies), tokenizer access. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "layout.h"
#include "model.h"
#include "sha256.h"

#define ALIGN 64

smolweb_model_params smolweb_model_default_params(void) {
    smolweb_model_params p = {0, 1, 0, 64};
    return p;
}

smolweb_status sw_model_fail(smolweb_model *m, const sw_error *err) {
    if (err != &m->err) m->err = *err;
    return m->err.status;
}

static smolweb_status fail(smolweb_model *m, smolweb_status st, const char *fmt, const char *arg) {
    return sw_error_set(&m->err, st, fmt, arg);
}

const char *smolweb_model_error(const smolweb_model *m) { return m ? m->err.msg : "no model"; }

static void *alloc_aligned(size_t n) {
    void *p = NULL;
    if (n == 0) n = ALIGN;
    n = (n + ALIGN - 1) / ALIGN * ALIGN;
    return posix_memalign(&p, ALIGN, n) == 0 ? p : NULL;
}

static smolweb_status alloc_state(smolweb_model *m) {
    size_t B = (size_t)m->batch, ctx = (size_t)m->n_ctx;
    size_t kv_size = m->params.kv_f16 ? 2 : 4;
    /* n_layers * n_ctx * kv_dim * kv_size can exceed a 32-bit size_t (wasm32):
     * refuse rather than allocate a wrapped-around size */
    uint64_t kv_bytes = (uint64_t)m->n_layers * (uint64_t)ctx * (uint64_t)m->kv_dim * kv_size;
    if (kv_bytes > (uint64_t)(SIZE_MAX / 4))
        return sw_error_set(&m->err, SMOLWEB_ERR_NOMEM,
                            "a KV cache of %d tokens (%llu bytes for K and for V) does not fit in this address space",
                            m->n_ctx, (unsigned long long)kv_bytes);
    size_t kv_elems = (size_t)m->n_layers * ctx * (size_t)m->kv_dim;
    size_t widest = (size_t)(m->ff > m->dim ? m->ff : m->dim);
    if ((size_t)m->q_dim > widest) widest = (size_t)m->q_dim;
    sw_scratch *s = &m->s;
    m->k_cache = alloc_aligned(kv_elems * kv_size);
    m->v_cache = alloc_aligned(kv_elems * kv_size);
    m->cache_ids = calloc(ctx, sizeof(int32_t));
    s->x = alloc_aligned(B * (size_t)m->dim * 4);
    s->xb = alloc_aligned(B * (size_t)m->dim * 4);
    s->q = alloc_aligned(B * (size_t)m->q_dim * 4);
    s->k = alloc_aligned(B * (size_t)m->kv_dim * 4);
    s->v = alloc_aligned(B * (size_t)m->kv_dim * 4);
    s->att_out = alloc_aligned(B * (size_t)m->q_dim * 4);
    s->gate = alloc_aligned(B * (size_t)m->ff * 4);
    s->up = alloc_aligned(B * (size_t)m->ff * 4);
    s->scores = alloc_aligned((size_t)sw_pool_threads(m->pool) * ctx * 4); /* one row per thread */
    s->rope = alloc_aligned(B * (size_t)m->head_dim * 4);
    s->logits = alloc_aligned((size_t)m->vocab * 4);
    s->qa.qs = alloc_aligned(B * widest);
    s->qa.d = alloc_aligned(B * widest / SW_QK * 4);
    s->qa.sums = alloc_aligned(B * widest / SW_QK * 4);
    s->qa.x16 = alloc_aligned(B * widest * 2);
    m->inv_freq = malloc((size_t)(m->head_dim / 2) * sizeof(double));
    if (!m->k_cache || !m->v_cache || !m->cache_ids || !s->x || !s->xb || !s->q || !s->k || !s->v || !s->att_out ||
        !s->gate || !s->up || !s->scores || !s->rope || !s->logits || !s->qa.qs || !s->qa.d || !s->qa.sums || !s->qa.x16 ||
        !m->inv_freq)
        return sw_error_set(&m->err, SMOLWEB_ERR_NOMEM,
                            "out of memory allocating the KV cache (%d tokens) and scratch", m->n_ctx);
    for (int32_t i = 0; i < m->head_dim / 2; i++)
        m->inv_freq[i] = 1.0 / pow(m->man->rope_theta, (double)(2 * i) / (double)m->head_dim);
    return SMOLWEB_OK;
}

static void copy_err(const sw_error *e, char *buf, size_t len) {
    if (buf && len) snprintf(buf, len, "%s", e->msg);
}

smolweb_status smolweb_model_create(const char *json, size_t len, const smolweb_model_params *params,
                                    smolweb_model **out, char *errbuf, size_t err_len) {
    sw_error err;
    sw_error_clear(&err);
    if (out) *out = NULL;
    if (!json || !out) {
        sw_error_set(&err, SMOLWEB_ERR_INVALID_ARG, "manifest and output handle are required");
        copy_err(&err, errbuf, err_len);
        return err.status;
    }
    sw_manifest *man = sw_manifest_parse(json, len, &err);
    if (!man) {
        sw_error_prefix(&err, "manifest.json");
        copy_err(&err, errbuf, err_len);
        return err.status;
    }
    smolweb_model *m = calloc(1, sizeof *m);
    if (!m) {
        sw_manifest_free(man);
        sw_error_set(&err, SMOLWEB_ERR_NOMEM, "out of memory");
        copy_err(&err, errbuf, err_len);
        return err.status;
    }
    m->man = man;
    m->params = params ? *params : smolweb_model_default_params();
    m->k = sw_kernels_best();
    m->dim = man->hidden_size;
    m->ff = man->intermediate_size;
    m->n_heads = man->num_heads;
    m->n_kv = man->num_kv_heads;
    m->head_dim = man->head_dim;
    m->q_dim = m->n_heads * m->head_dim;
    m->kv_dim = m->n_kv * m->head_dim;
    m->vocab = man->vocab_size;
    m->n_layers = man->num_layers;
    m->eps = (float)man->rms_norm_eps;
    m->n_ctx = m->params.n_ctx > 0 ? m->params.n_ctx : man->max_position_embeddings;
    m->batch = m->params.prefill_batch > 0 ? m->params.prefill_batch : 64;
    m->pending = -1;
    smolweb_status st = SMOLWEB_OK;
    if (m->n_ctx > man->max_position_embeddings)
        st = sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "n_ctx %d exceeds the model's max_position_embeddings %d",
                          m->n_ctx, man->max_position_embeddings);
    if (!st && m->head_dim > SW_MAX_HEAD_DIM)
        st = sw_error_set(&m->err, SMOLWEB_ERR_UNSUPPORTED, "head_dim %d is above the supported %d", m->head_dim,
                          SW_MAX_HEAD_DIM);
    if (!st && m->batch > 4096) st = sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "prefill_batch %d is above 4096", m->batch);
    if (!st && (m->params.n_threads < 0 || m->params.n_threads > SW_MAX_THREADS))
        st = sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "n_threads %d is outside 0..%d", m->params.n_threads,
                          SW_MAX_THREADS);
    if (!st) st = sw_pool_create(m->params.n_threads, SW_POOL_SPIN_US, &m->pool, &m->err);
    if (!st) {
        m->chunk_buf = calloc((size_t)man->n_files, sizeof *m->chunk_buf);
        m->chunk_ready = calloc((size_t)man->n_files, 1);
        m->layers = calloc((size_t)m->n_layers, sizeof *m->layers);
        if (!m->chunk_buf || !m->chunk_ready || !m->layers) st = sw_error_set(&m->err, SMOLWEB_ERR_NOMEM, "out of memory");
    }
    if (!st) st = alloc_state(m);
    if (st) {
        copy_err(&m->err, errbuf, err_len);
        smolweb_model_free(m);
        return st;
    }
    *out = m;
    return SMOLWEB_OK;
}

void smolweb_model_free(smolweb_model *m) {
    if (!m) return;
    for (int i = 0; m->chunk_buf && i < m->man->n_files; i++) free(m->chunk_buf[i]);
    sw_pool_free(m->pool); /* first: its threads may be between jobs */
    free(m->chunk_buf);
    free(m->chunk_ready);
    free(m->layers);
    sw_decode_stream_free(m->dec);
    sw_tokenizer_free(m->tok);
    free(m->k_cache);
    free(m->v_cache);
    free(m->cache_ids);
    sw_scratch *s = &m->s;
    free(s->x), free(s->xb), free(s->q), free(s->k), free(s->v), free(s->att_out), free(s->gate), free(s->up);
    free(s->scores), free(s->rope), free(s->logits), free(s->qa.qs), free(s->qa.d), free(s->qa.sums), free(s->qa.x16);
    free(m->inv_freq);
    sw_manifest_free(m->man);
    free(m);
}

/* ---- chunks ---- */

int32_t smolweb_model_chunk_count(const smolweb_model *m) { return m->man->n_files; }

static int bad_index(const smolweb_model *m, int32_t i) { return i < 0 || i >= m->man->n_files; }

smolweb_status smolweb_model_chunk_info(const smolweb_model *m, int32_t i, const char **path, uint64_t *bytes,
                                        const char **sha256, int32_t *layer) {
    if (bad_index(m, i)) return SMOLWEB_ERR_INVALID_ARG;
    const sw_manifest_file *f = &m->man->files[i];
    if (path) *path = f->path;
    if (bytes) *bytes = f->bytes;
    if (sha256) *sha256 = f->sha256;
    if (layer) *layer = f->layer;
    return SMOLWEB_OK;
}

uint8_t *smolweb_model_chunk_buffer(smolweb_model *m, int32_t i) {
    if (bad_index(m, i)) {
        sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "no chunk %d", i);
        return NULL;
    }
    if (!m->chunk_buf[i]) {
        const sw_manifest_file *f = &m->man->files[i];
        if (f->bytes > SIZE_MAX - ALIGN) {
            fail(m, SMOLWEB_ERR_NOMEM, "%s: too large for this address space", f->path);
            return NULL;
        }
        m->chunk_buf[i] = alloc_aligned((size_t)f->bytes);
        if (!m->chunk_buf[i]) {
            sw_error_set(&m->err, SMOLWEB_ERR_NOMEM, "%s: out of memory for %llu bytes", f->path,
                         (unsigned long long)f->bytes);
            return NULL;
        }
    }
    return m->chunk_buf[i];
}

static sw_wmat wmat(const sw_chunk_tensor *t) {
    sw_wmat w = {t->dtype, (int32_t)t->rows, (int32_t)t->cols, t->data, NULL};
    if (sw_dtype_is_blocked(t->dtype)) {
        size_t nblocks = (size_t)t->rows * (t->cols / SW_QK);
        w.scales = (const uint16_t *)(const void *)(t->data + nblocks * (t->dtype == SW_DTYPE_Q4 ? 16 : 32));
    }
    return w;
}

static const float *vec(const sw_chunk_view *v, const char *name) {
    return (const float *)(const void *)sw_chunk_find(v, name)->data;
}

static sw_wmat mat(const sw_chunk_view *v, const char *name) { return wmat(sw_chunk_find(v, name)); }

/* Installs the views of a validated weight chunk. */
static void install(smolweb_model *m, const sw_manifest_file *f, const sw_chunk_view *v) {
    if (f->role == SW_ROLE_EMBEDDING) {
        m->embed = mat(v, "embed");
        m->norm = vec(v, "norm");
        m->head = m->man->tie_word_embeddings ? m->embed : mat(v, "head");
        return;
    }
    sw_layer *L = &m->layers[f->layer];
    L->attn_norm = vec(v, "attn_norm");
    L->ffn_norm = vec(v, "ffn_norm");
    L->q = mat(v, "q");
    L->k = mat(v, "k");
    L->v = mat(v, "v");
    L->o = mat(v, "o");
    L->gate = mat(v, "gate");
    L->up = mat(v, "up");
    L->down = mat(v, "down");
}

static smolweb_status validate(smolweb_model *m, const sw_manifest_file *f, const uint8_t *buf, sw_chunk_view *v) {
    sw_error *err = &m->err;
    sw_dims d = {m->dim, m->ff, m->n_heads, m->n_kv, m->head_dim, m->vocab, m->man->tie_word_embeddings};
    sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
    int n = f->role == SW_ROLE_LAYER ? sw_layout_layer(&d, want) : sw_layout_embedding(&d, want);
    smolweb_status st = sw_chunk_parse(buf, (size_t)f->bytes, v, err);
    if (!st && v->role != (uint32_t)f->role)
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "chunk role %u does not match the manifest", v->role);
    if (!st && v->layer != f->layer)
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "chunk holds layer %d, the manifest says %d", v->layer, f->layer);
    if (!st)
        st = sw_layout_check_chunk(v, want, n, (sw_dtype)sw_dtype_from_name(m->man->weights_type),
                                   (sw_dtype)sw_dtype_from_name(m->man->embedding_type), err);
    return st;
}

smolweb_status smolweb_model_chunk_commit(smolweb_model *m, int32_t i, int32_t verify_sha) {
    if (bad_index(m, i)) return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "no chunk %d", i);
    const sw_manifest_file *f = &m->man->files[i];
    if (!m->chunk_buf[i]) return fail(m, SMOLWEB_ERR_STATE, "%s: no bytes were written to its buffer", f->path);
    if (m->chunk_ready[i]) return SMOLWEB_OK;
    const uint8_t *buf = m->chunk_buf[i];
    if (verify_sha) {
        char hex[65];
        sw_sha256_hex(buf, (size_t)f->bytes, hex);
        if (strcmp(hex, f->sha256) != 0) return fail(m, SMOLWEB_ERR_INTEGRITY, "%s: SHA-256 does not match the manifest", f->path);
    }
    smolweb_status st;
    if (f->role == SW_ROLE_TOKENIZER) {
        sw_tokenizer *t = sw_tokenizer_create(buf, (size_t)f->bytes, &m->err);
        if (!t) st = m->err.status ? m->err.status : SMOLWEB_ERR_FORMAT;
        else if (sw_tokenizer_vocab_size(t) > m->vocab) {
            sw_tokenizer_free(t);
            st = sw_error_set(&m->err, SMOLWEB_ERR_SHAPE, "tokenizer has %d tokens, more than the model's vocabulary %d",
                              sw_tokenizer_vocab_size(t), m->vocab);
        } else {
            sw_decode_stream *d = sw_decode_stream_create(t, 0);
            if (!d) {
                sw_tokenizer_free(t);
                st = sw_error_set(&m->err, SMOLWEB_ERR_NOMEM, "out of memory");
            } else {
                m->tok = t;
                m->dec = d;
                st = SMOLWEB_OK;
            }
        }
    } else {
        sw_chunk_view v;
        st = validate(m, f, buf, &v);
        if (!st) install(m, f, &v);
    }
    if (st) {
        sw_error_prefix(&m->err, "%s", f->path);
        return st;
    }
    m->chunk_ready[i] = 1;
    return SMOLWEB_OK;
}

void smolweb_model_chunk_drop(smolweb_model *m, int32_t i) {
    if (bad_index(m, i)) return;
    if (m->chunk_ready[i]) {
        const sw_manifest_file *f = &m->man->files[i];
        if (f->role == SW_ROLE_TOKENIZER) {
            sw_decode_stream_free(m->dec);
            sw_tokenizer_free(m->tok);
            m->dec = NULL;
            m->tok = NULL;
        } else if (f->role == SW_ROLE_EMBEDDING) {
            memset(&m->embed, 0, sizeof m->embed);
            memset(&m->head, 0, sizeof m->head);
            m->norm = NULL;
        } else {
            memset(&m->layers[f->layer], 0, sizeof m->layers[f->layer]);
        }
    }
    free(m->chunk_buf[i]);
    m->chunk_buf[i] = NULL;
    m->chunk_ready[i] = 0;
}

smolweb_status smolweb_model_load_chunk(smolweb_model *m, int32_t i, const uint8_t *bytes, size_t len,
                                        int32_t verify_sha) {
    if (bad_index(m, i)) return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "no chunk %d", i);
    const sw_manifest_file *f = &m->man->files[i];
    if (len != f->bytes)
        return sw_error_set(&m->err, SMOLWEB_ERR_INTEGRITY, "%s: %zu bytes, the manifest says %llu", f->path, len,
                            (unsigned long long)f->bytes);
    if (m->chunk_ready[i]) return SMOLWEB_OK;
    uint8_t *buf = smolweb_model_chunk_buffer(m, i);
    if (!buf) return m->err.status;
    memcpy(buf, bytes, len);
    return smolweb_model_chunk_commit(m, i, verify_sha);
}

/* Weights are read in place as float, u16 and u32 arrays (4-byte alignment);
 * wasm v128 loads take any address. 8 is what every malloc gives (wasm32's is
 * 8), so a heap buffer from emscripten_fetch is used as is, never copied. */
#define ADOPT_ALIGN 8

smolweb_status sw_model_chunk_adopt(smolweb_model *m, int32_t i, uint8_t *buf, size_t len, int32_t verify_sha) {
    if (bad_index(m, i)) {
        free(buf);
        return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "no chunk %d", i);
    }
    const sw_manifest_file *f = &m->man->files[i];
    if (!buf) return fail(m, SMOLWEB_ERR_INVALID_ARG, "%s: no buffer to adopt", f->path);
    smolweb_status st = SMOLWEB_OK;
    if (len != f->bytes)
        st = sw_error_set(&m->err, SMOLWEB_ERR_INTEGRITY, "%s: %zu bytes, the manifest says %llu", f->path, len,
                          (unsigned long long)f->bytes);
    else if ((uintptr_t)buf % ADOPT_ALIGN)
        st = sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "%s: buffer is not %d-byte aligned", f->path, ADOPT_ALIGN);
    if (st || m->chunk_ready[i]) {
        free(buf);
        return st;
    }
    free(m->chunk_buf[i]); /* a buffer from smolweb_model_chunk_buffer() never committed */
    m->chunk_buf[i] = buf;
    st = smolweb_model_chunk_commit(m, i, verify_sha);
    if (st) {
        free(m->chunk_buf[i]);
        m->chunk_buf[i] = NULL;
    }
    return st;
}

int32_t smolweb_model_missing_chunks(const smolweb_model *m, int32_t *out, int32_t cap) {
    int32_t n = 0;
    for (int32_t i = 0; i < m->man->n_files; i++)
        if (!m->chunk_ready[i]) {
            if (out && n < cap) out[n] = i;
            n++;
        }
    return n;
}

int32_t smolweb_model_n_vocab(const smolweb_model *m) { return m->vocab; }
int32_t smolweb_model_n_ctx(const smolweb_model *m) { return m->n_ctx; }
int32_t smolweb_model_n_layers(const smolweb_model *m) { return m->n_layers; }
int32_t smolweb_model_n_threads(const smolweb_model *m) { return sw_pool_threads(m->pool); }

int32_t smolweb_model_stop_ids(const smolweb_model *m, int32_t *out, int32_t cap) {
    for (int32_t i = 0; out && i < m->man->n_stop_ids && i < cap; i++) out[i] = m->man->stop_ids[i];
    return m->man->n_stop_ids;
}

const char *smolweb_model_chat_template(const smolweb_model *m) { return m->man->chat_template; }
const char *smolweb_model_chat_format(const smolweb_model *m) { return m->man->chat_format; }

/* ---- tokenizer ---- */

static smolweb_status need_tokenizer(smolweb_model *m) {
    if (m->tok) return SMOLWEB_OK;
    return sw_error_set(&m->err, SMOLWEB_ERR_STATE, "the tokenizer chunk is not loaded yet");
}

smolweb_status smolweb_tokenize(smolweb_model *m, const char *text, size_t len, int32_t *ids, int32_t cap,
                                int32_t *n_ids) {
    smolweb_status st = need_tokenizer(m);
    if (st) return st;
    int32_t *all = NULL;
    size_t n = 0;
    st = sw_tokenizer_encode_alloc(m->tok, (const uint8_t *)text, len, &all, &n, &m->err);
    if (st) return st;
    if (n > INT32_MAX) {
        free(all);
        return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "text too long");
    }
    for (size_t i = 0; ids && i < n && i < (size_t)(cap > 0 ? cap : 0); i++) ids[i] = all[i];
    *n_ids = (int32_t)n;
    free(all);
    return SMOLWEB_OK;
}

smolweb_status smolweb_detokenize(smolweb_model *m, const int32_t *ids, int32_t n, char *out, size_t cap,
                                  size_t *n_bytes) {
    smolweb_status st = need_tokenizer(m);
    if (st) return st;
    return sw_tokenizer_decode(m->tok, ids, (size_t)(n > 0 ? n : 0), 0, (uint8_t *)out, out ? cap : 0, n_bytes,
                               &m->err);
}

smolweb_status smolweb_decode_piece(smolweb_model *m, int32_t id, const char **text, size_t *len) {
    smolweb_status st = need_tokenizer(m);
    if (st) return st;
    return sw_decode_stream_put(m->dec, id, (const uint8_t **)text, len, &m->err);
}

smolweb_status smolweb_decode_flush(smolweb_model *m, const char **text, size_t *len) {
    smolweb_status st = need_tokenizer(m);
    if (st) return st;
    return sw_decode_stream_flush(m->dec, (const uint8_t **)text, len, &m->err);
}

void smolweb_decode_reset(smolweb_model *m) {
    if (m->dec) sw_decode_stream_reset(m->dec);
}
