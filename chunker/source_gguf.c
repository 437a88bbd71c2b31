/* source_gguf.c: a GGUF file (llama architecture) as a model source.
 *
 * Tensors are asked for by their Hugging Face names, found under llama.cpp's
 * names, dequantized to f32 by gguf.c and, for q_proj and k_proj, put back
 * in Hugging Face row order (llama.cpp's converter interleaves each head's
 * two rotary halves; see source_gguf.h). GGUF stores ne[0] (columns) first,
 * so a GGUF [ne0, ne1] matrix is the PyTorch [ne1, ne0] one, same bytes. */
#include "source_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"

typedef struct gguf_impl {
    sw_gguf *g;
    char name[256];   /* display name for messages (file basename) */
} gguf_impl;

/* ---- names ---- */

static const struct { const char *hf, *gguf; sw_gguf_perm perm; } k_global[] = {
    {"model.embed_tokens.weight", "token_embd.weight", SW_GGUF_PERM_NONE},
    {"model.norm.weight", "output_norm.weight", SW_GGUF_PERM_NONE},
    {"lm_head.weight", "output.weight", SW_GGUF_PERM_NONE},
};

static const struct { const char *hf, *gguf; sw_gguf_perm perm; } k_layer[] = {
    {"input_layernorm.weight", "attn_norm.weight", SW_GGUF_PERM_NONE},
    {"self_attn.q_proj.weight", "attn_q.weight", SW_GGUF_PERM_Q},
    {"self_attn.k_proj.weight", "attn_k.weight", SW_GGUF_PERM_K},
    {"self_attn.v_proj.weight", "attn_v.weight", SW_GGUF_PERM_NONE},
    {"self_attn.o_proj.weight", "attn_output.weight", SW_GGUF_PERM_NONE},
    {"post_attention_layernorm.weight", "ffn_norm.weight", SW_GGUF_PERM_NONE},
    {"mlp.gate_proj.weight", "ffn_gate.weight", SW_GGUF_PERM_NONE},
    {"mlp.up_proj.weight", "ffn_up.weight", SW_GGUF_PERM_NONE},
    {"mlp.down_proj.weight", "ffn_down.weight", SW_GGUF_PERM_NONE},
};

int sw_gguf_name_from_hf(const char *hf, char *out, size_t cap, sw_gguf_perm *perm) {
    if (!hf || !out || cap == 0) return 0;
    sw_gguf_perm p = SW_GGUF_PERM_NONE;
    int ok = 0;
    for (size_t i = 0; i < sizeof k_global / sizeof k_global[0] && !ok; i++)
        if (strcmp(hf, k_global[i].hf) == 0) ok = (size_t)snprintf(out, cap, "%s", k_global[i].gguf) < cap;
    static const char prefix[] = "model.layers.";
    if (!ok && strncmp(hf, prefix, sizeof prefix - 1) == 0) {
        /* a layer number is plain decimal digits, no sign, no leading zero */
        const char *s = hf + sizeof prefix - 1, *d = s;
        long layer = 0;
        while (*d >= '0' && *d <= '9' && d - s < 7) layer = layer * 10 + (*d++ - '0');
        if (d == s || *d != '.' || (d - s > 1 && *s == '0')) return 0;
        for (size_t i = 0; i < sizeof k_layer / sizeof k_layer[0] && !ok; i++) {
            if (strcmp(d + 1, k_layer[i].hf) != 0) continue;
            ok = (size_t)snprintf(out, cap, "blk.%ld.%s", layer, k_layer[i].gguf) < cap;
            p = k_layer[i].perm;
        }
    }
    if (ok && perm) *perm = p;
    return ok;
}

int sw_gguf_permute_rows(const float *src, float *dst, int64_t rows, int64_t cols, int n_head, int inverse) {
    if (n_head <= 0 || rows <= 0 || cols < 0 || rows % (2 * (int64_t)n_head) != 0) return 0;
    int64_t per = rows / n_head, half = per / 2;
    for (int64_t h = 0; h < n_head; h++) {
        for (int64_t j = 0; j < 2; j++) {
            for (int64_t i = 0; i < half; i++) {
                int64_t hf_row = h * per + j * half + i, gguf_row = h * per + 2 * i + j;
                int64_t from = inverse ? gguf_row : hf_row, to = inverse ? hf_row : gguf_row;
                memcpy(dst + to * cols, src + from * cols, (size_t)cols * sizeof *dst);
            }
        }
    }
    return 1;
}

/* ---- configuration ---- */

