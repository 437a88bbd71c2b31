/* tokenizer.h: the runtime's byte-level BPE tokenizer, read from a packed
 * tokenizer (format in tokenizer_format.h), reproducing Hugging Face's
 * tokenizers library (the Rust core) for byte-level BPE models such as
 * SmolLM2's.
 *
 * Encoding, in the reference's order:
 *  1. Added tokens are found in the text (leftmost-longest; non-normalized
 *     ones first, then normalized ones in the pieces between, honouring
 *     single_word, lstrip and rstrip) and emitted as their ids; special-token
 *     strings in the text are always matched.
 *  2. Each piece between them is pre-tokenized: Unicode numbers split out
 *     (Digits), a prefix space if configured, then the GPT-2 regex
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *     (a hand-written scanner over code points, Unicode tables in unicode.h).
 *  3. Each word's bytes become initial symbols (one token per byte; a byte
 *     with no token takes byte fallback or unk when the model has them, and
 *     is otherwise dropped, so its neighbours may merge across the gap), then
 *     pairs are merged lowest rank first, leftmost first among equal ranks.
 *
 * Input is bytes. Invalid UTF-8: each byte that does not start a well-formed
 * sequence counts as one character of class OTHER (like punctuation) and
 * goes through the byte-level map like any byte, so decode(encode(x)) == x
 * for any bytes x whose bytes all have tokens. NUL is an ordinary character
 * (class OTHER); SmolLM2 has a token for byte 0.
 *
 * A tokenizer is immutable after creation: encode and decode may run from
 * several threads at once. */
#ifndef SW_TOKENIZER_H
#define SW_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct sw_tokenizer sw_tokenizer;

/* Validates a packed tokenizer (untrusted bytes) and builds the lookup tables.
 * bytes are copied; the caller keeps ownership. Returns NULL with err set
 * ("tokenizer: truncated header", "tokenizer: merge 12: id 70000 out of range",
 * ...). Free with sw_tokenizer_free. */
sw_tokenizer *sw_tokenizer_create(const uint8_t *bytes, size_t len, sw_error *err);

/* Frees the tokenizer; NULL is a no-op. */
void sw_tokenizer_free(sw_tokenizer *t);

/* Number of ids: max(vocabulary entries, largest added-token id + 1). */
int sw_tokenizer_vocab_size(const sw_tokenizer *t);

/* Longest text encode accepts (symbol positions are 32-bit). */
#define SW_TOKENIZER_MAX_TEXT (1u << 30)

/* Most ids encoding len bytes can produce (byte fallback: 2 per byte). */
size_t sw_tokenizer_encode_bound(size_t len);

/* Encodes text[0..len) (no special tokens added). Writes the first
 * min(n, cap) ids to ids (may be NULL when cap is 0) and sets *n_ids = n;
 * call again with a larger buffer when n > cap, or size it with
 * sw_tokenizer_encode_bound. Fails only when out of memory or for a text
 * over SW_TOKENIZER_MAX_TEXT bytes. */
smolweb_status sw_tokenizer_encode(const sw_tokenizer *t, const uint8_t *text, size_t len, int32_t *ids, size_t cap,
                                   size_t *n_ids, sw_error *err);

/* Same, into a malloc'd array the caller frees (*ids is NULL when n is 0). */
smolweb_status sw_tokenizer_encode_alloc(const sw_tokenizer *t, const uint8_t *text, size_t len, int32_t **ids,
                                         size_t *n_ids, sw_error *err);

/* Decoding flags. */
enum {
    SW_DECODE_SKIP_SPECIAL = 1, /* leave out special added tokens (e.g. <|im_end|>) */
    SW_DECODE_LOSSY = 2         /* replace invalid UTF-8 by U+FFFD per maximal subpart, as
                                   the reference's String::from_utf8_lossy; the output is
                                   then always valid UTF-8 */
};

/* Decodes ids into out: writes the first min(n, cap) bytes (out may be NULL
 * when cap is 0) and sets *out_len = n, the full length. Ids no token has
 * are skipped, as the reference does. Not NUL-terminated. Fails only when
 * out of memory. */
smolweb_status sw_tokenizer_decode(const sw_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags, uint8_t *out,
                                   size_t cap, size_t *out_len, sw_error *err);

/* The bytes id decodes to (a view into t, valid while t lives; not
 * NUL-terminated), or NULL when no token has this id. */
const uint8_t *sw_tokenizer_piece(const sw_tokenizer *t, int32_t id, size_t *len);

/* 1 if id is a special added token (<|im_end|>, ...), else 0. */
int sw_tokenizer_is_special(const sw_tokenizer *t, int32_t id);

/* Id of the added token whose content is exactly str[0..len), else -1. */
int32_t sw_tokenizer_added_id(const sw_tokenizer *t, const char *str, size_t len);

/* Id of the token with exactly these bytes: an added token's content first
 * (as the reference's token_to_id), else a byte-level vocabulary token whose
 * decoded bytes they are. Else -1. */
int32_t sw_tokenizer_token_id(const sw_tokenizer *t, const uint8_t *bytes, size_t len);

/* ---- streaming decode ----
 * Feeds ids one at a time and returns the text that is complete: a UTF-8
 * character split across tokens is held back until its last byte arrives
 * (at most 3 bytes are held). The concatenation of every put's output plus
 * the flush equals sw_tokenizer_decode of all the ids with the same flags. */
typedef struct sw_decode_stream sw_decode_stream;

/* Returns a new stream on t (which must outlive it), or NULL out of memory. */
sw_decode_stream *sw_decode_stream_create(const sw_tokenizer *t, unsigned flags);
/* NULL is a no-op. */
void sw_decode_stream_free(sw_decode_stream *s);

/* Adds one id; sets *out / *out_len to the bytes now complete (a view into
 * the stream, valid until its next call; *out_len may be 0). */
smolweb_status sw_decode_stream_put(sw_decode_stream *s, int32_t id, const uint8_t **out, size_t *out_len, sw_error *err);

/* Ends the stream: returns what is held back (an incomplete character: one
 * U+FFFD under SW_DECODE_LOSSY, else its raw bytes) and resets the stream. */
smolweb_status sw_decode_stream_flush(sw_decode_stream *s, const uint8_t **out, size_t *out_len, sw_error *err);

/* Forgets anything held back, ready for a new sequence. */
void sw_decode_stream_reset(sw_decode_stream *s);

#endif
