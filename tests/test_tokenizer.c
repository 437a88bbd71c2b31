/* test_tokenizer.c: the packed tokenizer and the runtime BPE against the
 * reference (Hugging Face tokenizers, Rust): every case of
 * shared/fixtures/tokenizer_cases.jsonl must encode to exactly its ids and
 * decode back; random Unicode round trips; streaming decode; invalid UTF-8,
 * NUL and tokenless bytes; speed; and exact errors for bad packed bytes and
 * bad tokenizer.json files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gguf.h"
#include "tokenizer.h"
#include "tokenizer_format.h"
#include "tokpack.h"
#include "unicode.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static int g_fail = 0, g_pass = 0;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (cond) g_pass++;                               \
        else {                                            \
            g_fail++;                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                 \
            fputc('\n', stderr);                          \
        }                                                 \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char g_shared[4096];

static void find_shared(void) {
    const char *env = getenv("SMOLWEB_SHARED");
    if (env && *env) {
        snprintf(g_shared, sizeof g_shared, "%s", env);
        return;
    }
    const char *src = getenv("SMOLWEB_SRC");
    snprintf(g_shared, sizeof g_shared, "%s/../shared", src && *src ? src : ".");
}

/* ---- helpers ---- */

typedef struct bytes {
    uint8_t *p;
    size_t n, cap;
} bytes;

static void b_put(bytes *b, const void *s, size_t n) {
    if (n == 0) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void b_utf8(bytes *b, uint32_t cp) {
    uint8_t u[4];
    b_put(b, u, sw_utf8_encode(cp, u));
}

/* Decodes the JSON string value of key in a JSON object line, keeping every
 * byte (cJSON strings stop at NUL, and the fixtures hold NUL). Only the
 * shape the fixtures use: a top-level "key": "string" member. */
static int json_member_string(const char *line, const char *key, bytes *out) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p) return 0;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p++ != '"') return 0;
    out->n = 0;
    while (*p && *p != '"') {
        if (*p != '\\') {
            b_put(out, p++, 1);
            continue;
        }
        p++;
        const char *simple = "\"\\/bfnrt", *value = "\"\\/\b\f\n\r\t", *k = strchr(simple, *p);
        if (*p && k) {
            b_put(out, value + (k - simple), 1);
            p++;
            continue;
        }
        if (*p != 'u') return 0;
        unsigned cp, lo;
        if (sscanf(p + 1, "%4x", &cp) != 1) return 0;
        p += 5;
        if (cp >= 0xD800 && cp <= 0xDBFF && p[0] == '\\' && p[1] == 'u' && sscanf(p + 2, "%4x", &lo) == 1) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        b_utf8(out, cp);
    }
    return *p == '"';
}

static int is_tokenless(uint8_t c) {
    static const uint8_t none[] = {0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xF1, 0xF2};
    for (size_t i = 0; i < sizeof none; i++)
        if (c == none[i]) return 1;
    return 0;
}

static int valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = sw_utf8_next(s + i, n - i, &cp);
        if (cp == SW_UTF8_INVALID) return 0;
        i += l;
    }
    return 1;
}

static int32_t *encode(const sw_tokenizer *t, const void *text, size_t len, size_t *n) {
    int32_t *ids;
    sw_error err;
    if (sw_tokenizer_encode_alloc(t, text, len, &ids, n, &err) != SMOLWEB_OK) {
        fprintf(stderr, "encode failed: %s\n", err.msg);
        abort();
    }
    return ids;
}

static uint8_t *decode(const sw_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, size_t *len) {
    sw_error err;
    size_t need;
    if (sw_tokenizer_decode(t, ids, n, flags, NULL, 0, &need, &err)) abort();
    uint8_t *out = malloc(need + 1);
    if (!out || sw_tokenizer_decode(t, ids, n, flags, out, need, len, &err) || *len != need) abort();
    return out;
}

/* Streams ids one by one; checks each piece is whole UTF-8 chars (lossy
 * mode) and returns the concatenation. */
static uint8_t *stream_decode(const sw_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, size_t *len, int *partial) {
    sw_decode_stream *s = sw_decode_stream_create(t, flags);
    bytes all = {0};
    sw_error err;
    const uint8_t *out;
    size_t ol;
    *partial = 0;
    for (size_t i = 0; i < n; i++) {
        if (sw_decode_stream_put(s, ids[i], &out, &ol, &err)) abort();
        if ((flags & SW_DECODE_LOSSY) && !valid_utf8(out, ol)) *partial = 1;
        b_put(&all, out, ol);
    }
    if (sw_decode_stream_flush(s, &out, &ol, &err)) abort();
    b_put(&all, out, ol);
    sw_decode_stream_free(s);
    *len = all.n;
    b_put(&all, "", 1);
    return all.p;
}

static const char *show(const uint8_t *s, size_t n) {
    static char buf[200];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof buf - 8; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7F) buf[k++] = (char)s[i];
        else k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", s[i]);
    }
    buf[k] = 0;
    return buf;
}

/* ---- fixtures ---- */

typedef struct fixture {
    bytes text;
    int32_t *ids;
    size_t n_ids;
} fixture;

static fixture *load_fixtures(size_t *count) {
    char path[4200];
    snprintf(path, sizeof path, "%s/fixtures/tokenizer_cases.jsonl", g_shared);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fixture *fx = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        if (n == cap) fx = realloc(fx, sizeof *fx * (cap = cap * 2 + 16));
        fixture *x = &fx[n];
        memset(x, 0, sizeof *x);
        if (!json_member_string(line, "text", &x->text)) {
            fprintf(stderr, "bad fixture line %zu\n", n + 1);
            exit(1);
        }
        cJSON *o = cJSON_Parse(line);
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(o, "ids");
        x->n_ids = (size_t)cJSON_GetArraySize(ids);
        x->ids = malloc(sizeof(int32_t) * (x->n_ids + 1));
        size_t i = 0;
        for (const cJSON *e = ids ? ids->child : NULL; e; e = e->next) x->ids[i++] = (int32_t)e->valuedouble;
        cJSON_Delete(o);
        n++;
    }
    free(line);
    fclose(f);
    *count = n;
    return fx;
}

