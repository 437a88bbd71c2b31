/* manifest.c: reads, checks and writes manifest.json (see manifest.h and
 * manifest.schema.json, which states the same rules for JSON Schema tools).
 *
 * Reading is three steps:
 *   1. lex_check: the strict RFC 8259 lexical rules cJSON does not enforce
 *      (it takes control bytes as whitespace, "+1" and "01" as numbers, turns
 *      a bad \u escape into NUL and passes invalid UTF-8 through), so this
 *      reader and a browser's JSON.parse accept the same texts;
 *   2. read_*: the JSON shape (types, unknown, duplicate and missing fields),
 *      with the integer ranges of the rule tables below;
 *   3. sw_manifest_validate: every value and cross-field rule, shared with the
 *      chunker, which runs it on the manifest it built before writing it. */
#include "manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant.h"

#define MAX_JSON_BYTES (16u << 20)
#define MAX_LAYERS 1024
#define MAX_FILES (MAX_LAYERS + 2)
#define MAX_STOP_IDS 64
#define MAX_VOCAB (1 << 22)
#define MAX_NAME_CHARS 256
#define MAX_PATH_CHARS 255
#define MAX_TEMPLATE_CHARS (1 << 20)
#define MAX_ROPE_THETA 1e12
/* 2^53 - 1: the largest integer exact in a double, so in JavaScript too. */
#define MAX_SAFE_INT 9007199254740991LL

/* ---- integer rules, shared by the reader and the validator ---- */

typedef struct int_rule {
    const char *field; /* as messages name it; the JSON key is the part after the last '.' */
    int64_t min, max;
} int_rule;

static const int_rule R_FORMAT_VERSION = {"format_version", 1, 1 << 30};
static const int_rule R_PARAMS = {"params", 1, MAX_SAFE_INT};
static const int_rule R_HIDDEN = {"config.hidden_size", 1, 65536};
static const int_rule R_INTERMEDIATE = {"config.intermediate_size", 1, 1 << 18};
static const int_rule R_LAYERS = {"config.num_hidden_layers", 1, MAX_LAYERS};
static const int_rule R_HEADS = {"config.num_attention_heads", 1, 1024};
static const int_rule R_KV_HEADS = {"config.num_key_value_heads", 1, 1024};
static const int_rule R_HEAD_DIM = {"config.head_dim", 1, 1024};
static const int_rule R_VOCAB = {"config.vocab_size", 1, MAX_VOCAB};
static const int_rule R_MAX_POS = {"config.max_position_embeddings", 1, 1 << 24};
static const int_rule R_GROUP = {"quantization.group_size", 0, 1 << 16};
static const int_rule R_TOTAL = {"total_bytes", 0, MAX_SAFE_INT};
/* dynamic field names (files[i].x, tokens.stop_ids[i]) use these bounds */
#define FILE_BYTES_MIN 1
#define TOKEN_ID_MAX (MAX_VOCAB - 1)

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* bit mask with one bit per name in a key table (check_keys' required set) */
#define ALL(a) ((1u << COUNT(a)) - 1)

static const char *json_key(const char *field) {
    const char *dot = strrchr(field, '.');
    return dot ? dot + 1 : field;
}

static smolweb_status int_type_error(sw_error *err, const char *field, int64_t min) {
    return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a %s integer", field,
                        min >= 1 ? "positive" : "non-negative");
}

/* Checks an in-memory integer against [min, max] with the reader's messages. */
static smolweb_status check_int(sw_error *err, const char *field, int64_t v, int64_t min, int64_t max) {
    if (v < min) return int_type_error(err, field, min);
    if (v > max)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be at most %lld (got %lld)", field, (long long)max,
                            (long long)v);
    return SMOLWEB_OK;
}

static smolweb_status check_u64(sw_error *err, const char *field, uint64_t v, int64_t min, int64_t max) {
    if (v > (uint64_t)max)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be at most %lld (got %llu)", field, (long long)max,
                            (unsigned long long)v);
    return check_int(err, field, (int64_t)v, min, max);
}

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or 0
 * (overlong forms, surrogates and code points above U+10FFFF are refused). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Counts the code points of a NUL-terminated string (what JSON Schema's
 * maxLength counts); returns 0 if it is not valid UTF-8. */
static int utf8_count(const char *s, size_t *count) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, cps = 0;
    while (i < n) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k) return 0;
        i += k;
        cps++;
    }
    *count = cps;
    return 1;
}

/* ---- step 1: strict JSON lexical check ---- */

