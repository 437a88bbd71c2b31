/* tokpack.c: packs a byte-level BPE tokenizer (Hugging Face tokenizer.json or
 * GGUF tokenizer.ggml.* metadata) into the format of src/tokenizer_format.h.
 *
 * What is refused, and why: the runtime implements exactly the reference's
 * byte-level BPE path (ByteLevel pre-tokenizer, optionally after Digits;
 * BPE model; ByteLevel decoder; no normalizer). Anything else would encode
 * differently, so it is refused as UNSUPPORTED with its type named. */
#include "tokpack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tokenizer_format.h"

/* ---- growable output ---- */

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} obuf;

static void ob_put(obuf *o, const void *src, size_t n) {
    if (o->oom) return;
    if (n > SIZE_MAX - o->n) {
        o->oom = 1;
        return;
    }
    if (o->n + n > o->cap) {
        size_t nc = o->cap ? o->cap : 4096;
        while (nc < o->n + n) nc = nc > SIZE_MAX / 2 ? o->n + n : nc * 2;
        uint8_t *np = realloc(o->p, nc);
        if (!np) {
            o->oom = 1;
            return;
        }
        o->p = np;
        o->cap = nc;
    }
    if (n) memcpy(o->p + o->n, src, n);
    o->n += n;
}

static void ob_u8(obuf *o, uint8_t v) { ob_put(o, &v, 1); }

static void ob_u32(obuf *o, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ob_put(o, b, 4);
}

