/* smolweb-gen: writes a random-weight model with a real SmolLM shape as a
 * Hugging Face folder (config.json, safetensors, the real tokenizer files)
 * and/or as GGUF files, the same weights in every output.
 *
 *   smolweb-gen SHAPE OUT_DIR [--seed N] [--dtype f32|f16|bf16] [--shards N]
 *               [--gguf f32|f16|q8_0|q4_0|q4_0-emb-q8 PATH]... [--no-hf]
 *               [--tokenizer-dir DIR]
 *   smolweb-gen --list
 *
 * Weights: each tensor is drawn from N(0, std^2) by a generator seeded from
 * (seed, tensor name), so any tensor can be regenerated alone. The scales
 * keep activations in a realistic range through all layers and make the
 * layers, not the token's own embedding, dominate the final hidden state, so
 * greedy output varies from token to token (with tied embeddings a residual
 * stream dominated by the input embedding makes every token predict itself). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen.h"
#include "shapes.h"

typedef struct gen_model {
    const sw_shape *shape;
    uint64_t seed;
    double embed_std;   /* token embedding */
    double layer_gain;  /* scales o_proj and down_proj: each layer's contribution to the residual */
    double qk_gain;     /* scales q/k so attention is neither uniform nor one-hot */
} gen_model;

/* ---- deterministic normal numbers: splitmix64 + Box-Muller ---- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t hash_name(uint64_t seed, const char *s) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static double uniform01(uint64_t *s) { return ((double)(splitmix64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

static void fill_normal(uint64_t state, float *out, size_t n, double mean, double std) {
    for (size_t i = 0; i < n; i += 2) {
        double u1 = uniform01(&state), u2 = uniform01(&state);
        double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
        out[i] = (float)(mean + std * r * cos(a));
        if (i + 1 < n) out[i + 1] = (float)(mean + std * r * sin(a));
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Mean and standard deviation of every tensor, by role. */
static void tensor_dist(const gen_model *g, const sw_gen_tensor *t, double *mean, double *std) {
    const sw_shape *s = g->shape;
    double fan_in = t->ndim == 2 ? (double)t->shape[1] : 1.0;
    *mean = 0.0;
    *std = 1.0 / sqrt(fan_in);
    if (ends_with(t->hf_name, "norm.weight") || ends_with(t->hf_name, "layernorm.weight")) {
        *mean = 1.0;
        *std = 0.1;
    } else if (strstr(t->hf_name, "embed_tokens") || strstr(t->hf_name, "lm_head")) {
        *std = g->embed_std;
    } else if (strstr(t->hf_name, "q_proj") || strstr(t->hf_name, "k_proj")) {
        *std *= g->qk_gain;
    } else if (strstr(t->hf_name, "o_proj") || strstr(t->hf_name, "down_proj")) {
        *std *= g->layer_gain / sqrt((double)s->layers);
    }
}

static smolweb_status fill(void *user, const sw_gen_tensor *t, float *out, size_t count, sw_error *err) {
    const gen_model *g = user;
    size_t want = (size_t)t->shape[0] * (size_t)(t->ndim == 2 ? t->shape[1] : 1);
    if (count != want) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: asked for %zu values, has %zu", t->hf_name, count, want);
    double mean, std;
    tensor_dist(g, t, &mean, &std);
    fill_normal(hash_name(g->seed, t->hf_name), out, count, mean, std);
    return SMOLWEB_OK;
}

/* ---- the tensor list ---- */

static int add(sw_gen_tensor *t, int n, const char *name, int ndim, int64_t rows, int64_t cols) {
    snprintf(t[n].hf_name, sizeof t[n].hf_name, "%s", name);
    t[n].ndim = ndim;
    t[n].shape[0] = rows;
    t[n].shape[1] = ndim == 2 ? cols : 0;
    return n + 1;
}

static sw_gen_tensor *tensor_list(const sw_shape *s, int *count) {
    sw_gen_tensor *t = calloc((size_t)(2 + 9 * s->layers), sizeof *t);
    if (!t) return NULL;
    int hd = s->hidden / s->heads, kv = s->kv_heads * hd, n = 0;
    char name[96];
    n = add(t, n, "model.embed_tokens.weight", 2, SW_SHAPE_VOCAB, s->hidden);
    for (int l = 0; l < s->layers; l++) {
#define L(fmt, nd, r, c) (snprintf(name, sizeof name, "model.layers.%d." fmt, l), n = add(t, n, name, nd, r, c))
        L("input_layernorm.weight", 1, s->hidden, 0);
        L("self_attn.q_proj.weight", 2, s->hidden, s->hidden);
        L("self_attn.k_proj.weight", 2, kv, s->hidden);
        L("self_attn.v_proj.weight", 2, kv, s->hidden);
        L("self_attn.o_proj.weight", 2, s->hidden, s->hidden);
        L("post_attention_layernorm.weight", 1, s->hidden, 0);
        L("mlp.gate_proj.weight", 2, s->intermediate, s->hidden);
        L("mlp.up_proj.weight", 2, s->intermediate, s->hidden);
        L("mlp.down_proj.weight", 2, s->hidden, s->intermediate);
#undef L
    }
    n = add(t, n, "model.norm.weight", 1, s->hidden, 0);
    *count = n;
    return t;
}