static smolweb_status lex_error(sw_error *err, size_t at, const char *what) {
    return sw_error_set(err, SMOLWEB_ERR_FORMAT, "invalid JSON at byte %zu: %s", at, what);
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads \uXXXX at s[i]; returns the code unit or -1. */
static long read_u_escape(const unsigned char *s, size_t n, size_t i) {
    if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u') return -1;
    long v = 0;
    for (size_t k = 2; k < 6; k++) {
        int h = hex_value(s[i + k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

/* s[*i] is the opening quote; on success *i is just past the closing one. */
static smolweb_status lex_string(const unsigned char *s, size_t n, size_t *i, sw_error *err) {
    size_t start = *i, p = start + 1;
    while (p < n) {
        unsigned char c = s[p];
        if (c == '"') {
            *i = p + 1;
            return SMOLWEB_OK;
        }
        if (c < 0x20) return lex_error(err, p, "control character in a string (escape it)");
        if (c == '\\') {
            if (p + 1 >= n) break;
            unsigned char e = s[p + 1];
            if (e != 'u') {
                if (!strchr("\"\\/bfnrt", e)) return lex_error(err, p, "bad escape sequence");
                p += 2;
                continue;
            }
            long u = read_u_escape(s, n, p);
            if (u < 0) return lex_error(err, p, "bad \\u escape (needs 4 hex digits)");
            if (u == 0) return lex_error(err, p, "\\u0000 (NUL) is not allowed in a string");
            if (u >= 0xDC00 && u <= 0xDFFF) return lex_error(err, p, "unpaired UTF-16 surrogate escape");
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = read_u_escape(s, n, p + 6);
                if (lo < 0xDC00 || lo > 0xDFFF) return lex_error(err, p, "unpaired UTF-16 surrogate escape");
                p += 6;
            }
            p += 6;
            continue;
        }
        size_t k = utf8_seq(s + p, n - p);
        if (!k) return lex_error(err, p, "invalid UTF-8 in a string");
        p += k;
    }
    return lex_error(err, start, "unterminated string");
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static smolweb_status lex_number(const unsigned char *s, size_t n, size_t *i, sw_error *err) {
    size_t start = *i, p = start;
    if (s[p] == '-') p++;
    if (p < n && s[p] == '0') {
        p++;
    } else if (p < n && is_digit(s[p])) {
        while (p < n && is_digit(s[p])) p++;
    } else {
        return lex_error(err, start, "bad number");
    }
    if (p < n && s[p] == '.') {
        p++;
        if (p >= n || !is_digit(s[p])) return lex_error(err, start, "bad number");
        while (p < n && is_digit(s[p])) p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) p++;
        if (p >= n || !is_digit(s[p])) return lex_error(err, start, "bad number");
        while (p < n && is_digit(s[p])) p++;
    }
    if (p < n && (is_digit(s[p]) || strchr(".eE+-", s[p]))) return lex_error(err, start, "bad number");
    if (p - start > 63) return lex_error(err, start, "number longer than 63 characters"); /* cJSON's limit */
    *i = p;
    return SMOLWEB_OK;
}

static smolweb_status lex_check(const unsigned char *s, size_t n, sw_error *err) {
    size_t i = 0;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) i = 3; /* a BOM, as browsers' decoding skips */
    while (i < n) {
        unsigned char c = s[i];
        smolweb_status st = SMOLWEB_OK;
        if (c == '"') {
            st = lex_string(s, n, &i, err);
        } else if (c == '-' || is_digit(c)) {
            st = lex_number(s, n, &i, err);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || (c >= 'a' && c <= 'z') || strchr("{}[]:,", c)) {
            i++; /* structure and literals: cJSON checks the grammar */
        } else {
            char what[48];
            if (c > 0x20 && c < 0x7F)
                snprintf(what, sizeof what, "unexpected character '%c'", c);
            else
                snprintf(what, sizeof what, "unexpected byte 0x%02x", c);
            st = lex_error(err, i, what);
        }
        if (st) return st;
    }
    return SMOLWEB_OK;
}

/* ---- step 2: the JSON shape ---- */

/* Copies an object key into buf for a message: printable ASCII, truncated. */
static const char *printable_key(const char *key, char *buf, size_t cap) {
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p && j + 4 < cap; p++)
        buf[j++] = (*p >= 0x20 && *p < 0x7F) ? (char)*p : '?';
    if (key[j] && j + 4 >= cap) buf[j++] = '.', buf[j++] = '.', buf[j++] = '.';
    buf[j] = '\0';
    return buf;
}

/* Checks obj's keys: each one of names[0..n) (n <= 32), none twice, and every
 * name whose bit is set in required present. prefix names the object ("config."). */
static smolweb_status check_keys(const cJSON *obj, const char *prefix, const char *const *names, int n,
                                 uint32_t required, sw_error *err) {
    uint32_t seen = 0;
    char kb[80];
    for (const cJSON *it = obj->child; it; it = it->next) {
        int k = 0;
        while (k < n && strcmp(it->string, names[k]) != 0) k++;
        if (k == n)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "unknown field %s%s", prefix,
                                printable_key(it->string, kb, sizeof kb));
        if (seen & (1u << k)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "duplicate field %s%s", prefix, names[k]);
        seen |= 1u << k;
    }
    for (int k = 0; k < n; k++)
        if ((required & (1u << k)) && !(seen & (1u << k)))
            return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s%s", prefix, names[k]);
    return SMOLWEB_OK;
}

static int is_integral(double d) { return isfinite(d) && floor(d) == d; }

/* Reads a JSON integer in [min, max] (any number with no fraction, as JSON
 * Schema's "integer"); field names it in messages. */
static smolweb_status json_int(const cJSON *it, const char *field, int64_t min, int64_t max, int64_t *out,
                               sw_error *err) {
    if (!it) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s", field);
    if (!cJSON_IsNumber(it) || !is_integral(it->valuedouble) || it->valuedouble < (double)min)
        return int_type_error(err, field, min);
    if (it->valuedouble > (double)max)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be at most %lld (got %.17g)", field, (long long)max,
                            it->valuedouble);
    *out = (int64_t)it->valuedouble;
    return SMOLWEB_OK;
}

/* Reads the integer field named by rule from obj into an int. */
static smolweb_status rule_int(const cJSON *obj, const int_rule *r, int *out, sw_error *err) {
    int64_t v = 0;
    smolweb_status st =
        json_int(cJSON_GetObjectItemCaseSensitive(obj, json_key(r->field)), r->field, r->min, r->max, &v, err);
    if (!st) *out = (int)v;
    return st;
}