static smolweb_status need_int(const sw_gguf *g, const char *dn, const char *key, int64_t def, int required, int *out,
                               sw_error *err) {
    int64_t v = def;
    if (!sw_gguf_get_int(g, key, &v)) {
        double f;
        if (sw_gguf_get_float(g, key, &f) || sw_gguf_get_str(g, key, &(const char *){0}))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: %s is not an integer", dn, key);
        if (required) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: missing key %s", dn, key);
    }
    if (v <= 0 || v > (1 << 30)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: %s = %lld is out of range", dn, key, (long long)v);
    *out = (int)v;
    return SMOLWEB_OK;
}

static smolweb_status need_float(const sw_gguf *g, const char *dn, const char *key, double def, int required,
                                 double *out, sw_error *err) {
    double v = def;
    if (!sw_gguf_get_float(g, key, &v)) {
        if (sw_gguf_get_str(g, key, &(const char *){0}))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: %s is not a number", dn, key);
        if (required) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: missing key %s", dn, key);
    }
    if (!(v > 0 && v < 1e30)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: %s = %g is out of range", dn, key, v);
    *out = v;
    return SMOLWEB_OK;
}

static int token_id(const sw_gguf *g, const char *key) {
    int64_t v;
    return sw_gguf_get_int(g, key, &v) && v >= 0 && v <= INT32_MAX ? (int)v : -1;
}

static smolweb_status llama_dims(const sw_gguf *g, const char *dn, sw_model_config *c, sw_error *err) {
    smolweb_status st = need_int(g, dn, "llama.embedding_length", 0, 1, &c->hidden_size, err);
    if (!st) st = need_int(g, dn, "llama.feed_forward_length", 0, 1, &c->intermediate_size, err);
    if (!st) st = need_int(g, dn, "llama.block_count", 0, 1, &c->num_layers, err);
    if (!st) st = need_int(g, dn, "llama.attention.head_count", 0, 1, &c->num_heads, err);
    if (!st) st = need_int(g, dn, "llama.attention.head_count_kv", c->num_heads, 0, &c->num_kv_heads, err);
    if (!st) st = need_int(g, dn, "llama.context_length", 0, 1, &c->max_position_embeddings, err);
    if (!st) st = need_float(g, dn, "llama.rope.freq_base", 10000.0, 0, &c->rope_theta, err);
    if (!st) st = need_float(g, dn, "llama.attention.layer_norm_rms_epsilon", 0, 1, &c->rms_norm_eps, err);
    if (st) return st;
    if (c->hidden_size % c->num_heads != 0)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s: llama.embedding_length %d is not a multiple of llama.attention.head_count %d",
                            dn, c->hidden_size, c->num_heads);
    st = need_int(g, dn, "llama.attention.key_length", c->hidden_size / c->num_heads, 0, &c->head_dim, err);
    int rope_dims = c->head_dim;
    if (!st) st = need_int(g, dn, "llama.rope.dimension_count", c->head_dim, 0, &rope_dims, err);
    if (!st && rope_dims != c->head_dim)
        st = sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: llama.rope.dimension_count %d differs from the head size %d",
                          dn, rope_dims, c->head_dim);
    return st;
}

static smolweb_status llama_vocab(const sw_gguf *g, const char *dn, sw_model_config *c, sw_error *err) {
    size_t n;
    const char *const *items;
    if (sw_gguf_get_str_array(g, "tokenizer.ggml.tokens", &n, &items, NULL)) {
        if (n == 0 || n > (1u << 30)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %zu entries", dn, n);
        c->vocab_size = (int)n;
        return SMOLWEB_OK;
    }
    if (sw_gguf_get_int(g, "llama.vocab_size", &(int64_t){0}))
        return need_int(g, dn, "llama.vocab_size", 0, 1, &c->vocab_size, err);
    return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: missing key tokenizer.ggml.tokens (or llama.vocab_size)", dn);
}

/* display_name's last component without a ".gguf" suffix. */
static void name_from_file(const char *display_name, char *out, size_t cap) {
    const char *base = strrchr(display_name, '/');
    base = base ? base + 1 : display_name;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".gguf") == 0) n -= 5;
    snprintf(out, cap, "%.*s", (int)n, base);
}

