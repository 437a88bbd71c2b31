/* test_safetensors.c: the Hugging Face side of the chunker's input.
 *
 *  - round trip: sw_safetensors_write (the generator's writer) -> sw_source_open_hf
 *    for a tiny Llama config in F32 (bit exact), F16 and BF16 (bit-equal to
 *    src/f16.h's rounding and within 2^-11 / 2^-8 relative), single file and
 *    3 shards; tests/ref_safetensors.py re-reads every written file with
 *    numpy, its own header parser and its own rounding, against an f32 dump
 *  - every rejection of a bad safetensors file, config.json or folder, each
 *    with its exact message. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "f16.h"
#include "hf_config.h"
#include "safetensors.h"
#include "source.h"

/* The writer lives in the generator (tools/gen), which no library holds;
 * compile it into this test directly. */
#include "gen.h"

#include "check.h"

static char g_tmp[1024]; /* the test's scratch folder (test code, not library) */

/* ---- the tiny model ---- */

enum { HIDDEN = 64, INTER = 128, LAYERS = 2, HEADS = 4, KV_HEADS = 2, VOCAB = 5000, HEAD_DIM = HIDDEN / HEADS };

static const char *const k_layer_names[9] = {
    "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

static int add(sw_gen_tensor *t, int n, const char *name, int ndim, int64_t rows, int64_t cols) {
    memset(&t[n], 0, sizeof t[n]);
    snprintf(t[n].hf_name, sizeof t[n].hf_name, "%s", name);
    t[n].ndim = ndim;
    t[n].shape[0] = rows;
    t[n].shape[1] = ndim == 2 ? cols : 0;
    return n + 1;
}

/* The tensors of the tiny config (tied), plus lm_head when with_head. t holds 32. */
static int tiny_tensors(sw_gen_tensor *t, int with_head) {
    int n = 0, kv = KV_HEADS * HEAD_DIM;
    n = add(t, n, "model.embed_tokens.weight", 2, VOCAB, HIDDEN);
    char name[96];
    for (int l = 0; l < LAYERS; l++) {
        const int64_t shapes[9][3] = {{1, HIDDEN, 0},     {2, HIDDEN, HIDDEN}, {2, kv, HIDDEN},
                                      {2, kv, HIDDEN},    {2, HIDDEN, HIDDEN}, {1, HIDDEN, 0},
                                      {2, INTER, HIDDEN}, {2, INTER, HIDDEN},  {2, HIDDEN, INTER}};
        for (int i = 0; i < 9; i++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, k_layer_names[i]);
            n = add(t, n, name, (int)shapes[i][0], shapes[i][1], shapes[i][2]);
        }
    }
    n = add(t, n, "model.norm.weight", 1, HIDDEN, 0);
    if (with_head) n = add(t, n, "lm_head.weight", 2, VOCAB, HIDDEN);
    return n;
}

static int find_tensor(sw_gen_tensor *t, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].hf_name, name) == 0) return i;
    return -1;
}

static size_t count_of(const sw_gen_tensor *t) { return (size_t)t->shape[0] * (size_t)(t->ndim == 2 ? t->shape[1] : 1); }

/* Values rounding hits hard: exact f16 and bf16 ties, f16 subnormals and
 * underflow, f16 overflow, an f32 subnormal, signed zero. */
static const float k_special[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1e-6f,
                                  -3e-8f, 0.0f, -0.0f, 60000.0f, 65519.0f, 65520.0f, 1e-40f, -2.5f, 1.0f / 3.0f};

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Deterministic values from the name, spread over 15 binary orders of magnitude. */
static smolweb_status fill(void *user, const sw_gen_tensor *t, float *out, size_t count, sw_error *err) {
    (void)user;
    if (count != count_of(t)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "fill: wrong count for %s", t->hf_name);
    uint64_t s = 1469598103934665603ull;
    for (const char *p = t->hf_name; *p; p++) s = (s ^ (uint8_t)*p) * 1099511628211ull;
    for (size_t i = 0; i < count; i++) {
        uint64_t r = mix(&s);
        double u = (double)(r >> 11) * 0x1p-53 * 2.0 - 1.0;
        out[i] = (float)ldexp(u, (int)(r % 15) - 10);
    }
    if (strcmp(t->hf_name, "model.norm.weight") == 0)
        memcpy(out, k_special, sizeof k_special);
    return SMOLWEB_OK;
}

/* ---- files ---- */

static void path_join(char *buf, size_t cap, const char *dir, const char *name) {
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap) CHECK(0, "path too long: %s/%s", dir, name);
}

static void write_text(const char *dir, const char *name, const char *text) {
    char p[2048];
    path_join(p, sizeof p, dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        CHECK(0, "cannot write %s", p);
        return;
    }
    fputs(text, f);
    fclose(f);
}

static void put_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        CHECK(0, "cannot write %s", path);
        return;
    }
    fwrite(data, 1, len, f);
    fclose(f);
}

typedef struct cfg_opts {
    int hidden, heads;
    const char *arch, *model_type;
    int tied;
    int omit_vocab;
    const char *extra; /* raw JSON members appended, e.g. "\"hidden_act\": \"gelu\"," */
} cfg_opts;