static void test_fixtures(const sw_tokenizer *t, const fixture *fx, size_t n) {
    size_t bad_enc = 0, bad_dec = 0, bad_stream = 0;
    for (size_t c = 0; c < n; c++) {
        const fixture *x = &fx[c];
        size_t m;
        int32_t *ids = encode(t, x->text.p, x->text.n, &m);
        int same = m == x->n_ids && (m == 0 || memcmp(ids, x->ids, m * sizeof *ids) == 0);
        if (!same) {
            bad_enc++;
            fprintf(stderr, "  case %zu \"%s\": %zu ids, expected %zu\n", c + 1, show(x->text.p, x->text.n < 60 ? x->text.n : 60), m, x->n_ids);
        }
        /* decode(ids) is the text minus the bytes no token has */
        bytes want = {0};
        for (size_t i = 0; i < x->text.n; i++)
            if (!is_tokenless(x->text.p[i])) b_put(&want, &x->text.p[i], 1);
        size_t dl, sl;
        uint8_t *dec = decode(t, x->ids, x->n_ids, 0, &dl);
        if (dl != want.n || (dl && memcmp(dec, want.p, dl) != 0)) bad_dec++;
        uint8_t *lossy = decode(t, x->ids, x->n_ids, SW_DECODE_LOSSY, &sl);
        if (sl != want.n || (sl && memcmp(lossy, want.p, sl) != 0)) bad_dec++;
        int partial;
        uint8_t *st = stream_decode(t, x->ids, x->n_ids, SW_DECODE_LOSSY, &sl, &partial);
        if (partial || sl != dl || (sl && memcmp(st, dec, sl) != 0)) bad_stream++;
        free(st);
        free(lossy);
        free(dec);
        free(want.p);
        free(ids);
    }
    CHECK(bad_enc == 0, "%zu of %zu fixture cases encode differently from the reference", bad_enc, n);
    CHECK(bad_dec == 0, "%zu fixture decodes differ from the text", bad_dec);
    CHECK(bad_stream == 0, "%zu fixture stream decodes differ or emit partial chars", bad_stream);
    fprintf(stderr, "fixtures: %zu cases, %zu encode mismatches\n", n, bad_enc);
}

/* ---- specific behaviours ---- */

static void expect_pieces(const sw_tokenizer *t, const char *text, size_t len, const char *const *pieces, size_t n_pieces) {
    size_t n;
    int32_t *ids = encode(t, text, len, &n);
    int ok = n == n_pieces;
    for (size_t i = 0; ok && i < n; i++) {
        size_t pl;
        const uint8_t *p = sw_tokenizer_piece(t, ids[i], &pl);
        ok = p && pl == strlen(pieces[i]) && memcmp(p, pieces[i], pl) == 0;
    }
    CHECK(ok, "\"%s\" gives %zu tokens, expected %zu pieces", show((const uint8_t *)text, len), n, n_pieces);
    free(ids);
}

/* encode(a + b + c) == encode(a) + encode(b) + encode(c): the text splits there. */
static void expect_split(const sw_tokenizer *t, const char *const *parts, size_t n_parts) {
    bytes whole = {0};
    bytes want = {0};
    for (size_t i = 0; i < n_parts; i++) {
        size_t n;
        int32_t *ids = encode(t, parts[i], strlen(parts[i]), &n);
        b_put(&want, ids, n * sizeof *ids);
        b_put(&whole, parts[i], strlen(parts[i]));
        free(ids);
    }
    size_t n;
    int32_t *ids = encode(t, whole.p, whole.n, &n);
    CHECK(n * sizeof *ids == want.n && memcmp(ids, want.p, want.n) == 0, "\"%s\" does not split into its %zu parts", show(whole.p, whole.n),
          n_parts);
    free(ids);
    free(whole.p);
    free(want.p);
}

