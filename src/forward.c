/* forward.c: the Llama forward pass of the SmolLM family over a batch of
 * tokens: embedding, per layer RMSNorm -> Q/K/V -> RoPE (Hugging Face's
 * rotate-half form) -> grouped-query attention over the KV cache -> O,
 * RMSNorm -> SwiGLU MLP, then the final norm and the (tied) head for the
 * last token only. Batched prefill is a matrix-matrix product per weight. */
#include <math.h>
#include <string.h>

#include "f16.h"
#include "model.h"

/* Prepares activations x (n, cols) for w's type: quantized for q4/q8. */
static void prepare(smolweb_model *m, const sw_wmat *w, const float *x, int32_t n) {
    if (sw_dtype_is_blocked(w->type)) m->k->quantize_act(x, n, w->cols, &m->s.qa);
}

static void matmul(const smolweb_model *m, const sw_wmat *w, const float *x, int32_t n, float *y) {
    m->k->matmul(w, x, &m->s.qa, n, y, w->rows, 0, w->rows);
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

/* One query head against cached positions [0, n_pos): writes head_dim outputs. */
static void attend(smolweb_model *m, int32_t layer, int32_t kvh, const float *q, int32_t n_pos, float *out) {
    const sw_kernels *k = m->k;
    float *sc = m->s.scores, scale = 1.0f / sqrtf((float)m->head_dim), mx = -INFINITY;
    size_t base = (size_t)layer * m->n_ctx * m->kv_dim + (size_t)kvh * m->head_dim;
    float tmp[SW_MAX_HEAD_DIM];
    for (int32_t p = 0; p < n_pos; p++) {
        size_t off = base + (size_t)p * m->kv_dim;
        float s;
        if (m->params.kv_f16) {
            const uint16_t *kc = (const uint16_t *)m->k_cache + off;
            for (int32_t i = 0; i < m->head_dim; i++) tmp[i] = sw_f16_to_f32(kc[i]);
            s = k->dot(q, tmp, m->head_dim);
        } else {
            s = k->dot(q, (const float *)m->k_cache + off, m->head_dim);
        }
        sc[p] = s * scale;
        if (sc[p] > mx) mx = sc[p];
    }
    float sum = 0.0f;
    for (int32_t p = 0; p < n_pos; p++) {
        sc[p] = expf(sc[p] - mx);
        sum += sc[p];
    }
    float inv = 1.0f / sum;
    memset(out, 0, (size_t)m->head_dim * 4);
    for (int32_t p = 0; p < n_pos; p++) {
        size_t off = base + (size_t)p * m->kv_dim;
        if (m->params.kv_f16) {
            const uint16_t *vc = (const uint16_t *)m->v_cache + off;
            for (int32_t i = 0; i < m->head_dim; i++) tmp[i] = sw_f16_to_f32(vc[i]);
            k->axpy(out, sc[p] * inv, tmp, m->head_dim);
        } else {
            k->axpy(out, sc[p] * inv, (const float *)m->v_cache + off, m->head_dim);
        }
    }
}

static void attention_block(smolweb_model *m, int32_t l, int32_t p0, int32_t n) {
    const sw_layer *L = &m->layers[l];
    sw_scratch *s = &m->s;
    for (int32_t t = 0; t < n; t++)
        m->k->rmsnorm(s->xb + (size_t)t * m->dim, s->x + (size_t)t * m->dim, L->attn_norm, m->dim, m->eps);
    prepare(m, &L->q, s->xb, n); /* q, k and v share the weight type and input */
    matmul(m, &L->q, s->xb, n, s->q);
    matmul(m, &L->k, s->xb, n, s->k);
    matmul(m, &L->v, s->xb, n, s->v);
    int32_t group = m->n_heads / m->n_kv;
    for (int32_t t = 0; t < n; t++) {
        const float *r = s->rope + (size_t)t * m->head_dim;
        float *q = s->q + (size_t)t * m->q_dim, *k = s->k + (size_t)t * m->kv_dim;
        rope(r, q, m->n_heads, m->head_dim);
        rope(r, k, m->n_kv, m->head_dim);
        kv_store(m, l, p0 + t, k, s->v + (size_t)t * m->kv_dim);
    }
    /* causal: token t sees positions [0, p0 + t] */
    for (int32_t t = 0; t < n; t++)
        for (int32_t h = 0; h < m->n_heads; h++)
            attend(m, l, h / group, s->q + (size_t)t * m->q_dim + (size_t)h * m->head_dim, p0 + t + 1,
                   s->att_out + (size_t)t * m->q_dim + (size_t)h * m->head_dim);
    prepare(m, &L->o, s->att_out, n);
    matmul(m, &L->o, s->att_out, n, s->xb); /* xb: the block's output */
    for (size_t i = 0; i < (size_t)n * m->dim; i++) s->x[i] += s->xb[i];
}

static void mlp_block(smolweb_model *m, int32_t l, int32_t n) {
    const sw_layer *L = &m->layers[l];
    sw_scratch *s = &m->s;
    for (int32_t t = 0; t < n; t++)
        m->k->rmsnorm(s->xb + (size_t)t * m->dim, s->x + (size_t)t * m->dim, L->ffn_norm, m->dim, m->eps);
    prepare(m, &L->gate, s->xb, n);
    matmul(m, &L->gate, s->xb, n, s->gate);
    matmul(m, &L->up, s->xb, n, s->up);
    m->k->swiglu(s->gate, s->gate, s->up, n * m->ff);
    prepare(m, &L->down, s->gate, n);
    matmul(m, &L->down, s->gate, n, s->xb);
    for (size_t i = 0; i < (size_t)n * m->dim; i++) s->x[i] += s->xb[i];
}

smolweb_status sw_forward(smolweb_model *m, const int32_t *ids, int32_t n) {
    sw_scratch *s = &m->s;
    int32_t p0 = m->n_past;
    if (n <= 0 || n > m->batch) return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "batch of %d tokens", n);
    if (p0 + n > m->n_ctx)
        return sw_error_set(&m->err, SMOLWEB_ERR_CONTEXT, "%d tokens exceed the context of %d", p0 + n, m->n_ctx);
    for (int32_t t = 0; t < n; t++) {
        if (ids[t] < 0 || ids[t] >= m->vocab)
            return sw_error_set(&m->err, SMOLWEB_ERR_INVALID_ARG, "token id %d is outside the vocabulary", ids[t]);
        embed_row(m, ids[t], s->x + (size_t)t * m->dim);
    }
    rope_table(m, p0, n);
    for (int32_t l = 0; l < m->n_layers; l++) {
        attention_block(m, l, p0, n);
        mlp_block(m, l, n);
    }
    for (int32_t t = 0; t < n; t++) m->cache_ids[p0 + t] = ids[t];
    m->n_past = p0 + n;
    /* the head only for the last position */
    float *last = s->xb;
    m->k->rmsnorm(last, s->x + (size_t)(n - 1) * m->dim, m->norm, m->dim, m->eps);
    prepare(m, &m->head, last, 1);
    matmul(m, &m->head, last, 1, s->logits);
    m->logits_valid = 1;
    return SMOLWEB_OK;
}