static void ob_varint(obuf *o, uint32_t v) {
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        ob_u8(o, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void put32_at(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* ---- the byte-level alphabet ---- */

static int printable_byte(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

/* char -> byte of GPT-2's bytes_to_unicode (chars are < 324), -1 elsewhere. */
typedef struct byte_alphabet {
    int16_t byte_of[324];
} byte_alphabet;

static void alphabet_init(byte_alphabet *a) {
    for (int c = 0; c < 324; c++) a->byte_of[c] = -1;
    int n = 0;
    for (int b = 0; b < 256; b++) {
        if (printable_byte((unsigned)b)) a->byte_of[b] = (int16_t)b;
        else a->byte_of[256 + n++] = (int16_t)b;
    }
}

/* Decodes one UTF-8 char (input already valid: it came from JSON or GGUF
 * strings); returns its length, 0 on a malformed sequence. */
static size_t utf8_char(const uint8_t *s, size_t n, uint32_t *cp) {
    uint8_t b = s[0];
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n) return 0;
    uint32_t v = len == 1 ? b : (uint32_t)(b & (0x7F >> len));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/* The reference ByteLevel decoder on one token string: every char mapped back
 * to its byte when all are in the alphabet (kind 1), else the UTF-8 as is
 * (kind 2). Writes into out (at least n bytes). */
static int byte_level_decode(const byte_alphabet *a, const uint8_t *s, size_t n, uint8_t *out, size_t *out_len) {
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = utf8_char(s + i, n - i, &cp);
        if (!l || cp >= 324 || a->byte_of[cp] < 0) {
            memcpy(out, s, n);
            *out_len = n;
            return SW_TOK_KIND_RAW;
        }
        out[k++] = (uint8_t)a->byte_of[cp];
        i += l;
    }
    *out_len = k;
    return SW_TOK_KIND_BYTES;
}

/* ---- the model being packed ---- */

typedef struct str_ref {
    const char *s;
    uint32_t len;
} str_ref;

typedef struct added_in {
    str_ref content;
    int64_t id; /* as stored */
    uint8_t flags;
} added_in;

typedef struct tok_model {
    const char *src;    /* file name for messages */
    uint32_t n_vocab;   /* V = largest id + 1 */
    str_ref *tok;       /* [V]; s == NULL: no token has this id */
    uint32_t *by_str;   /* ids with a token, sorted by string */
    uint32_t n_by_str;
    uint32_t n_merges;
    uint32_t (*merges)[2];
    uint32_t n_added;
    added_in *added;
    uint32_t pre_flags, model_flags;
    int32_t unk_id;
} tok_model;

static void model_free(tok_model *m) {
    free(m->tok);
    free(m->by_str);
    free(m->merges);
    free(m->added);
}

static int strref_cmp(str_ref a, str_ref b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int c = memcmp(a.s, b.s, n);
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* qsort has no context argument; the vocabulary being sorted is passed here. */
typedef struct sort_ctx {
    const str_ref *tok;
} sort_ctx;

static int cmp_by_str(const void *a, const void *b, void *ctx) {
    const str_ref *tok = ((const sort_ctx *)ctx)->tok;
    return strref_cmp(tok[*(const uint32_t *)a], tok[*(const uint32_t *)b]);
}

/* A small merge sort with a context (qsort_r is not portable C11). */
static void sort_ids(uint32_t *v, uint32_t *tmp, size_t n, void *ctx) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_ids(v, tmp, h, ctx);
    sort_ids(v + h, tmp, n - h, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_by_str(&v[j], &v[i], ctx) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* Indexes the vocabulary by string; fails on a string listed twice. */
static smolweb_status index_vocab(tok_model *m, sw_error *err) {
    m->by_str = malloc(sizeof(uint32_t) * (m->n_vocab ? m->n_vocab : 1));
    uint32_t *tmp = malloc(sizeof(uint32_t) * (m->n_vocab ? m->n_vocab : 1));
    if (!m->by_str || !tmp) {
        free(tmp);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", m->src);
    }
    m->n_by_str = 0;
    for (uint32_t id = 0; id < m->n_vocab; id++)
        if (m->tok[id].s) m->by_str[m->n_by_str++] = id;
    sort_ctx ctx = {m->tok};
    sort_ids(m->by_str, tmp, m->n_by_str, &ctx);
    free(tmp);
    for (uint32_t i = 1; i < m->n_by_str; i++)
        if (strref_cmp(m->tok[m->by_str[i - 1]], m->tok[m->by_str[i]]) == 0)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: token \"%.*s\" has two ids (%u and %u)", m->src,
                                (int)(m->tok[m->by_str[i]].len > 64 ? 64 : m->tok[m->by_str[i]].len), m->tok[m->by_str[i]].s,
                                m->by_str[i - 1], m->by_str[i]);
    return SMOLWEB_OK;
}

static int64_t vocab_lookup(const tok_model *m, str_ref s) {
    size_t a = 0, b = m->n_by_str;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        int c = strref_cmp(m->tok[m->by_str[mid]], s);
        if (c == 0) return m->by_str[mid];
        if (c < 0) a = mid + 1;
        else b = mid;
    }
    return -1;
}

/* Resolves merge i ("a b") to ids; a merge between tokens merges can never
 * reach (not byte-level) is left out (*keep = 0), which changes nothing. */
static smolweb_status resolve_merge(tok_model *m, const byte_alphabet *al, uint32_t i, str_ref a, str_ref b, uint32_t out[2],
                                    int *keep, sw_error *err) {
    int64_t ia = vocab_lookup(m, a), ib = vocab_lookup(m, b);
    if (ia < 0 || ib < 0) {
        str_ref bad = ia < 0 ? a : b;
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: merge %u: token \"%.*s\" is not in the vocabulary", m->src, i,
                            (int)(bad.len > 64 ? 64 : bad.len), bad.s);
    }
    size_t n = (size_t)a.len + b.len;
    char *cat = malloc(n ? n : 1);
    uint8_t *dec = malloc(n ? n : 1);
    if (!cat || !dec) {
        free(cat);
        free(dec);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", m->src);
    }
    memcpy(cat, a.s, a.len);
    memcpy(cat + a.len, b.s, b.len);
    int64_t ic = vocab_lookup(m, (str_ref){cat, (uint32_t)n});
    size_t dl;
    int kind_c = byte_level_decode(al, (const uint8_t *)cat, n, dec, &dl);
    int kind_a = byte_level_decode(al, (const uint8_t *)a.s, a.len, dec, &dl);
    int kind_b = byte_level_decode(al, (const uint8_t *)b.s, b.len, dec, &dl);
    free(cat);
    free(dec);
    if (ic < 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: merge %u: \"%.*s\" + \"%.*s\" is not in the vocabulary", m->src, i,
                            (int)(a.len > 64 ? 64 : a.len), a.s, (int)(b.len > 64 ? 64 : b.len), b.s);
    out[0] = (uint32_t)ia;
    out[1] = (uint32_t)ib;
    *keep = kind_a == SW_TOK_KIND_BYTES && kind_b == SW_TOK_KIND_BYTES && kind_c == SW_TOK_KIND_BYTES;
    return SMOLWEB_OK;
}

/* A pair listed twice keeps only its later rank (the reference's merge map
 * is built by inserting in order, so the later entry wins). */
static smolweb_status drop_repeated_merges(tok_model *m, sw_error *err) {
    size_t cap = 16;
    while (cap < (size_t)m->n_merges * 2) cap <<= 1;
    uint64_t *seen = malloc(sizeof(uint64_t) * cap);
    if (!seen) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", m->src);
    memset(seen, 0xFF, sizeof(uint64_t) * cap);
    uint8_t *drop = calloc(m->n_merges ? m->n_merges : 1, 1);
    if (!drop) {
        free(seen);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", m->src);
    }
    for (uint32_t r = m->n_merges; r-- > 0;) { /* from the end: the first seen is the last listed */
        uint64_t key = (uint64_t)m->merges[r][0] << 32 | m->merges[r][1];
        size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & (cap - 1);
        while (seen[i] != UINT64_MAX && seen[i] != key) i = (i + 1) & (cap - 1);
        if (seen[i] == key) drop[r] = 1;
        seen[i] = key;
    }
    uint32_t n = 0;
    for (uint32_t r = 0; r < m->n_merges; r++)
        if (!drop[r]) {
            m->merges[n][0] = m->merges[r][0];
            m->merges[n][1] = m->merges[r][1];
            n++;
        }
    m->n_merges = n;
    free(seen);
    free(drop);
    return SMOLWEB_OK;
}

/* Added tokens: empty or repeated contents are ignored, and a content that
 * is a vocabulary token takes that token's id, as the reference's
 * AddedVocabulary does. */
static smolweb_status check_added(tok_model *m, sw_error *err) {
    uint32_t n = 0;
    for (uint32_t k = 0; k < m->n_added; k++) {
        added_in a = m->added[k];
        if (a.content.len == 0) continue;
        int dup = 0;
        for (uint32_t j = 0; j < n && !dup; j++) dup = strref_cmp(m->added[j].content, a.content) == 0;
        if (dup) continue;
        int64_t vid = vocab_lookup(m, a.content);
        if (vid >= 0) a.id = vid;
        if (a.id < 0 || a.id >= (int64_t)SW_TOK_MAX_IDS)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: added token \"%.*s\" has id %lld out of range", m->src,
                                (int)(a.content.len > 64 ? 64 : a.content.len), a.content.s, (long long)a.id);
        for (uint32_t j = 0; j < n; j++)
            if (m->added[j].id == a.id)
                return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: added tokens \"%.*s\" and \"%.*s\" share id %lld", m->src,
                                    (int)(m->added[j].content.len > 64 ? 64 : m->added[j].content.len), m->added[j].content.s,
                                    (int)(a.content.len > 64 ? 64 : a.content.len), a.content.s, (long long)a.id);
        m->added[n++] = a;
    }
    m->n_added = n;
    if (n > SW_TOK_MAX_ADDED) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: %u added tokens (max %u)", m->src, n, SW_TOK_MAX_ADDED);
    return SMOLWEB_OK;
}