static void test_specific(const sw_tokenizer *t) {
    /* numbers of Unicode 15/16 (here Kawi digit zero, U+11F50) are numeric for
     * Digits (Rust) though the regex (Unicode 14) sees them as unassigned */
    const char *kawi[] = {"x", " ", "\xF0\x91\xBD\x90", "y"};
    expect_split(t, kawi, 4);
    const char *roman[] = {"Pope", " Leo", " ", "\xE2\x85\xAB", ","};
    expect_split(t, roman, 5);
    /* Digits splits on every Unicode number: ½ is its own piece */
    const char *half[] = {"x", " ", "\xC2\xBD"};
    expect_pieces(t, "x \xC2\xBD", 4, half, 3);
    /* a tokenless byte is dropped and its neighbours merge: "!\x04!" is "!!" */
    size_t n;
    int32_t *ids = encode(t, "!\x04!", 3, &n);
    int32_t bang2 = sw_tokenizer_token_id(t, (const uint8_t *)"!!", 2);
    CHECK(bang2 >= 0 && n == 1 && ids[0] == bang2, "\"!\\x04!\" gives %zu tokens, expected the single token of \"!!\"", n);
    free(ids);
    /* the eight tokenless bytes alone give nothing */
    ids = encode(t, "\x04\x06\x13\x14\x16\x1D\xF1\xF2", 8, &n);
    CHECK(n == 0, "tokenless bytes gave %zu ids", n);
    free(ids);
    /* NUL is an ordinary char with a token (shown as U+0100 in the vocabulary) */
    int32_t nul = sw_tokenizer_token_id(t, (const uint8_t *)"\0", 1);
    ids = encode(t, "a\0b", 3, &n);
    CHECK(nul >= 0 && n == 3 && ids[1] == nul, "\"a\\0b\" gives %zu ids", n);
    size_t dl;
    uint8_t *dec = decode(t, ids, n, 0, &dl);
    CHECK(dl == 3 && memcmp(dec, "a\0b", 3) == 0, "NUL does not round trip");
    free(dec);
    free(ids);
    /* invalid UTF-8: each bad byte is one char of class OTHER (like
     * punctuation), mapped through the byte-level table; raw decoding gives
     * the bytes back, lossy decoding U+FFFD per maximal subpart */
    const char bad[] = "a\x80!? \xC3x \xE2\x82 \xED\xA0\x80z";
    size_t bl = sizeof bad - 1;
    ids = encode(t, bad, bl, &n);
    dec = decode(t, ids, n, 0, &dl);
    CHECK(dl == bl && memcmp(dec, bad, bl) == 0, "invalid UTF-8 does not round trip raw: \"%s\"", show(dec, dl));
    free(dec);
    dec = decode(t, ids, n, SW_DECODE_LOSSY, &dl);
    const char *want = "a\xEF\xBF\xBD!? \xEF\xBF\xBDx \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz";
    CHECK(dl == strlen(want) && memcmp(dec, want, dl) == 0, "lossy decode of invalid UTF-8: \"%s\"", show(dec, dl));
    free(dec);
    free(ids);
    /* the invalid byte joins the punctuation run: "\x80!?" is one word, as "!?" would be */
    size_t n1, n2, n3;
    int32_t *w = encode(t, "a\x80!?", 4, &n1), *a = encode(t, "a", 1, &n2), *p = encode(t, "\x80!?", 3, &n3);
    CHECK(n1 == n2 + n3 && memcmp(w, a, n2 * 4) == 0 && memcmp(w + n2, p, n3 * 4) == 0, "\"a\\x80!?\" does not split as a | \\x80!?");
    free(w);
    free(a);
    free(p);
    /* the space attaches to a following invalid byte as to punctuation */
    const char *sp_inv[] = {" \xC3", "x"};
    expect_pieces(t, " \xC3x", 3, sp_inv, 2);
    /* contractions are lowercase only: "'S" is "'" + "S" */
    const char *caps[] = {"IT", "'", "S"};
    expect_pieces(t, "IT'S", 4, caps, 3);
    /* special tokens: matched in text, decoded as their content, skippable */
    ids = encode(t, "<|im_start|>hi<|im_end|>", 24, &n);
    CHECK(n >= 3 && ids[0] == 1 && ids[n - 1] == 2, "special tokens not matched");
    dec = decode(t, ids, n, SW_DECODE_SKIP_SPECIAL, &dl);
    CHECK(dl == 2 && memcmp(dec, "hi", 2) == 0, "skip-special decode gives \"%s\"", show(dec, dl));
    free(dec);
    dec = decode(t, ids, n, 0, &dl);
    CHECK(dl == 24 && memcmp(dec, "<|im_start|>hi<|im_end|>", 24) == 0, "special tokens decode to \"%s\"", show(dec, dl));
    free(dec);
    free(ids);
    CHECK(sw_tokenizer_is_special(t, 2) && !sw_tokenizer_is_special(t, 100), "is_special");
    CHECK(sw_tokenizer_added_id(t, "<|im_end|>", 10) == 2 && sw_tokenizer_added_id(t, "<|im_end", 8) == -1, "added_id");
    CHECK(sw_tokenizer_vocab_size(t) == 49152, "vocab size %d", sw_tokenizer_vocab_size(t));
    CHECK(sw_tokenizer_piece(t, 49152, &dl) == NULL && sw_tokenizer_piece(t, -1, &dl) == NULL, "piece of a bad id");
    /* unknown ids are skipped by decoding, as the reference's filter_map */
    int32_t unknown[] = {81, 49152, -5, 82};
    dec = decode(t, unknown, 4, 0, &dl);
    CHECK(dl == 2 && memcmp(dec, "ab", 2) == 0, "unknown ids not skipped: \"%s\"", show(dec, dl));
    free(dec);
    /* small caller buffers: the full size is reported, the prefix written */
    int32_t few[2];
    sw_error err;
    CHECK(sw_tokenizer_encode(t, (const uint8_t *)"hello world, again", 18, few, 2, &n, &err) == SMOLWEB_OK && n == 4,
          "encode into a small buffer reports %zu", n);
    CHECK(sw_tokenizer_encode_bound(10) >= 20, "encode bound");
}

static void test_stream(const sw_tokenizer *t) {
    /* "🤖" is three tokens; nothing comes out until the last one */
    size_t n;
    int32_t *ids = encode(t, "\xF0\x9F\xA4\x96", 4, &n);
    CHECK(n == 3, "robot emoji is %zu tokens, expected 3", n);
    sw_decode_stream *s = sw_decode_stream_create(t, SW_DECODE_LOSSY);
    const uint8_t *out;
    size_t ol, total = 0;
    sw_error err;
    for (size_t i = 0; i < n; i++) {
        CHECK(sw_decode_stream_put(s, ids[i], &out, &ol, &err) == SMOLWEB_OK, "put");
        CHECK(i + 1 < n ? ol == 0 : (ol == 4 && memcmp(out, "\xF0\x9F\xA4\x96", 4) == 0), "piece %zu gave %zu bytes", i, ol);
        total += ol;
    }
    sw_decode_stream_flush(s, &out, &ol, &err);
    CHECK(ol == 0 && total == 4, "flush after a complete char gave %zu bytes", ol);
    /* an unfinished char at the end: U+FFFD (lossy) or its raw bytes */
    sw_decode_stream_put(s, ids[0], &out, &ol, &err);
    sw_decode_stream_flush(s, &out, &ol, &err);
    CHECK(ol == 3 && memcmp(out, "\xEF\xBF\xBD", 3) == 0, "lossy flush of a partial char gave %zu bytes", ol);
    sw_decode_stream_free(s);
    s = sw_decode_stream_create(t, 0);
    sw_decode_stream_put(s, ids[0], &out, &ol, &err);
    CHECK(ol == 0, "raw stream emitted a partial char");
    sw_decode_stream_flush(s, &out, &ol, &err);
    size_t pl;
    const uint8_t *piece = sw_tokenizer_piece(t, ids[0], &pl);
    CHECK(ol == pl && memcmp(out, piece, pl) == 0, "raw flush gave %zu bytes", ol);
    /* reset forgets the held bytes */
    sw_decode_stream_put(s, ids[0], &out, &ol, &err);
    sw_decode_stream_reset(s);
    sw_decode_stream_flush(s, &out, &ol, &err);
    CHECK(ol == 0, "reset kept %zu bytes", ol);
    sw_decode_stream_free(s);
    sw_decode_stream_free(NULL);
    free(ids);
}

