/* gguf_write.c: writes a random-weight model as a GGUF v3 file llama.cpp
 * loads (see gen.h).
 *
 * The header (metadata and tensor infos) is built in memory first: every
 * tensor's type and size is known from its shape, so the data offsets are
 * fixed before any weight exists. Then each tensor is filled, permuted (q and
 * k), converted and written, one at a time. Tensor data is laid out as
 * llama.cpp's own writer does: in header order, each tensor at the next
 * multiple of 32 bytes, the file padded to 32 at the end.
 *
 * The Q4_0 and Q8_0 quantizers follow ggml's reference ones, so a file
 * written here holds the bytes llama-quantize would produce from the same
 * f32 weights:
 *   Q4_0 (18 bytes / 32 weights): f16 d = (the weight of largest magnitude,
 *     with its sign) / -8; byte j = q[j] | q[j+16] << 4 with
 *     q = min(15, trunc(w / d + 8.5)), decoding to (q - 8) * d.
 *   Q8_0 (34 bytes / 32 weights): f16 d = max|w| / 127, 32 int8 round(w / d). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "f16.h"
#include "gen.h"
#include "gguf.h"
#include "source_gguf.h"

#define ALIGN 32
#define MAX_TOKENIZER_BYTES (64u << 20)

/* GGUF metadata value types used here. */
enum { V_U32 = 4, V_I32 = 5, V_F32 = 6, V_STRING = 8, V_ARRAY = 9 };
/* llama.cpp's token types. */
enum { TOK_NORMAL = 1, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5 };
/* llama.cpp's LLAMA_FTYPE values for general.file_type. */
enum { FTYPE_ALL_F32 = 0, FTYPE_MOSTLY_F16 = 1, FTYPE_MOSTLY_Q4_0 = 2, FTYPE_MOSTLY_Q8_0 = 7 };

/* ---- a growable byte buffer for the header ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
    uint64_t n_kv;   /* metadata entries written */
} buf;

static void put(buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(buf *b, uint64_t v) {
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(buf *b, const char *s) {
    size_t n = strlen(s);
    put_u64(b, n);
    put(b, s, n);
}

static void key(buf *b, const char *k, uint32_t type) {
    put_str(b, k);
    put_u32(b, type);
    b->n_kv++;
}

static void kv_u32(buf *b, const char *k, uint32_t v) { key(b, k, V_U32); put_u32(b, v); }
static void kv_f32(buf *b, const char *k, float v) { key(b, k, V_F32); put_u32(b, sw_f32_bits(v)); }
static void kv_str(buf *b, const char *k, const char *v) { key(b, k, V_STRING); put_str(b, v); }

static void kv_str_array(buf *b, const char *k, char *const *items, size_t n) {
    key(b, k, V_ARRAY);
    put_u32(b, V_STRING);
    put_u64(b, n);
    for (size_t i = 0; i < n; i++) put_str(b, items[i]);
}

static void kv_i32_array(buf *b, const char *k, const int32_t *items, size_t n) {
    key(b, k, V_ARRAY);
    put_u32(b, V_I32);
    put_u64(b, n);
    for (size_t i = 0; i < n; i++) put_u32(b, (uint32_t)items[i]);
}

/* ---- the tokenizer ---- */

typedef struct tokenizer {
    cJSON *tj, *tc;          /* tokenizer.json, tokenizer_config.json (tc may be NULL) */
    char **tokens;           /* by id; borrowed from tj or owned (see owned) */
    int32_t *types;
    size_t n;
    char **merges;           /* "a b" */
    size_t n_merges;
    char **owned;            /* strings made here, freed at the end */
    size_t n_owned;
    int bos, eos, pad, unk;  /* -1: none */
    const char *chat_template;
} tokenizer;

static void tokenizer_free(tokenizer *t) {
    for (size_t i = 0; i < t->n_owned; i++) free(t->owned[i]);
    free(t->owned);
    free(t->tokens);
    free(t->types);
    free(t->merges);
    cJSON_Delete(t->tj);
    cJSON_Delete(t->tc);
}

static char *own(tokenizer *t, char *s) {
    if (!s) return NULL;
    char **o = realloc(t->owned, (t->n_owned + 1) * sizeof *o);
    if (!o) {
        free(s);
        return NULL;
    }
    t->owned = o;
    t->owned[t->n_owned++] = s;
    return s;
}

static smolweb_status read_json(const char *dir, const char *file, int optional, cJSON **out, sw_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (optional && errno == ENOENT) return SMOLWEB_OK;
        return sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: %s", path, strerror(errno));
    }
    char *text = malloc(MAX_TOKENIZER_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_TOKENIZER_BYTES + 1, f) : 0;
    int bad = !text || ferror(f) || n > MAX_TOKENIZER_BYTES;
    fclose(f);
    if (!bad) *out = cJSON_ParseWithLength(text, n);
    free(text);
    if (bad) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot read (or larger than 64 MB)", file);
    if (!*out) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: invalid JSON", file);
    return SMOLWEB_OK;
}

/* Sets token id -> text, growing nothing: ids beyond n are an error. */
static smolweb_status set_token(tokenizer *t, double id, const char *text, int32_t type, sw_error *err) {
    if (!(id >= 0 && id < (double)t->n) || id != floor(id))
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "tokenizer.json: token id %.0f outside the vocabulary of %zu", id, t->n);
    t->tokens[(size_t)id] = (char *)text;
    t->types[(size_t)id] = type;
    return SMOLWEB_OK;
}