static smolweb_status serialize(const tok_model *m, uint8_t **out, size_t *out_len, sw_error *err) {
    byte_alphabet al;
    alphabet_init(&al);
    obuf o = {0};
    uint8_t header[SW_TOK_HEADER_SIZE] = {0};
    ob_put(&o, header, sizeof header);
    size_t maxlen = 1;
    for (uint32_t id = 0; id < m->n_vocab; id++)
        if (m->tok[id].len > maxlen) maxlen = m->tok[id].len;
    for (uint32_t k = 0; k < m->n_added; k++)
        if (m->added[k].content.len > maxlen) maxlen = m->added[k].content.len;
    uint8_t *dec = malloc(maxlen);
    if (!dec) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", m->src);
    for (uint32_t id = 0; id < m->n_vocab; id++) {
        const str_ref *s = &m->tok[id];
        if (!s->s) {
            ob_varint(&o, SW_TOK_KIND_NONE);
            continue;
        }
        size_t dl;
        int kind = byte_level_decode(&al, (const uint8_t *)s->s, s->len, dec, &dl);
        if (kind == SW_TOK_KIND_BYTES && dl == 0) kind = SW_TOK_KIND_RAW; /* "" cannot be a BPE symbol */
        if (dl > 0x3FFFFFFFu) {
            free(dec);
            free(o.p);
            return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: token %u is too long", m->src, id);
        }
        ob_varint(&o, (uint32_t)dl * 4 + (uint32_t)kind);
        ob_put(&o, dec, dl);
    }
    size_t vocab_end = o.n;
    uint32_t w = m->n_vocab <= 65536 ? 2 : 4;
    for (uint32_t r = 0; r < m->n_merges; r++)
        for (int k = 0; k < 2; k++) {
            if (w == 2) {
                ob_u8(&o, (uint8_t)m->merges[r][k]);
                ob_u8(&o, (uint8_t)(m->merges[r][k] >> 8));
            } else {
                ob_u32(&o, m->merges[r][k]);
            }
        }
    size_t merges_end = o.n;
    for (uint32_t k = 0; k < m->n_added; k++) {
        const added_in *a = &m->added[k];
        size_t dl;
        (void)byte_level_decode(&al, (const uint8_t *)a->content.s, a->content.len, dec, &dl);
        ob_u32(&o, (uint32_t)a->id);
        ob_u8(&o, a->flags);
        ob_varint(&o, a->content.len);
        ob_put(&o, a->content.s, a->content.len);
        ob_varint(&o, (uint32_t)dl);
        ob_put(&o, dec, dl);
    }
    free(dec);
    if (o.oom || o.n > 0xFFFFFFFFu) {
        free(o.p);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory packing the tokenizer", m->src);
    }
    uint8_t *h = o.p;
    memcpy(h, SW_TOK_MAGIC, 4);
    put32_at(h + 4, SW_TOK_VERSION);
    put32_at(h + 8, SW_TOK_HEADER_SIZE);
    put32_at(h + 12, SW_TOK_MODEL_BYTE_BPE);
    put32_at(h + 16, m->pre_flags);
    put32_at(h + 20, m->model_flags);
    put32_at(h + 24, m->n_vocab);
    put32_at(h + 28, m->n_merges);
    put32_at(h + 32, m->n_added);
    put32_at(h + 36, (uint32_t)m->unk_id);
    put32_at(h + 40, (uint32_t)(vocab_end - SW_TOK_HEADER_SIZE));
    put32_at(h + 44, (uint32_t)(merges_end - vocab_end));
    put32_at(h + 48, (uint32_t)(o.n - merges_end));
    put32_at(h + 52, w);
    *out = o.p;
    *out_len = o.n;
    return SMOLWEB_OK;
}