/* ---- random round trips ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng % n);
}

/* A random code point that is valid UTF-8 and has no tokenless byte: no
 * surrogates, not the controls 0x04 0x06 0x13 0x14 0x16 0x1D, nothing in
 * planes 4..11 (UTF-8 lead bytes 0xF1, 0xF2). */
static uint32_t random_cp(void) {
    static const uint32_t pools[][2] = {
        {0x20, 0x7E},     {0x20, 0x7E},     {0x20, 0x7E},     {'0', '9'},       {0x09, 0x0D},   {0x00, 0x1F},
        {0xA0, 0x24F},    {0x370, 0x3FF},   {0x400, 0x4FF},   {0x590, 0x6FF},   {0x900, 0x97F}, {0xE00, 0xE7F},
        {0x2000, 0x206F}, {0x2150, 0x218F}, {0x2460, 0x24FF}, {0x3000, 0x303F}, {0x3040, 0x30FF}, {0x4E00, 0x9FFF},
        {0xAC00, 0xD7A3}, {0xFF00, 0xFFEF}, {0x1F300, 0x1FAFF}, {0x80, 0x10FFFF}, {0x300, 0x36F}, {0x660, 0x669}};
    for (;;) {
        const uint32_t *p = pools[rnd(sizeof pools / sizeof pools[0])];
        uint32_t cp = p[0] + rnd(p[1] - p[0] + 1);
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        if (cp >= 0x40000 && cp <= 0xBFFFF) continue;
        if (cp < 0x80 && is_tokenless((uint8_t)cp)) continue;
        return cp;
    }
}

static void test_random(const sw_tokenizer *t) {
    static const char *specials[] = {"<|im_end|>", "<|im_start|>", "<|endoftext|>", "<|im_end", "'s", "'ll", " 's"};
    size_t bad = 0, bad_stream = 0, cases = SANITIZED ? 300 : 2000;
    for (size_t c = 0; c < cases; c++) {
        bytes s = {0};
        size_t len = 1 + rnd(c % 10 == 0 ? 400 : 40);
        for (size_t i = 0; i < len; i++) {
            if (rnd(30) == 0) {
                const char *sp = specials[rnd(sizeof specials / sizeof specials[0])];
                b_put(&s, sp, strlen(sp));
            } else if (rnd(8) == 0) {
                b_put(&s, " ", 1);
            } else {
                b_utf8(&s, random_cp());
            }
        }
        size_t n, dl, sl;
        int partial;
        int32_t *ids = encode(t, s.p, s.n, &n);
        uint8_t *dec = decode(t, ids, n, SW_DECODE_LOSSY, &dl);
        if (dl != s.n || memcmp(dec, s.p, dl) != 0) {
            if (bad++ < 3) fprintf(stderr, "  round trip failed: \"%s\"\n", show(s.p, s.n));
        }
        uint8_t *st = stream_decode(t, ids, n, SW_DECODE_LOSSY, &sl, &partial);
        if (partial || sl != dl || memcmp(st, dec, sl) != 0) bad_stream++;
        free(st);
        free(dec);
        free(ids);
        free(s.p);
    }
    CHECK(bad == 0, "%zu of %zu random strings do not round trip", bad, cases);
    CHECK(bad_stream == 0, "%zu random stream decodes differ or emit partial chars", bad_stream);
    /* random bytes: raw decode gives back the input minus tokenless bytes */
    size_t bad_bytes = 0;
    for (size_t c = 0; c < cases / 2; c++) {
        uint8_t buf[64];
        size_t len = 1 + rnd(sizeof buf), n, dl, k = 0;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rnd(256);
        int32_t *ids = encode(t, buf, len, &n);
        uint8_t *dec = decode(t, ids, n, 0, &dl);
        int ok = 1;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = buf[i];
            if (b == 0xC0 || b == 0xC1 || b >= 0xF5 || is_tokenless(b)) continue; /* no token */
            if (k >= dl || dec[k++] != b) ok = 0;
        }
        if (!ok || k != dl) bad_bytes++;
        free(dec);
        free(ids);
    }
    CHECK(bad_bytes == 0, "%zu random byte strings do not decode to their bytes with a token", bad_bytes);
}

/* ---- speed ---- */

static void test_speed(const sw_tokenizer *t, const fixture *fx, size_t n) {
    bytes all = {0};
    for (size_t c = 0; c < n; c++)
        if (fx[c].text.n > 100) b_put(&all, fx[c].text.p, fx[c].text.n);
    size_t target = SANITIZED ? (512u << 10) : (5u << 20);
    bytes big = {0};
    while (big.n < target) b_put(&big, all.p, all.n);
    size_t m;
    double t0 = now_s();
    int32_t *ids = encode(t, big.p, big.n, &m);
    double dt = now_s() - t0;
    double tps = m / (dt > 0 ? dt : 1e-9);
    fprintf(stderr, "speed: %zu bytes -> %zu tokens in %.3f s: %.2f M tokens/s (%.1f MB/s)%s\n", big.n, m, dt, tps / 1e6,
            big.n / dt / 1e6, SANITIZED ? " [sanitizer build]" : "");
    CHECK(tps > (SANITIZED ? 2e4 : 2e5), "encode speed %.0f tokens/s is far below the target", tps);
    size_t dl;
    t0 = now_s();
    uint8_t *dec = decode(t, ids, m, SW_DECODE_LOSSY, &dl);
    dt = now_s() - t0;
    fprintf(stderr, "speed: decode %.1f M tokens/s\n", m / (dt > 0 ? dt : 1e-9) / 1e6);
    free(dec);
    free(ids);
    free(big.p);
    free(all.p);
    /* long single words must not take quadratic time */
    const char *unit[] = {"a", "ab", "eyxayottupjollwoaxoeikdnoevziwxhxjxgrdlfibswkneekjuohtzjcyubhqtqug", "\xE4\xB8\xAD", " "};
    for (size_t u = 0; u < sizeof unit / sizeof unit[0]; u++) {
        bytes w = {0};
        size_t chars = 0;
        while (chars < 2000) {
            b_put(&w, unit[u], strlen(unit[u]));
            chars += strlen(unit[u]) / (unit[u][0] & 0x80 ? 3 : 1);
        }
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            t0 = now_s();
            int32_t *wi = encode(t, w.p, w.n, &m);
            dt = now_s() - t0;
            if (dt < best) best = dt;
            free(wi);
        }
        fprintf(stderr, "speed: 2000-char word of \"%.8s\"...: %.2f ms\n", unit[u], best * 1e3);
        CHECK(best < (SANITIZED ? 0.5 : 0.05), "2000-char word took %.1f ms", best * 1e3);
        free(w.p);
    }
}

