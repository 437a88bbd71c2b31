/* test_stop.c: the stop-string matcher (src/stop.h).
 * - hand-written streams with the exact bytes expected from every feed: a
 *   stop string split across pieces, a false start released later, multiple
 *   stop strings with shared prefixes, a self-overlapping stop string
 *   ("aab" in "aaab"), the earliest-ending rule ("bc" beats "abcd"), the
 *   longest of those ending together, duplicates, empty pieces, the final
 *   flush, no stop strings, UTF-8 pieces, reset;
 * - errors with their messages: empty or NULL stop strings, too many bytes,
 *   an output buffer below sw_stop_out_bound, a feed after a match;
 * - 20000 random cases (small alphabets so stop strings overlap and recur,
 *   random piece cuts incl. empty pieces) against the brute-force reference
 *   of stop_ref.h, which also runs under fuzz/fuzz_stop.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop.h"
#include "stop_ref.h"

#include "check.h"

static sw_stop *make(const char *const *strs, size_t n) {
    const uint8_t *p[16];
    size_t l[16];
    for (size_t i = 0; i < n; i++) {
        p[i] = (const uint8_t *)strs[i];
        l[i] = strlen(strs[i]);
    }
    sw_error err;
    sw_stop *st = sw_stop_create(p, l, n, &err);
    CHECK(st != NULL, "create: %s", err.msg);
    return st;
}

/* Feeds pieces[i] and checks that the feed emits want[i] (stopping at the
 * piece marked by stop_at, -1: never); then, when no stop happened, that the
 * flush gives want_flush. */
static void stream(const char *name, sw_stop *st, const char *const *pieces, const char *const *want, int n,
                   int stop_at, const char *want_flush) {
    uint8_t out[256];
    sw_error err;
    sw_stop_reset(st);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(pieces[i]), out_len = 12345;
        int stopped = -1;
        smolweb_status rc = sw_stop_feed(st, (const uint8_t *)pieces[i], len, out, sizeof out, &out_len, &stopped, &err);
        CHECK(rc == SMOLWEB_OK, "%s piece %d: %s", name, i, err.msg);
        if (rc != SMOLWEB_OK) return;
        CHECK(out_len == strlen(want[i]) && memcmp(out, want[i], out_len) == 0, "%s piece %d: emitted '%.*s', want '%s'",
              name, i, (int)out_len, out, want[i]);
        CHECK(stopped == (i == stop_at), "%s piece %d: stopped = %d", name, i, stopped);
        if (stopped) return;
    }
    size_t fl = 999;
    CHECK(sw_stop_flush(st, out, sizeof out, &fl, &err) == SMOLWEB_OK, "%s flush: %s", name, err.msg);
    CHECK(fl == strlen(want_flush) && memcmp(out, want_flush, fl) == 0, "%s flush: '%.*s', want '%s'", name, (int)fl,
          out, want_flush);
    CHECK(sw_stop_held(st) == 0, "%s: held after flush", name);
}