static smolweb_status rule_u64(const cJSON *obj, const int_rule *r, uint64_t *out, sw_error *err) {
    int64_t v = 0;
    smolweb_status st =
        json_int(cJSON_GetObjectItemCaseSensitive(obj, json_key(r->field)), r->field, r->min, r->max, &v, err);
    if (!st) *out = (uint64_t)v;
    return st;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Copies a string field into a new allocation; a JSON null gives NULL when
 * allow_null. */
static smolweb_status json_string(const cJSON *obj, const char *field, int allow_null, char **out, sw_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, json_key(field));
    *out = NULL;
    if (!it) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s", field);
    if (allow_null && cJSON_IsNull(it)) return SMOLWEB_OK;
    if (!cJSON_IsString(it))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a string%s", field, allow_null ? " or null" : "");
    *out = dup_str(it->valuestring);
    return *out ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory reading %s", field);
}

/* Copies a short enum-like string into a fixed buffer; a longer one is left
 * as "?" for the validator to refuse by name. */
static smolweb_status json_short_string(const cJSON *obj, const char *field, char *out, size_t cap, sw_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, json_key(field));
    if (!it) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s", field);
    if (!cJSON_IsString(it)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a string", field);
    snprintf(out, cap, "%s", strlen(it->valuestring) < cap ? it->valuestring : "?");
    return SMOLWEB_OK;
}

static const cJSON *json_object(const cJSON *parent, const char *field, sw_error *err, smolweb_status *st) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(parent, field);
    if (!it)
        *st = sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s", field);
    else if (!cJSON_IsObject(it))
        *st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be an object", field);
    return *st ? NULL : it;
}

static const char *const k_config_keys[] = {"hidden_size",         "intermediate_size",       "num_hidden_layers",
                                            "num_attention_heads", "num_key_value_heads",     "head_dim",
                                            "vocab_size",          "max_position_embeddings", "rope_theta",
                                            "rms_norm_eps",        "tie_word_embeddings",     "rope_layers"};

static smolweb_status read_number(const cJSON *obj, const char *field, double *out, sw_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, json_key(field));
    if (!it) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field %s", field);
    if (!cJSON_IsNumber(it)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a number", field);
    *out = it->valuedouble; /* the validator checks the range */
    return SMOLWEB_OK;
}

static smolweb_status read_rope_layers(const cJSON *cfg, sw_manifest *m, sw_error *err) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, "rope_layers");
    if (!cJSON_IsArray(arr)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.rope_layers must be an array");
    size_t count = 0;
    for (const cJSON *it = arr->child; it; it = it->next) count++;
    if (count != (size_t)m->num_layers)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE,
                            "config.rope_layers has %zu entries but config.num_hidden_layers is %d", count,
                            m->num_layers);
    m->rope_layers = malloc((size_t)m->num_layers);
    if (!m->rope_layers) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory reading config.rope_layers");
    int i = 0;
    for (const cJSON *it = arr->child; it; it = it->next, i++) {
        if (!cJSON_IsNumber(it) || (it->valuedouble != 0.0 && it->valuedouble != 1.0))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.rope_layers[%d] must be 0 or 1", i);
        m->rope_layers[i] = it->valuedouble == 1.0;
    }
    return SMOLWEB_OK;
}

static smolweb_status read_config(const cJSON *root, sw_manifest *m, sw_error *err) {
    smolweb_status st = SMOLWEB_OK;
    const cJSON *cfg = json_object(root, "config", err, &st);
    if (!st) st = check_keys(cfg, "config.", k_config_keys, COUNT(k_config_keys), ALL(k_config_keys), err);
    if (!st) st = rule_int(cfg, &R_HIDDEN, &m->hidden_size, err);
    if (!st) st = rule_int(cfg, &R_INTERMEDIATE, &m->intermediate_size, err);
    if (!st) st = rule_int(cfg, &R_LAYERS, &m->num_layers, err);
    if (!st) st = rule_int(cfg, &R_HEADS, &m->num_heads, err);
    if (!st) st = rule_int(cfg, &R_KV_HEADS, &m->num_kv_heads, err);
    if (!st) st = rule_int(cfg, &R_HEAD_DIM, &m->head_dim, err);
    if (!st) st = rule_int(cfg, &R_VOCAB, &m->vocab_size, err);
    if (!st) st = rule_int(cfg, &R_MAX_POS, &m->max_position_embeddings, err);
    if (!st) st = read_number(cfg, "config.rope_theta", &m->rope_theta, err);
    if (!st) st = read_number(cfg, "config.rms_norm_eps", &m->rms_norm_eps, err);
    if (!st) {
        const cJSON *tie = cJSON_GetObjectItemCaseSensitive(cfg, "tie_word_embeddings");
        if (!cJSON_IsBool(tie))
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.tie_word_embeddings must be true or false");
        else
            m->tie_word_embeddings = cJSON_IsTrue(tie);
    }
    if (!st) st = read_rope_layers(cfg, m, err);
    return st;
}

static const char *const k_quant_keys[] = {"weights", "embedding", "group_size"};

static smolweb_status read_quant(const cJSON *root, sw_manifest *m, sw_error *err) {
    smolweb_status st = SMOLWEB_OK;
    const cJSON *q = json_object(root, "quantization", err, &st);
    if (!st) st = check_keys(q, "quantization.", k_quant_keys, COUNT(k_quant_keys), ALL(k_quant_keys), err);
    if (!st) st = json_short_string(q, "quantization.weights", m->weights_type, sizeof m->weights_type, err);
    if (!st) st = json_short_string(q, "quantization.embedding", m->embedding_type, sizeof m->embedding_type, err);
    if (!st) st = rule_int(q, &R_GROUP, &m->group_size, err);
    return st;
}