/* Everything after the strings are collected: index, merges, added, bytes. */
static smolweb_status finish_model(tok_model *m, uint8_t **out, size_t *out_len, sw_error *err) {
    smolweb_status st = drop_repeated_merges(m, err);
    if (!st) st = check_added(m, err);
    if (!st) st = serialize(m, out, out_len, err);
    return st;
}

/* ---- meta ---- */

static void meta_init(sw_tok_meta *meta) {
    memset(meta, 0, sizeof *meta);
    meta->bos_id = meta->eos_id = meta->pad_id = -1;
}

void sw_tok_meta_clear(sw_tok_meta *meta) {
    if (!meta) return;
    free(meta->chat_template);
    meta->chat_template = NULL;
}

static void add_stop(sw_tok_meta *meta, int id) {
    if (id < 0) return;
    for (int i = 0; i < meta->n_stop; i++)
        if (meta->stop_ids[i] == id) return;
    if (meta->n_stop < (int)(sizeof meta->stop_ids / sizeof meta->stop_ids[0])) meta->stop_ids[meta->n_stop++] = id;
}

static char *dup_str(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Id of a token string: an added token's content first, then the vocabulary. */
static int token_id_of(const tok_model *m, const char *s) {
    str_ref r = {s, (uint32_t)strlen(s)};
    for (uint32_t k = 0; k < m->n_added; k++)
        if (strref_cmp(m->added[k].content, r) == 0) return (int)m->added[k].id;
    int64_t id = vocab_lookup(m, r);
    return id < 0 ? -1 : (int)id;
}

/* Stop ids: the eos token, and <|im_end|> when the template is ChatML
 * (chat turns end with it even when eos is another token). */
static void finish_meta(const tok_model *m, sw_tok_meta *meta) {
    uint32_t n_ids = m->n_vocab;
    for (uint32_t k = 0; k < m->n_added; k++)
        if ((uint32_t)m->added[k].id + 1 > n_ids) n_ids = (uint32_t)m->added[k].id + 1;
    meta->vocab_size = (int)n_ids;
    add_stop(meta, meta->eos_id);
    if (meta->chat_template && strstr(meta->chat_template, "<|im_end|>")) add_stop(meta, token_id_of(m, "<|im_end|>"));
}

/* ---- Hugging Face folder ---- */

static smolweb_status read_file(const char *path, char **out, size_t *len, sw_error *err) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    smolweb_status st = buf ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
    while (!st) {
        if (n == cap) {
            char *nb = cap > SIZE_MAX / 4 ? NULL : realloc(buf, cap * 2 + 1);
            if (!nb) {
                st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return SMOLWEB_OK;
}

static smolweb_status parse_json(const char *path, const char *text, size_t len, cJSON **out, sw_error *err) {
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (*out) return SMOLWEB_OK;
    size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: not valid JSON (near byte %zu)", path, at);
}

static const char *type_of(const cJSON *o) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    return cJSON_IsString(t) ? t->valuestring : "(no type)";
}

/* A boolean field: absent or null gives def; another type is an error. */
static int get_bool(const cJSON *o, const char *key, int def, int *bad) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return def;
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    *bad = 1;
    return def;
}

static smolweb_status parse_byte_level(const char *path, const cJSON *p, uint32_t *flags, sw_error *err) {
    int bad = 0;
    if (get_bool(p, "use_regex", 1, &bad)) *flags |= SW_TOK_PRE_REGEX;
    if (get_bool(p, "add_prefix_space", 1, &bad)) *flags |= SW_TOK_PRE_PREFIX_SPACE;
    if (bad) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: ByteLevel pre-tokenizer has a non-boolean option", path);
    return SMOLWEB_OK;
}

/* Supported: ByteLevel, or Sequence [Digits, ByteLevel] / [ByteLevel]. */
static smolweb_status parse_pre_tokenizer(const char *path, const cJSON *p, uint32_t *flags, sw_error *err) {
    *flags = 0;
    if (!p || cJSON_IsNull(p))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: no pre-tokenizer: only byte-level BPE is supported", path);
    const char *type = type_of(p);
    if (strcmp(type, "ByteLevel") == 0) return parse_byte_level(path, p, flags, err);
    if (strcmp(type, "Sequence") != 0)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: pre-tokenizer %s is not supported (ByteLevel, optionally after Digits)", path, type);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers");
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
    if (n < 1 || n > 2) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: pre-tokenizer Sequence of %d steps is not supported (ByteLevel, optionally after Digits)", path, n);
    for (int i = 0; i < n; i++) {
        const cJSON *step = cJSON_GetArrayItem(list, i);
        const char *st = type_of(step);
        int last = i == n - 1;
        if (last && strcmp(st, "ByteLevel") == 0) return parse_byte_level(path, step, flags, err);
        if (!last && strcmp(st, "Digits") == 0) {
            int bad = 0;
            *flags |= SW_TOK_PRE_DIGITS;
            if (get_bool(step, "individual_digits", 0, &bad)) *flags |= SW_TOK_PRE_DIGITS_INDIVIDUAL;
            if (bad) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: Digits individual_digits is not a boolean", path);
            continue;
        }
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: pre-tokenizer %s at step %d of the Sequence is not supported (ByteLevel, optionally after Digits)", path, st, i);
    }
    return SMOLWEB_OK; /* not reached */
}

