/* hf_config.c: config.json -> sw_model_config (see hf_config.h). */
#include "hf_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "quant.h"

#define CONFIG_NAME "config.json"
#define MAX_CONFIG_BYTES (16u << 20)
#define QUANT_GROUP SW_QK /* rows are quantized in groups of SW_QK weights */

/* ---- typed getters; absent and null both mean "use the default" ---- */

static int absent(const cJSON *v) { return v == NULL || cJSON_IsNull(v); }

static int json_int(const cJSON *v, int *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)INT_MIN || d > (double)INT_MAX) return 0;
    *out = (int)d;
    return 1;
}

static smolweb_status get_int(const cJSON *root, const char *key, int required, int def, int *out, sw_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (absent(v)) {
        if (required) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing key %s", key);
        *out = def;
        return SMOLWEB_OK;
    }
    if (!json_int(v, out)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s is not an integer", key);
    return SMOLWEB_OK;
}

static smolweb_status get_double(const cJSON *root, const char *key, double def, double *out, sw_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (absent(v)) {
        *out = def;
        return SMOLWEB_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s is not a number", key);
    *out = v->valuedouble;
    return SMOLWEB_OK;
}

static smolweb_status get_bool(const cJSON *root, const char *key, int def, int *out, sw_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (absent(v)) {
        *out = def;
        return SMOLWEB_OK;
    }
    if (!cJSON_IsBool(v)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s is not a boolean", key);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return SMOLWEB_OK;
}

/* A special token id: an integer, a list of integers (the first counts, as
 * for generation configs listing several eos ids), or absent (-1). */
static smolweb_status get_token_id(const cJSON *root, const char *key, int *out, sw_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = -1;
    if (absent(v)) return SMOLWEB_OK;
    if (cJSON_IsArray(v)) {
        v = cJSON_GetArrayItem(v, 0);
        if (!v) return SMOLWEB_OK;
    }
    if (!json_int(v, out)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s is not an integer or a list of integers", key);
    return SMOLWEB_OK;
}

/* ---- what this runtime can run ---- */

static smolweb_status check_architecture(const cJSON *root, sw_error *err) {
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const char *first = NULL;
    if (cJSON_IsArray(archs)) {
        const cJSON *a;
        cJSON_ArrayForEach(a, archs) {
            if (!cJSON_IsString(a)) continue;
            if (strcmp(a->valuestring, "LlamaForCausalLM") == 0) return SMOLWEB_OK;
            if (!first) first = a->valuestring;
        }
    }
    if (cJSON_IsString(mt) && strcmp(mt->valuestring, "llama") == 0) return SMOLWEB_OK;
    if (!first && !cJSON_IsString(mt))
        return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing key architectures (or model_type)");
    return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED,
                        "unsupported architecture %.64s (model_type %.64s): only LlamaForCausalLM (llama) is supported",
                        first ? first : "(none)", cJSON_IsString(mt) ? mt->valuestring : "(none)");
}

static smolweb_status check_features(const cJSON *root, sw_error *err) {
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (!absent(act) && !(cJSON_IsString(act) && strcmp(act->valuestring, "silu") == 0))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "hidden_act %.64s is not supported (only silu)",
                            cJSON_IsString(act) ? act->valuestring : "(not a string)");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (!absent(rs)) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
        if (!cJSON_IsString(type)) type = cJSON_GetObjectItemCaseSensitive(rs, "type");
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "rope_scaling (%.64s) is not supported",
                            cJSON_IsString(type) ? type->valuestring : "unknown type");
    }
    static const char *const biases[] = {"attention_bias", "mlp_bias"};
    for (int i = 0; i < 2; i++) {
        int on = 0;
        smolweb_status st = get_bool(root, biases[i], 0, &on, err);
        if (st) return st;
        if (on) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s true is not supported", biases[i]);
    }
    return SMOLWEB_OK;
}