static smolweb_status load_vocab(tokenizer *t, int vocab_size, sw_error *err) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(t->tj, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(t->tj, "added_tokens");
    if (!cJSON_IsObject(vocab)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer.json: no model.vocab object");
    t->n = (size_t)vocab_size;
    t->tokens = calloc(t->n, sizeof *t->tokens);
    t->types = calloc(t->n, sizeof *t->types);
    if (!t->tokens || !t->types) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    smolweb_status st = SMOLWEB_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer.json: vocab entry is not a number");
        if ((st = set_token(t, e->valuedouble, e->string, TOK_NORMAL, err)) != SMOLWEB_OK) return st;
    }
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(content))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer.json: added token without id or content");
        int special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special"));
        st = set_token(t, id->valuedouble, content->valuestring, special ? TOK_CONTROL : TOK_USER_DEFINED, err);
        if (st) return st;
    }
    /* ids no token names (a vocabulary padded to a round size) */
    for (size_t i = 0; i < t->n; i++) {
        if (t->tokens[i]) continue;
        char tmp[32];
        snprintf(tmp, sizeof tmp, "[PAD%zu]", i);
        if (!(t->tokens[i] = own(t, strdup(tmp)))) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        t->types[i] = TOK_UNUSED;
    }
    return SMOLWEB_OK;
}

/* Merges are "a b" strings, or [a, b] pairs in newer tokenizer.json files. */
static smolweb_status load_merges(tokenizer *t, sw_error *err) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->tj, "model"), "merges");
    if (!merges) return SMOLWEB_OK;
    if (!cJSON_IsArray(merges)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer.json: model.merges is not an array");
    size_t n = (size_t)cJSON_GetArraySize(merges);
    t->merges = malloc((n ? n : 1) * sizeof *t->merges);
    if (!t->merges) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, merges) {
        if (cJSON_IsString(e)) {
            t->merges[t->n_merges++] = e->valuestring;
            continue;
        }
        const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(a) || !cJSON_IsString(b))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokenizer.json: merge %zu is neither \"a b\" nor [a, b]", t->n_merges);
        size_t la = strlen(a->valuestring), lb = strlen(b->valuestring);
        char *s = own(t, malloc(la + lb + 2));
        if (!s) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        memcpy(s, a->valuestring, la);
        s[la] = ' ';
        memcpy(s + la + 1, b->valuestring, lb + 1);
        t->merges[t->n_merges++] = s;
    }
    return SMOLWEB_OK;
}

