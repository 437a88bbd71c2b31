/* forward.c: the Llama forward pass of the SmolLM family over a batch of
 * tokens: embedding, per layer RMSNorm -> Q/K/V -> RoPE (Hugging Face's
 * rotate-half form) -> grouped-query attention over the KV cache -> O,
 * RMSNorm -> SwiGLU MLP, then the final norm and the (tied) head for the
 * last token only. Batched prefill is a matrix-matrix product per weight. */
#include <math.h>
#include <string.h>

#include "f16.h"
#include "model.h"

/* Phase timing for bench/profile.mjs, compiled in only with -DSW_PROFILE:
 * PROF_LAP adds the time since the previous lap to m->prof[phase]. */
#ifdef SW_PROFILE
#include <emscripten.h>
#define PROF_START double prof_t = emscripten_get_now()
#define PROF_RESET prof_t = emscripten_get_now()
#define PROF_LAP(m, i)                            \
    do {                                          \
        double prof_u = emscripten_get_now();     \
        (m)->prof[i] += prof_u - prof_t;          \
        prof_t = prof_u;                          \
    } while (0)
EMSCRIPTEN_KEEPALIVE double *sw_profile(smolweb_model *m) { return m->prof; }
#else
#define PROF_START ((void)0)
#define PROF_RESET ((void)0)
#define PROF_LAP(m, i) ((void)0)
#endif

/* Prepares activations x (n, cols) for w's type: quantized for q4/q8. */
static void prepare(smolweb_model *m, const sw_wmat *w, const float *x, int32_t n) {
    if (sw_dtype_is_blocked(w->type)) m->k->quantize_act(x, n, w->cols, &m->s.qa);
}

/* Up to three matrix products sharing one input (q/k/v), split across the
 * pool by output rows: item r of the job is row r of the concatenated rows. */
typedef struct mm_job {
    const smolweb_model *m;
    const sw_wmat *w[3];
    float *y[3];
    int32_t nw, n;
    const float *x;
} mm_job;

static void mm_rows(void *ctx, int32_t b, int32_t e, int32_t worker) {
    const mm_job *j = ctx;
    (void)worker;
    int32_t base = 0;
    for (int32_t i = 0; i < j->nw && b < e; i++) {
        const sw_wmat *w = j->w[i];
        int32_t r0 = b - base, r1 = e - base;
        if (r0 < w->rows && r1 > 0) {
            if (r0 < 0) r0 = 0;
            if (r1 > w->rows) r1 = w->rows;
            j->m->k->matmul(w, j->x, &j->m->s.qa, j->n, j->y[i], w->rows, r0, r1);
        }
        base += w->rows;
    }
}

/* Rows per work chunk: enough work per claim to amortise it, small enough
 * that the last chunks even out between threads. */
static int32_t row_grain(int32_t n) {
    int32_t g = 32 / n;
    return g < 4 ? 4 : g;
}

static void matmul3(const smolweb_model *m, const sw_wmat *const *w, float *const *y, int32_t nw, const float *x,
                    int32_t n) {
    mm_job j = {.m = m, .nw = nw, .n = n, .x = x};
    int32_t rows = 0;
    for (int32_t i = 0; i < nw; i++) j.w[i] = w[i], j.y[i] = y[i], rows += w[i]->rows;
    sw_pool_run(m->pool, mm_rows, &j, rows, row_grain(n));
}

static void matmul(const smolweb_model *m, const sw_wmat *w, const float *x, int32_t n, float *y) {
    matmul3(m, &w, &y, 1, x, n);
}

static void embed_row(const smolweb_model *m, int32_t id, float *out) {
    sw_dequantize_tensor_row(m->embed.type, m->embed.data, m->embed.rows, m->embed.cols, id, out);
}

/* cos/sin of every frequency at each position, (n, head_dim): cos then sin. */
static void rope_table(smolweb_model *m, int32_t p0, int32_t n) {
    int32_t half = m->head_dim / 2;
    for (int32_t t = 0; t < n; t++) {
        float *r = m->s.rope + (size_t)t * m->head_dim;
        for (int32_t i = 0; i < half; i++) {
            double a = (double)(p0 + t) * m->inv_freq[i];
            r[i] = (float)cos(a);
            r[half + i] = (float)sin(a);
        }
    }
}