static smolweb_status check_normalizer_decoder(const char *path, const cJSON *root, sw_error *err) {
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    if (norm && !cJSON_IsNull(norm)) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(norm, "normalizers");
        int empty_seq = strcmp(type_of(norm), "Sequence") == 0 && cJSON_IsArray(list) && cJSON_GetArraySize(list) == 0;
        if (!empty_seq) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: normalizer %s is not supported (none)", path, type_of(norm));
    }
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    if (!dec || cJSON_IsNull(dec)) return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: no decoder: only the ByteLevel decoder is supported", path);
    if (strcmp(type_of(dec), "ByteLevel") != 0)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: decoder %s is not supported (ByteLevel)", path, type_of(dec));
    return SMOLWEB_OK;
}

/* A string option that must be null or empty for byte-level BPE. */
static int set_and_nonempty(const cJSON *model, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    return v && !cJSON_IsNull(v) && !(cJSON_IsString(v) && v->valuestring[0] == '\0');
}

static smolweb_status parse_model_options(const char *path, const cJSON *model, tok_model *m, sw_error *err) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (type && (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE") != 0))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: model type %s is not supported (only BPE)", path,
                            cJSON_IsString(type) ? type->valuestring : "(not a string)");
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0.0))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: BPE dropout is not supported", path);
    if (set_and_nonempty(model, "continuing_subword_prefix"))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: BPE continuing_subword_prefix is not supported", path);
    if (set_and_nonempty(model, "end_of_word_suffix"))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: BPE end_of_word_suffix is not supported", path);
    int bad = 0;
    if (get_bool(model, "ignore_merges", 0, &bad)) m->model_flags |= SW_TOK_MODEL_IGNORE_MERGES;
    if (get_bool(model, "byte_fallback", 0, &bad)) m->model_flags |= SW_TOK_MODEL_BYTE_FALLBACK;
    if (get_bool(model, "fuse_unk", 0, &bad)) m->model_flags |= SW_TOK_MODEL_FUSE_UNK;
    if (bad) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: a BPE boolean option is not a boolean", path);
    return SMOLWEB_OK;
}

