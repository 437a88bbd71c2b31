/* smolweb-tokenize: the runtime tokenizer on the command line.
 *
 *   smolweb-tokenize [--decode] [--skip-special] MODEL
 *
 * MODEL is a chunker output folder (its manifest names the tokenizer chunk,
 * whose size and SHA-256 are checked), a packed tokenizer file (*.swt), or a
 * Hugging Face folder with tokenizer.json (packed on the fly).
 *
 * Reads JSON Lines on stdin. Encoding: {"text": "..."} in, {"ids":[...]} out
 * (no special tokens added; special-token strings in the text are matched).
 * With --decode: {"ids": [...]} in, {"text": "..."} out, invalid UTF-8
 * replaced by U+FFFD as the reference decoder does; --skip-special leaves out
 * special tokens. The text's JSON string may hold any bytes: raw bytes pass
 * through unchanged (so invalid UTF-8 can be tested), \u escapes are decoded
 * and a lone surrogate escape becomes U+FFFD. Blank lines are skipped. A bad
 * line stops the run with "error: line N: ..." and exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "manifest.h"
#include "sha256.h"
#include "tokenizer.h"
#include "tokpack.h"
#include "unicode.h"

/* ---- byte buffer ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static int buf_put(buf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n) nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
    return 1;
}

static int buf_utf8(buf *b, uint32_t cp) {
    uint8_t u[4];
    return buf_put(b, u, sw_utf8_encode(cp, u));
}

/* ---- a small JSON reader for {"text": "..."} that keeps every byte ----
 * (cJSON strings end at the first NUL, and the text may contain NUL.) */

typedef struct jp {
    const char *s;
    size_t n, i;
} jp;

static void jp_ws(jp *j) {
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\r' || j->s[j->i] == '\n')) j->i++;
}

static int hex4(jp *j, uint32_t *v) {
    if (j->n - j->i < 4) return 0;
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = j->s[j->i++];
        *v <<= 4;
        if (c >= '0' && c <= '9') *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') *v |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    return 1;
}

