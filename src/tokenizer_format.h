/* tokenizer_format.h: the packed tokenizer file (.swt), a byte-level BPE
 * tokenizer in about a quarter of tokenizer.json's size. Written by the
 * chunker (chunker/tokpack.c), read by the runtime (src/tokenizer.c), which
 * treats it as untrusted.
 *
 * Byte layout, all integers little-endian:
 *   1. offset 0,  4 bytes : magic "SWTK"
 *   2. offset 4,  u32     : version (SW_TOK_VERSION = 1)
 *   3. offset 8,  u32     : header size (SW_TOK_HEADER_SIZE = 64)
 *   4. offset 12, u32     : model kind (SW_TOK_MODEL_BYTE_BPE = 1: byte-level
 *                           BPE, i.e. ByteLevel byte-to-char mapping, BPE
 *                           model, ByteLevel decoder, no normalizer)
 *   5. offset 16, u32     : pre-tokenizer flags (SW_TOK_PRE_*), applied in
 *                           this order: digits split, then per piece the
 *                           prefix space, then the GPT-2 regex
 *   6. offset 20, u32     : model flags (SW_TOK_MODEL_*)
 *   7. offset 24, u32     : V, number of vocabulary entries (ids 0..V-1), 1..2^21
 *   8. offset 28, u32     : M, number of merges, 0..2^21
 *   9. offset 32, u32     : A, number of added tokens, 0..65536
 *  10. offset 36, i32     : unk id, or -1 when the model has no unknown token
 *  11. offset 40, u32     : vocabulary section size in bytes
 *  12. offset 44, u32     : merges section size in bytes (= M * 2 * W)
 *  13. offset 48, u32     : added-tokens section size in bytes
 *  14. offset 52, u32     : W, merge id width in bytes: 2 when V <= 65536, else 4
 *  15. offset 56, 8 bytes : reserved, zero
 *  16. offset 64          : vocabulary section: V entries in id order, each a
 *                           LEB128 varint T = byte length * 4 + kind, then that
 *                           many bytes. kind 0: no token has this id (length 0);
 *                           kind 1: a byte-level token, bytes = its string with
 *                           each char mapped back to its byte (what it decodes
 *                           to, and what BPE merges build); kind 2: a token
 *                           whose string has chars outside the byte-level
 *                           alphabet, bytes = its UTF-8 (decoded verbatim,
 *                           never produced by merges). Kind-1 byte strings are
 *                           non-empty and distinct.
 *  17. then               : merges section: M pairs (left id, right id), each id
 *                           W bytes, in rank order (rank = index). Both ids are
 *                           kind-1 tokens; the merged token is the kind-1 token
 *                           whose bytes are left's bytes followed by right's,
 *                           found when loading. A pair listed twice takes the
 *                           later rank, as the reference's merge map does.
 *  18. then               : added-tokens section: A entries, each u32 id (< 2^21,
 *                           distinct), u8 flags (SW_TOK_ADDED_*), varint content
 *                           length + content bytes (what is matched in text,
 *                           non-empty), varint piece length + piece bytes (what
 *                           the id decodes to: the reference decoder maps the
 *                           content's chars back to bytes when all are in the
 *                           byte-level alphabet, else keeps its UTF-8).
 *  19. the file ends exactly after the added-tokens section; it is under 4 GiB.
 *
 * The vocabulary size seen by callers is max(V, largest added id + 1). The
 * 256-entry byte-to-char map of the ByteLevel pre-tokenizer is fixed (GPT-2's
 * bytes_to_unicode) and rebuilt by the reader; so are the byte-fallback ids,
 * looked up as the kind-1 tokens "<0xHH>". */
#ifndef SW_TOKENIZER_FORMAT_H
#define SW_TOKENIZER_FORMAT_H

#define SW_TOK_MAGIC "SWTK"
#define SW_TOK_VERSION 1
#define SW_TOK_HEADER_SIZE 64
#define SW_TOK_MODEL_BYTE_BPE 1

/* Limits (the largest real vocabularies have ~256K tokens) that keep the
 * reader's tables a small multiple of the file size. */
#define SW_TOK_MAX_IDS (1u << 21)
#define SW_TOK_MAX_MERGES (1u << 21)
#define SW_TOK_MAX_ADDED 65536u

/* Pre-tokenizer flags. */
#define SW_TOK_PRE_DIGITS 1u            /* Digits: split out Unicode numbers (Nd, Nl, No) */
#define SW_TOK_PRE_DIGITS_INDIVIDUAL 2u /* ... each number char alone (else runs) */
#define SW_TOK_PRE_REGEX 4u             /* ByteLevel use_regex: GPT-2 split regex */
#define SW_TOK_PRE_PREFIX_SPACE 8u      /* ByteLevel add_prefix_space */
#define SW_TOK_PRE_ALL 15u

/* Model flags. */
#define SW_TOK_MODEL_IGNORE_MERGES 1u /* a word that is a token is emitted whole */
#define SW_TOK_MODEL_BYTE_FALLBACK 2u /* a char with no token becomes its <0xHH> tokens */
#define SW_TOK_MODEL_FUSE_UNK 4u      /* consecutive unknown chars give one unk */
#define SW_TOK_MODEL_ALL 7u

/* Vocabulary entry kinds. */
#define SW_TOK_KIND_NONE 0
#define SW_TOK_KIND_BYTES 1
#define SW_TOK_KIND_RAW 2

/* Added-token flags. */
#define SW_TOK_ADDED_SPECIAL 1u     /* skipped by decoding with SW_DECODE_SKIP_SPECIAL */
#define SW_TOK_ADDED_SINGLE_WORD 2u /* matches only between non-word chars */
#define SW_TOK_ADDED_LSTRIP 4u      /* the match takes the white space before it */
#define SW_TOK_ADDED_RSTRIP 8u      /* the match takes the white space after it */
#define SW_TOK_ADDED_NORMALIZED 16u /* matched in a second pass, after the non-normalized ones */
#define SW_TOK_ADDED_ALL 31u

#endif