/* tokenizer_config.json's bos_token etc.: a string, or {"content": string}. */
static int special_id(const tokenizer *t, const char *field) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->tc, field);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    if (!cJSON_IsString(v)) return -1;
    for (size_t i = 0; i < t->n; i++)
        if (t->types[i] != TOK_UNUSED && strcmp(t->tokens[i], v->valuestring) == 0) return (int)i;
    return -1;
}

static smolweb_status tokenizer_load(const char *dir, int vocab_size, tokenizer *t, sw_error *err) {
    memset(t, 0, sizeof *t);
    smolweb_status st = read_json(dir, "tokenizer.json", 0, &t->tj, err);
    if (!st) st = read_json(dir, "tokenizer_config.json", 1, &t->tc, err);
    if (!st) st = load_vocab(t, vocab_size, err);
    if (!st) st = load_merges(t, err);
    if (st) return st;
    t->bos = special_id(t, "bos_token");
    t->eos = special_id(t, "eos_token");
    t->pad = special_id(t, "pad_token");
    t->unk = special_id(t, "unk_token");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(t->tc, "chat_template");
    t->chat_template = cJSON_IsString(tmpl) ? tmpl->valuestring : NULL;
    return SMOLWEB_OK;
}

/* ---- tensors ---- */

typedef struct out_tensor {
    const sw_gen_tensor *src;
    char name[64];
    uint32_t type;       /* ggml type */
    int64_t ne[2];       /* ne[0] = columns */
    int n_dims;
    sw_gguf_perm perm;
    uint64_t offset;     /* inside the data section */
    uint64_t nbytes;
} out_tensor;

static uint64_t row_bytes(uint32_t type, int64_t cols) {
    switch (type) {
    case SW_GGML_F16: return (uint64_t)cols * 2;
    case SW_GGML_Q8_0: return (uint64_t)cols / 32 * 34;
    case SW_GGML_Q4_0: return (uint64_t)cols / 32 * 18;
    default: return (uint64_t)cols * 4;
    }
}

static uint32_t pick_type(sw_gguf_ftype ft, const out_tensor *o) {
    if (o->n_dims == 1 || ft == SW_GGUF_OUT_F32) return SW_GGML_F32;
    int head = strcmp(o->name, "token_embd.weight") == 0 || strcmp(o->name, "output.weight") == 0;
    uint32_t t = ft == SW_GGUF_OUT_F16    ? SW_GGML_F16
                 : ft == SW_GGUF_OUT_Q8_0 ? SW_GGML_Q8_0
                 : ft == SW_GGUF_OUT_Q4_0_EMB_Q8 && head ? SW_GGML_Q8_0
                                                          : SW_GGML_Q4_0;
    /* llama.cpp's quantizer falls back too when a row is not whole blocks */
    if ((t == SW_GGML_Q8_0 || t == SW_GGML_Q4_0) && o->ne[0] % 32 != 0) t = SW_GGML_F16;
    return t;
}

static smolweb_status plan_tensors(const sw_gen_tensor *ts, int n, sw_gguf_ftype ft, out_tensor *out, sw_error *err) {
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        out_tensor *o = &out[i];
        o->src = &ts[i];
        if (!sw_gguf_name_from_hf(ts[i].hf_name, o->name, sizeof o->name, &o->perm))
            return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s has no GGUF name", ts[i].hf_name);
        if (ts[i].ndim < 1 || ts[i].ndim > 2 || ts[i].shape[0] <= 0 || (ts[i].ndim == 2 && ts[i].shape[1] <= 0))
            return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s has a bad shape", ts[i].hf_name);
        o->n_dims = ts[i].ndim;
        o->ne[0] = ts[i].ndim == 2 ? ts[i].shape[1] : ts[i].shape[0];
        o->ne[1] = ts[i].ndim == 2 ? ts[i].shape[0] : 1;
        o->type = pick_type(ft, o);
        o->offset = off;
        o->nbytes = row_bytes(o->type, o->ne[0]) * (uint64_t)o->ne[1];
        off = (off + o->nbytes + ALIGN - 1) / ALIGN * ALIGN;
    }
    return SMOLWEB_OK;
}