/* ---- packed format errors ---- */

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void expect_bad(const uint8_t *b, size_t len, smolweb_status want, const char *msg) {
    sw_error err;
    sw_error_clear(&err);
    sw_tokenizer *t = sw_tokenizer_create(b, len, &err);
    CHECK(!t && err.status == want && strstr(err.msg, msg), "expected \"%s\", got \"%s\"", msg, err.msg);
    sw_tokenizer_free(t);
}

static void test_bad_packed(const uint8_t *good, size_t len) {
    uint8_t *b = malloc(len);
    expect_bad(good, 10, SMOLWEB_ERR_FORMAT, "tokenizer: truncated header (10 bytes)");
    expect_bad(NULL, 0, SMOLWEB_ERR_FORMAT, "tokenizer: truncated header (0 bytes)");
    memcpy(b, good, len);
    b[0] = 'X';
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: bad magic");
    memcpy(b, good, len);
    put32(b + 4, 2);
    expect_bad(b, len, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: version 2 not supported");
    memcpy(b, good, len);
    put32(b + 12, 7);
    expect_bad(b, len, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: model kind 7 not supported");
    memcpy(b, good, len);
    put32(b + 16, 0x40);
    expect_bad(b, len, SMOLWEB_ERR_UNSUPPORTED, "tokenizer: unknown pre-tokenizer flags 0x40");
    memcpy(b, good, len);
    put32(b + 24, 0);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary count 0 out of range");
    memcpy(b, good, len);
    put32(b + 24, (1u << 21) + 1);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary count 2097153 out of range (1..2097152)");
    memcpy(b, good, len);
    put32(b + 28, 0xFFFFFFFFu);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: merge count 4294967295 out of range");
    memcpy(b, good, len);
    put32(b + 28, get32(b + 28) - 1);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: merges section is 195600 bytes, expected 195596");
    memcpy(b, good, len);
    put32(b + 32, 100000);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: added token count 100000 out of range");
    memcpy(b, good, len);
    b[60] = 1;
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: reserved header bytes are not zero");
    expect_bad(good, len - 1, SMOLWEB_ERR_FORMAT, "but the file has");
    /* merge 0's left id out of range, and then a non-token id */
    uint32_t vsize = get32(good + 40);
    memcpy(b, good, len);
    b[64 + vsize] = 0xFF;
    b[64 + vsize + 1] = 0xFF;
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: merge 0: id 65535 out of range");
    /* merge 0 as (0, 0): "<|endoftext|><|endoftext|>" is not a token */
    memcpy(b, good, len);
    memset(b + 64 + vsize, 0, 4);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: merge 0: ids 0 + 0 make no token");
    /* a vocabulary entry with an unknown kind: entry 0 is "<|endoftext|>" (13 bytes, kind 1 -> tag 53) */
    memcpy(b, good, len);
    CHECK(b[64] == 13 * 4 + 1, "vocabulary entry 0 tag %u", b[64]);
    b[64] = 13 * 4 + 3;
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry 0 has unknown kind 3");
    memcpy(b, good, len);
    b[64] = 0x80; /* the varint now takes the entry's first byte: 1920 bytes of kind 0 */
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entry 0 has no token but 1920 bytes");
    /* two entries with the same bytes: ids 17 and 18 are single bytes ("!" and "\"") */
    memcpy(b, good, len);
    size_t off = 64;
    for (int id = 0; id < 17; id++) off += 1 + b[off] / 4;
    CHECK(b[off] == 5 && b[off + 2] == 5, "ids 17 and 18 are not single bytes");
    b[off + 3] = b[off + 1];
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: vocabulary entries 17 and 18 have the same bytes");
    /* the unk id must be a token */
    memcpy(b, good, len);
    put32(b + 36, 60000);
    expect_bad(b, len, SMOLWEB_ERR_FORMAT, "tokenizer: unk id 60000 is not a token");
    free(b);
}

/* ---- tokpack: small tokenizer.json files ---- */

static char g_tmp[4096];

static void write_text(const char *dir, const char *name, const char *text) {
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name) {
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

/* A tiny byte-level BPE: single chars a b c d Ġ (space) 0 1 ½ (as bytes Â ½),
 * merges a b -> ab, ab c -> abc, Ġ a -> Ġa. TEMPLATE_* fields are spliced in. */
static const char *tiny_json(char *buf, size_t cap, const char *pre, const char *model_extra, const char *added, const char *normalizer,
                             const char *vocab_extra, const char *merges_extra) {
    snprintf(buf, cap,
             "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":%s,\"pre_tokenizer\":%s,"
             "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},"
             "\"model\":{\"type\":\"BPE\",\"dropout\":null,%s"
             "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"\\u0120\":4,\"0\":5,\"1\":6,\"ab\":7,\"abc\":8,\"\\u0120a\":9,"
             "\"<s>\":10,\"\\u00c2\":11,\"\\u00bd\":12,\"!\":13%s},"
             "\"merges\":[\"a b\",[\"ab\",\"c\"],\"\\u0120 a\"%s]}}",
             added, normalizer, pre, model_extra, vocab_extra, merges_extra);
    return buf;
}

static sw_tokenizer *pack_tiny(const char *json, sw_error *err) {
    write_text(g_tmp, "tokenizer.json", json);
    uint8_t *b;
    size_t len;
    sw_tok_meta meta;
    if (sw_tokpack_from_hf_dir(g_tmp, &b, &len, &meta, err)) return NULL;
    sw_tok_meta_clear(&meta);
    sw_tokenizer *t = sw_tokenizer_create(b, len, err);
    free(b);
    return t;
}

static void expect_ids(const sw_tokenizer *t, const char *text, const int32_t *want, size_t n_want) {
    size_t n;
    int32_t *ids = encode(t, text, strlen(text), &n);
    int ok = n == n_want && (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
    char got[256] = "";
    for (size_t i = 0, k = 0; i < n && k < sizeof got - 12; i++) k += (size_t)snprintf(got + k, sizeof got - k, " %d", ids[i]);
    CHECK(ok, "tiny \"%s\" gave [%s ]", text, got);
    free(ids);
}

#define IDS(...) (const int32_t[]){__VA_ARGS__}, sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t)

static const char *SEQ = "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":true},"
                         "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}]}";
static const char *SPECIAL_S = "{\"id\":10,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                               "\"normalized\":false,\"special\":true}";

static void expect_pack_error(const char *json, smolweb_status want, const char *msg) {
    sw_error err;
    sw_error_clear(&err);
    sw_tokenizer *t = pack_tiny(json, &err);
    CHECK(!t && err.status == want && strstr(err.msg, msg), "expected \"%s\", got \"%s\"", msg, err.msg);
    sw_tokenizer_free(t);
}

static void test_tokpack_small(void) {
    snprintf(g_tmp, sizeof g_tmp, "/tmp/smolweb-tok-XXXXXX");
    if (!mkdtemp(g_tmp)) abort();
    char j[8192];
    sw_error err;
    uint8_t *b;
    size_t len;
    sw_tok_meta meta;

    /* missing file, not JSON, unsupported parts */
    smolweb_status st = sw_tokpack_from_hf_dir(g_tmp, &b, &len, &meta, &err);
    CHECK(st == SMOLWEB_ERR_MISSING && strstr(err.msg, "tokenizer.json: cannot open"), "missing: %s", err.msg);
    expect_pack_error("{\"model\": [1, 2", SMOLWEB_ERR_FORMAT, "tokenizer.json: not valid JSON");
    expect_pack_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", SMOLWEB_ERR_UNSUPPORTED,
                      "tokenizer.json: model type WordPiece is not supported (only BPE)");
    expect_pack_error(tiny_json(j, sizeof j, "{\"type\":\"Metaspace\"}", "", "", "null", "", ""), SMOLWEB_ERR_UNSUPPORTED,
                      "tokenizer.json: pre-tokenizer Metaspace is not supported");
    expect_pack_error(tiny_json(j, sizeof j,
                                "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\"},{\"type\":\"ByteLevel\"}]}", "",
                                "", "null", "", ""),
                      SMOLWEB_ERR_UNSUPPORTED, "pre-tokenizer Split at step 0 of the Sequence is not supported");
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "", "", "{\"type\":\"NFC\"}", "", ""), SMOLWEB_ERR_UNSUPPORTED,
                      "tokenizer.json: normalizer NFC is not supported");
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "\"continuing_subword_prefix\":\"##\",", "", "null", "", ""),
                      SMOLWEB_ERR_UNSUPPORTED, "continuing_subword_prefix is not supported");
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "", "", "null", "", ",\"a zz\""), SMOLWEB_ERR_FORMAT,
                      "merge 3: token \"zz\" is not in the vocabulary");
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "", "", "null", "", ",\"c d\""), SMOLWEB_ERR_FORMAT,
                      "merge 3: \"c\" + \"d\" is not in the vocabulary");
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "", "", "null", ",\"dup\":3", ""), SMOLWEB_ERR_FORMAT,
                      "id 3 is given to");

    /* SmolLM2-style: digits split, merges by rank, special token, dropped bytes */
    sw_tokenizer *t = pack_tiny(tiny_json(j, sizeof j, SEQ, "", SPECIAL_S, "null", "", ""), &err);
    CHECK(t != NULL, "tiny tokenizer: %s", err.msg);
    if (t) {
        expect_ids(t, "abc", IDS(8));
        expect_ids(t, "abcab", IDS(8, 7));
        expect_ids(t, " ab", IDS(4, 7));           /* "a b" (rank 0) wins over "Ġ a" (rank 2) */
        expect_ids(t, "a<s>b", IDS(0, 10, 1));     /* special token split out */
        expect_ids(t, "a b", IDS(0, 4, 1));        /* no "Ġ b" merge */
        expect_ids(t, "10", IDS(6, 5));
        expect_ids(t, "a\xC2\xBD" "b", IDS(0, 11, 12, 1)); /* ½ is a number: its own piece */
        expect_ids(t, "a!a", IDS(0, 13, 0));
        expect_ids(t, "axb", IDS(7));              /* x has no token: dropped, a and b merge */
        sw_tokenizer_free(t);
    }
    /* contiguous digits, prefix space, no regex */
    const char *pre2 = "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\",\"individual_digits\":false},"
                       "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":false}]}";
    t = pack_tiny(tiny_json(j, sizeof j, pre2, "", "", "null", ",\"\\u01201\":14,\"10\":15", ",\"1 0\",\"\\u0120 1\""), &err);
    CHECK(t != NULL, "tiny tokenizer 2: %s", err.msg);
    if (t) {
        expect_ids(t, "ab", IDS(4, 7));            /* prefix space, one word: Ġ a b -> Ġ ab */
        expect_ids(t, "10", IDS(4, 15));           /* the digit run is one piece, and it gets a prefix space too */
        expect_ids(t, "a10", IDS(9, 4, 15));
        sw_tokenizer_free(t);
    }
    /* added token flags: lstrip/rstrip take adjacent spaces, single_word needs non-word neighbours */
    const char *flags_added =
        "{\"id\":10,\"content\":\"<s>\",\"single_word\":false,\"lstrip\":true,\"rstrip\":true,\"normalized\":false,\"special\":true},"
        "{\"id\":13,\"content\":\"!\",\"single_word\":true,\"lstrip\":false,\"rstrip\":false,\"normalized\":true,\"special\":false}";
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "", flags_added, "null", "", ""), &err);
    CHECK(t != NULL, "tiny tokenizer 3: %s", err.msg);
    if (t) {
        expect_ids(t, "a  <s>  b", IDS(0, 10, 1));
        expect_ids(t, "a ! b", IDS(0, 4, 13, 4, 1));
        expect_ids(t, "a!b", IDS(0, 13, 1));       /* not a single word: matched by the regex, same id here */
        CHECK(!sw_tokenizer_is_special(t, 13) && sw_tokenizer_is_special(t, 10), "special flags");
        sw_tokenizer_free(t);
    }
    /* byte fallback and unk: x is not a token; <0x78> is */
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "\"byte_fallback\":true,", "", "null", ",\"<0x78>\":14", ""), &err);
    CHECK(t != NULL, "tiny tokenizer 4: %s", err.msg);
    if (t) {
        expect_ids(t, "axb", IDS(0, 14, 1));
        expect_ids(t, "ayb", IDS(7)); /* y: no fallback token: dropped */
        sw_tokenizer_free(t);
    }
    /* unk: unknown chars become the unk token, fused into one when asked */
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "\"unk_token\":\"d\",\"fuse_unk\":true,", "", "null", "", ""), &err);
    CHECK(t != NULL, "tiny tokenizer 5: %s", err.msg);
    if (t) {
        expect_ids(t, "axxb", IDS(0, 3, 1));
        expect_ids(t, "xx", IDS(3));
        sw_tokenizer_free(t);
    }
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "\"unk_token\":\"d\",", "", "null", "", ""), &err);
    CHECK(t != NULL, "tiny tokenizer 5b: %s", err.msg);
    if (t) {
        expect_ids(t, "axxb", IDS(0, 3, 3, 1));
        sw_tokenizer_free(t);
    }
    expect_pack_error(tiny_json(j, sizeof j, SEQ, "\"unk_token\":\"zz\",", "", "null", "", ""), SMOLWEB_ERR_FORMAT,
                      "unk_token \"zz\" is not in the vocabulary");
    /* ignore_merges: a word that is a token comes out whole */
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "\"ignore_merges\":true,", "", "null", ",\"bc\":14", ""), &err);
    CHECK(t != NULL, "tiny tokenizer 6: %s", err.msg);
    if (t) {
        expect_ids(t, "bc", IDS(14));
        expect_ids(t, "abc", IDS(8));
        expect_ids(t, "bcd", IDS(1, 2, 3));
        sw_tokenizer_free(t);
    }
    t = pack_tiny(tiny_json(j, sizeof j, SEQ, "", "", "null", ",\"bc\":14", ""), &err);
    if (t) {
        expect_ids(t, "bc", IDS(1, 2)); /* without ignore_merges: no "b c" merge */
        sw_tokenizer_free(t);
    }
    /* tokenizer_config.json: ids of bos/eos/pad, chat template, stop ids */
    write_text(g_tmp, "tokenizer_config.json",
               "{\"bos_token\":\"<s>\",\"eos_token\":{\"content\":\"!\"},\"pad_token\":null,"
               "\"chat_template\":\"{{ '<|im_start|>' }}x<|im_end|>\"}");
    write_text(g_tmp, "tokenizer.json", tiny_json(j, sizeof j, SEQ, "", SPECIAL_S, "null", "", ""));
    st = sw_tokpack_from_hf_dir(g_tmp, &b, &len, &meta, &err);
    CHECK(st == SMOLWEB_OK && meta.bos_id == 10 && meta.eos_id == 13 && meta.pad_id == -1 && meta.n_stop == 1 &&
              meta.stop_ids[0] == 13 && meta.chat_template && strstr(meta.chat_template, "<|im_end|>") && meta.vocab_size == 14,
          "meta from tokenizer_config.json: %s", st ? err.msg : "wrong values");
    if (!st) {
        free(b);
        sw_tok_meta_clear(&meta);
    }
    write_text(g_tmp, "tokenizer_config.json", "{not json");
    st = sw_tokpack_from_hf_dir(g_tmp, &b, &len, &meta, &err);
    CHECK(st == SMOLWEB_ERR_FORMAT && strstr(err.msg, "tokenizer_config.json: not valid JSON"), "bad config: %s", err.msg);
    remove_file(g_tmp, "tokenizer_config.json");
    remove_file(g_tmp, "tokenizer.json");
    rmdir(g_tmp);
}