/* Rotate-half RoPE on n_heads vectors of head_dim: pairs (i, i + half). */
static void rope(const float *r, float *x, int32_t n_heads, int32_t head_dim) {
    int32_t half = head_dim / 2;
    for (int32_t h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int32_t i = 0; i < half; i++) {
            float a = v[i], b = v[half + i], c = r[i], s = r[half + i];
            v[i] = a * c - b * s;
            v[half + i] = b * c + a * s;
        }
    }
}

static void kv_store(smolweb_model *m, int32_t layer, int32_t pos, const float *k, const float *v) {
    size_t off = ((size_t)layer * m->n_ctx + pos) * m->kv_dim;
    if (m->params.kv_f16) {
        uint16_t *kc = (uint16_t *)m->k_cache + off, *vc = (uint16_t *)m->v_cache + off;
        for (int32_t i = 0; i < m->kv_dim; i++) kc[i] = sw_f32_to_f16(k[i]), vc[i] = sw_f32_to_f16(v[i]);
    } else {
        memcpy((float *)m->k_cache + off, k, (size_t)m->kv_dim * 4);
        memcpy((float *)m->v_cache + off, v, (size_t)m->kv_dim * 4);
    }
}

/* One query head against cached positions [0, n_pos): writes head_dim outputs.
 * sc holds n_pos floats. */
static void attend(const smolweb_model *m, int32_t layer, int32_t kvh, const float *q, int32_t n_pos, float *out,
                   float *sc) {
    const sw_kernels *k = m->k;
    int32_t hd = m->head_dim;
    float scale = 1.0f / sqrtf((float)hd);
    size_t base = (size_t)layer * m->n_ctx * m->kv_dim + (size_t)kvh * hd, stride = (size_t)m->kv_dim;
    if (m->params.kv_f16) {
        k->attn_scores_f16(q, (const uint16_t *)m->k_cache + base, stride, n_pos, hd, scale, sc);
        k->softmax(sc, n_pos);
        k->attn_values_f16(sc, (const uint16_t *)m->v_cache + base, stride, n_pos, hd, out);
    } else {
        k->attn_scores(q, (const float *)m->k_cache + base, stride, n_pos, hd, scale, sc);
        k->softmax(sc, n_pos);
        k->attn_values(sc, (const float *)m->v_cache + base, stride, n_pos, hd, out);
    }
}

/* Attention split across the pool: item i is (token i / n_heads, head i % n_heads). */
typedef struct att_job {
    const smolweb_model *m;
    int32_t layer, p0;
} att_job;

static void att_items(void *ctx, int32_t b, int32_t e, int32_t worker) {
    const att_job *j = ctx;
    const smolweb_model *m = j->m;
    const sw_scratch *s = &m->s;
    float *sc = s->scores + (size_t)worker * m->n_ctx;
    int32_t group = m->n_heads / m->n_kv;
    for (int32_t i = b; i < e; i++) {
        int32_t t = i / m->n_heads, h = i % m->n_heads;
        size_t off = (size_t)t * m->q_dim + (size_t)h * m->head_dim;
        /* causal: token t sees positions [0, p0 + t] */
        attend(m, j->layer, h / group, s->q + off, j->p0 + t + 1, s->att_out + off, sc);
    }
}

static void attention_block(smolweb_model *m, int32_t l, int32_t p0, int32_t n) {
    const sw_layer *L = &m->layers[l];
    sw_scratch *s = &m->s;
    PROF_START;
    for (int32_t t = 0; t < n; t++)
        m->k->rmsnorm(s->xb + (size_t)t * m->dim, s->x + (size_t)t * m->dim, L->attn_norm, m->dim, m->eps);
    prepare(m, &L->q, s->xb, n); /* q, k and v share the weight type and input */
    PROF_LAP(m, SW_PROF_NORM);
    const sw_wmat *qkv[3] = {&L->q, &L->k, &L->v};
    float *qkv_out[3] = {s->q, s->k, s->v};
    matmul3(m, qkv, qkv_out, 3, s->xb, n);
    PROF_LAP(m, SW_PROF_QKV);
    for (int32_t t = 0; t < n; t++) {
        const float *r = s->rope + (size_t)t * m->head_dim;
        float *q = s->q + (size_t)t * m->q_dim, *k = s->k + (size_t)t * m->kv_dim;
        rope(r, q, m->n_heads, m->head_dim);
        rope(r, k, m->n_kv, m->head_dim);
        kv_store(m, l, p0 + t, k, s->v + (size_t)t * m->kv_dim);
    }
    PROF_LAP(m, SW_PROF_ROPE);
    att_job j = {m, l, p0};
    sw_pool_run(m->pool, att_items, &j, n * m->n_heads, 1);
    PROF_LAP(m, SW_PROF_ATT);
    prepare(m, &L->o, s->att_out, n);
    matmul(m, &L->o, s->att_out, n, s->xb); /* xb: the block's output */
    for (size_t i = 0; i < (size_t)n * m->dim; i++) s->x[i] += s->xb[i];
    PROF_LAP(m, SW_PROF_O);
}