static cfg_opts default_cfg(void) {
    cfg_opts o = {HIDDEN, HEADS, "LlamaForCausalLM", "llama", 1, 0, ""};
    return o;
}

static void config_text(const cfg_opts *o, char *buf, size_t cap) {
    char vocab[64] = "";
    if (!o->omit_vocab) snprintf(vocab, sizeof vocab, "  \"vocab_size\": %d,\n", VOCAB);
    snprintf(buf, cap,
             "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n  \"attention_bias\": false,\n"
             "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": %d,\n"
             "  \"intermediate_size\": %d,\n  \"max_position_embeddings\": 1024,\n  \"mlp_bias\": false,\n"
             "  \"num_attention_heads\": %d,\n  \"num_hidden_layers\": %d,\n  \"num_key_value_heads\": %d,\n"
             "  \"rms_norm_eps\": 1e-05,\n  \"rope_scaling\": null,\n  \"rope_theta\": 100000.0,\n%s"
             "  \"tie_word_embeddings\": %s,\n%s  \"torch_dtype\": \"float32\"\n}\n",
             o->arch, o->model_type, o->hidden, INTER, o->heads, LAYERS, KV_HEADS, o->extra, o->tied ? "true" : "false",
             vocab);
}

/* Makes g_tmp/name holding config.json and the given tensors; returns the path in dir. */
static int make_model(const char *name, const cfg_opts *o, const sw_gen_tensor *t, int n, sw_st_dtype dtype, int shards,
                      char *dir, size_t cap) {
    path_join(dir, cap, g_tmp, name);
    if (mkdir(dir, 0777) != 0) {
        CHECK(0, "mkdir %s", dir);
        return 0;
    }
    char cfg[4096];
    config_text(o, cfg, sizeof cfg);
    write_text(dir, "config.json", cfg);
    sw_error err;
    sw_error_clear(&err);
    smolweb_status st = sw_safetensors_write(dir, t, n, dtype, shards, fill, NULL, &err);
    CHECK(st == SMOLWEB_OK, "write %s: %s", name, err.msg);
    return st == SMOLWEB_OK;
}

static int file_exists(const char *dir, const char *name) {
    char p[2048];
    struct stat sb;
    path_join(p, sizeof p, dir, name);
    return stat(p, &sb) == 0;
}

/* ---- round trip ---- */

static int rel_ok(float got, float want, double tol) { return fabs((double)got - (double)want) <= tol * fabs((double)want); }

static float rounded(float x, sw_st_dtype dt) {
    if (dt == SW_ST_F16) return sw_f16_to_f32(sw_f32_to_f16(x));
    if (dt == SW_ST_BF16) return sw_bf16_to_f32(sw_f32_to_bf16(x));
    return x;
}

/* Checks every tensor of the source against fill's values under dtype's rounding. */
static void check_values(sw_source *src, const sw_gen_tensor *t, int n, sw_st_dtype dt, const char *what) {
    for (int i = 0; i < n; i++) {
        sw_tensor_info info;
        CHECK(src->ops->find(src, t[i].hf_name, &info), "%s: %s not found", what, t[i].hf_name);
        CHECK(info.ndim == t[i].ndim && info.shape[0] == t[i].shape[0] && (t[i].ndim == 1 || info.shape[1] == t[i].shape[1]),
              "%s: %s shape", what, t[i].hf_name);
        size_t c = count_of(&t[i]);
        float *want = malloc(c * sizeof *want), *got = malloc(c * sizeof *got);
        sw_error err;
        fill(NULL, &t[i], want, c, &err);
        smolweb_status st = src->ops->read_f32(src, t[i].hf_name, got, c, &err);
        CHECK(st == SMOLWEB_OK, "%s: read %s: %s", what, t[i].hf_name, err.msg);
        size_t bad_bits = 0, bad_rel = 0;
        for (size_t j = 0; st == SMOLWEB_OK && j < c; j++) {
            float r = rounded(want[j], dt);
            if (sw_f32_bits(got[j]) != sw_f32_bits(r)) bad_bits++;
            double a = fabs((double)want[j]);
            if (dt == SW_ST_F16 && a >= 0x1p-14 && a <= 65504.0 && !rel_ok(got[j], want[j], 0x1p-11)) bad_rel++;
            if (dt == SW_ST_BF16 && a >= 0x1p-126 && !rel_ok(got[j], want[j], 0x1p-8)) bad_rel++;
        }
        CHECK(bad_bits == 0, "%s: %s: %zu values differ from the reference rounding", what, t[i].hf_name, bad_bits);
        CHECK(bad_rel == 0, "%s: %s: %zu values beyond the relative bound", what, t[i].hf_name, bad_rel);
        free(want);
        free(got);
    }
}

/* Dumps fill's exact f32 values as DIR/<name>.f32 for the Python reference. */
static void dump_truth(const char *dir, const sw_gen_tensor *t, int n) {
    mkdir(dir, 0777);
    for (int i = 0; i < n; i++) {
        size_t c = count_of(&t[i]);
        float *v = malloc(c * sizeof *v);
        sw_error err;
        fill(NULL, &t[i], v, c, &err);
        char p[2048], file[128];
        if ((size_t)snprintf(file, sizeof file, "%s.f32", t[i].hf_name) >= sizeof file) CHECK(0, "long name");
        path_join(p, sizeof p, dir, file);
        put_file(p, v, c * sizeof *v);
        free(v);
    }
}