/* A token id or null (-1). */
static smolweb_status read_token_id(const cJSON *tok, const char *field, int *out, sw_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(tok, json_key(field));
    *out = -1;
    if (cJSON_IsNull(it)) return SMOLWEB_OK;
    if (!cJSON_IsNumber(it) || !is_integral(it->valuedouble) || it->valuedouble < 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a non-negative integer or null", field);
    int64_t v = 0;
    smolweb_status st = json_int(it, field, 0, TOKEN_ID_MAX, &v, err);
    if (!st) *out = (int)v;
    return st;
}

static const char *const k_token_keys[] = {"bos_id", "eos_id", "pad_id", "stop_ids"};

static smolweb_status read_tokens(const cJSON *root, sw_manifest *m, sw_error *err) {
    smolweb_status st = SMOLWEB_OK;
    const cJSON *tok = json_object(root, "tokens", err, &st);
    if (!st) st = check_keys(tok, "tokens.", k_token_keys, COUNT(k_token_keys), ALL(k_token_keys), err);
    if (!st) st = read_token_id(tok, "tokens.bos_id", &m->bos_id, err);
    if (!st) st = read_token_id(tok, "tokens.eos_id", &m->eos_id, err);
    if (!st) st = read_token_id(tok, "tokens.pad_id", &m->pad_id, err);
    if (st) return st;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(tok, "stop_ids");
    if (!cJSON_IsArray(arr)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokens.stop_ids must be an array");
    int n = 0;
    for (const cJSON *it = arr->child; it; it = it->next)
        if (++n > MAX_STOP_IDS)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokens.stop_ids has more than %d entries", MAX_STOP_IDS);
    m->stop_ids = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!m->stop_ids) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory reading tokens.stop_ids");
    int i = 0;
    for (const cJSON *it = arr->child; it; it = it->next, i++) {
        char field[48];
        int64_t v = 0;
        snprintf(field, sizeof field, "tokens.stop_ids[%d]", i);
        st = json_int(it, field, 0, TOKEN_ID_MAX, &v, err);
        if (st) return st;
        m->stop_ids[i] = (int)v;
        m->n_stop_ids = i + 1;
    }
    return SMOLWEB_OK;
}

static const char *const k_role_names[] = {"tokenizer", "embedding", "layer"};
static const char *const k_file_keys[] = {"path", "bytes", "sha256", "role", "layer"};

static int is_sha256_hex(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return s[64] == '\0';
}

static smolweb_status read_file_entry(const cJSON *it, int i, sw_manifest_file *f, sw_error *err) {
    char prefix[32], field[48];
    snprintf(prefix, sizeof prefix, "files[%d].", i);
    f->layer = -1;
    if (!cJSON_IsObject(it)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d] must be an object", i);
    /* all required but the last, "layer", which only role layer has */
    smolweb_status st = check_keys(it, prefix, k_file_keys, COUNT(k_file_keys), ALL(k_file_keys) >> 1, err);
    if (st) return st;
    snprintf(field, sizeof field, "%spath", prefix);
    st = json_string(it, field, 0, &f->path, err);
    if (st) return st;
    int64_t v = 0;
    snprintf(field, sizeof field, "%sbytes", prefix);
    st = json_int(cJSON_GetObjectItemCaseSensitive(it, "bytes"), field, FILE_BYTES_MIN, MAX_SAFE_INT, &v, err);
    if (st) return st;
    f->bytes = (uint64_t)v;
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(it, "sha256");
    if (!cJSON_IsString(sha) || strlen(sha->valuestring) != 64 || !is_sha256_hex(sha->valuestring))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].sha256 must be 64 lowercase hex digits", i);
    memcpy(f->sha256, sha->valuestring, 65);
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
    int r = 0;
    while (r < 3 && !(cJSON_IsString(role) && strcmp(role->valuestring, k_role_names[r]) == 0)) r++;
    if (r == 3) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].role must be tokenizer, embedding or layer", i);
    f->role = (sw_file_role)r;
    const cJSON *layer = cJSON_GetObjectItemCaseSensitive(it, "layer");
    snprintf(field, sizeof field, "%slayer", prefix);
    if (f->role != SW_ROLE_LAYER) {
        if (layer) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].layer is only allowed for role layer", i);
        return SMOLWEB_OK;
    }
    st = json_int(layer, field, 0, MAX_LAYERS - 1, &v, err);
    if (!st) f->layer = (int)v;
    return st;
}

static smolweb_status read_files(const cJSON *root, sw_manifest *m, sw_error *err) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(arr)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files must be an array");
    int n = 0;
    for (const cJSON *it = arr->child; it; it = it->next)
        if (++n > MAX_FILES) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files has more than %d entries", MAX_FILES);
    m->files = calloc((size_t)(n ? n : 1), sizeof *m->files);
    if (!m->files) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory reading files");
    int i = 0;
    for (const cJSON *it = arr->child; it; it = it->next, i++) {
        m->n_files = i + 1; /* so sw_manifest_free frees what was read */
        smolweb_status st = read_file_entry(it, i, &m->files[i], err);
        if (st) return st;
    }
    return SMOLWEB_OK;
}

static const char *const k_root_keys[] = {"format",        "format_version", "name",         "architecture",
                                          "params",        "config",         "quantization", "tokens",
                                          "chat_template", "chat_format",    "files",        "total_bytes"};

/* format and format_version come first: a newer manifest is refused by its
 * version, not by the first field this build does not know. */
static smolweb_status read_version(const cJSON *root, sw_manifest *m, sw_error *err) {
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!fmt) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, SW_MANIFEST_FORMAT) != 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "format must be \"%s\"", SW_MANIFEST_FORMAT);
    smolweb_status st = rule_int(root, &R_FORMAT_VERSION, &m->format_version, err);
    if (!st && m->format_version != SW_MANIFEST_VERSION)
        st = sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "format_version %d is not supported (this build reads %d)",
                          m->format_version, SW_MANIFEST_VERSION);
    return st;
}