/* ---- GGUF: the same tokenizer from GGUF metadata packs to the same bytes ---- */

static void g_str(bytes *b, const char *s, size_t n) {
    uint64_t l = n;
    b_put(b, &l, 8);
    b_put(b, s, n);
}
static void g_key(bytes *b, const char *k, uint32_t type) {
    g_str(b, k, strlen(k));
    b_put(b, &type, 4);
}

static void test_gguf(const uint8_t *hf_packed, size_t hf_len, const sw_tok_meta *hf_meta) {
    char path[4300];
    snprintf(path, sizeof path, "%s/models/smollm2-135m-instruct/tokenizer.json", g_shared);
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    bytes js = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) b_put(&js, chunk, got);
    fclose(f);
    cJSON *root = cJSON_ParseWithLength((const char *)js.p, js.n);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    int nv = cJSON_GetArraySize(vocab), nm = cJSON_GetArraySize(merges);
    const char **tok = calloc((size_t)nv, sizeof *tok);
    for (const cJSON *e = vocab->child; e; e = e->next) tok[(int)e->valuedouble] = e->string;
    bytes g = {0};
    uint32_t version = 3;
    uint64_t n_tensors = 0, n_kv = 9;
    b_put(&g, "GGUF", 4);
    b_put(&g, &version, 4);
    b_put(&g, &n_tensors, 8);
    b_put(&g, &n_kv, 8);
    g_key(&g, "tokenizer.ggml.model", 8);
    g_str(&g, "gpt2", 4);
    g_key(&g, "tokenizer.ggml.pre", 8);
    g_str(&g, "smollm", 6);
    uint32_t et = 8;
    uint64_t count = (uint64_t)nv;
    g_key(&g, "tokenizer.ggml.tokens", 9);
    b_put(&g, &et, 4);
    b_put(&g, &count, 8);
    for (int i = 0; i < nv; i++) g_str(&g, tok[i], strlen(tok[i]));
    g_key(&g, "tokenizer.ggml.token_type", 9);
    et = 5;
    b_put(&g, &et, 4);
    b_put(&g, &count, 8);
    for (int i = 0; i < nv; i++) {
        int32_t type = 1;
        for (const cJSON *a = added->child; a; a = a->next)
            if ((int)cJSON_GetObjectItemCaseSensitive(a, "id")->valuedouble == i) type = 3;
        b_put(&g, &type, 4);
    }
    g_key(&g, "tokenizer.ggml.merges", 9);
    et = 8;
    count = (uint64_t)nm;
    b_put(&g, &et, 4);
    b_put(&g, &count, 8);
    for (const cJSON *e = merges->child; e; e = e->next) {
        if (cJSON_IsString(e)) g_str(&g, e->valuestring, strlen(e->valuestring));
        else {
            char m[512];
            snprintf(m, sizeof m, "%s %s", e->child->valuestring, e->child->next->valuestring);
            g_str(&g, m, strlen(m));
        }
    }
    const char *ids[3] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id"};
    uint32_t vals[3] = {1, 2, 2};
    for (int i = 0; i < 3; i++) {
        g_key(&g, ids[i], 4);
        b_put(&g, &vals[i], 4);
    }
    g_key(&g, "tokenizer.chat_template", 8);
    g_str(&g, hf_meta->chat_template, strlen(hf_meta->chat_template));
    cJSON_Delete(root);
    free(tok);
    free(js.p);

    sw_error err;
    sw_gguf *gg = sw_gguf_open_memory(g.p, g.n, "test.gguf", &err);
    CHECK(gg != NULL, "GGUF not parsed: %s", err.msg);
    if (gg) {
        uint8_t *b;
        size_t len;
        sw_tok_meta meta;
        smolweb_status st = sw_tokpack_from_gguf(gg, &b, &len, &meta, &err);
        CHECK(st == SMOLWEB_OK, "GGUF tokpack: %s", err.msg);
        if (!st) {
            CHECK(len == hf_len && memcmp(b, hf_packed, len) == 0, "GGUF packs to %zu bytes, HF to %zu (or different bytes)", len, hf_len);
            CHECK(meta.bos_id == hf_meta->bos_id && meta.eos_id == hf_meta->eos_id && meta.pad_id == hf_meta->pad_id &&
                      meta.n_stop == hf_meta->n_stop && meta.stop_ids[0] == hf_meta->stop_ids[0] &&
                      meta.vocab_size == hf_meta->vocab_size && strcmp(meta.chat_template, hf_meta->chat_template) == 0,
                  "GGUF meta differs from HF meta");
            free(b);
            sw_tok_meta_clear(&meta);
        }
        sw_gguf_free(gg);
    }
    /* an unknown pre-tokenizer name is refused */
    const char *pre = "smollm";
    uint8_t *at = NULL;
    for (size_t i = 0; i + 6 <= g.n; i++)
        if (memcmp(g.p + i, pre, 6) == 0) {
            at = g.p + i;
            break;
        }
    memcpy(at, "qwen2x", 6);
    gg = sw_gguf_open_memory(g.p, g.n, "test.gguf", &err);
    if (gg) {
        uint8_t *b = NULL;
        size_t len;
        sw_tok_meta meta;
        smolweb_status st = sw_tokpack_from_gguf(gg, &b, &len, &meta, &err);
        CHECK(st == SMOLWEB_ERR_UNSUPPORTED && strstr(err.msg, "tokenizer.ggml.pre \"qwen2x\" is not supported"), "GGUF pre: %s", err.msg);
        free(b);
        sw_gguf_free(gg);
    }
    free(g.p);
}