static smolweb_status parse_vocab(const char *path, const cJSON *model, tok_model *m, sw_error *err) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab)) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: model has no vocab object", path);
    int64_t max_id = -1;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= SW_TOK_MAX_IDS || e->valuedouble != (double)(int64_t)e->valuedouble)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: vocab entry \"%.64s\" has no valid id", path, e->string ? e->string : "");
        if ((int64_t)e->valuedouble > max_id) max_id = (int64_t)e->valuedouble;
    }
    if (max_id < 0) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: vocab is empty", path);
    m->n_vocab = (uint32_t)max_id + 1;
    m->tok = calloc(m->n_vocab, sizeof(str_ref));
    if (!m->tok) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
    for (const cJSON *e = vocab->child; e; e = e->next) {
        uint32_t id = (uint32_t)e->valuedouble;
        if (m->tok[id].s)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: id %u is given to \"%.64s\" and \"%.64s\"", path, id, m->tok[id].s, e->string);
        m->tok[id] = (str_ref){e->string, (uint32_t)strlen(e->string)};
    }
    return index_vocab(m, err);
}

static smolweb_status parse_merges(const char *path, const cJSON *model, tok_model *m, sw_error *err) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsArray(merges)) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: model has no merges array", path);
    int n = cJSON_GetArraySize(merges);
    m->merges = malloc(sizeof(uint32_t[2]) * (size_t)(n ? n : 1));
    if (!m->merges) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
    byte_alphabet al;
    alphabet_init(&al);
    uint32_t i = 0, kept = 0;
    for (const cJSON *e = merges->child; e; e = e->next, i++) {
        str_ref a, b;
        if (cJSON_IsString(e)) { /* "a b" */
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: merge %u \"%.64s\" is not two tokens", path, i, e->valuestring);
            a = (str_ref){e->valuestring, (uint32_t)(sp - e->valuestring)};
            b = (str_ref){sp + 1, (uint32_t)strlen(sp + 1)};
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) && cJSON_IsString(e->child->next)) {
            a = (str_ref){e->child->valuestring, (uint32_t)strlen(e->child->valuestring)};
            b = (str_ref){e->child->next->valuestring, (uint32_t)strlen(e->child->next->valuestring)};
        } else {
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: merge %u is neither \"a b\" nor [a, b]", path, i);
        }
        int keep;
        smolweb_status st = resolve_merge(m, &al, i, a, b, m->merges[kept], &keep, err);
        if (st) return st;
        kept += (uint32_t)keep;
    }
    m->n_merges = kept;
    return SMOLWEB_OK;
}

static smolweb_status parse_added(const char *path, const cJSON *root, tok_model *m, sw_error *err) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!list || cJSON_IsNull(list)) return SMOLWEB_OK;
    if (!cJSON_IsArray(list)) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: added_tokens is not an array", path);
    int n = cJSON_GetArraySize(list);
    m->added = calloc((size_t)(n ? n : 1), sizeof(added_in));
    if (!m->added) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
    uint32_t k = 0;
    for (const cJSON *e = list->child; e; e = e->next, k++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(content))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: added token %u has no id or content", path, k);
        int bad = 0, special = get_bool(e, "special", 0, &bad);
        uint8_t flags = (uint8_t)((special ? SW_TOK_ADDED_SPECIAL : 0) | (get_bool(e, "single_word", 0, &bad) ? SW_TOK_ADDED_SINGLE_WORD : 0) |
                                  (get_bool(e, "lstrip", 0, &bad) ? SW_TOK_ADDED_LSTRIP : 0) |
                                  (get_bool(e, "rstrip", 0, &bad) ? SW_TOK_ADDED_RSTRIP : 0) |
                                  (get_bool(e, "normalized", !special, &bad) ? SW_TOK_ADDED_NORMALIZED : 0));
        if (bad) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: added token %u has a non-boolean flag", path, k);
        double v = id->valuedouble;
        m->added[k].id = v >= 0 && v < (double)SW_TOK_MAX_IDS ? (int64_t)v : -1;
        m->added[k].content = (str_ref){content->valuestring, (uint32_t)strlen(content->valuestring)};
        m->added[k].flags = flags;
    }
    m->n_added = k;
    return SMOLWEB_OK;
}

