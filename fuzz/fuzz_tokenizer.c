/* libFuzzer target: the tokenizer. The first input byte picks the mode:
 *  even: the rest is a packed tokenizer (untrusted bytes from the network or
 *        a cache) for sw_tokenizer_create; when accepted, it must encode and
 *        decode a few texts without faults.
 *  odd:  the rest is text for SmolLM2's real tokenizer (packed once from
 *        $SMOLWEB_SHARED or ../shared at start-up): raw decode(encode(x))
 *        must give x without its tokenless bytes, the streaming decoder must
 *        match the full decoder and emit only whole UTF-8 chars, and valid
 *        UTF-8 without tokenless bytes must round trip exactly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer.h"
#include "tokpack.h"
#include "unicode.h"

static sw_tokenizer *g_real;
static uint8_t g_has_token[256];

static int load_real(const char *shared) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models/smollm2-135m-instruct", shared);
    uint8_t *bytes;
    size_t len;
    sw_tok_meta meta;
    sw_error err;
    if (sw_tokpack_from_hf_dir(dir, &bytes, &len, &meta, &err) != SMOLWEB_OK) return 0;
    sw_tok_meta_clear(&meta);
    g_real = sw_tokenizer_create(bytes, len, &err);
    free(bytes);
    if (!g_real) return 0;
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        g_has_token[b] = sw_tokenizer_token_id(g_real, &c, 1) >= 0;
    }
    return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *env = getenv("SMOLWEB_SHARED");
    if (env && *env && load_real(env)) return 0;
    static const char *rel[] = {"../shared", "../../shared", "../../../shared", "../../../../shared"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
        if (load_real(rel[i])) return 0;
    fprintf(stderr, "fuzz_tokenizer: shared tokenizer not found; text mode is off\n");
    return 0;
}

static int valid_utf8(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += sw_utf8_next(s + i, n - i, &cp);
        if (cp == SW_UTF8_INVALID) return 0;
    }
    return 1;
}

static uint8_t *decode_all(const sw_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, size_t *len) {
    sw_error err;
    size_t need;
    if (sw_tokenizer_decode(t, ids, n, flags, NULL, 0, &need, &err)) abort();
    uint8_t *out = malloc(need ? need : 1);
    if (!out || sw_tokenizer_decode(t, ids, n, flags, out, need, len, &err) || *len != need) abort();
    return out;
}

static void check_stream(const sw_tokenizer *t, const int32_t *ids, size_t n, const uint8_t *full, size_t full_len) {
    sw_decode_stream *s = sw_decode_stream_create(t, SW_DECODE_LOSSY);
    if (!s) abort();
    sw_error err;
    const uint8_t *out;
    size_t ol, at = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n ? sw_decode_stream_put(s, ids[i], &out, &ol, &err) : sw_decode_stream_flush(s, &out, &ol, &err)) abort();
        if (!valid_utf8(out, ol)) abort();                                          /* a partial char escaped */
        if (ol > full_len - at || (ol && memcmp(out, full + at, ol) != 0)) abort(); /* differs from full decode */
        at += ol;
    }
    if (at != full_len) abort();
    sw_decode_stream_free(s);
}

static void fuzz_text(const uint8_t *text, size_t len) {
    const sw_tokenizer *t = g_real;
    int32_t *ids;
    size_t n, dl, ll;
    sw_error err;
    if (sw_tokenizer_encode_alloc(t, text, len, &ids, &n, &err)) abort();
    uint8_t *raw = decode_all(t, ids, n, 0, &dl);
    size_t k = 0;
    int clean = 1;
    for (size_t i = 0; i < len; i++) {
        if (!g_has_token[text[i]]) {
            clean = 0;
            continue;
        }
        if (k >= dl || raw[k++] != text[i]) abort(); /* bytes lost or changed */
    }
    if (k != dl) abort();
    uint8_t *lossy = decode_all(t, ids, n, SW_DECODE_LOSSY, &ll);
    if (!valid_utf8(lossy, ll)) abort();
    if (clean && valid_utf8(text, len) && (ll != len || memcmp(lossy, text, len) != 0)) abort();
    check_stream(t, ids, n, lossy, ll);
    free(lossy);
    free(raw);
    free(ids);
}

static void fuzz_packed(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1); /* exactly sized, so ASan sees overreads */
    if (!buf) return;
    memcpy(buf, data, size);
    sw_error err;
    sw_tokenizer *t = sw_tokenizer_create(buf, size, &err);
    free(buf);
    if (!t) return;
    static const char *texts[] = {"abc ab 10 \xC2\xBD", "<s>x  y\n\n z", "\xFF\x80 's 'll !!"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int32_t *ids;
        size_t n, dl;
        if (sw_tokenizer_encode_alloc(t, (const uint8_t *)texts[i], strlen(texts[i]), &ids, &n, &err)) abort();
        for (size_t j = 0; j < n; j++)
            if (ids[j] < 0 || ids[j] >= sw_tokenizer_vocab_size(t)) abort();
        uint8_t *d = decode_all(t, ids, n, SW_DECODE_LOSSY, &dl);
        check_stream(t, ids, n, d, dl);
        free(d);
        free(ids);
    }
    int32_t some[64];
    int v = sw_tokenizer_vocab_size(t);
    for (int i = 0; i < 64; i++) some[i] = i < v ? v - 1 - i : i;
    size_t dl;
    free(decode_all(t, some, 64, 0, &dl));
    sw_tokenizer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 1) {
        if (g_real) fuzz_text(data + 1, size - 1);
    } else {
        fuzz_packed(data + 1, size - 1);
    }
    return 0;
}