/* gate and up over the same rows, then SwiGLU on those rows, per work chunk. */
typedef struct gate_up_job {
    const smolweb_model *m;
    const sw_layer *L;
    int32_t n;
} gate_up_job;

static void gate_up_rows(void *ctx, int32_t b, int32_t e, int32_t worker) {
    const gate_up_job *j = ctx;
    const smolweb_model *m = j->m;
    const sw_scratch *s = &m->s;
    (void)worker;
    m->k->matmul(&j->L->gate, s->xb, &s->qa, j->n, s->gate, m->ff, b, e);
    m->k->matmul(&j->L->up, s->xb, &s->qa, j->n, s->up, m->ff, b, e);
    for (int32_t t = 0; t < j->n; t++) {
        size_t off = (size_t)t * m->ff + (size_t)b;
        m->k->swiglu(s->gate + off, s->gate + off, s->up + off, e - b);
    }
}

static void mlp_block(smolweb_model *m, int32_t l, int32_t n) {
    const sw_layer *L = &m->layers[l];
    sw_scratch *s = &m->s;
    PROF_START;
    for (int32_t t = 0; t < n; t++)
        m->k->rmsnorm(s->xb + (size_t)t * m->dim, s->x + (size_t)t * m->dim, L->ffn_norm, m->dim, m->eps);
    prepare(m, &L->gate, s->xb, n);
    PROF_LAP(m, SW_PROF_NORM);
    gate_up_job j = {m, L, n};
    sw_pool_run(m->pool, gate_up_rows, &j, m->ff, row_grain(n));
    PROF_LAP(m, SW_PROF_GATE_UP);
    prepare(m, &L->down, s->gate, n);
    matmul(m, &L->down, s->gate, n, s->xb);
    for (size_t i = 0; i < (size_t)n * m->dim; i++) s->x[i] += s->xb[i];
    PROF_LAP(m, SW_PROF_DOWN);
}

smolweb_status sw_forward(smolweb_model *m, const int32_t *ids, int32_t n) {
    sw_scratch *s = &m->s;
    int32_t p0 = m->n_past;
    if (n <= 0 || n > m->batch) return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "batch of %d tokens", n);
    if (p0 + n > m->n_ctx)
        return sw_error_set(&m->err, SMOLWEB_ERR_CONTEXT, "%d tokens exceed the context of %d", p0 + n, m->n_ctx);
    PROF_START;
    for (int32_t t = 0; t < n; t++) {
        if (ids[t] < 0 || ids[t] >= m->vocab)
            return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "token id %d is outside the vocabulary", ids[t]);
        embed_row(m, ids[t], s->x + (size_t)t * m->dim);
    }
    rope_table(m, p0, n);
    PROF_LAP(m, SW_PROF_EMBED);
    for (int32_t l = 0; l < m->n_layers; l++) {
        attention_block(m, l, p0, n);
        mlp_block(m, l, n);
    }
    PROF_RESET;
    for (int32_t t = 0; t < n; t++) m->cache_ids[p0 + t] = ids[t];
    m->n_past = p0 + n;
    /* the head only for the last position */
    float *last = s->xb;
    m->k->rmsnorm(last, s->x + (size_t)(n - 1) * m->dim, m->norm, m->dim, m->eps);
    prepare(m, &m->head, last, 1);
    matmul(m, &m->head, last, 1, s->logits);
    PROF_LAP(m, SW_PROF_HEAD);
    m->logits_valid = 1;
    return SMOLWEB_OK;
}