static smolweb_status read_root(const cJSON *root, sw_manifest *m, sw_error *err) {
    if (!cJSON_IsObject(root)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "manifest must be a JSON object");
    smolweb_status st = read_version(root, m, err);
    if (!st) st = check_keys(root, "", k_root_keys, COUNT(k_root_keys), ALL(k_root_keys), err);
    if (!st) st = json_string(root, "name", 0, &m->name, err);
    if (!st) st = json_string(root, "architecture", 0, &m->architecture, err);
    if (!st) st = rule_u64(root, &R_PARAMS, &m->params, err);
    if (!st) st = read_config(root, m, err);
    if (!st) st = read_quant(root, m, err);
    if (!st) st = read_tokens(root, m, err);
    if (!st) st = json_string(root, "chat_template", 1, &m->chat_template, err);
    if (!st) st = json_short_string(root, "chat_format", m->chat_format, sizeof m->chat_format, err);
    if (!st) st = read_files(root, m, err);
    if (!st) st = rule_u64(root, &R_TOTAL, &m->total_bytes, err);
    return st;
}

sw_manifest *sw_manifest_parse(const char *json, size_t len, sw_error *err) {
    sw_error_clear(err);
    if (!json) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no manifest text");
        return NULL;
    }
    if (len > MAX_JSON_BYTES) {
        sw_error_set(err, SMOLWEB_ERR_FORMAT, "manifest is larger than %u MiB", MAX_JSON_BYTES >> 20);
        return NULL;
    }
    if (lex_check((const unsigned char *)json, len, err)) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        sw_error_set(err, SMOLWEB_ERR_FORMAT, "invalid JSON at byte %zu", at);
        return NULL;
    }
    for (size_t at = (size_t)(end - json); at < len; at++) {
        if (!strchr(" \t\r\n", json[at])) {
            cJSON_Delete(root);
            lex_error(err, at, "content after the top-level value");
            return NULL;
        }
    }
    sw_manifest *m = calloc(1, sizeof *m);
    smolweb_status st = m ? read_root(root, m, err) : sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    cJSON_Delete(root);
    if (!st) st = sw_manifest_validate(m, err);
    if (st) {
        sw_manifest_free(m);
        return NULL;
    }
    return m;
}

sw_manifest *sw_manifest_load(const char *path, sw_error *err) {
    sw_error_clear(err);
    if (!path) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no manifest path");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: cannot open: %s", path,
                     strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        sw_error_set(err, SMOLWEB_ERR_IO, "%s: not a regular file", path);
        return NULL;
    }
    if ((uint64_t)sb.st_size > MAX_JSON_BYTES) {
        fclose(f);
        sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: manifest is larger than %u MiB", path, MAX_JSON_BYTES >> 20);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n ? n : 1);
    size_t got = buf ? fread(buf, 1, n, f) : 0;
    int short_read = buf && (got != n || ferror(f));
    fclose(f);
    if (!buf) {
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (short_read) {
        free(buf);
        sw_error_set(err, SMOLWEB_ERR_IO, "%s: short read", path);
        return NULL;
    }
    sw_manifest *m = sw_manifest_parse(buf, n, err);
    free(buf);
    if (!m) sw_error_prefix(err, "%s", path);
    return m;
}

/* ---- step 3: values and cross-field rules ---- */

static smolweb_status validate_header(const sw_manifest *m, sw_error *err) {
    if (m->format_version != SW_MANIFEST_VERSION)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "format_version %d is not supported (this build reads %d)",
                            m->format_version, SW_MANIFEST_VERSION);
    size_t cps = 0;
    if (!m->name || !m->name[0]) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "name must be a non-empty string");
    if (!utf8_count(m->name, &cps)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "name is not valid UTF-8");
    if (cps > MAX_NAME_CHARS)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "name is longer than %d characters", MAX_NAME_CHARS);
    if (!m->architecture) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "architecture must be a string");
    if (strcmp(m->architecture, "llama") != 0) {
        char ab[80];
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED,
                            "architecture \"%s\" is not supported (this build reads llama)",
                            printable_key(m->architecture, ab, sizeof ab));
    }
    return check_u64(err, R_PARAMS.field, m->params, R_PARAMS.min, R_PARAMS.max);
}

static smolweb_status validate_config(const sw_manifest *m, sw_error *err) {
    const struct {
        const int_rule *r;
        int v;
    } ints[] = {{&R_HIDDEN, m->hidden_size}, {&R_INTERMEDIATE, m->intermediate_size}, {&R_LAYERS, m->num_layers},
                {&R_HEADS, m->num_heads},    {&R_KV_HEADS, m->num_kv_heads},          {&R_HEAD_DIM, m->head_dim},
                {&R_VOCAB, m->vocab_size},   {&R_MAX_POS, m->max_position_embeddings}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        smolweb_status st = check_int(err, ints[i].r->field, ints[i].v, ints[i].r->min, ints[i].r->max);
        if (st) return st;
    }
    if (!(m->rope_theta > 0) || !isfinite(m->rope_theta))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.rope_theta must be a positive number");
    if (m->rope_theta > MAX_ROPE_THETA)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.rope_theta must be at most 1e12 (got %.17g)",
                            m->rope_theta);
    if (!(m->rms_norm_eps > 0 && m->rms_norm_eps < 1))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT,
                            "config.rms_norm_eps must be a number between 0 and 1 (exclusive)");
    if (m->tie_word_embeddings != 0 && m->tie_word_embeddings != 1)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.tie_word_embeddings must be true or false");
    if (!m->rope_layers) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field config.rope_layers");
    for (int i = 0; i < m->num_layers; i++)
        if (m->rope_layers[i] > 1)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "config.rope_layers[%d] must be 0 or 1", i);
    /* heads and head_dim are at most 1024 each, so the product fits an int */
    if (m->num_heads * m->head_dim != m->hidden_size)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE,
                            "config.hidden_size %d does not equal num_attention_heads * head_dim (%d * %d = %d)",
                            m->hidden_size, m->num_heads, m->head_dim, m->num_heads * m->head_dim);
    if (m->num_heads % m->num_kv_heads)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE,
                            "config.num_attention_heads %d is not a multiple of config.num_key_value_heads %d",
                            m->num_heads, m->num_kv_heads);
    if (m->head_dim % 2)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "config.head_dim %d must be even (RoPE rotates pairs)",
                            m->head_dim);
    return SMOLWEB_OK;
}