/* "x" or {"content": "x"} (tokenizer_config.json writes both). */
static const char *token_string(const cJSON *v) {
    if (cJSON_IsString(v)) return v->valuestring;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

static smolweb_status read_config(const char *dir, const tok_model *m, sw_tok_meta *meta, sw_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    char *text;
    size_t len;
    sw_error e2;
    if (read_file(path, &text, &len, &e2) != SMOLWEB_OK) return e2.status == SMOLWEB_ERR_MISSING ? SMOLWEB_OK : sw_error_set(err, e2.status, "%s", e2.msg);
    cJSON *cfg;
    smolweb_status st = parse_json(path, text, len, &cfg, err);
    free(text);
    if (st) return st;
    const char *s;
    if ((s = token_string(cJSON_GetObjectItemCaseSensitive(cfg, "bos_token")))) meta->bos_id = token_id_of(m, s);
    if ((s = token_string(cJSON_GetObjectItemCaseSensitive(cfg, "eos_token")))) meta->eos_id = token_id_of(m, s);
    if ((s = token_string(cJSON_GetObjectItemCaseSensitive(cfg, "pad_token")))) meta->pad_id = token_id_of(m, s);
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
    const char *ts = NULL;
    if (cJSON_IsString(tmpl)) ts = tmpl->valuestring;
    else if (cJSON_IsArray(tmpl)) { /* [{"name": ..., "template": ...}]: the one named default */
        for (const cJSON *e = tmpl->child; e; e = e->next) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name"), *t = cJSON_GetObjectItemCaseSensitive(e, "template");
            if (cJSON_IsString(t) && (!ts || (cJSON_IsString(name) && strcmp(name->valuestring, "default") == 0))) ts = t->valuestring;
        }
    }
    if (ts && !(meta->chat_template = dup_str(ts, strlen(ts)))) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
    cJSON_Delete(cfg);
    return st;
}

smolweb_status sw_tokpack_from_hf_dir(const char *dir, uint8_t **out, size_t *out_len, sw_tok_meta *meta, sw_error *err) {
    *out = NULL;
    *out_len = 0;
    meta_init(meta);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/tokenizer.json", dir) >= sizeof path)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", dir);
    char *text;
    size_t len;
    smolweb_status st = read_file(path, &text, &len, err);
    if (st) return st;
    cJSON *root = NULL;
    st = parse_json(path, text, len, &root, err);
    free(text);
    if (st) return st;
    tok_model m;
    memset(&m, 0, sizeof m);
    m.src = path;
    m.unk_id = -1;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) st = sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: no model object", path);
    if (!st) st = parse_model_options(path, model, &m, err);
    if (!st) st = check_normalizer_decoder(path, root, err);
    if (!st) st = parse_pre_tokenizer(path, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &m.pre_flags, err);
    if (!st) st = parse_vocab(path, model, &m, err);
    if (!st) {
        const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
        if (cJSON_IsString(unk)) {
            int64_t id = vocab_lookup(&m, (str_ref){unk->valuestring, (uint32_t)strlen(unk->valuestring)});
            if (id < 0) st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: unk_token \"%.64s\" is not in the vocabulary", path, unk->valuestring);
            m.unk_id = (int32_t)id;
        }
    }
    if (!st) st = parse_merges(path, model, &m, err);
    if (!st) st = parse_added(path, root, &m, err);
    if (!st) st = finish_model(&m, out, out_len, err);
    if (!st) st = read_config(dir, &m, meta, err);
    if (!st) finish_meta(&m, meta);
    model_free(&m);
    cJSON_Delete(root);
    if (st) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        sw_tok_meta_clear(meta);
    }
    return st;
}

/* ---- GGUF ---- */

static smolweb_status gguf_pre_flags(const sw_gguf *g, uint32_t *flags, sw_error *err) {
    const char *pre = NULL;
    if (!sw_gguf_get_str(g, "tokenizer.ggml.pre", &pre))
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "gguf: tokenizer.ggml.pre is missing; cannot tell the pre-tokenizer (smollm or gpt2 supported)");
    if (strcmp(pre, "smollm") == 0) *flags = SW_TOK_PRE_DIGITS | SW_TOK_PRE_DIGITS_INDIVIDUAL | SW_TOK_PRE_REGEX;
    else if (strcmp(pre, "gpt2") == 0) *flags = SW_TOK_PRE_REGEX;
    else return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "gguf: tokenizer.ggml.pre \"%.64s\" is not supported (smollm or gpt2)", pre);
    return SMOLWEB_OK;
}

static int gguf_id(const sw_gguf *g, const char *key) {
    int64_t v;
    return sw_gguf_get_int(g, key, &v) && v >= 0 && v < (int64_t)SW_TOK_MAX_IDS ? (int)v : -1;
}

