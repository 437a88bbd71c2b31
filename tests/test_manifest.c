/* test_manifest.c: the manifest reader and writer (manifest/manifest.h).
 *   - the committed example parses to the values it spells out;
 *   - parse(to_json(m)) equals m field by field, for the example and for
 *     in-memory manifests with awkward doubles, nulls, odd strings;
 *   - every rule refuses a mutated example with its exact message and status;
 *   - lexical JSON rules cJSON alone would let through;
 *   - the validator on in-memory manifests, sw_manifest_load, sw_manifest_find.
 * With --emit DIR it instead writes the writer's output for a few manifests
 * into DIR, for tests/test_manifest_schema.sh to check against the schema. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "manifest_equal.h"

#include "check.h"

#define EXAMPLE "manifest/examples/smollm2-135m-q4.json"

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

static void example_path(char *out, size_t cap) {
    const char *src = getenv("SMOLWEB_SRC");
    snprintf(out, cap, "%s/%s", src ? src : "..", EXAMPLE);
}

static char *example_text(void) {
    char path[4096];
    example_path(path, sizeof path);
    char *text = read_text(path, NULL);
    if (!text) {
        fprintf(stderr, "cannot read %s (set SMOLWEB_SRC)\n", path);
        exit(1);
    }
    return text;
}

static char *dup_s(const char *s) {
    char *d = malloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

/* A small valid manifest built in memory (what the chunker does). */
static sw_manifest *make_manifest(int layers, const char *weights, const char *embedding) {
    sw_manifest *m = calloc(1, sizeof *m);
    m->format_version = 1;
    m->name = dup_s("tiny");
    m->architecture = dup_s("llama");
    m->params = 123456;
    m->hidden_size = 64;
    m->intermediate_size = 128;
    m->num_layers = layers;
    m->num_heads = 4;
    m->num_kv_heads = 2;
    m->head_dim = 16;
    m->vocab_size = 256;
    m->max_position_embeddings = 512;
    m->rope_theta = 10000;
    m->rms_norm_eps = 1e-6;
    m->tie_word_embeddings = 1;
    m->rope_layers = malloc((size_t)layers);
    memset(m->rope_layers, 1, (size_t)layers);
    snprintf(m->weights_type, sizeof m->weights_type, "%s", weights);
    snprintf(m->embedding_type, sizeof m->embedding_type, "%s", embedding);
    m->group_size = (!strcmp(weights, "q4") || !strcmp(weights, "q8")) ? 32 : 0;
    m->bos_id = 1;
    m->eos_id = 2;
    m->pad_id = -1;
    m->n_stop_ids = 2;
    m->stop_ids = malloc(2 * sizeof(int));
    m->stop_ids[0] = 2;
    m->stop_ids[1] = 7;
    m->chat_template = NULL;
    snprintf(m->chat_format, sizeof m->chat_format, "other");
    m->n_files = layers + 2;
    m->files = calloc((size_t)m->n_files, sizeof *m->files);
    for (int i = 0; i < m->n_files; i++) {
        sw_manifest_file *f = &m->files[i];
        char p[64];
        if (i == 0) snprintf(p, sizeof p, "tokenizer.swt");
        if (i == 1) snprintf(p, sizeof p, "embedding.swc");
        if (i >= 2) snprintf(p, sizeof p, "layer-%03d.swc", i - 2);
        f->path = dup_s(p);
        f->bytes = 1000 + (uint64_t)i;
        for (int k = 0; k < 64; k++) f->sha256[k] = "0123456789abcdef"[(i + k) % 16];
        f->role = i == 0 ? SW_ROLE_TOKENIZER : i == 1 ? SW_ROLE_EMBEDDING : SW_ROLE_LAYER;
        f->layer = i >= 2 ? i - 2 : -1;
        m->total_bytes += f->bytes;
    }
    return m;
}

/* ---- the example ---- */

static void test_example(void) {
    char path[4096];
    example_path(path, sizeof path);
    sw_error err;
    sw_manifest *m = sw_manifest_load(path, &err);
    CHECK(m != NULL, "example rejected: %s", err.msg);
    if (!m) return;
    CHECK(!strcmp(m->name, "SmolLM2-135M-Instruct") && !strcmp(m->architecture, "llama"), "name/architecture");
    CHECK(m->format_version == 1 && m->params == 134515008ull, "version/params");
    CHECK(m->hidden_size == 576 && m->intermediate_size == 1536 && m->num_layers == 30 && m->num_heads == 9 &&
              m->num_kv_heads == 3 && m->head_dim == 64 && m->vocab_size == 49152 && m->max_position_embeddings == 8192,
          "config integers");
    CHECK(m->rope_theta == 100000.0 && m->rms_norm_eps == 1e-5 && m->tie_word_embeddings == 1, "config reals/tie");
    int ones = 0;
    for (int i = 0; i < m->num_layers; i++) ones += m->rope_layers[i] == 1;
    CHECK(ones == 30, "rope_layers all 1");
    CHECK(!strcmp(m->weights_type, "q4") && !strcmp(m->embedding_type, "q8") && m->group_size == 32, "quantization");
    CHECK(m->bos_id == 1 && m->eos_id == 2 && m->pad_id == 2 && m->n_stop_ids == 1 && m->stop_ids[0] == 2, "tokens");
    CHECK(!strcmp(m->chat_format, "chatml") && m->chat_template &&
              !strncmp(m->chat_template, "{% for message in messages %}", 29) &&
              strstr(m->chat_template, "'<|im_start|>system\nYou are a helpful AI assistant"),
          "chat template (with its escaped newline decoded)");
    CHECK(m->n_files == 32, "n_files %d", m->n_files);
    uint64_t sum = 0;
    for (int i = 0; i < m->n_files; i++) sum += m->files[i].bytes;
    CHECK(m->total_bytes == sum && sum == 90758152ull, "total_bytes %llu", (unsigned long long)m->total_bytes);
    const sw_manifest_file *t = sw_manifest_find(m, SW_ROLE_TOKENIZER, 5); /* layer ignored */
    CHECK(t && !strcmp(t->path, "tokenizer.swt") && t->bytes == 797512 && t->layer == -1, "find tokenizer");
    const sw_manifest_file *e = sw_manifest_find(m, SW_ROLE_EMBEDDING, -1);
    CHECK(e && !strcmp(e->path, "embedding.swc") && e->bytes == 30083520, "find embedding");
    const sw_manifest_file *l7 = sw_manifest_find(m, SW_ROLE_LAYER, 7);
    CHECK(l7 && !strcmp(l7->path, "layer-007.swc") && l7->layer == 7 && l7->bytes == 1995904 &&
              !strcmp(l7->sha256, "d4463afe050acb5ce5f8b8e6ab7c60abafcd21739f4e10e42a026b3ab3b99087"),
          "find layer 7");
    CHECK(sw_manifest_find(m, SW_ROLE_LAYER, 30) == NULL && sw_manifest_find(m, SW_ROLE_LAYER, -1) == NULL &&
              sw_manifest_find(NULL, SW_ROLE_TOKENIZER, 0) == NULL,
          "find out of range");
    sw_manifest_free(m);
    sw_manifest_free(NULL);
}

