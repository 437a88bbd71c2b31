/* stop_ref.h: a brute-force reference for the stop matcher (src/stop.h),
 * shared by tests/test_stop.c and fuzz/fuzz_stop.c.
 *
 * stop_ref_check runs a matcher over text cut into pieces and checks, by
 * direct string comparison and independently of the automaton:
 *  - after every feed without a match: everything emitted so far followed by
 *    the held bytes is exactly the text fed so far, and the held part is the
 *    longest suffix of it that is a proper prefix of some stop string;
 *  - the match, if any, is the first occurrence by end position in the whole
 *    text (longest, then lowest index, among those ending at the same byte),
 *    it is reported by the feed of the piece holding its last byte, and the
 *    text emitted in all is exactly the text before it;
 *  - without a match, the emitted text plus the flush is the whole text. */
#ifndef STOP_REF_H
#define STOP_REF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop.h"

/* First stop occurrence by end: sets *end (one past its last byte) and
 * returns the stop string's index, or -1 when none occurs. */
static int stop_ref_first(const uint8_t *const *stops, const size_t *lens, size_t n, const uint8_t *text, size_t len,
                          size_t *end) {
    for (size_t e = 1; e <= len; e++) {
        int best = -1;
        for (size_t j = 0; j < n; j++) {
            if (lens[j] > e || memcmp(text + e - lens[j], stops[j], lens[j]) != 0) continue;
            if (best < 0 || lens[j] > lens[best]) best = (int)j;
        }
        if (best >= 0) {
            *end = e;
            return best;
        }
    }
    return -1;
}

/* Longest suffix of text[0..len) that is a proper prefix of some stop string. */
static size_t stop_ref_hold(const uint8_t *const *stops, const size_t *lens, size_t n, const uint8_t *text, size_t len) {
    size_t best = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t h = lens[j] - 1; h > best; h--)
            if (h <= len && memcmp(text + len - h, stops[j], h) == 0) {
                best = h;
                break;
            }
    return best;
}

/* Runs the matcher over text split at cuts[0..ncuts) (increasing offsets
 * inside [0, len]; repeated cuts make empty pieces). Returns 1 when every
 * invariant holds, else 0 with a message in why. */
static int stop_ref_check(sw_stop *st, const uint8_t *const *stops, const size_t *lens, size_t n, const uint8_t *text,
                          size_t len, const size_t *cuts, size_t ncuts, char *why, size_t why_cap) {
    size_t match_end = 0;
    int match = stop_ref_first(stops, lens, n, text, len, &match_end);
    size_t max_len = 0;
    for (size_t j = 0; j < n; j++) max_len = lens[j] > max_len ? lens[j] : max_len;
    uint8_t *emitted = malloc(len + 1), *out = malloc(len + max_len + 1);
    size_t n_emitted = 0, fed = 0, piece_from = 0;
    int ok = 1, stopped = 0;
    sw_error err;
    sw_stop_reset(st);
    for (size_t c = 0; c <= ncuts && !stopped && ok; c++) {
        size_t to = c < ncuts ? cuts[c] : len;
        size_t piece = to - fed, out_len = 0, bound = sw_stop_out_bound(st, piece);
        if (bound > len + max_len) {
            snprintf(why, why_cap, "out bound %zu too large", bound);
            ok = 0;
            break;
        }
        if (sw_stop_feed(st, text + fed, piece, out, bound, &out_len, &stopped, &err) != SMOLWEB_OK) {
            snprintf(why, why_cap, "feed failed: %.200s", err.msg);
            ok = 0;
            break;
        }
        if (out_len > bound || n_emitted + out_len > len) {
            snprintf(why, why_cap, "feed wrote %zu bytes, bound %zu", out_len, bound);
            ok = 0;
            break;
        }
        memcpy(emitted + n_emitted, out, out_len);
        n_emitted += out_len;
        piece_from = fed;
        fed = to;
        if (stopped) break;
        size_t held = sw_stop_held(st);
        if (n_emitted + held != fed || memcmp(emitted, text, n_emitted) != 0) {
            snprintf(why, why_cap, "after %zu bytes fed: %zu emitted + %zu held, or emitted text differs", fed,
                     n_emitted, held);
            ok = 0;
        } else if (held != stop_ref_hold(stops, lens, n, text, fed)) {
            snprintf(why, why_cap, "after %zu bytes fed: holds %zu, should hold %zu", fed, held,
                     stop_ref_hold(stops, lens, n, text, fed));
            ok = 0;
        }
    }
    if (ok && stopped) {
        size_t start = match >= 0 ? match_end - lens[match] : 0;
        if (match < 0)
            snprintf(why, why_cap, "stopped (string %d) but no stop string occurs", sw_stop_matched(st)), ok = 0;
        else if (sw_stop_matched(st) != match)
            snprintf(why, why_cap, "matched string %d, expected %d", sw_stop_matched(st), match), ok = 0;
        else if (!(piece_from < match_end && match_end <= fed)) /* the piece holding its last byte */
            snprintf(why, why_cap, "stopped by the piece [%zu, %zu), the match ends at %zu", piece_from, fed,
                     match_end), ok = 0;
        else if (n_emitted != start || memcmp(emitted, text, start) != 0)
            snprintf(why, why_cap, "emitted %zu bytes, expected the %zu before the match", n_emitted, start), ok = 0;
        size_t fl = 99;
        if (ok && (sw_stop_flush(st, out, len + max_len + 1, &fl, &err) != SMOLWEB_OK || fl != 0))
            snprintf(why, why_cap, "flush after a match gave %zu bytes", fl), ok = 0;
    } else if (ok) {
        size_t fl = 0;
        if (match >= 0)
            snprintf(why, why_cap, "string %d occurs, ending at %zu, but no stop", match, match_end), ok = 0;
        else if (sw_stop_flush(st, out, len + max_len + 1, &fl, &err) != SMOLWEB_OK)
            snprintf(why, why_cap, "flush failed: %.200s", err.msg), ok = 0;
        else {
            memcpy(emitted + n_emitted, out, fl);
            n_emitted += fl;
            if (n_emitted != len || memcmp(emitted, text, len) != 0)
                snprintf(why, why_cap, "emitted + flush = %zu bytes, text has %zu", n_emitted, len), ok = 0;
            else if (sw_stop_held(st) != 0)
                snprintf(why, why_cap, "still holding after flush"), ok = 0;
        }
    }
    free(emitted);
    free(out);
    return ok;
}

#endif