int main(void) {
    find_shared();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/models/smollm2-135m-instruct", g_shared);
    uint8_t *packed;
    size_t len;
    sw_tok_meta meta;
    sw_error err;
    double t0 = now_s();
    if (sw_tokpack_from_hf_dir(dir, &packed, &len, &meta, &err)) {
        fprintf(stderr, "FAIL: cannot pack %s: %s\n", dir, err.msg);
        return 1;
    }
    double pack_s = now_s() - t0;
    fprintf(stderr, "packed tokenizer: %zu bytes (%.2f MiB; tokenizer.json is 2 MiB), packed in %.0f ms\n", len, len / 1048576.0,
            pack_s * 1e3);
    CHECK(len < (1u << 20), "packed tokenizer is %zu bytes, not under 1 MiB", len);
    CHECK(meta.bos_id == 1 && meta.eos_id == 2 && meta.pad_id == 2 && meta.n_stop == 1 && meta.stop_ids[0] == 2 &&
              meta.vocab_size == 49152 && meta.chat_template && strncmp(meta.chat_template, "{% for message", 14) == 0,
          "SmolLM2 meta: bos %d eos %d pad %d stops %d", meta.bos_id, meta.eos_id, meta.pad_id, meta.n_stop);
    t0 = now_s();
    sw_tokenizer *t = sw_tokenizer_create(packed, len, &err);
    if (!t) {
        fprintf(stderr, "FAIL: cannot load the packed tokenizer: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "loaded in %.1f ms\n", (now_s() - t0) * 1e3);
    size_t n_fx;
    fixture *fx = load_fixtures(&n_fx);
    CHECK(n_fx >= 200, "only %zu fixture cases", n_fx);
    test_fixtures(t, fx, n_fx);
    test_specific(t);
    test_stream(t);
    test_random(t);
    test_speed(t, fx, n_fx);
    test_bad_packed(packed, len);
    test_tokpack_small();
    test_gguf(packed, len, &meta);
    for (size_t i = 0; i < n_fx; i++) {
        free(fx[i].text.p);
        free(fx[i].ids);
    }
    free(fx);
    sw_tokenizer_free(t);
    sw_tokenizer_free(NULL);
    free(packed);
    sw_tok_meta_clear(&meta);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