/* ---- round trip ---- */

static void check_round_trip(const sw_manifest *m, const char *what) {
    sw_error err;
    CHECK(sw_manifest_validate(m, &err) == SMOLWEB_OK, "%s: invalid: %s", what, err.msg);
    char *json = sw_manifest_to_json(m);
    CHECK(json != NULL, "%s: to_json failed", what);
    if (!json) return;
    CHECK(json[strlen(json) - 1] == '\n', "%s: ends with a newline", what);
    sw_manifest *back = sw_manifest_parse(json, strlen(json), &err);
    CHECK(back != NULL, "%s: re-parse failed: %s\n%s", what, err.msg, json);
    if (back) {
        const char *d = manifest_diff(m, back);
        CHECK(d == NULL, "%s: round trip changed %s", what, d);
        char *again = sw_manifest_to_json(back);
        CHECK(again && !strcmp(again, json), "%s: second serialisation differs", what);
        free(again);
    }
    sw_manifest_free(back);
    free(json);
}

static void test_round_trip(void) {
    char *text = example_text();
    sw_error err;
    sw_manifest *m = sw_manifest_parse(text, strlen(text), &err);
    CHECK(m != NULL, "example: %s", err.msg);
    if (m) {
        check_round_trip(m, "example");
        char *json = sw_manifest_to_json(m);
        /* integers stay integers, the template keeps its escapes, rope_theta prints short */
        CHECK(json && strstr(json, "\n  \"params\": 134515008,\n") && strstr(json, "\n    \"rope_theta\": 100000,\n") &&
                  strstr(json, "\"rms_norm_eps\": 1e-05,") && strstr(json, "\"total_bytes\": 90758152\n}\n") &&
                  strstr(json, "system\\nYou are") && !strchr(json, '\t'),
              "writer output:\n%s", json ? json : "(null)");
        free(json);
    }
    sw_manifest_free(m);
    free(text);

    /* doubles that need 16 or 17 digits, and extremes of every range */
    static const double thetas[] = {10000.000000000002, 0.30000000000000004, 1e-300, 1e12, 500000, 3.141592653589793};
    static const double epss[] = {1e-5, 1.0000000000000002e-05, 0.9999999999999999, 5e-324, 1e-6, 0.1};
    for (int i = 0; i < 6; i++) {
        sw_manifest *v = make_manifest(3, i % 2 ? "q8" : "f16", i % 3 ? "f32" : "q4");
        v->rope_theta = thetas[i];
        v->rms_norm_eps = epss[i];
        v->rope_layers[1] = 0;
        v->tie_word_embeddings = i % 2;
        check_round_trip(v, "awkward doubles");
        sw_manifest_free(v);
    }
    sw_manifest *v = make_manifest(1, "f32", "f32");
    v->bos_id = v->eos_id = v->pad_id = -1;
    v->n_stop_ids = 0;
    v->params = 9007199254740991ull;
    v->files[0].bytes = 9007199254740991ull - 3000;
    v->total_bytes = v->files[0].bytes + v->files[1].bytes + v->files[2].bytes;
    free(v->files[2].path);
    v->files[2].path = dup_s("layers/0/x_y-z.swc");
    free(v->name);
    v->name = dup_s("Sm\xc3\xb6lLM \xf0\x9f\xa6\x99 \"quoted\" back\\slash\ttab");
    v->chat_template = dup_s("{{ '<|im_start|>' }}\x01\x1f\n\r\t\"\\/ \xe2\x82\xac\xf0\x9f\x98\x80");
    snprintf(v->chat_format, sizeof v->chat_format, "chatml");
    v->vocab_size = 1 << 22;
    v->num_layers = 1;
    v->max_position_embeddings = 1 << 24;
    check_round_trip(v, "extremes and strings");
    sw_manifest_free(v);
}

/* ---- rules: mutations of the example ---- */

#define DEL NULL

/* Applies one edit: path like "files[3].sha256" or "config.rope_layers[4]";
 * value is JSON text, "=text" inserts text verbatim (cJSON raw), "+text"
 * appends a duplicate key, DEL deletes. Returns 0 if the path is bad. */
