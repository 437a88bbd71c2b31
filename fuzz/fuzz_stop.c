/* libFuzzer target: the stop-string matcher (src/stop.h), whose stop strings
 * come from users. The input is decoded into stop strings, a text and the
 * cuts that split it into pieces; tests/stop_ref.h then checks, against
 * brute force, that emitted + held bytes always equal the text fed so far,
 * that the hold is the longest suffix that could still start a stop string,
 * and that the match is the first occurrence by end position in the text
 * (the text before it emitted exactly, reported by the piece that ends it).
 *
 * Layout: byte 0: number of stop strings (low 3 bits, mod 6) and, when bit 7
 * is set, a fold of every stop and text byte onto "abc" so that stop strings
 * overlap and recur; then per stop string a length byte (1 + b % 12) and its
 * bytes; then a cut-count byte (b % 16) and that many cut bytes; the rest is
 * the text (cut c at byte[c] * len / 255). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/stop_ref.h"
#include "stop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t pos = 1, n = (data[0] & 7) % 6;
    int fold = data[0] >> 7;
    uint8_t sbuf[6][12];
    const uint8_t *stops[6];
    size_t lens[6], n_ok = 0;
    for (size_t j = 0; j < n && pos < size; j++) {
        size_t len = 1 + data[pos++] % 12;
        if (len > size - pos) len = size - pos;
        if (len == 0) break;
        for (size_t i = 0; i < len; i++) sbuf[n_ok][i] = fold ? (uint8_t)('a' + data[pos + i] % 3) : data[pos + i];
        pos += len;
        stops[n_ok] = sbuf[n_ok];
        lens[n_ok] = len;
        n_ok++;
    }
    size_t ncuts = pos < size ? data[pos++] % 16 : 0;
    if (ncuts > size - pos) ncuts = size - pos;
    const uint8_t *cut_bytes = data + pos;
    pos += ncuts;
    size_t len = size - pos;
    uint8_t *text = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) text[i] = fold ? (uint8_t)('a' + data[pos + i] % 4) : data[pos + i];
    size_t cuts[16];
    for (size_t c = 0; c < ncuts; c++) cuts[c] = (size_t)cut_bytes[c] * len / 255;
    for (size_t c = 1; c < ncuts; c++)
        for (size_t d = c; d > 0 && cuts[d - 1] > cuts[d]; d--) {
            size_t t = cuts[d];
            cuts[d] = cuts[d - 1];
            cuts[d - 1] = t;
        }
    sw_error err;
    sw_stop *st = sw_stop_create(stops, lens, n_ok, &err);
    if (!st) {
        fprintf(stderr, "fuzz_stop: create failed: %s\n", err.msg);
        abort();
    }
    char why[256];
    if (!stop_ref_check(st, stops, lens, n_ok, text, len, cuts, ncuts, why, sizeof why)) {
        fprintf(stderr, "fuzz_stop: %s\n", why);
        abort();
    }
    /* a second run on the same matcher after reset must agree too */
    if (!stop_ref_check(st, stops, lens, n_ok, text, len, cuts, ncuts, why, sizeof why)) {
        fprintf(stderr, "fuzz_stop (after reset): %s\n", why);
        abort();
    }
    sw_stop_free(st);
    free(text);
    return 0;
}