static void source_dir(char *buf, size_t cap) {
    const char *env = getenv("SMOLWEB_SRC");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        return;
    }
    snprintf(buf, cap, "%s", __FILE__); /* .../tests/test_safetensors.c */
    for (int k = 0; k < 2; k++) {
        char *s = strrchr(buf, '/');
        if (s) *s = '\0';
        else snprintf(buf, cap, "..");
    }
}

static void run_python_ref(const char *model, const char *truth, const char *dtype) {
    const char *py = getenv("PYTHON");
    char src[1024], cmd[4096];
    source_dir(src, sizeof src);
    if ((size_t)snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref_safetensors.py' '%s' '%s' %s",
                         py && *py ? py : "/usr/bin/python3", src, model, truth, dtype) >= sizeof cmd) {
        CHECK(0, "command too long");
        return;
    }
    int rc = system(cmd);
    CHECK(rc == 0, "python reference failed (%d): %s", rc, cmd);
}

static void test_round_trip(void) {
    sw_gen_tensor t[32];
    int n = tiny_tensors(t, 0);
    char truth[2048];
    path_join(truth, sizeof truth, g_tmp, "truth");
    dump_truth(truth, t, n);
    const sw_st_dtype dts[3] = {SW_ST_F32, SW_ST_F16, SW_ST_BF16};
    const char *dt_names[3] = {"F32", "F16", "BF16"};
    cfg_opts o = default_cfg();
    for (int d = 0; d < 3; d++)
        for (int shards = 1; shards <= 3; shards += 2) {
            char name[64], dir[2048];
            snprintf(name, sizeof name, "rt-%s-%d", dt_names[d], shards);
            if (!make_model(name, &o, t, n, dts[d], shards, dir, sizeof dir)) continue;
            if (shards == 1) {
                CHECK(file_exists(dir, "model.safetensors") && !file_exists(dir, "model.safetensors.index.json"),
                      "%s: single-file layout", name);
            } else {
                CHECK(!file_exists(dir, "model.safetensors") && file_exists(dir, "model.safetensors.index.json") &&
                          file_exists(dir, "model-00001-of-00003.safetensors") &&
                          file_exists(dir, "model-00002-of-00003.safetensors") &&
                          file_exists(dir, "model-00003-of-00003.safetensors"),
                      "%s: sharded layout", name);
            }
            sw_error err;
            sw_source *src = sw_source_open_hf(dir, &err);
            CHECK(src != NULL, "%s: open: %s", name, err.msg);
            if (!src) continue;
            CHECK(sw_source_check(src, &err) == SMOLWEB_OK, "%s: check: %s", name, err.msg);
            CHECK(src->kind == SW_SOURCE_HF && strcmp(src->config.name, name) == 0, "%s: name '%s'", name,
                  src->config.name);
            check_values(src, t, n, dts[d], name);
            /* a count that disagrees with the tensor is refused */
            float one;
            CHECK(src->ops->read_f32(src, "model.norm.weight", &one, 1, &err) == SMOLWEB_ERR_INVALID_ARG &&
                      strstr(err.msg, "tensor model.norm.weight has 64 values, asked for 1"),
                  "%s: count mismatch: %s", name, err.msg);
            CHECK(src->ops->read_f32(src, "nope", &one, 1, &err) == SMOLWEB_ERR_MISSING &&
                      strstr(err.msg, "missing tensor nope"),
                  "%s: unknown tensor: %s", name, err.msg);
            sw_source_free(src);
            run_python_ref(dir, truth, dt_names[d]);
        }
}

/* The shards split the bytes roughly evenly: with the 1.3 MB embedding
 * first, shard 1 is the embedding alone and the layers share shards 2-3. */
static void test_shard_split(void) {
    sw_gen_tensor t[32];
    int n = tiny_tensors(t, 0);
    char dir[2048];
    path_join(dir, sizeof dir, g_tmp, "rt-F32-3");
    sw_error err;
    sw_st_file *f[3];
    char p[2048];
    size_t total = 0;
    for (int s = 0; s < 3; s++) {
        char name[64];
        snprintf(name, sizeof name, "model-%05d-of-00003.safetensors", s + 1);
        path_join(p, sizeof p, dir, name);
        f[s] = sw_st_open(p, &err);
        CHECK(f[s] != NULL, "open shard %d: %s", s + 1, err.msg);
        if (!f[s]) return;
        total += sw_st_count(f[s]);
    }
    CHECK(total == (size_t)n, "shards hold %zu tensors, expected %d", total, n);
    CHECK(sw_st_count(f[0]) == 1 && sw_st_find(f[0], "model.embed_tokens.weight"), "shard 1 holds the embedding only");
    CHECK(sw_st_find(f[2], "model.norm.weight") != NULL, "the last shard holds the final norm");
    CHECK(sw_st_count(f[1]) > 1 && sw_st_count(f[2]) > 1, "layers are split between shards 2 and 3");
    for (int s = 0; s < 3; s++) sw_st_free(f[s]);

    /* the header is space-padded to 8 bytes and carries format pt */
    path_join(p, sizeof p, dir, "model-00002-of-00003.safetensors");
    FILE *fp = fopen(p, "rb");
    unsigned char len8[8];
    CHECK(fp && fread(len8, 1, 8, fp) == 8, "read header length");
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | len8[i];
    CHECK(hl % 8 == 0 && hl < 100000, "header length %llu", (unsigned long long)hl);
    char *h = calloc(1, (size_t)hl + 1);
    CHECK(fp && fread(h, 1, (size_t)hl, fp) == hl, "read header");
    CHECK(strncmp(h, "{\"__metadata__\":{\"format\":\"pt\"}", 31) == 0, "metadata: %.40s", h);
    free(h);
    if (fp) fclose(fp);
}