static int edit(cJSON *root, const char *path, const char *value) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = root;
    char *seg = buf;
    for (;;) {
        char *dot = strchr(seg, '.');
        if (dot) *dot = '\0';
        char *br = strchr(seg, '[');
        int idx = -1;
        if (br) {
            idx = atoi(br + 1);
            *br = '\0';
        }
        int last = dot == NULL;
        if (last) {
            cJSON *parent = idx >= 0 ? cJSON_GetObjectItemCaseSensitive(cur, seg) : cur;
            if (!parent) return 0;
            cJSON *item = NULL;
            if (value) {
                const char *v = value[0] == '=' || value[0] == '+' ? value + 1 : value;
                item = value[0] == '=' ? cJSON_CreateRaw(v) : cJSON_Parse(v);
                if (!item) return 0;
            }
            if (idx >= 0) {
                if (!item)
                    cJSON_DeleteItemFromArray(parent, idx);
                else
                    return cJSON_ReplaceItemInArray(parent, idx, item);
            } else if (!item) {
                cJSON_DeleteItemFromObjectCaseSensitive(parent, seg);
            } else if (value[0] != '+' && cJSON_GetObjectItemCaseSensitive(parent, seg)) {
                return cJSON_ReplaceItemInObjectCaseSensitive(parent, seg, item);
            } else {
                return cJSON_AddItemToObject(parent, seg, item);
            }
            return 1;
        }
        cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
        if (cur && idx >= 0) cur = cJSON_GetArrayItem(cur, idx);
        if (!cur) return 0;
        seg = dot + 1;
    }
}

typedef struct bad_case {
    const char *edits[3][2]; /* up to three {path, value} edits */
    smolweb_status status;
    const char *msg; /* the exact message */
} bad_case;

/* clang-format off */
#define E1(p, v) {{p, v}}
#define E2(p, v, q, w) {{p, v}, {q, w}}
#define E3(p, v, q, w, r, x) {{p, v}, {q, w}, {r, x}}
/* clang-format on */
#define FMT SMOLWEB_ERR_FORMAT
#define MIS SMOLWEB_ERR_MISSING
#define SHP SMOLWEB_ERR_SHAPE
#define UNS SMOLWEB_ERR_UNSUPPORTED