static void test_streams(void) {
    {
        const char *stops[] = {"</s>"};
        sw_stop *st = make(stops, 1);
        const char *p1[] = {"Hello", " <", "/", "s", ">", "more"};
        const char *w1[] = {"Hello", " ", "", "", ""};
        stream("split stop", st, p1, w1, 5, 4, "");
        CHECK(sw_stop_matched(st) == 0, "matched index");
        /* a false start is released as soon as it cannot be a stop string */
        const char *p2[] = {"a <", "/", "x", "</s", "!"};
        const char *w2[] = {"a ", "", "</x", "", "</s!"};
        stream("false start", st, p2, w2, 5, -1, "");
        CHECK(sw_stop_matched(st) == -1, "no match index");
        /* held bytes come back at the final flush */
        const char *p3[] = {"end </"};
        const char *w3[] = {"end "};
        stream("flush", st, p3, w3, 1, -1, "</");
        /* empty pieces change nothing */
        const char *p4[] = {"", "x<", "", "/s", "", ">", ""};
        const char *w4[] = {"", "x", "", "", "", ""};
        stream("empty pieces", st, p4, w4, 6, 5, "");
        /* match inside one piece: the rest of the piece is dropped */
        const char *p5[] = {"ab</s>cd"};
        const char *w5[] = {"ab"};
        stream("inside a piece", st, p5, w5, 1, 0, "");
        sw_stop_free(st);
    }
    {
        const char *stops[] = {"\n\nUser:", "\n\nAssistant:", "<|im_end|>"};
        sw_stop *st = make(stops, 3);
        const char *p1[] = {"Hi", "\n\n", "Us", "er", ":", " x"};
        const char *w1[] = {"Hi", "", "", "", ""};
        stream("shared prefix, first", st, p1, w1, 5, 4, "");
        CHECK(sw_stop_matched(st) == 0, "matched 0");
        const char *p2[] = {"Hi", "\n\n", "As", "sistant", ":"};
        const char *w2[] = {"Hi", "", "", "", ""};
        stream("shared prefix, second", st, p2, w2, 5, 4, "");
        CHECK(sw_stop_matched(st) == 1, "matched 1");
        const char *p3[] = {"Hi", "\n\n", "Ask", "<|im", "_end|>"};
        const char *w3[] = {"Hi", "", "\n\nAsk", "", ""};
        stream("shared prefix, neither, then third", st, p3, w3, 5, 4, "");
        CHECK(sw_stop_matched(st) == 2, "matched 2");
        sw_stop_free(st);
    }
    {
        /* self-overlapping: in "aaab" the match starts at 1 */
        const char *stops[] = {"aab"};
        sw_stop *st = make(stops, 1);
        const char *p1[] = {"a", "a", "a", "b"};
        const char *w1[] = {"", "", "a", ""};
        stream("self overlap", st, p1, w1, 4, 3, "");
        const char *p2[] = {"aaa", "a", "c"};
        const char *w2[] = {"a", "a", "aac"};
        stream("self overlap, no match", st, p2, w2, 3, -1, "");
        sw_stop_free(st);
    }
    {
        /* the earliest end wins, whatever the pieces */
        const char *stops[] = {"abcd", "bc"};
        sw_stop *st = make(stops, 2);
        const char *p1[] = {"abcd"};
        const char *w1[] = {"a"};
        stream("earliest end, one piece", st, p1, w1, 1, 0, "");
        CHECK(sw_stop_matched(st) == 1, "bc matched");
        const char *p2[] = {"a", "b", "c", "d"};
        const char *w2[] = {"", "", "a"};
        stream("earliest end, bytes", st, p2, w2, 3, 2, "");
        sw_stop_free(st);
    }
    {
        /* of those ending together, the longest; duplicates: the lowest index */
        const char *stops[] = {"c", "abc", "bc", "abc"};
        sw_stop *st = make(stops, 4);
        const char *p1[] = {"xa", "bc"};
        const char *w1[] = {"x", ""};
        stream("longest at the same end", st, p1, w1, 2, 1, "");
        CHECK(sw_stop_matched(st) == 1, "abc (index 1) matched, got %d", sw_stop_matched(st));
        sw_stop_free(st);
    }
    {
        /* no stop strings: everything passes through */
        sw_stop *st = make(NULL, 0);
        const char *p1[] = {"any", "", "thing"};
        const char *w1[] = {"any", "", "thing"};
        stream("no stop strings", st, p1, w1, 3, -1, "");
        CHECK(sw_stop_out_bound(st, 7) == 7, "bound without stop strings");
        sw_stop_free(st);
    }
    {
        /* UTF-8: pieces are whole characters; what is held is too */
        const char *stops[] = {"\xe3\x80\x82!", "\xe2\x80\xa6"}; /* "。!" and "…" */
        sw_stop *st = make(stops, 2);
        const char *p1[] = {"\xe6\x97\xa5", "\xe3\x80\x82", "x", "\xe2\x80\xa6"};
        const char *w1[] = {"\xe6\x97\xa5", "", "\xe3\x80\x82x", ""};
        stream("utf-8", st, p1, w1, 4, 3, "");
        sw_stop_free(st);
    }
    {
        /* reset after a match, and the state error before it */
        const char *stops[] = {"zz"};
        sw_stop *st = make(stops, 1);
        uint8_t out[16];
        size_t n;
        int stopped;
        sw_error err;
        CHECK(sw_stop_feed(st, (const uint8_t *)"azz", 3, out, sizeof out, &n, &stopped, &err) == SMOLWEB_OK &&
                  stopped && n == 1,
              "stop on zz");
        CHECK(sw_stop_feed(st, (const uint8_t *)"b", 1, out, sizeof out, &n, &stopped, &err) == SMOLWEB_ERR_STATE &&
                  strstr(err.msg, "stop: feed after stop string 0 matched"),
              "feed after match: %s", err.msg);
        CHECK(sw_stop_flush(st, out, sizeof out, &n, &err) == SMOLWEB_OK && n == 0, "flush after match");
        sw_stop_reset(st);
        CHECK(sw_stop_feed(st, (const uint8_t *)"bz", 2, out, sizeof out, &n, &stopped, &err) == SMOLWEB_OK &&
                  !stopped && n == 1 && out[0] == 'b' && sw_stop_held(st) == 1,
              "after reset");
        /* output buffer too small: held 1 + piece 3 needs 4 */
        CHECK(sw_stop_out_bound(st, 3) == 4, "bound");
        CHECK(sw_stop_feed(st, (const uint8_t *)"abc", 3, out, 3, &n, &stopped, &err) == SMOLWEB_ERR_INVALID_ARG &&
                  strstr(err.msg, "stop: output buffer of 3 bytes, the feed needs 4"),
              "small buffer: %s", err.msg);
        CHECK(sw_stop_held(st) == 1, "a refused feed changes nothing");
        CHECK(sw_stop_flush(st, out, 0, &n, &err) == SMOLWEB_ERR_INVALID_ARG &&
                  strstr(err.msg, "stop: output buffer of 0 bytes, the flush needs 1"),
              "small flush buffer: %s", err.msg);
        CHECK(sw_stop_feed(st, NULL, 2, out, sizeof out, &n, &stopped, &err) == SMOLWEB_ERR_INVALID_ARG,
              "NULL piece");
        CHECK(sw_stop_feed(st, NULL, 0, out, sizeof out, &n, &stopped, &err) == SMOLWEB_OK && n == 0 && !stopped,
              "NULL empty piece");
        sw_stop_free(st);
    }
    sw_stop_free(NULL);
}