/* ---- bad safetensors bytes ---- */

/* Builds len8 + header + data_len bytes of data; header_len overrides the length field when nonzero. */
static uint8_t *st_bytes(const char *header, size_t data_len, uint64_t header_len, size_t *out_len) {
    size_t hl = strlen(header);
    *out_len = 8 + hl + data_len;
    uint8_t *b = calloc(1, *out_len);
    uint64_t v = header_len ? header_len : hl;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < data_len; i++) b[8 + hl + i] = (uint8_t)(i * 13);
    return b;
}

static void expect_st_error(const char *header, size_t data_len, uint64_t header_len, smolweb_status want_st,
                            const char *want, const char *what) {
    size_t len;
    uint8_t *b = st_bytes(header, data_len, header_len, &len);
    sw_error err;
    sw_error_clear(&err);
    sw_st_file *f = sw_st_open_memory(b, len, "bad.safetensors", &err);
    CHECK(f == NULL, "%s: accepted", what);
    CHECK(err.status == want_st, "%s: status %d, expected %d (%s)", what, err.status, want_st, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
    sw_st_free(f);
    free(b);
    /* the same bytes from a file give the same message */
    char p[2048];
    path_join(p, sizeof p, g_tmp, "bad.safetensors");
    b = st_bytes(header, data_len, header_len, &len);
    put_file(p, b, len);
    free(b);
    f = sw_st_open(p, &err);
    CHECK(f == NULL && strstr(err.msg, want) != NULL, "%s (file): message '%s' lacks '%s'", what, err.msg, want);
    sw_st_free(f);
}

static void test_bad_safetensors(void) {
    const smolweb_status F = SMOLWEB_ERR_FORMAT;
    expect_st_error("", 0, 0, F, "bad.safetensors: header is not valid JSON", "empty header");
    expect_st_error("{\"a\":1}", 0, 1000, F, "bad.safetensors: header length 1000 exceeds the file size (15 bytes)",
                    "header length beyond file");
    expect_st_error("{}", 0, 200000000, F, "bad.safetensors: header length 200000000 exceeds the 100 MB limit",
                    "header length over limit");
    expect_st_error("{not json}", 8, 0, F, "bad.safetensors: header is not valid JSON (error at byte ",
                    "header not JSON");
    expect_st_error("[1, 2]", 0, 0, F, "bad.safetensors: header is not a JSON object", "header an array");
    expect_st_error("{\"a\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 16, 0,
                    SMOLWEB_ERR_UNSUPPORTED, "bad.safetensors: unsupported dtype I64 for tensor a", "unknown dtype");
    expect_st_error("{\"a\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8, 0, F,
                    "bad.safetensors: tensor a has no dtype string", "no dtype");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2, -3], \"data_offsets\": [0, 8]}}", 8, 0, F,
                    "bad.safetensors: tensor a: shape entry 1 is not a valid size", "negative dim");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [1048576, 1048576, 1048576], \"data_offsets\": [0, 8]}}", 8,
                    0, F, "bad.safetensors: tensor a: shape is too large", "shape overflow");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                    " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [100, 108]}}",
                    16, 0, F, "bad.safetensors: tensor b: data_offsets [100, 108] out of bounds (the data section is 16 bytes)",
                    "data_offsets out of bounds");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 16, 0, F,
                    "bad.safetensors: tensor a: data_offsets [8, 0] are reversed", "reversed offsets");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, -8]}}", 16, 0, F,
                    "bad.safetensors: tensor a: data_offsets out of bounds", "negative offset");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 24, 0, F,
                    "bad.safetensors: tensor a: data_offsets [0, 20] span 20 bytes but shape [2, 3] of F32 needs 24",
                    "size mismatch");
    expect_st_error("{\"a\": {\"dtype\": \"F16\", \"shape\": [8], \"data_offsets\": [0, 16]},"
                    " \"b\": {\"dtype\": \"BF16\", \"shape\": [8], \"data_offsets\": [8, 24]}}",
                    24, 0, F, "bad.safetensors: tensors a and b overlap ([0, 16] and [8, 24])", "overlapping tensors");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                    " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}",
                    12, 0, F, "bad.safetensors: truncated data: the header describes 16 bytes of tensor data but the file holds 12",
                    "truncated data");
    expect_st_error("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                    " \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}",
                    16, 0, F, "bad.safetensors: duplicate tensor a", "duplicate name");
    expect_st_error("{\"__metadata__\": 3}", 0, 0, F, "bad.safetensors: __metadata__ is not an object", "bad metadata");

    sw_error err;
    sw_st_file *f = sw_st_open_memory((const uint8_t *)"abc", 3, "short.safetensors", &err);
    CHECK(!f && strstr(err.msg, "short.safetensors: truncated header: the file is 3 bytes"), "short: %s", err.msg);
    char p[2048];
    path_join(p, sizeof p, g_tmp, "absent.safetensors");
    f = sw_st_open(p, &err);
    CHECK(!f && err.status == SMOLWEB_ERR_MISSING && strstr(err.msg, "absent.safetensors: cannot open"), "absent: %s",
          err.msg);

    /* a good one: metadata only, zero-sized and scalar tensors, all three dtypes */
    size_t len;
    uint8_t *b = st_bytes("{\"__metadata__\": {\"format\": \"pt\"}, \"s\": {\"dtype\": \"F32\", \"shape\": [], "
                          "\"data_offsets\": [0, 4]}, \"z\": {\"dtype\": \"F16\", \"shape\": [0, 5], \"data_offsets\": [4, 4]},"
                          " \"h\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [4, 8]},"
                          " \"b\": {\"dtype\": \"BF16\", \"shape\": [1, 2], \"data_offsets\": [8, 12]}}   ",
                          12, 0, &len);
    uint8_t *data = b + len - 12;
    const float s = 2.5f;
    memcpy(data, &s, 4);
    const uint16_t h[2] = {0x3c00, 0xc000}, bf[2] = {0x3f80, 0x4049};
    memcpy(data + 4, h, 4);
    memcpy(data + 8, bf, 4);
    f = sw_st_open_memory(b, len, "good.safetensors", &err);
    CHECK(f != NULL, "good: %s", err.msg);
    if (f) {
        CHECK(sw_st_count(f) == 4, "good: %zu tensors", sw_st_count(f));
        const sw_st_tensor *ts = sw_st_find(f, "s"), *tz = sw_st_find(f, "z"), *th = sw_st_find(f, "h"),
                           *tb = sw_st_find(f, "b");
        CHECK(ts && ts->ndim == 0 && ts->count == 1, "scalar");
        CHECK(tz && tz->ndim == 2 && tz->count == 0 && tz->shape[1] == 5, "zero-sized");
        float v[2];
        CHECK(ts && sw_st_read_f32(f, ts, v, 1, &err) == SMOLWEB_OK && v[0] == 2.5f, "scalar value");
        CHECK(th && sw_st_read_f32(f, th, v, 2, &err) == SMOLWEB_OK && v[0] == 1.0f && v[1] == -2.0f, "f16 values");
        CHECK(tb && sw_st_read_f32(f, tb, v, 2, &err) == SMOLWEB_OK && v[0] == 1.0f && v[1] == 3.140625f, "bf16 values");
        CHECK(tz && sw_st_read_f32(f, tz, NULL, 0, &err) == SMOLWEB_OK, "zero-sized read");
        CHECK(!sw_st_find(f, "__metadata__") && !sw_st_find(f, "x"), "find absent");
    }
    sw_st_free(f);
    free(b);
    sw_st_free(NULL);
}