/* Parses a string at j->i (the opening quote) into out (NULL: skip it). */
static int jp_string(jp *j, buf *out) {
    if (j->i >= j->n || j->s[j->i] != '"') return 0;
    j->i++;
    while (j->i < j->n) {
        unsigned char c = (unsigned char)j->s[j->i++];
        if (c == '"') return 1;
        if (c != '\\') {
            if (out && !buf_put(out, &c, 1)) return 0;
            continue;
        }
        if (j->i >= j->n) return 0;
        char e = j->s[j->i++];
        const char *simple = "\"\\/bfnrt", *value = "\"\\/\b\f\n\r\t";
        const char *k = strchr(simple, e);
        if (e && k) {
            if (out && !buf_put(out, value + (k - simple), 1)) return 0;
            continue;
        }
        if (e != 'u') return 0;
        uint32_t cp, lo;
        if (!hex4(j, &cp)) return 0;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            size_t save = j->i;
            if (j->n - j->i >= 6 && j->s[j->i] == '\\' && j->s[j->i + 1] == 'u') {
                j->i += 2;
                if (hex4(j, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else j->i = save, cp = 0xFFFD;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        if (out && !buf_utf8(out, cp)) return 0;
    }
    return 0;
}

static int jp_value(jp *j, int depth);

static int jp_container(jp *j, int depth, char close, int object) {
    j->i++;
    jp_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        return 1;
    }
    for (;;) {
        jp_ws(j);
        if (object) {
            if (!jp_string(j, NULL)) return 0;
            jp_ws(j);
            if (j->i >= j->n || j->s[j->i++] != ':') return 0;
        }
        if (!jp_value(j, depth + 1)) return 0;
        jp_ws(j);
        if (j->i >= j->n) return 0;
        char c = j->s[j->i++];
        if (c == close) return 1;
        if (c != ',') return 0;
    }
}

/* Skips any JSON value (checked loosely: numbers and literals by their chars). */
static int jp_value(jp *j, int depth) {
    jp_ws(j);
    if (j->i >= j->n || depth > 64) return 0;
    char c = j->s[j->i];
    if (c == '"') return jp_string(j, NULL);
    if (c == '{') return jp_container(j, depth, '}', 1);
    if (c == '[') return jp_container(j, depth, ']', 0);
    size_t start = j->i;
    while (j->i < j->n && strchr("+-.0123456789eEtruefalsn", j->s[j->i]) && j->s[j->i]) j->i++;
    return j->i > start;
}

/* Finds the "text" member of the object on the line; 1 on success. */
static int read_text(const char *line, size_t len, buf *out, const char **why) {
    jp j = {line, len, 0};
    int found = 0;
    *why = "not a JSON object";
    jp_ws(&j);
    if (j.i >= j.n || j.s[j.i] != '{') return 0;
    j.i++;
    jp_ws(&j);
    if (j.i < j.n && j.s[j.i] == '}') {
        *why = "no \"text\" member";
        return 0;
    }
    for (;;) {
        jp_ws(&j);
        buf key = {0};
        if (!jp_string(&j, &key)) return free(key.p), 0;
        int is_text = key.n == 4 && memcmp(key.p, "text", 4) == 0;
        free(key.p);
        jp_ws(&j);
        if (j.i >= j.n || j.s[j.i++] != ':') return 0;
        jp_ws(&j);
        if (is_text) {
            out->n = 0;
            if (!jp_string(&j, out)) {
                *why = "\"text\" is not a string";
                return 0;
            }
            found = 1;
        } else if (!jp_value(&j, 1)) {
            return 0;
        }
        jp_ws(&j);
        if (j.i >= j.n) return 0;
        char c = j.s[j.i++];
        if (c == '}') break;
        if (c != ',') return 0;
    }
    jp_ws(&j);
    if (j.i != j.n) return 0;
    if (!found) *why = "no \"text\" member";
    return found;
}

static void write_json_string(FILE *f, const uint8_t *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"') fputs("\\\"", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* ---- loading ---- */

static uint8_t *read_all(const char *path, size_t *len, sw_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot open", path);
        return NULL;
    }
    buf b = {0};
    uint8_t chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (!buf_put(&b, chunk, got)) {
            free(b.p);
            fclose(f);
            sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
            return NULL;
        }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b.p);
        sw_error_set(err, SMOLWEB_ERR_IO, "%s: read error", path);
        return NULL;
    }
    *len = b.n;
    return b.p ? b.p : calloc(1, 1);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static sw_tokenizer *load_from_manifest(const char *dir, const char *mpath, sw_error *err) {
    sw_manifest *m = sw_manifest_load(mpath, err);
    if (!m) return NULL;
    sw_tokenizer *t = NULL;
    const sw_manifest_file *f = sw_manifest_find(m, SW_ROLE_TOKENIZER, -1);
    if (!f) {
        sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: no tokenizer file listed", mpath);
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, f->path);
        size_t len = 0;
        uint8_t *bytes = read_all(path, &len, err);
        if (bytes) {
            char hex[65];
            sw_sha256_hex(bytes, len, hex);
            if (len != f->bytes)
                sw_error_set(err, SMOLWEB_ERR_INTEGRITY, "%s: %zu bytes, manifest says %llu", path, len, (unsigned long long)f->bytes);
            else if (strcmp(hex, f->sha256) != 0)
                sw_error_set(err, SMOLWEB_ERR_INTEGRITY, "%s: SHA-256 does not match the manifest", path);
            else if (!(t = sw_tokenizer_create(bytes, len, err)))
                sw_error_prefix(err, "%s", path);
            free(bytes);
        }
    }
    sw_manifest_free(m);
    return t;
}

static sw_tokenizer *load_tokenizer(const char *arg, sw_error *err) {
    size_t n = strlen(arg);
    char path[4096];
    if (n > 4 && strcmp(arg + n - 4, ".swt") == 0) {
        size_t len = 0;
        uint8_t *bytes = read_all(arg, &len, err);
        if (!bytes) return NULL;
        sw_tokenizer *t = sw_tokenizer_create(bytes, len, err);
        if (!t) sw_error_prefix(err, "%s", arg);
        free(bytes);
        return t;
    }
    snprintf(path, sizeof path, "%s/manifest.json", arg);
    if (is_file(path)) return load_from_manifest(arg, path, err);
    snprintf(path, sizeof path, "%s/tokenizer.json", arg);
    if (is_file(path)) {
        uint8_t *bytes;
        size_t len;
        sw_tok_meta meta;
        if (sw_tokpack_from_hf_dir(arg, &bytes, &len, &meta, err)) return NULL;
        sw_tok_meta_clear(&meta);
        sw_tokenizer *t = sw_tokenizer_create(bytes, len, err);
        free(bytes);
        return t;
    }
    sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: neither a model folder (manifest.json), a .swt file nor a folder with tokenizer.json", arg);
    return NULL;
}