/* Parses a quantization type name from a fixed buffer that may lack its NUL. */
static int quant_type(const char *buf, size_t cap) {
    if (strnlen(buf, cap) == cap) return -1;
    return sw_dtype_from_name(buf);
}

static smolweb_status validate_quant(const sw_manifest *m, sw_error *err) {
    int w = quant_type(m->weights_type, sizeof m->weights_type);
    int e = quant_type(m->embedding_type, sizeof m->embedding_type);
    if (w < 0) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "quantization.weights must be one of q4, q8, f16, f32");
    if (e < 0) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "quantization.embedding must be one of q4, q8, f16, f32");
    int blocked = sw_dtype_is_blocked((sw_dtype)w);
    int want = blocked ? SW_QK : 0;
    if (m->group_size != want)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "quantization.group_size must be %d for %s weights (got %d)", want,
                            m->weights_type, m->group_size);
    /* a blocked row holds whole blocks: every matrix's input dimension
     * (hidden for q/k/v/gate/up and the embedding, intermediate for down) */
    if ((blocked || sw_dtype_is_blocked((sw_dtype)e)) && m->hidden_size % SW_QK)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "config.hidden_size %d is not a multiple of %d, which %s %s",
                            m->hidden_size, SW_QK, blocked ? m->weights_type : m->embedding_type,
                            blocked ? "weights need" : "embedding needs");
    if (blocked && m->intermediate_size % SW_QK)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE,
                            "config.intermediate_size %d is not a multiple of %d, which %s weights need",
                            m->intermediate_size, SW_QK, m->weights_type);
    return SMOLWEB_OK;
}

static smolweb_status check_token(sw_error *err, const char *field, int id, int vocab, int allow_none) {
    if (allow_none && id == -1) return SMOLWEB_OK;
    if (id < 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s must be a non-negative integer%s", field,
                            allow_none ? " or null" : "");
    if (id >= vocab)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s %d is outside the vocabulary (vocab_size %d)", field, id,
                            vocab);
    return SMOLWEB_OK;
}

static smolweb_status validate_tokens(const sw_manifest *m, sw_error *err) {
    smolweb_status st = check_token(err, "tokens.bos_id", m->bos_id, m->vocab_size, 1);
    if (!st) st = check_token(err, "tokens.eos_id", m->eos_id, m->vocab_size, 1);
    if (!st) st = check_token(err, "tokens.pad_id", m->pad_id, m->vocab_size, 1);
    if (st) return st;
    if (m->n_stop_ids < 0) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tokens.stop_ids has a negative count");
    if (m->n_stop_ids > MAX_STOP_IDS)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tokens.stop_ids has more than %d entries", MAX_STOP_IDS);
    if (m->n_stop_ids > 0 && !m->stop_ids)
        return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field tokens.stop_ids");
    for (int i = 0; i < m->n_stop_ids; i++) {
        char field[48];
        snprintf(field, sizeof field, "tokens.stop_ids[%d]", i);
        st = check_token(err, field, m->stop_ids[i], m->vocab_size, 0);
        if (st) return st;
        for (int j = 0; j < i; j++)
            if (m->stop_ids[j] == m->stop_ids[i])
                return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s repeats tokens.stop_ids[%d] (%d)", field, j,
                                    m->stop_ids[i]);
    }
    return SMOLWEB_OK;
}

static smolweb_status validate_chat(const sw_manifest *m, sw_error *err) {
    size_t cps = 0;
    if (m->chat_template && !utf8_count(m->chat_template, &cps))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "chat_template is not valid UTF-8");
    if (cps > MAX_TEMPLATE_CHARS)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "chat_template is longer than %d characters", MAX_TEMPLATE_CHARS);
    size_t n = strnlen(m->chat_format, sizeof m->chat_format);
    int chatml = n < sizeof m->chat_format && strcmp(m->chat_format, "chatml") == 0;
    if (!chatml && !(n < sizeof m->chat_format && strcmp(m->chat_format, "other") == 0))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "chat_format must be chatml or other");
    if (chatml && !m->chat_template)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "chat_format is chatml but chat_template is null");
    return SMOLWEB_OK;
}

/* NULL if path is a safe relative path inside the model folder, else why not.
 * Letters, digits, '.', '_', '-' and '/' only: nothing a URL resolver or a
 * file system reads specially (no ':', '%', '?', '#', '\\'). */