static sw_model_config config_of(const sw_shape *s) {
    sw_model_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", s->hf_name);
    snprintf(c.architecture, sizeof c.architecture, "llama");
    c.hidden_size = s->hidden;
    c.intermediate_size = s->intermediate;
    c.num_layers = s->layers;
    c.num_heads = s->heads;
    c.num_kv_heads = s->kv_heads;
    c.head_dim = s->hidden / s->heads;
    c.vocab_size = SW_SHAPE_VOCAB;
    c.max_position_embeddings = s->max_positions;
    c.rope_theta = s->rope_theta;
    c.rms_norm_eps = SW_SHAPE_RMS_EPS;
    c.tie_word_embeddings = 1;
    c.bos_token_id = 1; /* the instruct tokenizer's <|im_start|> */
    c.eos_token_id = 2; /* <|im_end|> */
    return c;
}

/* ---- files ---- */

static smolweb_status write_config(const char *dir, const sw_shape *s, sw_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f,
            "{\n  \"_comment\": \"random weights with the shape of %s, made by smolweb-gen\",\n"
            "  \"architectures\": [\"LlamaForCausalLM\"],\n  \"attention_bias\": false,\n"
            "  \"attention_dropout\": 0.0,\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n"
            "  \"hidden_act\": \"silu\",\n  \"hidden_size\": %d,\n  \"initializer_range\": 0.02,\n"
            "  \"intermediate_size\": %d,\n  \"max_position_embeddings\": %d,\n  \"mlp_bias\": false,\n"
            "  \"model_type\": \"llama\",\n  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n"
            "  \"num_key_value_heads\": %d,\n  \"pad_token_id\": 2,\n  \"pretraining_tp\": 1,\n"
            "  \"rms_norm_eps\": 1e-05,\n  \"rope_scaling\": null,\n  \"rope_theta\": %.1f,\n"
            "  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"float32\",\n  \"use_cache\": true,\n"
            "  \"vocab_size\": %d\n}\n",
            s->hf_name, s->hidden, s->intermediate, s->max_positions, s->heads, s->layers, s->kv_heads,
            s->rope_theta, SW_SHAPE_VOCAB);
    return fclose(f) == 0 ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed", path);
}

static smolweb_status copy_file(const char *from_dir, const char *to_dir, const char *name, sw_error *err) {
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/%s", from_dir, name);
    snprintf(b, sizeof b, "%s/%s", to_dir, name);
    FILE *in = fopen(a, "rb");
    if (!in) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: %s", a, strerror(errno));
    FILE *out = fopen(b, "wb");
    if (!out) {
        fclose(in);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: %s", b, strerror(errno));
    }
    char buf[65536];
    size_t n;
    int ok = 1;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) ok &= fwrite(buf, 1, n, out) == n;
    ok &= !ferror(in);
    fclose(in);
    ok &= fclose(out) == 0;
    return ok ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_IO, "copying %s failed", a);
}

/* ---- command line ---- */

static void usage(FILE *f) {
    int n;
    const sw_shape *s = sw_shapes(&n);
    fprintf(f,
            "usage: smolweb-gen SHAPE OUT_DIR [--seed N] [--dtype f32|f16|bf16] [--shards N]\n"
            "                   [--gguf f32|f16|q8_0|q4_0|q4_0-emb-q8 PATH]... [--no-hf] [--tokenizer-dir DIR]\n"
            "Writes a random-weight model as a Hugging Face folder in OUT_DIR and/or GGUF files.\nShapes:");
    for (int i = 0; i < n; i++) fprintf(f, " %s", s[i].id);
    fprintf(f, "\n");
}

static int parse_gguf_type(const char *s, sw_gguf_ftype *out) {
    static const struct { const char *name; sw_gguf_ftype t; } k[] = {
        {"f32", SW_GGUF_OUT_F32}, {"f16", SW_GGUF_OUT_F16}, {"q8_0", SW_GGUF_OUT_Q8_0},
        {"q4_0", SW_GGUF_OUT_Q4_0}, {"q4_0-emb-q8", SW_GGUF_OUT_Q4_0_EMB_Q8}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strcmp(s, k[i].name) == 0) { *out = k[i].t; return 1; }
    return 0;
}

static const char *default_tokenizer_dir(void) {
    const char *shared = getenv("SMOLWEB_SHARED");
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/models/smollm2-135m-instruct", shared && *shared ? shared : "../shared");
    return buf;
}

