#include "layout.h"

#include <string.h>

static sw_layout_tensor T(const char *name, const char *hf, int rows, int cols, int norm, int emb) {
    sw_layout_tensor t = {name, hf, (uint32_t)rows, (uint32_t)cols, norm, emb};
    return t;
}

int sw_layout_layer(const sw_dims *d, sw_layout_tensor out[SW_CHUNK_MAX_TENSORS]) {
    int q = d->heads * d->head_dim, kv = d->kv_heads * d->head_dim, n = 0;
    out[n++] = T("attn_norm", "model.layers.%d.input_layernorm.weight", 1, d->hidden, 1, 0);
    out[n++] = T("q", "model.layers.%d.self_attn.q_proj.weight", q, d->hidden, 0, 0);
    out[n++] = T("k", "model.layers.%d.self_attn.k_proj.weight", kv, d->hidden, 0, 0);
    out[n++] = T("v", "model.layers.%d.self_attn.v_proj.weight", kv, d->hidden, 0, 0);
    out[n++] = T("o", "model.layers.%d.self_attn.o_proj.weight", d->hidden, q, 0, 0);
    out[n++] = T("ffn_norm", "model.layers.%d.post_attention_layernorm.weight", 1, d->hidden, 1, 0);
    out[n++] = T("gate", "model.layers.%d.mlp.gate_proj.weight", d->intermediate, d->hidden, 0, 0);
    out[n++] = T("up", "model.layers.%d.mlp.up_proj.weight", d->intermediate, d->hidden, 0, 0);
    out[n++] = T("down", "model.layers.%d.mlp.down_proj.weight", d->hidden, d->intermediate, 0, 0);
    return n;
}

int sw_layout_embedding(const sw_dims *d, sw_layout_tensor out[SW_CHUNK_MAX_TENSORS]) {
    int n = 0;
    out[n++] = T("embed", "model.embed_tokens.weight", d->vocab, d->hidden, 0, 1);
    out[n++] = T("norm", "model.norm.weight", 1, d->hidden, 1, 0);
    if (!d->tied) out[n++] = T("head", "lm_head.weight", d->vocab, d->hidden, 0, 1);
    return n;
}

sw_dtype sw_layout_dtype(const sw_layout_tensor *t, sw_dtype weights, sw_dtype embedding) {
    if (t->is_norm) return SW_DTYPE_F32;
    return t->is_embedding ? embedding : weights;
}

smolweb_status sw_layout_check_chunk(const sw_chunk_view *v, const sw_layout_tensor *want, int n, sw_dtype weights,
                                     sw_dtype embedding, sw_error *err) {
    if ((int)v->n_tensors != n)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "chunk holds %u tensors, expected %d", v->n_tensors, n);
    for (int i = 0; i < n; i++) {
        const sw_chunk_tensor *t = sw_chunk_find(v, want[i].name);
        if (!t) return sw_error_set(err, SMOLWEB_ERR_MISSING, "chunk lacks tensor %s", want[i].name);
        sw_dtype dt = sw_layout_dtype(&want[i], weights, embedding);
        if (t->rows != want[i].rows || t->cols != want[i].cols)
            return sw_error_set(err, SMOLWEB_ERR_SHAPE, "tensor %s is %ux%u, expected %ux%u", t->name, t->rows, t->cols,
                                want[i].rows, want[i].cols);
        if (t->dtype != dt)
            return sw_error_set(err, SMOLWEB_ERR_SHAPE, "tensor %s is %s, expected %s", t->name, sw_dtype_name(t->dtype),
                                sw_dtype_name(dt));
    }
    return SMOLWEB_OK;
}