static smolweb_status read_values(const cJSON *root, sw_model_config *c, sw_error *err) {
    smolweb_status st = SMOLWEB_OK;
    if (!st) st = get_int(root, "hidden_size", 1, 0, &c->hidden_size, err);
    if (!st) st = get_int(root, "intermediate_size", 1, 0, &c->intermediate_size, err);
    if (!st) st = get_int(root, "num_hidden_layers", 1, 0, &c->num_layers, err);
    if (!st) st = get_int(root, "num_attention_heads", 1, 0, &c->num_heads, err);
    if (!st) st = get_int(root, "num_key_value_heads", 0, c->num_heads, &c->num_kv_heads, err);
    if (!st) st = get_int(root, "vocab_size", 1, 0, &c->vocab_size, err);
    if (!st) st = get_int(root, "max_position_embeddings", 0, 2048, &c->max_position_embeddings, err);
    if (st) return st;
    /* head_dim derives from the others unless given; a zero heads count is reported by validate */
    int derived = c->num_heads > 0 ? c->hidden_size / c->num_heads : 0;
    if (!st) st = get_int(root, "head_dim", 0, derived, &c->head_dim, err);
    if (!st) st = get_double(root, "rope_theta", 10000.0, &c->rope_theta, err);
    if (!st) st = get_double(root, "rms_norm_eps", 1e-6, &c->rms_norm_eps, err);
    if (!st) st = get_bool(root, "tie_word_embeddings", 0, &c->tie_word_embeddings, err);
    if (!st) st = get_token_id(root, "bos_token_id", &c->bos_token_id, err);
    if (!st) st = get_token_id(root, "eos_token_id", &c->eos_token_id, err);
    return st;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Duplicate keys are refused: readers disagree on which one wins (cJSON
 * takes the first, Python's json the last). */
static smolweb_status check_duplicates(const cJSON *root, sw_error *err) {
    size_t n = 0, i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) n++;
    if (n < 2) return SMOLWEB_OK;
    const char **keys = malloc(n * sizeof *keys);
    if (!keys) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(e, root) keys[i++] = e->string;
    qsort(keys, n, sizeof *keys, cmp_str_ptr);
    smolweb_status st = SMOLWEB_OK;
    for (i = 1; i < n && !st; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "duplicate key %.100s", keys[i]);
    free(keys);
    return st;
}

smolweb_status sw_hf_config_parse(const char *json, size_t len, sw_model_config *out, sw_error *err) {
    sw_error_clear(err);
    if (!out) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, CONFIG_NAME ": no output");
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = json ? cJSON_ParseWithLengthOpts(json, len, &end, 0) : NULL;
    if (!root) {
        size_t at = json && end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, CONFIG_NAME ": not valid JSON (error at byte %zu)", at);
    }
    smolweb_status st = SMOLWEB_OK;
    if (!cJSON_IsObject(root)) st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "not a JSON object");
    if (!st) st = check_duplicates(root, err);
    if (!st) st = check_architecture(root, err);
    if (!st) st = check_features(root, err);
    if (!st) st = read_values(root, out, err);
    cJSON_Delete(root);
    if (!st) {
        snprintf(out->architecture, sizeof out->architecture, "llama");
        st = sw_model_config_validate(out, err);
    }
    if (st) sw_error_prefix(err, CONFIG_NAME);
    return st;
}

/* The last component of path (ignoring trailing slashes): start and length. */
static const char *last_component(const char *path, size_t *len) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    *len = n - b;
    return path + b;
}

/* Copies dir's last component into name; "." and ".." are resolved first so
 * the model gets a real name. */
static void folder_name(const char *dir, char *name, size_t cap) {
    size_t n;
    const char *base = last_component(dir, &n);
    char *real = NULL;
    if (n == 0 || (n == 1 && base[0] == '.') || (n == 2 && base[0] == '.' && base[1] == '.')) {
        real = realpath(dir, NULL);
        if (real) base = last_component(real, &n);
    }
    snprintf(name, cap, "%.*s", (int)n, base);
    free(real);
}