#define MAX_GGUF 8

int main(int argc, char **argv) {
    gen_model g = {0};
    const char *shape_id = NULL, *out_dir = NULL, *tok_dir = NULL;
    sw_st_dtype dtype = SW_ST_F32;
    int shards = 1, no_hf = 0, n_gguf = 0;
    sw_gguf_ftype gguf_types[MAX_GGUF];
    const char *gguf_paths[MAX_GGUF];
    g.seed = 1234;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--list") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--seed") == 0 && has) {
            g.seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--dtype") == 0 && has) {
            const char *d = argv[++i];
            if (strcmp(d, "f32") == 0) dtype = SW_ST_F32;
            else if (strcmp(d, "f16") == 0) dtype = SW_ST_F16;
            else if (strcmp(d, "bf16") == 0) dtype = SW_ST_BF16;
            else { fprintf(stderr, "error: --dtype: unknown type '%s'\n", d); return 2; }
        } else if (strcmp(a, "--shards") == 0 && has) {
            shards = atoi(argv[++i]);
            if (shards < 1 || shards > 99) { fprintf(stderr, "error: --shards must be 1..99\n"); return 2; }
        } else if (strcmp(a, "--gguf") == 0 && i + 2 < argc) {
            if (n_gguf == MAX_GGUF || !parse_gguf_type(argv[i + 1], &gguf_types[n_gguf])) {
                fprintf(stderr, "error: --gguf: unknown type '%s' or too many outputs\n", argv[i + 1]);
                return 2;
            }
            gguf_paths[n_gguf++] = argv[i + 2];
            i += 2;
        } else if (strcmp(a, "--embed-std") == 0 && has) {
            g.embed_std = atof(argv[++i]);
        } else if (strcmp(a, "--layer-gain") == 0 && has) {
            g.layer_gain = atof(argv[++i]);
        } else if (strcmp(a, "--qk-gain") == 0 && has) {
            g.qk_gain = atof(argv[++i]);
        } else if (strcmp(a, "--no-hf") == 0) {
            no_hf = 1;
        } else if (strcmp(a, "--tokenizer-dir") == 0 && has) {
            tok_dir = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "error: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (!shape_id) {
            shape_id = a;
        } else if (!out_dir) {
            out_dir = a;
        } else {
            fprintf(stderr, "error: unexpected argument %s\n", a);
            return 2;
        }
    }
    if (!shape_id || (!out_dir && !no_hf)) {
        usage(stderr);
        return 2;
    }
    g.shape = sw_shape_find(shape_id);
    if (!g.shape) {
        fprintf(stderr, "error: unknown shape '%s'\n", shape_id);
        usage(stderr);
        return 2;
    }
    if (!tok_dir) tok_dir = default_tokenizer_dir();
    /* Logits of std ~3 over the vocabulary; layers whose summed output outweighs
     * the embedding several times over (see the file comment). */
    if (g.embed_std <= 0) g.embed_std = 3.0 / sqrt((double)g.shape->hidden);
    /* measured with tests/ref_forward.py: at these gains 24 greedy tokens hold
     * 18-22 distinct ids on the tiny and SmolLM2-135M shapes; at a quarter of
     * them the model repeats one or two tokens */
    if (g.layer_gain <= 0) g.layer_gain = fmax(8.0, 0.67 * sqrt((double)g.shape->hidden));
    if (g.qk_gain <= 0) g.qk_gain = 1.5;

    int n = 0;
    sw_gen_tensor *tensors = tensor_list(g.shape, &n);
    sw_model_config cfg = config_of(g.shape);
    sw_error err;
    sw_error_clear(&err);
    smolweb_status st = tensors ? SMOLWEB_OK : sw_error_set(&err, SMOLWEB_ERR_NOMEM, "out of memory");
    if (!st && !no_hf) {
        if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) st = sw_error_set(&err, SMOLWEB_ERR_IO, "%s: %s", out_dir, strerror(errno));
        if (!st) st = write_config(out_dir, g.shape, &err);
        if (!st) st = copy_file(tok_dir, out_dir, "tokenizer.json", &err);
        if (!st) st = copy_file(tok_dir, out_dir, "tokenizer_config.json", &err);
        if (!st) {
            fprintf(stderr, "writing %s (safetensors, %d shard%s)\n", out_dir, shards, shards > 1 ? "s" : "");
            st = sw_safetensors_write(out_dir, tensors, n, dtype, shards, fill, &g, &err);
        }
    }
    for (int i = 0; i < n_gguf && !st; i++) {
        fprintf(stderr, "writing %s\n", gguf_paths[i]);
        st = sw_gguf_write(gguf_paths[i], &cfg, tensors, n, gguf_types[i], tok_dir, fill, &g, &err);
    }
    free(tensors);
    if (st) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}