/* ---- quantizers and row conversion ---- */

static void put_f16(uint8_t *p, float v) {
    uint16_t h = sw_f32_to_f16(v);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

static void quantize_q4_0(const float *x, int64_t n, uint8_t *y) {
    for (int64_t b = 0; b < n / 32; b++, x += 32, y += 18) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 32; j++) {
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, d);
        for (int j = 0; j < 16; j++) {
            /* x * id lies in [-8, 8], so + 8.5 is positive: truncation rounds half up */
            int lo = (int)(x[j] * id + 8.5f), hi = (int)(x[j + 16] * id + 8.5f);
            lo = lo < 0 ? 0 : lo > 15 ? 15 : lo;
            hi = hi < 0 ? 0 : hi > 15 ? 15 : hi;
            y[2 + j] = (uint8_t)(lo | hi << 4);
        }
    }
}

static void quantize_q8_0(const float *x, int64_t n, uint8_t *y) {
    for (int64_t b = 0; b < n / 32; b++, x += 32, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, d);
        for (int j = 0; j < 32; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}

static void convert_row(uint32_t type, const float *x, int64_t n, uint8_t *y) {
    switch (type) {
    case SW_GGML_F16:
        for (int64_t i = 0; i < n; i++) put_f16(y + 2 * i, x[i]);
        break;
    case SW_GGML_Q8_0: quantize_q8_0(x, n, y); break;
    case SW_GGML_Q4_0: quantize_q4_0(x, n, y); break;
    default:
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = sw_f32_bits(x[i]);
            uint8_t *p = y + 4 * i;
            p[0] = (uint8_t)u, p[1] = (uint8_t)(u >> 8), p[2] = (uint8_t)(u >> 16), p[3] = (uint8_t)(u >> 24);
        }
    }
}

/* ---- the file ---- */

static void put_metadata(buf *b, const sw_model_config *c, sw_gguf_ftype ft, const tokenizer *t) {
    static const uint32_t ftypes[] = {FTYPE_ALL_F32, FTYPE_MOSTLY_F16, FTYPE_MOSTLY_Q8_0, FTYPE_MOSTLY_Q4_0, FTYPE_MOSTLY_Q4_0};
    kv_str(b, "general.architecture", "llama");
    kv_str(b, "general.name", c->name);
    kv_u32(b, "general.alignment", ALIGN);
    kv_u32(b, "general.file_type", ftypes[ft]);
    if (ft >= SW_GGUF_OUT_Q8_0) kv_u32(b, "general.quantization_version", 2);
    kv_u32(b, "llama.context_length", (uint32_t)c->max_position_embeddings);
    kv_u32(b, "llama.embedding_length", (uint32_t)c->hidden_size);
    kv_u32(b, "llama.block_count", (uint32_t)c->num_layers);
    kv_u32(b, "llama.feed_forward_length", (uint32_t)c->intermediate_size);
    kv_u32(b, "llama.rope.dimension_count", (uint32_t)c->head_dim);
    kv_u32(b, "llama.attention.head_count", (uint32_t)c->num_heads);
    kv_u32(b, "llama.attention.head_count_kv", (uint32_t)c->num_kv_heads);
    kv_f32(b, "llama.rope.freq_base", (float)c->rope_theta);
    kv_f32(b, "llama.attention.layer_norm_rms_epsilon", (float)c->rms_norm_eps);
    kv_u32(b, "llama.vocab_size", (uint32_t)c->vocab_size);
    kv_str(b, "tokenizer.ggml.model", "gpt2");
    kv_str(b, "tokenizer.ggml.pre", "smollm");
    kv_str_array(b, "tokenizer.ggml.tokens", t->tokens, t->n);
    kv_i32_array(b, "tokenizer.ggml.token_type", t->types, t->n);
    kv_str_array(b, "tokenizer.ggml.merges", t->merges, t->n_merges);
    if (t->bos >= 0) kv_u32(b, "tokenizer.ggml.bos_token_id", (uint32_t)t->bos);
    if (t->eos >= 0) kv_u32(b, "tokenizer.ggml.eos_token_id", (uint32_t)t->eos);
    if (t->unk >= 0) kv_u32(b, "tokenizer.ggml.unknown_token_id", (uint32_t)t->unk);
    if (t->pad >= 0) kv_u32(b, "tokenizer.ggml.padding_token_id", (uint32_t)t->pad);
    if (t->chat_template) kv_str(b, "tokenizer.chat_template", t->chat_template);
}