static const bad_case k_bad[] = {
    /* shape: unknown, duplicate, missing fields; types */
    {E1("foo", "1"), FMT, "unknown field foo"},
    {E1("config.foo", "1"), FMT, "unknown field config.foo"},
    {E1("quantization.Weights", "\"q4\""), FMT, "unknown field quantization.Weights"},
    {E1("tokens.x\x01y", "1"), FMT, "unknown field tokens.x?y"},
    {E1("files[2].foo", "1"), FMT, "unknown field files[2].foo"},
    {E1("config.hidden_size", "+576"), FMT, "duplicate field config.hidden_size"},
    {E1("name", "+\"x\""), FMT, "duplicate field name"},
    {E1("config.rope_theta", DEL), MIS, "missing field config.rope_theta"},
    {E1("tokens", DEL), MIS, "missing field tokens"},
    {E1("total_bytes", DEL), MIS, "missing field total_bytes"},
    {E1("files[2].sha256", DEL), MIS, "missing field files[2].sha256"},
    {E1("config", "[]"), FMT, "config must be an object"},
    {E1("files", "{}"), FMT, "files must be an array"},
    {E1("files[2]", "\"x\""), FMT, "files[2] must be an object"},
    /* header */
    {E1("format", "\"gguf\""), FMT, "format must be \"smolweb-model\""},
    {E1("format", DEL), MIS, "missing field format"},
    {E1("format_version", "2"), UNS, "format_version 2 is not supported (this build reads 1)"},
    {E2("format_version", "2", "newfield", "1"), UNS, "format_version 2 is not supported (this build reads 1)"},
    {E1("format_version", "0"), FMT, "format_version must be a positive integer"},
    {E1("format_version", "\"1\""), FMT, "format_version must be a positive integer"},
    {E1("name", "\"\""), FMT, "name must be a non-empty string"},
    {E1("name", "5"), FMT, "name must be a string"},
    {E1("architecture", "\"gpt2\""), UNS, "architecture \"gpt2\" is not supported (this build reads llama)"},
    {E1("params", "0"), FMT, "params must be a positive integer"},
    {E1("params", "=9007199254740992"), FMT, "params must be at most 9007199254740991 (got 9007199254740992)"},
    /* config ranges and types */
    {E1("config.num_attention_heads", "0"), FMT, "config.num_attention_heads must be a positive integer"},
    {E1("config.num_attention_heads", "1.5"), FMT, "config.num_attention_heads must be a positive integer"},
    {E1("config.num_attention_heads", "\"9\""), FMT, "config.num_attention_heads must be a positive integer"},
    {E1("config.num_attention_heads", "=1e400"), FMT, "config.num_attention_heads must be a positive integer"},
    {E1("config.num_hidden_layers", "1025"), FMT, "config.num_hidden_layers must be at most 1024 (got 1025)"},
    {E1("config.hidden_size", "131072"), FMT, "config.hidden_size must be at most 65536 (got 131072)"},
    {E1("config.intermediate_size", "-1"), FMT, "config.intermediate_size must be a positive integer"},
    {E1("config.vocab_size", "4194305"), FMT, "config.vocab_size must be at most 4194304 (got 4194305)"},
    {E1("config.max_position_embeddings", "16777217"), FMT,
     "config.max_position_embeddings must be at most 16777216 (got 16777217)"},
    {E1("config.head_dim", "2000"), FMT, "config.head_dim must be at most 1024 (got 2000)"},
    {E1("config.num_key_value_heads", "null"), FMT, "config.num_key_value_heads must be a positive integer"},
    {E1("config.rope_theta", "0"), FMT, "config.rope_theta must be a positive number"},
    {E1("config.rope_theta", "-10000"), FMT, "config.rope_theta must be a positive number"},
    {E1("config.rope_theta", "\"1e4\""), FMT, "config.rope_theta must be a number"},
    {E1("config.rope_theta", "1e13"), FMT, "config.rope_theta must be at most 1e12 (got 10000000000000)"},
    {E1("config.rope_theta", "=1e400"), FMT, "config.rope_theta must be a positive number"},
    {E1("config.rms_norm_eps", "1"), FMT, "config.rms_norm_eps must be a number between 0 and 1 (exclusive)"},
    {E1("config.rms_norm_eps", "0"), FMT, "config.rms_norm_eps must be a number between 0 and 1 (exclusive)"},
    {E1("config.tie_word_embeddings", "1"), FMT, "config.tie_word_embeddings must be true or false"},
    {E1("config.rope_layers", "[1, 1]"), SHP, "config.rope_layers has 2 entries but config.num_hidden_layers is 30"},
    {E1("config.rope_layers", "1"), FMT, "config.rope_layers must be an array"},
    {E1("config.rope_layers[4]", "2"), FMT, "config.rope_layers[4] must be 0 or 1"},
    {E1("config.rope_layers[4]", "true"), FMT, "config.rope_layers[4] must be 0 or 1"},
    /* config cross-field rules */
    {E1("config.head_dim", "60"), SHP,
     "config.hidden_size 576 does not equal num_attention_heads * head_dim (9 * 60 = 540)"},
    {E1("config.num_key_value_heads", "4"), SHP,
     "config.num_attention_heads 9 is not a multiple of config.num_key_value_heads 4"},
    {E3("config.num_attention_heads", "64", "config.head_dim", "9", "config.num_key_value_heads", "8"), SHP,
     "config.head_dim 9 must be even (RoPE rotates pairs)"},
    /* quantization */
    {E1("quantization.weights", "\"q3\""), FMT, "quantization.weights must be one of q4, q8, f16, f32"},
    {E1("quantization.weights", "\"q4_0_long_name\""), FMT, "quantization.weights must be one of q4, q8, f16, f32"},
    {E1("quantization.embedding", "\"Q8\""), FMT, "quantization.embedding must be one of q4, q8, f16, f32"},
    {E1("quantization.embedding", "8"), FMT, "quantization.embedding must be a string"},
    {E1("quantization.group_size", "64"), FMT, "quantization.group_size must be 32 for q4 weights (got 64)"},
    {E1("quantization.group_size", "-32"), FMT, "quantization.group_size must be a non-negative integer"},
    {E1("quantization.weights", "\"f16\""), FMT, "quantization.group_size must be 0 for f16 weights (got 32)"},
    {E2("quantization.weights", "\"f32\"", "quantization.group_size", "32"), FMT,
     "quantization.group_size must be 0 for f32 weights (got 32)"},
    {E1("config.intermediate_size", "1540"), SHP,
     "config.intermediate_size 1540 is not a multiple of 32, which q4 weights need"},
    {E3("config.hidden_size", "594", "config.head_dim", "66", "quantization.weights", "\"q8\""), SHP,
     "config.hidden_size 594 is not a multiple of 32, which q8 weights need"},
    {{{"config.hidden_size", "594"}, {"config.head_dim", "66"}, {"quantization.group_size", "0"}},
     FMT,
     "quantization.group_size must be 32 for q4 weights (got 0)"},
    /* tokens */
    {E1("tokens.bos_id", "-1"), FMT, "tokens.bos_id must be a non-negative integer or null"},
    {E1("tokens.bos_id", "\"1\""), FMT, "tokens.bos_id must be a non-negative integer or null"},
    {E1("tokens.eos_id", "49152"), FMT, "tokens.eos_id 49152 is outside the vocabulary (vocab_size 49152)"},
    {E1("tokens.pad_id", "4194304"), FMT, "tokens.pad_id must be at most 4194303 (got 4194304)"},
    {E1("tokens.stop_ids", "[2, 50000]"), FMT, "tokens.stop_ids[1] 50000 is outside the vocabulary (vocab_size 49152)"},
    {E1("tokens.stop_ids", "[2, -2]"), FMT, "tokens.stop_ids[1] must be a non-negative integer"},
    {E1("tokens.stop_ids", "[2, 2]"), FMT, "tokens.stop_ids[1] repeats tokens.stop_ids[0] (2)"},
    {E1("tokens.stop_ids", "2"), FMT, "tokens.stop_ids must be an array"},
    {E1("tokens.stop_ids",
        "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,"
        "39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64]"),
     FMT, "tokens.stop_ids has more than 64 entries"},
    /* chat */
    {E1("chat_template", "null"), FMT, "chat_format is chatml but chat_template is null"},
    {E1("chat_template", "5"), FMT, "chat_template must be a string or null"},
    {E1("chat_format", "\"jinja\""), FMT, "chat_format must be chatml or other"},
    {E1("chat_format", "\"a-very-long-format-name\""), FMT, "chat_format must be chatml or other"},
    /* files: fields */
    {E1("files[3].sha256", "\"627C16B0C2B0D629ABB61360746B91ED2ED445DC8661E574767BC2AB0C1A9DB3\""), FMT,
     "files[3].sha256 must be 64 lowercase hex digits"},
    {E1("files[3].sha256", "\"627c16b0c2b0d629abb61360746b91ed2ed445dc8661e574767bc2ab0c1a9db\""), FMT,
     "files[3].sha256 must be 64 lowercase hex digits"},
    {E1("files[3].sha256", "\"627c16b0c2b0d629abb61360746b91ed2ed445dc8661e574767bc2ab0c1a9dbg\""), FMT,
     "files[3].sha256 must be 64 lowercase hex digits"},
    {E1("files[3].sha256", "1"), FMT, "files[3].sha256 must be 64 lowercase hex digits"},
    {E1("files[2].path", "\"../x.swc\""), FMT, "files[2].path must not have a '.' or '..' segment"},
    {E1("files[2].path", "\"a/../../x.swc\""), FMT, "files[2].path must not have a '.' or '..' segment"},
    {E1("files[2].path", "\"./x.swc\""), FMT, "files[2].path must not have a '.' or '..' segment"},
    {E1("files[2].path", "\"a/..\""), FMT, "files[2].path must not have a '.' or '..' segment"},
    {E1("files[2].path", "\"/etc/x.swc\""), FMT, "files[2].path must be relative (no leading '/')"},
    {E1("files[2].path", "\"a\\\\b.swc\""), FMT, "files[2].path must not contain a backslash"},
    {E1("files[2].path", "\"a//b.swc\""), FMT, "files[2].path must not have an empty segment"},
    {E1("files[2].path", "\"sub/\""), FMT, "files[2].path must not have an empty segment"},
    {E1("files[2].path", "\"https://x.org/y\""), FMT,
     "files[2].path may contain only letters, digits, '.', '_', '-' and '/'"},
    {E1("files[2].path", "\"a b.swc\""), FMT, "files[2].path may contain only letters, digits, '.', '_', '-' and '/'"},
    {E1("files[2].path", "\"\""), FMT, "files[2].path must not be empty"},
    {E1("files[2].path", "\"manifest.json\""), FMT, "files[2].path must not be manifest.json"},
    {E1("files[2].path", "1"), FMT, "files[2].path must be a string"},
    {E1("files[5].path", "\"LAYER-001.swc\""), FMT, "files[5].path repeats files[3].path (ignoring case)"},
    {E1("files[0].bytes", "0"), FMT, "files[0].bytes must be a positive integer"},
    {E1("files[0].bytes", "=9007199254740992"), FMT,
     "files[0].bytes must be at most 9007199254740991 (got 9007199254740992)"},
    {E1("files[1].role", "\"weights\""), FMT, "files[1].role must be tokenizer, embedding or layer"},
    {E1("files[2].layer", DEL), MIS, "missing field files[2].layer"},
    {E1("files[0].layer", "0"), FMT, "files[0].layer is only allowed for role layer"},
    {E1("files[2].layer", "30"), FMT, "files[2].layer 30 is out of range (num_hidden_layers 30)"},
    {E1("files[2].layer", "1024"), FMT, "files[2].layer must be at most 1023 (got 1024)"},
    {E1("files[2].layer", "\"0\""), FMT, "files[2].layer must be a non-negative integer"},
    /* files: one per role and layer */
    {E1("files[3].layer", "0"), FMT, "files[3] is a second file for layer 0 (files[2] is one)"},
    {E1("files[1].role", "\"tokenizer\""), FMT, "files[1] is a second tokenizer file (files[0] is one)"},
    {E2("files[2].role", "\"embedding\"", "files[2].layer", DEL), FMT,
     "files[2] is a second embedding file (files[1] is one)"},
    {E1("files[0]", DEL), MIS, "no tokenizer file in files (role tokenizer)"},
    {E1("files[1]", DEL), MIS, "no embedding file in files (role embedding)"},
    {E1("files[9]", DEL), MIS, "no file for layer 7 in files"},
    {E1("total_bytes", "90758153"), FMT, "total_bytes 90758153 does not equal the sum of files[].bytes (90758152)"},
    {E1("total_bytes", "=9007199254740992"), FMT,
     "total_bytes must be at most 9007199254740991 (got 9007199254740992)"},
    /* JSON Schema "integer" semantics: a number with no fraction is an integer */
    {E1("config.hidden_size", "=576.5"), FMT, "config.hidden_size must be a positive integer"},
};