static const char *path_problem(const char *path) {
    size_t n = strlen(path);
    if (n == 0) return "must not be empty";
    if (n > MAX_PATH_CHARS) return "is longer than 255 characters";
    if (path[0] == '/') return "must be relative (no leading '/')";
    if (strchr(path, '\\')) return "must not contain a backslash";
    for (size_t i = 0; i < n; i++) {
        char c = path[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit((unsigned char)c) || c == '.' || c == '_' ||
              c == '-' || c == '/'))
            return "may contain only letters, digits, '.', '_', '-' and '/'";
    }
    for (const char *seg = path;;) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (len == 0) return "must not have an empty segment";
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return "must not have a '.' or '..' segment";
        if (!slash) break;
        seg = slash + 1;
    }
    if (strcmp(path, "manifest.json") == 0) return "must not be manifest.json";
    return NULL;
}

/* ASCII case-insensitive equality (paths are ASCII once path_problem passed):
 * two names differing only in case would collide on some file systems. */
static int same_path(const char *a, const char *b) {
    for (;; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (x != y) return 0;
        if (!x) return 1;
    }
}

static smolweb_status validate_file(const sw_manifest *m, int i, sw_error *err) {
    const sw_manifest_file *f = &m->files[i];
    char field[48];
    if (!f->path) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field files[%d].path", i);
    const char *why = path_problem(f->path);
    if (why) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].path %s", i, why);
    snprintf(field, sizeof field, "files[%d].bytes", i);
    smolweb_status st = check_u64(err, field, f->bytes, FILE_BYTES_MIN, MAX_SAFE_INT);
    if (st) return st;
    if (!is_sha256_hex(f->sha256))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].sha256 must be 64 lowercase hex digits", i);
    if (f->role != SW_ROLE_TOKENIZER && f->role != SW_ROLE_EMBEDDING && f->role != SW_ROLE_LAYER)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].role must be tokenizer, embedding or layer", i);
    if (f->role != SW_ROLE_LAYER && f->layer != -1)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].layer is only allowed for role layer", i);
    if (f->role == SW_ROLE_LAYER && (f->layer < 0 || f->layer >= m->num_layers))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].layer %d is out of range (num_hidden_layers %d)", i,
                            f->layer, m->num_layers);
    for (int j = 0; j < i; j++)
        if (same_path(m->files[j].path, f->path))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d].path repeats files[%d].path (ignoring case)", i, j);
    return SMOLWEB_OK;
}

static smolweb_status validate_files(const sw_manifest *m, sw_error *err) {
    if (m->n_files < 0) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "files has a negative count");
    if (m->n_files > MAX_FILES)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files has more than %d entries", MAX_FILES);
    if (m->n_files > 0 && !m->files) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing field files");
    int tokenizer = -1, embedding = -1;
    int layer_file[MAX_LAYERS]; /* file index + 1 per layer, 0 = none yet */
    memset(layer_file, 0, sizeof layer_file);
    uint64_t sum = 0;
    for (int i = 0; i < m->n_files; i++) {
        smolweb_status st = validate_file(m, i, err);
        if (st) return st;
        const sw_manifest_file *f = &m->files[i];
        int *slot = f->role == SW_ROLE_TOKENIZER ? &tokenizer : f->role == SW_ROLE_EMBEDDING ? &embedding : NULL;
        if (slot && *slot >= 0)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[%d] is a second %s file (files[%d] is one)", i,
                                k_role_names[f->role], *slot);
        if (slot) *slot = i;
        if (f->role == SW_ROLE_LAYER) {
            if (layer_file[f->layer])
                return sw_error_set(err, SMOLWEB_ERR_FORMAT,
                                    "files[%d] is a second file for layer %d (files[%d] is one)", i, f->layer,
                                    layer_file[f->layer] - 1);
            layer_file[f->layer] = i + 1;
        }
        if (f->bytes > UINT64_MAX - sum) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "files[].bytes overflow");
        sum += f->bytes;
    }
    if (tokenizer < 0) return sw_error_set(err, SMOLWEB_ERR_MISSING, "no tokenizer file in files (role tokenizer)");
    if (embedding < 0) return sw_error_set(err, SMOLWEB_ERR_MISSING, "no embedding file in files (role embedding)");
    for (int l = 0; l < m->num_layers; l++)
        if (!layer_file[l]) return sw_error_set(err, SMOLWEB_ERR_MISSING, "no file for layer %d in files", l);
    smolweb_status st = check_u64(err, R_TOTAL.field, m->total_bytes, R_TOTAL.min, R_TOTAL.max);
    if (st) return st;
    if (m->total_bytes != sum)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "total_bytes %llu does not equal the sum of files[].bytes (%llu)",
                            (unsigned long long)m->total_bytes, (unsigned long long)sum);
    return SMOLWEB_OK;
}

smolweb_status sw_manifest_validate(const sw_manifest *m, sw_error *err) {
    if (!m) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no manifest");
    smolweb_status st = validate_header(m, err);
    if (!st) st = validate_config(m, err);
    if (!st) st = validate_quant(m, err);
    if (!st) st = validate_tokens(m, err);
    if (!st) st = validate_chat(m, err);
    if (!st) st = validate_files(m, err);
    return st;
}

/* ---- writing ---- */

/* Adds item to obj under key; on failure deletes item. Returns 1 on success. */
static int add(cJSON *obj, const char *key, cJSON *item) {
    if (!item) return 0;
    if (obj->type == cJSON_Array ? cJSON_AddItemToArray(obj, item) : cJSON_AddItemToObject(obj, key, item)) return 1;
    cJSON_Delete(item);
    return 0;
}

/* Integers are written as raw digits: exact for every uint64 (cJSON's number
 * printer would switch to exponent form above 1e15). */
static cJSON *raw_int(long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return cJSON_CreateRaw(buf);
}