/* ---- the two modes ---- */

static int encode_line(const sw_tokenizer *t, const char *line, size_t len, long lineno, buf *text) {
    const char *why;
    if (!read_text(line, len, text, &why)) {
        fprintf(stderr, "error: line %ld: %s\n", lineno, why);
        return 0;
    }
    int32_t *ids;
    size_t n;
    sw_error err;
    if (sw_tokenizer_encode_alloc(t, text->p, text->n, &ids, &n, &err)) {
        fprintf(stderr, "error: line %ld: %s\n", lineno, err.msg);
        return 0;
    }
    fputs("{\"ids\":[", stdout);
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    fputs("]}\n", stdout);
    free(ids);
    return 1;
}

static int decode_line(const sw_tokenizer *t, const char *line, size_t len, long lineno, unsigned flags) {
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "ids");
    if (!cJSON_IsArray(ids)) {
        fprintf(stderr, "error: line %ld: expected {\"ids\": [...]}\n", lineno);
        cJSON_Delete(o);
        return 0;
    }
    int n = cJSON_GetArraySize(ids), i = 0;
    int32_t *v = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int ok = v != NULL;
    for (const cJSON *e = ids->child; ok && e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int32_t)e->valuedouble) {
            fprintf(stderr, "error: line %ld: id %d is not a 32-bit integer\n", lineno, i);
            ok = 0;
        } else {
            v[i] = (int32_t)e->valuedouble;
        }
    }
    cJSON_Delete(o);
    size_t need = 0;
    sw_error err;
    uint8_t *out = NULL;
    if (ok && sw_tokenizer_decode(t, v, (size_t)n, flags, NULL, 0, &need, &err) != SMOLWEB_OK) ok = 0;
    if (ok && !(out = malloc(need ? need : 1))) ok = !sw_error_set(&err, SMOLWEB_ERR_NOMEM, "out of memory");
    if (ok && sw_tokenizer_decode(t, v, (size_t)n, flags, out, need, &need, &err) != SMOLWEB_OK) ok = 0;
    if (ok) {
        fputs("{\"text\":", stdout);
        write_json_string(stdout, out, need);
        fputs("}\n", stdout);
    } else if (v && i == n) {
        fprintf(stderr, "error: line %ld: %s\n", lineno, err.msg);
    }
    free(out);
    free(v);
    return ok;
}

int main(int argc, char **argv) {
    int decode = 0;
    unsigned flags = SW_DECODE_LOSSY;
    const char *model = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--decode") == 0) decode = 1;
        else if (strcmp(argv[i], "--skip-special") == 0) flags |= SW_DECODE_SKIP_SPECIAL;
        else if (argv[i][0] == '-' || model) {
            fprintf(stderr, "usage: smolweb-tokenize [--decode] [--skip-special] MODEL_DIR|FILE.swt|HF_DIR < jsonl\n");
            return 2;
        } else model = argv[i];
    }
    if (!model) {
        fprintf(stderr, "usage: smolweb-tokenize [--decode] [--skip-special] MODEL_DIR|FILE.swt|HF_DIR < jsonl\n");
        return 2;
    }
    sw_error err;
    sw_tokenizer *t = load_tokenizer(model, &err);
    if (!t) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    int ok = 1;
    buf text = {0};
    while (ok && (got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == len) continue;
        ok = decode ? decode_line(t, line, len, lineno, flags) : encode_line(t, line, len, lineno, &text);
    }
    free(line);
    free(text.p);
    sw_tokenizer_free(t);
    if (fflush(stdout) != 0) ok = 0;
    return ok ? 0 : 1;
}