smolweb_status sw_gguf_llama_config(const sw_gguf *g, const char *display_name, sw_model_config *c, sw_error *err) {
    sw_error_clear(err);
    const char *dn = display_name ? display_name : "";
    if (!g || !c) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: no GGUF handle", dn);
    memset(c, 0, sizeof *c);
    const char *arch;
    if (!sw_gguf_get_str(g, "general.architecture", &arch))
        return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: missing key general.architecture", dn);
    if (strcmp(arch, "llama") != 0)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: architecture '%.64s' is not supported (only llama)", dn, arch);
    snprintf(c->architecture, sizeof c->architecture, "llama");
    const char *name;
    if (sw_gguf_get_str(g, "general.name", &name) && name[0]) snprintf(c->name, sizeof c->name, "%s", name);
    else name_from_file(dn, c->name, sizeof c->name);
    smolweb_status st = llama_dims(g, dn, c, err);
    if (!st) st = llama_vocab(g, dn, c, err);
    if (st) return st;
    c->tie_word_embeddings = !sw_gguf_tensor(g, "output.weight", NULL, NULL, NULL);
    c->bos_token_id = token_id(g, "tokenizer.ggml.bos_token_id");
    c->eos_token_id = token_id(g, "tokenizer.ggml.eos_token_id");
    st = sw_model_config_validate(c, err);
    if (st) sw_error_prefix(err, "%s", dn);
    return st;
}

/* ---- the source ---- */

static int gguf_find(sw_source *src, const char *hf_name, sw_tensor_info *info) {
    const gguf_impl *im = src->impl;
    char name[128];
    uint32_t type;
    int nd;
    int64_t ne[4];
    if (!sw_gguf_name_from_hf(hf_name, name, sizeof name, NULL) || !sw_gguf_tensor(im->g, name, &type, &nd, ne)) return 0;
    if (info) {
        /* PyTorch order; dimensions beyond the second fold into the rows */
        info->ndim = nd == 1 ? 1 : 2;
        info->shape[0] = nd == 1 ? ne[0] : ne[1] * ne[2] * ne[3];
        info->shape[1] = nd == 1 ? 0 : ne[0];
    }
    return 1;
}

static smolweb_status gguf_read(sw_source *src, const char *hf_name, float *out, size_t count, sw_error *err) {
    gguf_impl *im = src->impl;
    char name[128];
    sw_gguf_perm perm;
    sw_tensor_info info;
    if (!sw_gguf_name_from_hf(hf_name, name, sizeof name, &perm) || !gguf_find(src, hf_name, &info))
        return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: missing tensor %s", im->name, hf_name);
    smolweb_status st = sw_gguf_read_f32(im->g, name, out, count, err);
    if (st || perm == SW_GGUF_PERM_NONE) return st;
    int heads = perm == SW_GGUF_PERM_Q ? src->config.num_heads : src->config.num_kv_heads;
    int64_t rows = info.shape[0], cols = info.ndim == 2 ? info.shape[1] : 1;
    if (info.ndim != 2 || rows % (2 * (int64_t)heads) != 0)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s: tensor %s has %lld rows, not a multiple of 2 x %d heads", im->name,
                            name, (long long)rows, heads);
    /* one head at a time: a head's rows only move among themselves */
    size_t head = (size_t)(rows / heads * cols);
    float *tmp = malloc(head ? head * sizeof *tmp : 1);
    if (!tmp) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory reading %s", im->name, name);
    for (int h = 0; h < heads; h++) {
        memcpy(tmp, out + h * head, head * sizeof *tmp);
        sw_gguf_permute_rows(tmp, out + h * head, rows / heads, cols, 1, 1);
    }
    free(tmp);
    return SMOLWEB_OK;
}

static void gguf_source_free(sw_source *src) {
    gguf_impl *im = src->impl;
    if (!im) return;
    sw_gguf_free(im->g);
    free(im);
    src->impl = NULL;
}

static const sw_source_ops k_gguf_ops = {gguf_find, gguf_read, gguf_source_free};

sw_source *sw_source_open_gguf(const char *path, sw_error *err) {
    sw_error_clear(err);
    if (!path || strlen(path) >= sizeof ((sw_source *)0)->path) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "GGUF path missing or too long");
        return NULL;
    }
    sw_source *src = calloc(1, sizeof *src);
    gguf_impl *im = calloc(1, sizeof *im);
    if (!src || !im) {
        free(src);
        free(im);
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    src->ops = &k_gguf_ops;
    src->kind = SW_SOURCE_GGUF;
    src->impl = im;
    snprintf(src->path, sizeof src->path, "%s", path);
    const char *base = strrchr(path, '/');
    snprintf(im->name, sizeof im->name, "%s", base ? base + 1 : path);
    im->g = sw_gguf_open(path, err);
    if (!im->g || sw_gguf_llama_config(im->g, im->name, &src->config, err) != SMOLWEB_OK) {
        sw_source_free(src);
        return NULL;
    }
    return src;
}