static void put_tensor_infos(buf *b, const out_tensor *ot, int n) {
    for (int i = 0; i < n; i++) {
        put_str(b, ot[i].name);
        put_u32(b, (uint32_t)ot[i].n_dims);
        for (int d = 0; d < ot[i].n_dims; d++) put_u64(b, (uint64_t)ot[i].ne[d]);
        put_u32(b, ot[i].type);
        put_u64(b, ot[i].offset);
    }
}

/* pad_to and write_tensor return a bare SMOLWEB_ERR_IO on a failed fwrite;
 * sw_gguf_write then names the file. */
static smolweb_status pad_to(FILE *f, uint64_t *pos, uint64_t target) {
    static const uint8_t zeros[ALIGN];
    while (*pos < target) {
        size_t k = target - *pos < ALIGN ? (size_t)(target - *pos) : ALIGN;
        if (fwrite(zeros, 1, k, f) != k) return SMOLWEB_ERR_IO;
        *pos += k;
    }
    return SMOLWEB_OK;
}

/* Fills, permutes, converts and writes one tensor. x and tmp hold the largest
 * tensor's floats; row holds one converted row. */
static smolweb_status write_tensor(FILE *f, const out_tensor *o, const sw_model_config *c, sw_gen_fill_fn fill,
                                   void *user, float *x, float *tmp, uint8_t *row, sw_error *err) {
    size_t count = (size_t)(o->ne[0] * o->ne[1]);
    smolweb_status st = fill(user, o->src, x, count, err);
    if (st) return st;
    if (o->perm != SW_GGUF_PERM_NONE) {
        int heads = o->perm == SW_GGUF_PERM_Q ? c->num_heads : c->num_kv_heads;
        memcpy(tmp, x, count * sizeof *x);
        if (!sw_gguf_permute_rows(tmp, x, o->ne[1], o->ne[0], heads, 0))
            return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s: %lld rows are not a multiple of 2 x %d heads", o->src->hf_name,
                                (long long)o->ne[1], heads);
    }
    uint64_t rb = row_bytes(o->type, o->ne[0]);
    for (int64_t r = 0; r < o->ne[1]; r++) {
        convert_row(o->type, x + r * o->ne[0], o->ne[0], row);
        if (fwrite(row, 1, (size_t)rb, f) != rb) return SMOLWEB_ERR_IO;
    }
    return SMOLWEB_OK;
}