static void test_errors(void) {
    sw_error err;
    const uint8_t *p[3] = {(const uint8_t *)"a", (const uint8_t *)"", (const uint8_t *)"b"};
    size_t l[3] = {1, 0, 1};
    CHECK(sw_stop_create(p, l, 3, &err) == NULL && err.status == SMOLWEB_ERR_INVALID_ARG &&
              strcmp(err.msg, "stop string 1 is empty") == 0,
          "empty: %s", err.msg);
    p[1] = NULL;
    l[1] = 4;
    CHECK(sw_stop_create(p, l, 3, &err) == NULL && strcmp(err.msg, "stop string 1 is NULL") == 0, "NULL: %s", err.msg);
    CHECK(sw_stop_create(NULL, NULL, 2, &err) == NULL && strstr(err.msg, "stop strings: 2 strings but no array"),
          "no array: %s", err.msg);
    static uint8_t big[SW_STOP_MAX_BYTES];
    memset(big, 'x', sizeof big);
    const uint8_t *q[2] = {big, big};
    size_t ql[2] = {SW_STOP_MAX_BYTES, 1};
    sw_stop *st = sw_stop_create(q, ql, 1, &err);
    CHECK(st != NULL, "exactly the limit: %s", err.msg);
    sw_stop_free(st);
    CHECK(sw_stop_create(q, ql, 2, &err) == NULL && strstr(err.msg, "stop strings: 65537 bytes in total, more than 65536"),
          "over the limit: %s", err.msg);
    size_t huge[2] = {SIZE_MAX, 5};
    CHECK(sw_stop_create(q, huge, 2, &err) == NULL && strstr(err.msg, "more than 65536"), "huge: %s", err.msg);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 11) % n);
}

static void test_random(void) {
    char why[256];
    for (int iter = 0; iter < 20000; iter++) {
        int alpha = 2 + (int)rnd(3); /* 'a'.. : small, so strings overlap */
        size_t n = rnd(5), lens[5], len = rnd(40);
        uint8_t sbuf[5][8], text[40];
        const uint8_t *stops[5];
        for (size_t j = 0; j < n; j++) {
            lens[j] = 1 + rnd(6);
            for (size_t i = 0; i < lens[j]; i++) sbuf[j][i] = (uint8_t)('a' + rnd((uint32_t)alpha));
            stops[j] = sbuf[j];
        }
        for (size_t i = 0; i < len; i++) text[i] = (uint8_t)('a' + rnd((uint32_t)alpha + 1));
        size_t cuts[50], ncuts = rnd(12);
        for (size_t c = 0; c < ncuts; c++) cuts[c] = rnd((uint32_t)len + 1);
        for (size_t c = 1; c < ncuts; c++) /* sort the cuts */
            for (size_t d = c; d > 0 && cuts[d - 1] > cuts[d]; d--) {
                size_t t = cuts[d];
                cuts[d] = cuts[d - 1];
                cuts[d - 1] = t;
            }
        sw_error err;
        sw_stop *st = sw_stop_create(stops, lens, n, &err);
        CHECK(st != NULL, "create: %s", err.msg);
        if (!st) return;
        int ok = stop_ref_check(st, stops, lens, n, text, len, cuts, ncuts, why, sizeof why);
        if (!ok) {
            fprintf(stderr, "case %d: text '%.*s', stops:", iter, (int)len, text);
            for (size_t j = 0; j < n; j++) fprintf(stderr, " '%.*s'", (int)lens[j], stops[j]);
            fprintf(stderr, ", cuts:");
            for (size_t c = 0; c < ncuts; c++) fprintf(stderr, " %zu", cuts[c]);
            fprintf(stderr, "\n");
        }
        CHECK(ok, "random case %d: %s", iter, why);
        sw_stop_free(st);
        if (failures > 5) return;
    }
}

int main(void) {
    test_streams();
    test_errors();
    test_random();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all stop tests passed\n");
    return 0;
}