/* Values that look odd but are valid: must parse, and to the expected value. */
static void test_valid_variants(void) {
    char *text = example_text();
    static const char *const edits[][2] = {
        {"config.hidden_size", "=576.0"}, {"config.hidden_size", "=5.76e2"}, {"config.rope_theta", "=1E5"},
        {"tokens.bos_id", "null"},        {"tokens.stop_ids", "[]"},         {"name", "\"\\u00e9\\ud83e\\udd99\""},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        cJSON *root = cJSON_Parse(text);
        CHECK(edit(root, edits[i][0], edits[i][1]), "edit %s", edits[i][0]);
        char *json = cJSON_PrintUnformatted(root);
        sw_error err;
        sw_manifest *m = sw_manifest_parse(json, strlen(json), &err);
        CHECK(m != NULL, "valid variant %s=%s rejected: %s", edits[i][0], edits[i][1], err.msg);
        if (m && i < 2) CHECK(m->hidden_size == 576, "hidden 576");
        if (m && i == 2) CHECK(m->rope_theta == 100000.0, "theta");
        if (m && i == 3) CHECK(m->bos_id == -1, "bos null");
        if (m && i == 4) CHECK(m->n_stop_ids == 0, "no stop ids");
        if (m && i == 5) CHECK(!strcmp(m->name, "\xc3\xa9\xf0\x9f\xa6\x99"), "escaped name decoded to UTF-8");
        sw_manifest_free(m);
        cJSON_free(json);
        cJSON_Delete(root);
    }
    /* f32 everywhere lifts the multiple-of-32 rule; paths may have folders */
    cJSON *root = cJSON_Parse(text);
    edit(root, "config.hidden_size", "594");
    edit(root, "config.head_dim", "66");
    edit(root, "config.intermediate_size", "1540");
    edit(root, "quantization.weights", "\"f32\"");
    edit(root, "quantization.embedding", "\"f32\"");
    edit(root, "quantization.group_size", "0");
    edit(root, "files[4].path", "\"chunks/v1/layer_2.swc\"");
    edit(root, "chat_template", "null");
    edit(root, "chat_format", "\"other\"");
    char *json = cJSON_PrintUnformatted(root);
    sw_error err;
    sw_manifest *m = sw_manifest_parse(json, strlen(json), &err);
    CHECK(m && m->hidden_size == 594 && !strcmp(m->files[4].path, "chunks/v1/layer_2.swc") && !m->chat_template,
          "f32 variant: %s", m ? "wrong values" : err.msg);
    sw_manifest_free(m);
    cJSON_free(json);
    cJSON_Delete(root);
    free(text);
}