static smolweb_status write_data(FILE *f, uint64_t data_start, const out_tensor *ot, int n, const sw_model_config *c,
                                 sw_gen_fill_fn fill, void *user, sw_error *err) {
    size_t max_count = 0, max_row = 1, max_perm = 1;
    for (int i = 0; i < n; i++) {
        size_t cnt = (size_t)(ot[i].ne[0] * ot[i].ne[1]);
        if (cnt > max_count) max_count = cnt;
        if (ot[i].perm != SW_GGUF_PERM_NONE && cnt > max_perm) max_perm = cnt;
        if (row_bytes(ot[i].type, ot[i].ne[0]) > max_row) max_row = (size_t)row_bytes(ot[i].type, ot[i].ne[0]);
    }
    float *x = malloc((max_count ? max_count : 1) * sizeof *x), *tmp = malloc(max_perm * sizeof *tmp);
    uint8_t *row = malloc(max_row);
    smolweb_status st = x && tmp && row ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    uint64_t pos = data_start;
    for (int i = 0; i < n && !st; i++) {
        st = pad_to(f, &pos, data_start + ot[i].offset);
        if (!st) st = write_tensor(f, &ot[i], c, fill, user, x, tmp, row, err);
        pos += ot[i].nbytes;
    }
    if (!st) st = pad_to(f, &pos, (pos + ALIGN - 1) / ALIGN * ALIGN);
    free(x);
    free(tmp);
    free(row);
    return st;
}

static smolweb_status check_config(const sw_model_config *c, int n, sw_error *err) {
    if (!c || n <= 0 || c->hidden_size <= 0 || c->num_heads <= 0 || c->num_kv_heads <= 0 || c->head_dim <= 0 ||
        c->vocab_size <= 0 || c->num_layers <= 0 || c->intermediate_size <= 0 || c->max_position_embeddings <= 0)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "sw_gguf_write: incomplete model config");
    return SMOLWEB_OK;
}

smolweb_status sw_gguf_write(const char *path, const sw_model_config *cfg, const sw_gen_tensor *tensors, int n,
                             sw_gguf_ftype ftype, const char *tokenizer_dir, sw_gen_fill_fn fill, void *user,
                             sw_error *err) {
    sw_error_clear(err);
    if (!path || !tensors || !fill || !tokenizer_dir || (unsigned)ftype > SW_GGUF_OUT_Q4_0_EMB_Q8)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "sw_gguf_write: bad arguments");
    smolweb_status st = check_config(cfg, n, err);
    if (st) return st;
    tokenizer tok;
    st = tokenizer_load(tokenizer_dir, cfg->vocab_size, &tok, err);
    out_tensor *ot = calloc((size_t)n, sizeof *ot);
    if (!st && !ot) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    if (!st) st = plan_tensors(tensors, n, ftype, ot, err);
    buf meta = {0}, head = {0};
    if (!st) {
        put_metadata(&meta, cfg, ftype, &tok);
        put(&head, "GGUF", 4);
        put_u32(&head, 3);
        put_u64(&head, (uint64_t)n);
        put_u64(&head, meta.n_kv);
        put(&head, meta.p, meta.len);
        put_tensor_infos(&head, ot, n);
        static const uint8_t zeros[ALIGN];
        put(&head, zeros, (ALIGN - head.len % ALIGN) % ALIGN);
        if (meta.oom || head.oom) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = st ? NULL : fopen(tmp, "wb");
    if (!st && !f) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (!st && fwrite(head.p, 1, head.len, f) != head.len) st = SMOLWEB_ERR_IO;
    if (!st) st = write_data(f, head.len, ot, n, cfg, fill, user, err);
    if (f && fclose(f) != 0 && !st) st = SMOLWEB_ERR_IO;
    /* fwrite/fclose failures come back as a bare SMOLWEB_ERR_IO: name the file here */
    if (st == SMOLWEB_ERR_IO && (!err || !err->msg[0])) sw_error_set(err, st, "%s: write failed", tmp);
    if (!st && rename(tmp, path) != 0) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: %s", path, strerror(errno));
    if (st && f) remove(tmp);
    free(meta.p);
    free(head.p);
    free(ot);
    tokenizer_free(&tok);
    return st;
}