smolweb_status sw_tokpack_from_gguf(const sw_gguf *g, uint8_t **out, size_t *out_len, sw_tok_meta *meta, sw_error *err) {
    *out = NULL;
    *out_len = 0;
    meta_init(meta);
    const char *model_name = NULL;
    if (!sw_gguf_get_str(g, "tokenizer.ggml.model", &model_name))
        return sw_error_set(err, SMOLWEB_ERR_MISSING, "gguf: tokenizer.ggml.model is missing");
    if (strcmp(model_name, "gpt2") != 0)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "gguf: tokenizer.ggml.model \"%.64s\" is not supported (only gpt2, byte-level BPE)", model_name);
    tok_model m;
    memset(&m, 0, sizeof m);
    m.src = "gguf";
    m.unk_id = -1;
    smolweb_status st = gguf_pre_flags(g, &m.pre_flags, err);
    size_t n_tok = 0, n_merge = 0, n_type = 0;
    const char *const *toks = NULL, *const *merges = NULL;
    const uint32_t *tok_lens = NULL, *merge_lens = NULL;
    const int64_t *types = NULL;
    if (!st && !sw_gguf_get_str_array(g, "tokenizer.ggml.tokens", &n_tok, &toks, &tok_lens))
        st = sw_error_set(err, SMOLWEB_ERR_MISSING, "gguf: tokenizer.ggml.tokens is missing");
    if (!st && (n_tok == 0 || n_tok > SW_TOK_MAX_IDS)) st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "gguf: %zu tokens (1..%u)", n_tok, SW_TOK_MAX_IDS);
    if (!st && !sw_gguf_get_str_array(g, "tokenizer.ggml.merges", &n_merge, &merges, &merge_lens))
        st = sw_error_set(err, SMOLWEB_ERR_MISSING, "gguf: tokenizer.ggml.merges is missing");
    if (!st && sw_gguf_get_int_array(g, "tokenizer.ggml.token_type", &n_type, &types) && n_type != n_tok)
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "gguf: %zu token types for %zu tokens", n_type, n_tok);
    if (!st) {
        m.n_vocab = (uint32_t)n_tok;
        m.tok = calloc(n_tok, sizeof(str_ref));
        m.merges = malloc(sizeof(uint32_t[2]) * (n_merge ? n_merge : 1));
        m.added = calloc(n_tok, sizeof(added_in));
        if (!m.tok || !m.merges || !m.added) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "gguf: out of memory");
    }
    for (size_t i = 0; !st && i < n_tok; i++) {
        m.tok[i] = (str_ref){toks[i], tok_lens[i]};
        int64_t type = types ? types[i] : 1;
        if (type == 3 || type == 4) { /* control -> special added token; user defined -> added token */
            added_in *a = &m.added[m.n_added++];
            a->content = m.tok[i];
            a->id = (int64_t)i;
            a->flags = type == 3 ? SW_TOK_ADDED_SPECIAL : SW_TOK_ADDED_NORMALIZED;
        }
    }
    if (!st) st = index_vocab(&m, err);
    byte_alphabet al;
    alphabet_init(&al);
    uint32_t kept = 0;
    for (size_t i = 0; !st && i < n_merge; i++) {
        const char *sp = memchr(merges[i], ' ', merge_lens[i]);
        if (!sp) {
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "gguf: merge %zu \"%.64s\" is not two tokens", i, merges[i]);
            break;
        }
        str_ref a = {merges[i], (uint32_t)(sp - merges[i])}, b = {sp + 1, (uint32_t)(merge_lens[i] - a.len - 1)};
        int keep;
        st = resolve_merge(&m, &al, (uint32_t)i, a, b, m.merges[kept], &keep, err);
        kept += (uint32_t)keep;
    }
    m.n_merges = kept;
    if (!st) st = finish_model(&m, out, out_len, err);
    if (!st) {
        const char *tmpl;
        meta->bos_id = gguf_id(g, "tokenizer.ggml.bos_token_id");
        meta->eos_id = gguf_id(g, "tokenizer.ggml.eos_token_id");
        meta->pad_id = gguf_id(g, "tokenizer.ggml.padding_token_id");
        if (sw_gguf_get_str(g, "tokenizer.chat_template", &tmpl) && !(meta->chat_template = dup_str(tmpl, strlen(tmpl))))
            st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "gguf: out of memory");
    }
    if (!st) {
        finish_meta(&m, meta);
        add_stop(meta, gguf_id(g, "tokenizer.ggml.eot_token_id"));
    }
    model_free(&m);
    if (st) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        sw_tok_meta_clear(meta);
    }
    return st;
}