smolweb_status sw_hf_config_load(const char *dir, sw_model_config *out, sw_error *err) {
    sw_error_clear(err);
    if (!dir || !out) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no model folder given");
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CONFIG_NAME) >= sizeof path)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, CONFIG_NAME ": cannot open %s: %s",
                            path, strerror(errno));
    struct stat sb;
    char *buf = NULL;
    size_t len = 0;
    smolweb_status st = SMOLWEB_OK;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = sw_error_set(err, SMOLWEB_ERR_IO, CONFIG_NAME ": not a regular file");
    else if ((uint64_t)sb.st_size > MAX_CONFIG_BYTES)
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, CONFIG_NAME ": %lld bytes is over the %u MB limit",
                          (long long)sb.st_size, MAX_CONFIG_BYTES >> 20);
    else if (!(buf = malloc((size_t)sb.st_size + 1)))
        st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    else if ((len = fread(buf, 1, (size_t)sb.st_size, f)) != (size_t)sb.st_size || ferror(f))
        st = sw_error_set(err, SMOLWEB_ERR_IO, CONFIG_NAME ": read failed");
    fclose(f);
    if (!st) st = sw_hf_config_parse(buf, len, out, err);
    free(buf);
    if (!st) folder_name(dir, out->name, sizeof out->name);
    return st;
}

/* ---- generic checks ---- */

static smolweb_status in_range(const char *key, int v, int hi, sw_error *err) {
    if (v < 1 || v > hi) return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s %d is out of range (1..%d)", key, v, hi);
    return SMOLWEB_OK;
}

static smolweb_status check_token(const char *key, int id, int vocab, sw_error *err) {
    if (id < -1 || id >= vocab)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s %d is outside the vocabulary (vocab_size %d)", key, id, vocab);
    return SMOLWEB_OK;
}

smolweb_status sw_model_config_validate(const sw_model_config *c, sw_error *err) {
    if (!c) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no config");
    /* limits above every released Llama-family model, low enough that products fit 64 bits easily */
    smolweb_status st = SMOLWEB_OK;
    if (!st) st = in_range("hidden_size", c->hidden_size, 1 << 16, err);
    if (!st) st = in_range("intermediate_size", c->intermediate_size, 1 << 18, err);
    if (!st) st = in_range("num_hidden_layers", c->num_layers, 1024, err);
    if (!st) st = in_range("num_attention_heads", c->num_heads, c->hidden_size, err);
    if (!st) st = in_range("num_key_value_heads", c->num_kv_heads, c->num_heads, err);
    if (!st) st = in_range("head_dim", c->head_dim, 1024, err);
    if (!st) st = in_range("vocab_size", c->vocab_size, 1 << 22, err);
    if (!st) st = in_range("max_position_embeddings", c->max_position_embeddings, 1 << 24, err);
    if (st) return st;
    if (c->hidden_size % c->num_heads)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "hidden_size %d is not divisible by num_attention_heads %d",
                            c->hidden_size, c->num_heads);
    if (c->num_heads % c->num_kv_heads)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "num_attention_heads %d is not divisible by num_key_value_heads %d",
                            c->num_heads, c->num_kv_heads);
    if (c->head_dim % 2)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "head_dim %d is odd (RoPE rotates pairs of values)", c->head_dim);
    if (c->hidden_size % QUANT_GROUP)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "hidden_size %d is not a multiple of %d (the quantization group size)",
                            c->hidden_size, QUANT_GROUP);
    if (c->intermediate_size % QUANT_GROUP)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE,
                            "intermediate_size %d is not a multiple of %d (the quantization group size)",
                            c->intermediate_size, QUANT_GROUP);
    if (!(c->rope_theta > 0) || !isfinite(c->rope_theta))
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "rope_theta %g is not positive", c->rope_theta);
    if (!(c->rms_norm_eps > 0 && c->rms_norm_eps < 1))
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "rms_norm_eps %g is out of range (0..1)", c->rms_norm_eps);
    if (c->tie_word_embeddings != 0 && c->tie_word_embeddings != 1)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "tie_word_embeddings must be 0 or 1");
    st = check_token("bos_token_id", c->bos_token_id, c->vocab_size, err);
    if (!st) st = check_token("eos_token_id", c->eos_token_id, c->vocab_size, err);
    return st;
}