static void test_bad_cases(void) {
    char *text = example_text();
    for (size_t i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        const bad_case *c = &k_bad[i];
        cJSON *root = cJSON_Parse(text);
        int ok = 1;
        for (int k = 0; k < 3 && c->edits[k][0]; k++) ok = ok && edit(root, c->edits[k][0], c->edits[k][1]);
        CHECK(ok, "case %zu: edit %s failed", i, c->edits[0][0]);
        char *json = cJSON_PrintUnformatted(root);
        sw_error err;
        sw_error_clear(&err);
        sw_manifest *m = sw_manifest_parse(json, strlen(json), &err);
        CHECK(m == NULL, "case %zu (%s): accepted, want '%s'", i, c->edits[0][0], c->msg);
        CHECK(!strcmp(err.msg, c->msg), "case %zu (%s): message\n  got  '%s'\n  want '%s'", i, c->edits[0][0], err.msg,
              c->msg);
        CHECK(err.status == c->status, "case %zu (%s): status %d, want %d", i, c->edits[0][0], err.status, c->status);
        sw_manifest_free(m);
        cJSON_free(json);
        cJSON_Delete(root);
    }
    free(text);
}

/* ---- lexical rules on raw text ---- */

static void expect_raw(const char *json, size_t len, const char *want, const char *what) {
    sw_error err;
    sw_manifest *m = sw_manifest_parse(json, len, &err);
    CHECK(m == NULL, "%s: accepted", what);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
    CHECK(err.status == SMOLWEB_ERR_FORMAT, "%s: status %d", what, err.status);
    sw_manifest_free(m);
}

/* The example with the first occurrence of from replaced by to. */
static char *replace(const char *text, const char *from, const char *to) {
    const char *at = strstr(text, from);
    if (!at) {
        fprintf(stderr, "replace: '%s' not in the example\n", from);
        exit(1);
    }
    size_t n = strlen(text), f = strlen(from), t = strlen(to);
    char *out = malloc(n - f + t + 1);
    memcpy(out, text, (size_t)(at - text));
    memcpy(out + (at - text), to, t);
    strcpy(out + (at - text) + t, at + f);
    return out;
}

static void raw_case(const char *text, const char *from, const char *to, const char *want) {
    char *s = replace(text, from, to);
    expect_raw(s, strlen(s), want, to);
    free(s);
}

static void test_lexical(void) {
    char *text = example_text();
    size_t n = strlen(text);
    expect_raw("", 0, "invalid JSON at byte 0", "empty");
    expect_raw("   ", 3, "invalid JSON at byte", "blank");
    expect_raw("[]", 2, "manifest must be a JSON object", "array");
    expect_raw("{\"format\": \"smolweb-model\"} x", 29, "invalid JSON at byte 28: content after the top-level value",
               "trailing");
    expect_raw(text, n / 2, "invalid JSON at byte", "truncated");
    raw_case(text, "\"params\": 134515008", "\"params\": +134515008",
             "invalid JSON at byte 128: unexpected character '+'");
    raw_case(text, "\"params\": 134515008", "\"params\": 0134515008", "invalid JSON at byte 128: bad number");
    raw_case(text, "\"params\": 134515008", "\"params\": 1.", "bad number");
    raw_case(text, "\"params\": 134515008", "\"params\": 1e", "bad number");
    raw_case(text, "\"params\": 134515008", "\"params\": .5", "unexpected character '.'");
    raw_case(text, "\"params\": 134515008",
             "\"params\": 1340000000000000000000000000000000000000000000000000000000000000000000",
             "number longer than 63 characters");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\tLM2", "invalid JSON at byte 69: control character in a string");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\u0000LM2", "\\u0000 (NUL) is not allowed in a string");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\uZZZZ", "bad \\u escape (needs 4 hex digits)");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\u12", "bad \\u escape (needs 4 hex digits)");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\x41", "bad escape sequence");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\ud800", "unpaired UTF-16 surrogate escape");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\ud800\\u0041", "unpaired UTF-16 surrogate escape");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\\udc00", "unpaired UTF-16 surrogate escape");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\xff", "invalid UTF-8 in a string");
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\xc0\xaf", "invalid UTF-8 in a string");         /* overlong '/' */
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\xed\xa0\x80", "invalid UTF-8 in a string");     /* surrogate */
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\xf4\x90\x80\x80", "invalid UTF-8 in a string"); /* > U+10FFFF */
    raw_case(text, "SmolLM2-135M-Instruct", "Smol\xe2\x82", "invalid UTF-8 in a string");         /* cut short */
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008,\x01", "unexpected byte 0x01");
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008,\x0b", "unexpected byte 0x0b");
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008,\xc3\xa9", "unexpected byte 0xc3");
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008, /* c */", "unexpected character '/'");
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008,,", "invalid JSON at byte");
    raw_case(text, "\"params\": 134515008,", "\"params\": NaN,", "unexpected character 'N'");
    raw_case(text, "\"params\": 134515008,", "\"params\": 134515008,\"", "invalid JSON at byte");

    /* a UTF-8 byte order mark is skipped, as a browser's JSON decoding does */
    char *bom = malloc(n + 4);
    memcpy(bom, "\xef\xbb\xbf", 3);
    memcpy(bom + 3, text, n + 1);
    sw_error err;
    sw_manifest *m = sw_manifest_parse(bom, n + 3, &err);
    CHECK(m != NULL, "BOM: %s", err.msg);
    sw_manifest_free(m);
    /* the text need not be NUL-terminated: parse a copy without one */
    char *exact = malloc(n);
    memcpy(exact, text, n);
    m = sw_manifest_parse(exact, n, &err);
    CHECK(m != NULL, "unterminated buffer: %s", err.msg);
    sw_manifest_free(m);
    CHECK(sw_manifest_parse(NULL, 5, &err) == NULL && err.status == SMOLWEB_ERR_INVALID_ARG, "NULL text");
    free(exact);
    free(bom);
    free(text);
}