/* ---- config.json ---- */

static void expect_cfg_error(const char *json, smolweb_status want_st, const char *want, const char *what) {
    sw_model_config c;
    sw_error err;
    sw_error_clear(&err);
    smolweb_status st = sw_hf_config_parse(json, strlen(json), &c, &err);
    CHECK(st == want_st, "%s: status %d, expected %d (%s)", what, st, want_st, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
}

static void test_config(void) {
    char buf[4096];
    cfg_opts o = default_cfg();
    sw_model_config c;
    sw_error err;
    config_text(&o, buf, sizeof buf);
    CHECK(sw_hf_config_parse(buf, strlen(buf), &c, &err) == SMOLWEB_OK, "tiny config: %s", err.msg);
    CHECK(c.hidden_size == HIDDEN && c.intermediate_size == INTER && c.num_layers == LAYERS && c.num_heads == HEADS &&
              c.num_kv_heads == KV_HEADS && c.head_dim == HEAD_DIM && c.vocab_size == VOCAB &&
              c.max_position_embeddings == 1024 && c.rope_theta == 100000.0 && c.rms_norm_eps == 1e-5 &&
              c.tie_word_embeddings == 1 && c.bos_token_id == 1 && c.eos_token_id == 2 &&
              strcmp(c.architecture, "llama") == 0,
          "tiny config values");

    /* the real SmolLM2-135M-Instruct config */
    const char *shared = getenv("SMOLWEB_SHARED");
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/models/smollm2-135m-instruct", shared && *shared ? shared : "../shared");
    if (sw_hf_config_load(dir, &c, &err) == SMOLWEB_OK) {
        CHECK(c.hidden_size == 576 && c.intermediate_size == 1536 && c.num_layers == 30 && c.num_heads == 9 &&
                  c.num_kv_heads == 3 && c.head_dim == 64 && c.vocab_size == 49152 && c.max_position_embeddings == 8192 &&
                  c.rope_theta == 100000.0 && c.rms_norm_eps == 1e-5 && c.tie_word_embeddings == 1 &&
                  c.bos_token_id == 1 && c.eos_token_id == 2 && strcmp(c.name, "smollm2-135m-instruct") == 0,
              "SmolLM2-135M config values");
    } else {
        CHECK(0, "shared config: %s", err.msg);
    }

    /* defaults as transformers' LlamaConfig has them */
    const char *minimal = "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128,"
                          " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100,"
                          " \"eos_token_id\": [7, 8], \"bos_token_id\": null}";
    CHECK(sw_hf_config_parse(minimal, strlen(minimal), &c, &err) == SMOLWEB_OK, "minimal: %s", err.msg);
    CHECK(c.num_kv_heads == 4 && c.head_dim == 16 && c.rope_theta == 10000.0 && c.rms_norm_eps == 1e-6 &&
              c.max_position_embeddings == 2048 && c.tie_word_embeddings == 0 && c.bos_token_id == -1 &&
              c.eos_token_id == 7,
          "defaults");
    const char *hd = "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 128,"
                     " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100, \"head_dim\": 32}";
    CHECK(sw_hf_config_parse(hd, strlen(hd), &c, &err) == SMOLWEB_OK && c.head_dim == 32, "explicit head_dim");

    o.hidden = 577;
    o.heads = 9;
    config_text(&o, buf, sizeof buf);
    expect_cfg_error(buf, SMOLWEB_ERR_SHAPE, "config.json: hidden_size 577 is not divisible by num_attention_heads 9",
                     "hidden % heads");
    o = default_cfg();
    o.hidden = 48;
    o.heads = 4;
    config_text(&o, buf, sizeof buf);
    expect_cfg_error(buf, SMOLWEB_ERR_SHAPE,
                     "config.json: hidden_size 48 is not a multiple of 32 (the quantization group size)", "hidden % 32");
    expect_cfg_error("{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2,"
                     " \"num_attention_heads\": 8, \"num_key_value_heads\": 3, \"vocab_size\": 100}",
                     SMOLWEB_ERR_SHAPE, "config.json: num_attention_heads 8 is not divisible by num_key_value_heads 3",
                     "heads % kv");
    o = default_cfg();
    o.arch = "MistralForCausalLM";
    o.model_type = "mistral";
    config_text(&o, buf, sizeof buf);
    expect_cfg_error(buf, SMOLWEB_ERR_UNSUPPORTED,
                     "config.json: unsupported architecture MistralForCausalLM (model_type mistral): only "
                     "LlamaForCausalLM (llama) is supported",
                     "architecture");
    expect_cfg_error("{\"hidden_size\": 64}", SMOLWEB_ERR_MISSING, "config.json: missing key architectures (or model_type)",
                     "no architecture");
    o = default_cfg();
    o.omit_vocab = 1;
    config_text(&o, buf, sizeof buf);
    expect_cfg_error(buf, SMOLWEB_ERR_MISSING, "config.json: missing key vocab_size", "missing key");
    o = default_cfg();
    o.extra = "  \"head_dim\": 33,\n";
    config_text(&o, buf, sizeof buf);
    expect_cfg_error(buf, SMOLWEB_ERR_SHAPE, "config.json: head_dim 33 is odd", "odd head_dim");

    /* features this runtime does not have */
    const char *base = "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, "
                       "\"num_attention_heads\": 4, \"vocab_size\": 100, ";
    const struct {
        const char *tail, *want;
        smolweb_status st;
    } cases[] = {
        {"\"hidden_act\": \"gelu\"}", "config.json: hidden_act gelu is not supported (only silu)", SMOLWEB_ERR_UNSUPPORTED},
        {"\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}}", "config.json: rope_scaling (llama3) is not supported",
         SMOLWEB_ERR_UNSUPPORTED},
        {"\"attention_bias\": true}", "config.json: attention_bias true is not supported", SMOLWEB_ERR_UNSUPPORTED},
        {"\"mlp_bias\": true}", "config.json: mlp_bias true is not supported", SMOLWEB_ERR_UNSUPPORTED},
        {"\"tie_word_embeddings\": \"yes\"}", "config.json: tie_word_embeddings is not a boolean", SMOLWEB_ERR_FORMAT},
        {"\"num_key_value_heads\": 2.5}", "config.json: num_key_value_heads is not an integer", SMOLWEB_ERR_FORMAT},
        {"\"num_hidden_layers\": 0}", "config.json: num_hidden_layers 0 is out of range (1..1024)", SMOLWEB_ERR_SHAPE},
        {"\"eos_token_id\": 100}", "config.json: eos_token_id 100 is outside the vocabulary (vocab_size 100)",
         SMOLWEB_ERR_SHAPE},
        {"\"rms_norm_eps\": -1}", "config.json: rms_norm_eps -1 is out of range (0..1)", SMOLWEB_ERR_SHAPE},
        {"\"rope_theta\": 0}", "config.json: rope_theta 0 is not positive", SMOLWEB_ERR_SHAPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s%s", base, strstr(cases[i].tail, "layers") ? "" : "\"num_hidden_layers\": 2, ",
                 cases[i].tail);
        expect_cfg_error(buf, cases[i].st, cases[i].want, cases[i].tail);
    }
    snprintf(buf, sizeof buf, "%s\"num_hidden_layers\": 2, \"vocab_size\": 7}", base);
    expect_cfg_error(buf, SMOLWEB_ERR_FORMAT, "config.json: duplicate key vocab_size", "duplicate key");
    expect_cfg_error("{\"hidden_size\": ", SMOLWEB_ERR_FORMAT, "config.json: not valid JSON", "bad JSON");
    expect_cfg_error("[]", SMOLWEB_ERR_FORMAT, "config.json: not a JSON object", "array");
}

/* ---- bad folders ---- */

static void expect_open_error(const char *dir, smolweb_status want_st, const char *want, const char *what) {
    sw_error err;
    sw_error_clear(&err);
    sw_source *src = sw_source_open_hf(dir, &err);
    CHECK(src == NULL, "%s: accepted", what);
    CHECK(err.status == want_st, "%s: status %d, expected %d (%s)", what, err.status, want_st, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
    sw_source_free(src);
}

static void expect_check_error(const char *dir, smolweb_status want_st, const char *want, const char *what) {
    sw_error err;
    sw_error_clear(&err);
    sw_source *src = sw_source_open_hf(dir, &err);
    CHECK(src != NULL, "%s: open: %s", what, err.msg);
    if (!src) return;
    smolweb_status st = sw_source_check(src, &err);
    CHECK(st == want_st, "%s: status %d, expected %d (%s)", what, st, want_st, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
    sw_source_free(src);
}

static void test_bad_folders(void) {
    sw_gen_tensor t[32];
    int n = tiny_tensors(t, 0);
    cfg_opts o = default_cfg();
    char dir[2048], p[2048];

    /* missing tensor */
    sw_gen_tensor u[32];
    memcpy(u, t, sizeof t);
    int k = find_tensor(u, n, "model.layers.1.mlp.up_proj.weight");
    memmove(&u[k], &u[k + 1], (size_t)(n - k - 1) * sizeof u[0]);
    if (make_model("missing", &o, u, n - 1, SW_ST_F16, 1, dir, sizeof dir))
        expect_check_error(dir, SMOLWEB_ERR_MISSING, "missing tensor model.layers.1.mlp.up_proj.weight", "missing tensor");

    /* shape mismatch: k_proj as wide as q_proj */
    memcpy(u, t, sizeof t);
    u[find_tensor(u, n, "model.layers.0.self_attn.k_proj.weight")].shape[0] = HIDDEN;
    if (make_model("shape", &o, u, n, SW_ST_BF16, 1, dir, sizeof dir))
        expect_check_error(dir, SMOLWEB_ERR_SHAPE,
                           "shape mismatch for model.layers.0.self_attn.k_proj.weight: expected [32, 64], found [64, 64]",
                           "shape mismatch");

    /* a norm stored as a matrix */
    memcpy(u, t, sizeof t);
    k = find_tensor(u, n, "model.norm.weight");
    u[k].ndim = 2;
    u[k].shape[0] = 1;
    u[k].shape[1] = HIDDEN;
    if (make_model("norm2d", &o, u, n, SW_ST_F32, 1, dir, sizeof dir))
        expect_check_error(dir, SMOLWEB_ERR_SHAPE, "shape mismatch for model.norm.weight: expected [64], found [1, 64]",
                           "norm as matrix");

    /* embedding rows disagree with vocab_size */
    memcpy(u, t, sizeof t);
    u[0].shape[0] = VOCAB - 1;
    if (make_model("vocab", &o, u, n, SW_ST_F16, 1, dir, sizeof dir))
        expect_check_error(dir, SMOLWEB_ERR_SHAPE, "model.embed_tokens.weight has 4999 rows but vocab_size is 5000",
                           "vocab rows");

    /* untied without lm_head; tied with a stray lm_head is fine */
    o.tied = 0;
    if (make_model("untied", &o, t, n, SW_ST_F16, 1, dir, sizeof dir))
        expect_check_error(dir, SMOLWEB_ERR_MISSING, "missing tensor lm_head.weight", "untied without head");
    o.tied = 1;
    int nh = tiny_tensors(u, 1);
    if (make_model("tied-head", &o, u, nh, SW_ST_F16, 2, dir, sizeof dir)) {
        sw_error err;
        sw_source *src = sw_source_open_hf(dir, &err);
        CHECK(src && sw_source_check(src, &err) == SMOLWEB_OK, "tied with a stray head: %s", err.msg);
        sw_source_free(src);
    }

    /* truncated data: a good file cut short */
    if (make_model("truncated", &o, t, n, SW_ST_F32, 1, dir, sizeof dir)) {
        path_join(p, sizeof p, dir, "model.safetensors");
        struct stat sb;
        stat(p, &sb);
        CHECK(truncate(p, sb.st_size - 100) == 0, "truncate");
        expect_open_error(dir, SMOLWEB_ERR_FORMAT, "model.safetensors: truncated data: the header describes", "truncated data");
    }

    /* config errors surface through the folder reader */
    o.hidden = 577;
    o.heads = 9;
    if (make_model("badcfg", &o, t, 1, SW_ST_F32, 1, dir, sizeof dir))
        expect_open_error(dir, SMOLWEB_ERR_SHAPE, "config.json: hidden_size 577 is not divisible by num_attention_heads 9",
                          "config via folder");
    o = default_cfg();

    /* sharded folders */
    if (make_model("noshard", &o, t, n, SW_ST_F16, 3, dir, sizeof dir)) {
        path_join(p, sizeof p, dir, "model-00002-of-00003.safetensors");
        unlink(p);
        expect_open_error(dir, SMOLWEB_ERR_MISSING,
                          "model.safetensors.index.json: shard model-00002-of-00003.safetensors (holding tensor", "missing shard");
    }
    if (make_model("dotdot", &o, t, n, SW_ST_F16, 3, dir, sizeof dir)) {
        write_text(dir, "model.safetensors.index.json",
                   "{\"metadata\": {}, \"weight_map\": {\"model.norm.weight\": \"../model-00003-of-00003.safetensors\"}}");
        expect_open_error(dir, SMOLWEB_ERR_FORMAT,
                          "model.safetensors.index.json: shard name \"../model-00003-of-00003.safetensors\" for tensor "
                          "model.norm.weight is not a plain file name in the folder",
                          "shard name with ..");
        write_text(dir, "model.safetensors.index.json",
                   "{\"weight_map\": {\"model.norm.weight\": \"sub/model-00003-of-00003.safetensors\"}}");
        expect_open_error(dir, SMOLWEB_ERR_FORMAT, "is not a plain file name in the folder", "shard name with /");
        write_text(dir, "model.safetensors.index.json",
                   "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00003.safetensors\"}}");
        expect_open_error(dir, SMOLWEB_ERR_MISSING,
                          "model.safetensors.index.json: tensor model.norm.weight is listed in "
                          "model-00001-of-00003.safetensors but absent from it",
                          "tensor absent from its shard");
        write_text(dir, "model.safetensors.index.json", "{\"weight_map\": [1]}");
        expect_open_error(dir, SMOLWEB_ERR_FORMAT, "model.safetensors.index.json: no weight_map object", "bad index");
        write_text(dir, "model.safetensors.index.json", "{\"weight_map\": ");
        expect_open_error(dir, SMOLWEB_ERR_FORMAT, "model.safetensors.index.json: not valid JSON", "index not JSON");
        /* an index that lists only some tensors: the rest are missing for the check */
        write_text(dir, "model.safetensors.index.json",
                   "{\"weight_map\": {\"model.embed_tokens.weight\": \"model-00001-of-00003.safetensors\"}}");
        expect_check_error(dir, SMOLWEB_ERR_MISSING, "missing tensor model.norm.weight", "partial index");
    }

    /* a single file wins over an index beside it */
    if (make_model("both", &o, t, n, SW_ST_F32, 1, dir, sizeof dir)) {
        write_text(dir, "model.safetensors.index.json", "{\"weight_map\": {\"x\": \"../nope.safetensors\"}}");
        expect_check_error(dir, SMOLWEB_OK, "", "single file preferred");
    }

    /* sw_source_open sends a folder to the HF reader */
    path_join(dir, sizeof dir, g_tmp, "rt-F16-1");
    sw_error err;
    sw_source *src = sw_source_open(dir, &err);
    CHECK(src && src->kind == SW_SOURCE_HF && src->config.hidden_size == HIDDEN, "open folder: %s", err.msg);
    sw_source_free(src);
    path_join(p, sizeof p, g_tmp, "does-not-exist");
    src = sw_source_open(p, &err);
    CHECK(!src && err.status == SMOLWEB_ERR_MISSING && strstr(err.msg, "does-not-exist: cannot open"), "open absent: %s",
          err.msg);
    sw_source_free(NULL);

    /* no weights at all; no config */
    path_join(dir, sizeof dir, g_tmp, "noweights");
    mkdir(dir, 0777);
    char cfg[4096];
    config_text(&o, cfg, sizeof cfg);
    write_text(dir, "config.json", cfg);
    expect_open_error(dir, SMOLWEB_ERR_MISSING, "noweights: no model.safetensors or model.safetensors.index.json",
                      "no weights");
    path_join(dir, sizeof dir, g_tmp, "noconfig");
    mkdir(dir, 0777);
    expect_open_error(dir, SMOLWEB_ERR_MISSING, "config.json: cannot open", "no config");
}

/* ---- scratch folder ---- */

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[2048];
            path_join(p, sizeof p, path, e->d_name);
            remove_tree(p);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(void) {
    const char *tmpdir = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/smolweb-st.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_shard_split();
    test_bad_safetensors();
    test_config();
    test_bad_folders();
    if (failures == 0) remove_tree(g_tmp);
    else fprintf(stderr, "scratch files kept in %s\n", g_tmp);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_safetensors: all passed\n");
    return 0;
}