static cJSON *raw_u64(uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(buf);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as exactly v (17
 * digits always do), so 1e-05 stays "1e-05" and every double round-trips. */
static cJSON *raw_double(double v) {
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    for (char *p = buf; *p; p++)
        if (*p == ',') *p = '.'; /* a locale's decimal comma */
    return cJSON_CreateRaw(buf);
}

static cJSON *id_or_null(int id) { return id < 0 ? cJSON_CreateNull() : raw_int(id); }

static int put_config(cJSON *root, const sw_manifest *m) {
    cJSON *c = cJSON_CreateObject();
    if (!add(root, "config", c)) return 0;
    int ok =
        add(c, "hidden_size", raw_int(m->hidden_size)) && add(c, "intermediate_size", raw_int(m->intermediate_size)) &&
        add(c, "num_hidden_layers", raw_int(m->num_layers)) && add(c, "num_attention_heads", raw_int(m->num_heads)) &&
        add(c, "num_key_value_heads", raw_int(m->num_kv_heads)) && add(c, "head_dim", raw_int(m->head_dim)) &&
        add(c, "vocab_size", raw_int(m->vocab_size)) &&
        add(c, "max_position_embeddings", raw_int(m->max_position_embeddings)) &&
        add(c, "rope_theta", raw_double(m->rope_theta)) && add(c, "rms_norm_eps", raw_double(m->rms_norm_eps)) &&
        add(c, "tie_word_embeddings", cJSON_CreateBool(m->tie_word_embeddings));
    cJSON *rl = cJSON_CreateArray();
    ok = ok && add(c, "rope_layers", rl);
    for (int i = 0; ok && i < m->num_layers; i++) ok = add(rl, NULL, raw_int(m->rope_layers[i]));
    return ok;
}

static int put_tokens(cJSON *root, const sw_manifest *m) {
    cJSON *t = cJSON_CreateObject();
    if (!add(root, "tokens", t)) return 0;
    int ok = add(t, "bos_id", id_or_null(m->bos_id)) && add(t, "eos_id", id_or_null(m->eos_id)) &&
             add(t, "pad_id", id_or_null(m->pad_id));
    cJSON *s = cJSON_CreateArray();
    ok = ok && add(t, "stop_ids", s);
    for (int i = 0; ok && i < m->n_stop_ids; i++) ok = add(s, NULL, raw_int(m->stop_ids[i]));
    return ok;
}

static int put_files(cJSON *root, const sw_manifest *m) {
    cJSON *arr = cJSON_CreateArray();
    int ok = add(root, "files", arr);
    for (int i = 0; ok && i < m->n_files; i++) {
        const sw_manifest_file *f = &m->files[i];
        cJSON *o = cJSON_CreateObject();
        ok = add(arr, NULL, o) && add(o, "path", cJSON_CreateString(f->path)) && add(o, "bytes", raw_u64(f->bytes)) &&
             add(o, "sha256", cJSON_CreateString(f->sha256)) &&
             add(o, "role", cJSON_CreateString(k_role_names[f->role])) &&
             (f->role != SW_ROLE_LAYER || add(o, "layer", raw_int(f->layer)));
    }
    return ok;
}

char *sw_manifest_to_json(const sw_manifest *m) {
    if (sw_manifest_validate(m, NULL) != SMOLWEB_OK) return NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    int ok = add(root, "format", cJSON_CreateString(SW_MANIFEST_FORMAT)) &&
             add(root, "format_version", raw_int(m->format_version)) &&
             add(root, "name", cJSON_CreateString(m->name)) &&
             add(root, "architecture", cJSON_CreateString(m->architecture)) &&
             add(root, "params", raw_u64(m->params)) && put_config(root, m);
    cJSON *q = ok ? cJSON_CreateObject() : NULL;
    ok = ok && add(root, "quantization", q) && add(q, "weights", cJSON_CreateString(m->weights_type)) &&
         add(q, "embedding", cJSON_CreateString(m->embedding_type)) && add(q, "group_size", raw_int(m->group_size));
    ok = ok && put_tokens(root, m) &&
         add(root, "chat_template", m->chat_template ? cJSON_CreateString(m->chat_template) : cJSON_CreateNull()) &&
         add(root, "chat_format", cJSON_CreateString(m->chat_format)) && put_files(root, m) &&
         add(root, "total_bytes", raw_u64(m->total_bytes));
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    /* cJSON indents with tabs and puts one after each ':'. It escapes every tab
     * inside a string, so each raw tab is layout: make it "  " (or " " after
     * ':'), and end the file with a newline. The result is ours to free(). */
    size_t n = strlen(text), tabs = 0;
    for (size_t i = 0; i < n; i++) tabs += text[i] == '\t';
    char *out = malloc(n + tabs + 2);
    if (out) {
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            if (text[i] != '\t') {
                out[j++] = text[i];
            } else {
                out[j++] = ' ';
                if (i == 0 || text[i - 1] != ':') out[j++] = ' ';
            }
        }
        out[j++] = '\n';
        out[j] = '\0';
    }
    cJSON_free(text);
    return out;
}

/* ---- lookup and lifetime ---- */

const sw_manifest_file *sw_manifest_find(const sw_manifest *m, sw_file_role role, int layer) {
    if (!m || !m->files) return NULL;
    for (int i = 0; i < m->n_files; i++)
        if (m->files[i].role == role && (role != SW_ROLE_LAYER || m->files[i].layer == layer)) return &m->files[i];
    return NULL;
}

void sw_manifest_free(sw_manifest *m) {
    if (!m) return;
    free(m->name);
    free(m->architecture);
    free(m->rope_layers);
    free(m->stop_ids);
    free(m->chat_template);
    for (int i = 0; m->files && i < m->n_files; i++) free(m->files[i].path);
    free(m->files);
    free(m);
}