/* ---- the validator on in-memory manifests ---- */

static void expect_invalid(sw_manifest *m, smolweb_status status, const char *want, const char *what) {
    sw_error err;
    sw_error_clear(&err);
    CHECK(sw_manifest_validate(m, &err) == status, "%s: status %d, want %d (%s)", what, err.status, status, err.msg);
    CHECK(!strcmp(err.msg, want), "%s: message\n  got  '%s'\n  want '%s'", what, err.msg, want);
    char *json = sw_manifest_to_json(m);
    CHECK(json == NULL, "%s: to_json wrote an invalid manifest", what);
    free(json);
}

static void test_validate(void) {
    sw_error err;
    CHECK(sw_manifest_validate(NULL, &err) == SMOLWEB_ERR_INVALID_ARG && !strcmp(err.msg, "no manifest"), "NULL");
    CHECK(sw_manifest_to_json(NULL) == NULL, "to_json NULL");
    sw_manifest *m = make_manifest(2, "q4", "q8");
    CHECK(sw_manifest_validate(m, &err) == SMOLWEB_OK, "built manifest: %s", err.msg);
    CHECK(sw_manifest_validate(m, NULL) == SMOLWEB_OK, "NULL err is allowed");

    m->format_version = 3;
    expect_invalid(m, SMOLWEB_ERR_UNSUPPORTED, "format_version 3 is not supported (this build reads 1)", "version");
    m->format_version = 1;

    char *name = m->name;
    m->name = NULL;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "name must be a non-empty string", "NULL name");
    m->name = "bad \xff utf8";
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "name is not valid UTF-8", "name UTF-8");
    char longname[600];
    for (int i = 0; i < 257; i++) memcpy(longname + 2 * i, "\xc3\xa9", 2); /* 257 characters, 514 bytes */
    longname[514] = '\0';
    m->name = longname;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "name is longer than 256 characters", "long name");
    longname[512] = '\0'; /* 256 characters: the limit counts characters, not bytes */
    CHECK(sw_manifest_validate(m, &err) == SMOLWEB_OK, "256-character name: %s", err.msg);
    m->name = name;

    uint8_t *rope = m->rope_layers;
    m->rope_layers = NULL;
    expect_invalid(m, SMOLWEB_ERR_MISSING, "missing field config.rope_layers", "NULL rope_layers");
    m->rope_layers = rope;
    m->rope_layers[1] = 2;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "config.rope_layers[1] must be 0 or 1", "rope flag");
    m->rope_layers[1] = 0;
    m->tie_word_embeddings = 2;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "config.tie_word_embeddings must be true or false", "tie");
    m->tie_word_embeddings = 0;
    m->rope_theta = NAN;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "config.rope_theta must be a positive number", "NaN theta");
    m->rope_theta = INFINITY;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "config.rope_theta must be a positive number", "inf theta");
    m->rope_theta = 10000;
    m->rms_norm_eps = NAN;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "config.rms_norm_eps must be a number between 0 and 1 (exclusive)",
                   "NaN eps");
    m->rms_norm_eps = 1e-6;

    memcpy(m->weights_type, "q4q4q4q4", 8); /* no NUL */
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "quantization.weights must be one of q4, q8, f16, f32", "unterminated type");
    snprintf(m->weights_type, sizeof m->weights_type, "q4");
    memcpy(m->chat_format, "chatmlchatmlchatm", 16);
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "chat_format must be chatml or other", "unterminated chat_format");
    snprintf(m->chat_format, sizeof m->chat_format, "other");
    m->chat_template = "\xc3";
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "chat_template is not valid UTF-8", "template UTF-8");
    m->chat_template = NULL;

    m->n_stop_ids = -1;
    expect_invalid(m, SMOLWEB_ERR_INVALID_ARG, "tokens.stop_ids has a negative count", "negative stop count");
    m->n_stop_ids = 65;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "tokens.stop_ids has more than 64 entries", "stop count");
    m->n_stop_ids = 2;
    m->pad_id = -5;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "tokens.pad_id must be a non-negative integer or null", "pad -5");
    m->pad_id = 256;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "tokens.pad_id 256 is outside the vocabulary (vocab_size 256)", "pad 256");
    m->pad_id = -1;

    m->files[0].sha256[64] = 'a'; /* 65 hex digits, no NUL */
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[0].sha256 must be 64 lowercase hex digits", "unterminated sha");
    m->files[0].sha256[64] = '\0';
    m->files[1].role = (sw_file_role)7;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[1].role must be tokenizer, embedding or layer", "role 7");
    m->files[1].role = SW_ROLE_EMBEDDING;
    m->files[1].layer = 0;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[1].layer is only allowed for role layer", "layer on embedding");
    m->files[1].layer = -1;
    m->files[3].layer = -1;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[3].layer -1 is out of range (num_hidden_layers 2)", "layer -1");
    m->files[3].layer = 1;
    char *p = m->files[2].path;
    m->files[2].path = NULL;
    expect_invalid(m, SMOLWEB_ERR_MISSING, "missing field files[2].path", "NULL path");
    char longpath[300];
    memset(longpath, 'a', 256);
    longpath[256] = '\0';
    m->files[2].path = longpath;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[2].path is longer than 255 characters", "long path");
    m->files[2].path = p;
    m->files[2].bytes = UINT64_MAX;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "files[2].bytes must be at most 9007199254740991 (got 18446744073709551615)",
                   "huge bytes");
    m->files[2].bytes = 1002;
    m->n_files = -1;
    expect_invalid(m, SMOLWEB_ERR_INVALID_ARG, "files has a negative count", "negative file count");
    m->n_files = 3;
    expect_invalid(m, SMOLWEB_ERR_MISSING, "no file for layer 1 in files", "fewer files");
    m->n_files = 4;
    m->total_bytes++;
    expect_invalid(m, SMOLWEB_ERR_FORMAT, "total_bytes 4007 does not equal the sum of files[].bytes (4006)", "total");
    m->total_bytes--;
    CHECK(sw_manifest_validate(m, &err) == SMOLWEB_OK, "restored manifest: %s", err.msg);
    sw_manifest_free(m);
}

