/* stop.h: stop strings for streaming generation.
 *
 * Generated text arrives as decoded pieces. A stop matcher sits between the
 * detokenizer and the caller: each piece goes in, and out come the bytes that
 * can be shown now. Bytes that might be the start of a stop string are held
 * back until later pieces settle it. When a stop string completes, the text
 * before it is released, the stop string and whatever follows it in that
 * piece are dropped, and generation should end.
 *
 * Which occurrence wins: the stream is read byte by byte and generation stops
 * at the first byte that completes any stop string (the earliest end); of
 * several stop strings ending at that byte, the longest (earliest start)
 * wins, then the lowest index. So the result never depends on how the text
 * was cut into pieces. (With "abcd" and "bc" as stop strings, "abc" already
 * stops at "bc": the stream does not wait to see whether "abcd" follows.)
 *
 * What is held back is exactly the longest suffix of the stream that is a
 * proper prefix of some stop string: nothing that could not become part of
 * a match is delayed. Everything is bytes; when the text and the stop strings
 * are valid UTF-8, held-back and emitted parts split only between characters
 * (a stop string starts with a lead byte).
 *
 * Matching is an Aho-Corasick automaton over bytes: linear in the text, the
 * held bytes are read back from the automaton's state, and no call allocates
 * after sw_stop_create. Stop strings come from users (e.g. the JavaScript
 * `stop` option) and are treated as untrusted: any bytes, length-checked. */
#ifndef SW_STOP_H
#define SW_STOP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Most bytes all stop strings of one matcher may have together. */
#define SW_STOP_MAX_BYTES 65536

typedef struct sw_stop sw_stop;

/* Builds a matcher for n stop strings, strs[i] holding lens[i] bytes (any
 * bytes, no terminator needed; copied, the caller keeps ownership). n == 0
 * gives a matcher that passes everything through at once. Returns NULL with
 * err set: "stop string 2 is empty", "stop string 1 is NULL",
 * "stop strings: 70000 bytes in total, more than 65536", out of memory.
 * Free with sw_stop_free. */
sw_stop *sw_stop_create(const uint8_t *const *strs, const size_t *lens, size_t n, sw_error *err);

/* Frees the matcher; NULL is a no-op. */
void sw_stop_free(sw_stop *st);

/* Back to an empty stream (nothing held, no match), keeping the stop strings. */
void sw_stop_reset(sw_stop *st);

/* Bytes currently held back. */
size_t sw_stop_held(const sw_stop *st);

/* Capacity `out` needs for sw_stop_feed of len bytes: held + len (at most
 * longest stop string - 1 + len). Also enough for sw_stop_flush. */
size_t sw_stop_out_bound(const sw_stop *st, size_t len);

/* Feeds the next piece (len bytes; piece may be NULL when len is 0). Writes
 * to out the bytes now safe to show, sets *out_len, and sets *stopped:
 *  0: out = the held bytes + the piece, minus what must now be held;
 *  1: a stop string completed: out = all the text before it not yet
 *     emitted; the stop string and the rest of the piece are dropped, and the
 *     matcher refuses further feeds until sw_stop_reset.
 * Fails with SMOLWEB_ERR_INVALID_ARG when cap < sw_stop_out_bound(st, len)
 * ("stop: output buffer of 3 bytes, the feed needs 9") or piece is NULL with
 * len > 0, and with SMOLWEB_ERR_STATE after a match; out is untouched then. */
smolweb_status sw_stop_feed(sw_stop *st, const uint8_t *piece, size_t len, uint8_t *out, size_t cap,
                            size_t *out_len, int *stopped, sw_error *err);

/* End of generation without a match: writes the held bytes to out (cap >=
 * sw_stop_held(st), else SMOLWEB_ERR_INVALID_ARG), sets *out_len and empties
 * the stream. After a match it writes nothing. */
smolweb_status sw_stop_flush(sw_stop *st, uint8_t *out, size_t cap, size_t *out_len, sw_error *err);

/* Index of the stop string that ended the stream, or -1. */
int sw_stop_matched(const sw_stop *st);

#endif