/* ---- load ---- */

static void test_load(void) {
    sw_error err;
    CHECK(sw_manifest_load("no/such/manifest.json", &err) == NULL && err.status == SMOLWEB_ERR_MISSING &&
              !strcmp(err.msg, "no/such/manifest.json: cannot open: No such file or directory"),
          "missing file: %s", err.msg);
    const char *tmp = "test_manifest.tmp.json";
    FILE *f = fopen(tmp, "wb");
    CHECK(f != NULL, "cannot write %s", tmp);
    if (!f) return;
    fputs("{\"format\": \"smolweb-model\", \"format_version\": 2}", f);
    fclose(f);
    CHECK(sw_manifest_load(tmp, &err) == NULL && err.status == SMOLWEB_ERR_UNSUPPORTED &&
              !strcmp(err.msg, "test_manifest.tmp.json: format_version 2 is not supported (this build reads 1)"),
          "load prefixes the path: %s", err.msg);
    remove(tmp);
    CHECK(sw_manifest_load(".", &err) == NULL && strstr(err.msg, ".: "), "directory: %s", err.msg);
}

/* ---- --emit: the writer's output for the schema test ---- */

static int write_file(const char *dir, const char *name, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || !text) {
        if (f) fclose(f);
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    fputs(text, f);
    return fclose(f) != 0;
}

static int emit(const char *dir) {
    int rc = 0;
    char *text = example_text();
    sw_error err;
    sw_manifest *m = sw_manifest_parse(text, strlen(text), &err);
    free(text);
    if (!m) {
        fprintf(stderr, "example: %s\n", err.msg);
        return 1;
    }
    char *json = sw_manifest_to_json(m);
    rc |= write_file(dir, "written-example.json", json);
    free(json);
    sw_manifest_free(m);

    m = make_manifest(3, "f16", "f32"); /* nulls, untied, a layer without RoPE, odd doubles */
    m->tie_word_embeddings = 0;
    m->rope_layers[2] = 0;
    m->rope_theta = 0.30000000000000004;
    m->rms_norm_eps = 1.0000000000000002e-05;
    m->bos_id = -1;
    m->n_stop_ids = 0;
    free(m->files[3].path);
    m->files[3].path = dup_s("sub/dir/layer-1.swc");
    json = sw_manifest_to_json(m);
    rc |= write_file(dir, "written-f16.json", json);
    free(json);
    sw_manifest_free(m);

    m = make_manifest(1, "q8", "q4"); /* big integers, odd strings, a ChatML template */
    m->params = 9007199254740991ull;
    m->files[0].bytes = 9007199254740991ull - 5000;
    m->total_bytes = m->files[0].bytes + m->files[1].bytes + m->files[2].bytes;
    free(m->name);
    m->name = dup_s("Sm\xc3\xb6lLM \xf0\x9f\xa6\x99 \"q\" \\ \x7f");
    m->chat_template = dup_s("{{ '<|im_start|>' }}\x01\n\t\"\\/ \xe2\x82\xac");
    snprintf(m->chat_format, sizeof m->chat_format, "chatml");
    json = sw_manifest_to_json(m);
    rc |= write_file(dir, "written-q8.json", json);
    free(json);
    sw_manifest_free(m);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--emit")) return emit(argv[2]);
    test_example();
    test_round_trip();
    test_valid_variants();
    test_bad_cases();
    test_lexical();
    test_validate();
    test_load();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_manifest: ok (%zu rule cases)\n", sizeof k_bad / sizeof k_bad[0]);
    return 0;
}
