/* test_gguf.c: the GGUF reader, the GGUF model source and the GGUF writer.
 * - metadata: every value type (integers, floats, bool, strings, string and
 *   integer arrays, nested arrays) through the getters, on a file built here
 *   byte by byte.
 * - bad input, each with its exact message: bad magic, version 1, big-endian,
 *   truncation at every byte of a header, string length beyond the file,
 *   absurd array length, counts that cannot fit, nesting, unknown value and
 *   tensor types, duplicate keys and tensor names, bad alignment, 5 dims,
 *   partial blocks, element overflow, misaligned and out-of-bounds data;
 *   through the source: a missing llama key, a non-llama architecture, a
 *   rope dimension other than the head size.
 * - round trip: sw_gguf_write (tools/gen/gguf_write.c, compiled in here) for a
 *   tiny llama (hidden 64, 2 layers, 4 heads, 2 kv heads) with the real
 *   SmolLM2 tokenizer, in F32, F16, Q8_0, Q4_0 and Q4_0 with a Q8_0 embedding;
 *   read back through sw_source_open_gguf. Every tensor equals the fill values
 *   exactly (F32) or within the format's bound; llama.cpp's names and types;
 *   the Q/K rows in the file permuted as llama.cpp's converter does (index
 *   formula written out here) and un-permuted by the source; the tokenizer
 *   metadata (tokens, types, merges, special ids, chat template).
 * - a tokenizer.json with [a, b] merge pairs and a vocabulary smaller than
 *   the model's (padded with [PADn] tokens). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "f16.h"
#include "gguf.h"
#include "source.h"
#include "source_gguf.h"

/* The writer lives in the generator; compile it into this test. */
#include "gen.h"

#include "check.h"

/* ---- building GGUF bytes ---- */

typedef struct gb {
    uint8_t p[8192];
    size_t len;
} gb;

static void gb_raw(gb *b, const void *s, size_t n) {
    if (b->len + n > sizeof b->p) abort();
    memcpy(b->p + b->len, s, n);
    b->len += n;
}
static void gb_u8(gb *b, uint8_t v) { gb_raw(b, &v, 1); }
static void gb_u32(gb *b, uint32_t v) { for (int i = 0; i < 4; i++) gb_u8(b, (uint8_t)(v >> (8 * i))); }
static void gb_u64(gb *b, uint64_t v) { for (int i = 0; i < 8; i++) gb_u8(b, (uint8_t)(v >> (8 * i))); }
static void gb_str(gb *b, const char *s) { gb_u64(b, strlen(s)); gb_raw(b, s, strlen(s)); }
static void gb_head(gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b->len = 0;
    gb_raw(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}
static void gb_kv_u32(gb *b, const char *k, uint32_t v) { gb_str(b, k); gb_u32(b, 4); gb_u32(b, v); }
static void gb_kv_f32(gb *b, const char *k, float v) { gb_str(b, k); gb_u32(b, 6); gb_u32(b, sw_f32_bits(v)); }
static void gb_kv_str(gb *b, const char *k, const char *v) { gb_str(b, k); gb_u32(b, 8); gb_str(b, v); }
static void gb_tensor(gb *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off) {
    gb_str(b, name);
    gb_u32(b, nd);
    for (uint32_t i = 0; i < nd; i++) gb_u64(b, ne[i]);
    gb_u32(b, type);
    gb_u64(b, off);
}
static void gb_pad(gb *b, size_t a) { while (b->len % a) gb_u8(b, 0); }

/* Opens b in memory and checks it fails with status st and a message containing want. */
static void expect_fail(const gb *b, smolweb_status st, const char *want, int line) {
    sw_error err;
    sw_error_clear(&err);
    uint8_t *copy = malloc(b->len ? b->len : 1); /* exact-size heap copy so ASan sees overreads */
    memcpy(copy, b->p, b->len);
    sw_gguf *g = sw_gguf_open_memory(copy, b->len, "bad.gguf", &err);
    if (g || err.status != st || !strstr(err.msg, want) || strncmp(err.msg, "bad.gguf: ", 10) != 0) {
        failures++;
        fprintf(stderr, "FAIL line %d: want status %d \"%s\", got %s status %d \"%s\"\n", line, st, want,
                g ? "success," : "", err.status, err.msg);
    }
    sw_gguf_free(g);
    free(copy);
}
#define EXPECT_FAIL(b, st, want) expect_fail(b, st, want, __LINE__)

/* A valid file using every metadata type; tensors "a" (F32 [4]) and "b"
 * (Q8_0 [32, 2]). Records where the header ends. */
static size_t build_valid(gb *b, uint32_t version) {
    gb_head(b, version, 2, 14);
    gb_kv_str(b, "general.architecture", "llama");
    gb_kv_u32(b, "general.alignment", 32);
    gb_str(b, "t.u8"); gb_u32(b, 0); gb_u8(b, 200);
    gb_str(b, "t.i8"); gb_u32(b, 1); gb_u8(b, 0xfe);
    gb_str(b, "t.u16"); gb_u32(b, 2); gb_u8(b, 0x34); gb_u8(b, 0x12);
    gb_str(b, "t.i16"); gb_u32(b, 3); gb_u8(b, 0xff); gb_u8(b, 0xff);
    gb_str(b, "t.i64"); gb_u32(b, 11); gb_u64(b, (uint64_t)-5);
    gb_str(b, "t.u64big"); gb_u32(b, 10); gb_u64(b, UINT64_MAX);
    gb_kv_f32(b, "t.f32", 0.25f);
    gb_str(b, "t.f64"); gb_u32(b, 12); { double d = -1.5; uint64_t u; memcpy(&u, &d, 8); gb_u64(b, u); }
    gb_str(b, "t.bool"); gb_u32(b, 7); gb_u8(b, 1);
    gb_str(b, "t.strs"); gb_u32(b, 9); gb_u32(b, 8); gb_u64(b, 3); gb_str(b, "x"); gb_str(b, ""); gb_str(b, "hello");
    /* an i32 array, then an array of two arrays (u16 and string) */
    gb_str(b, "t.ints"); gb_u32(b, 9); gb_u32(b, 5); gb_u64(b, 2); gb_u32(b, (uint32_t)-7); gb_u32(b, 9);
    gb_str(b, "t.nested"); gb_u32(b, 9); gb_u32(b, 9); gb_u64(b, 2);
    gb_u32(b, 2); gb_u64(b, 1); gb_u8(b, 1); gb_u8(b, 0);
    gb_u32(b, 8); gb_u64(b, 1); gb_str(b, "in");
    uint64_t ne_a[1] = {4}, ne_b[2] = {32, 2};
    gb_tensor(b, "a", 1, ne_a, SW_GGML_F32, 0);
    gb_tensor(b, "b", 2, ne_b, SW_GGML_Q8_0, 32);
    size_t header_end = b->len;
    gb_pad(b, 32);
    float av[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    gb_raw(b, av, sizeof av);
    gb_pad(b, 32);
    for (int blk = 0; blk < 2; blk++) {
        gb_u8(b, 0x00); gb_u8(b, 0x3c); /* d = 1.0 */
        for (int j = 0; j < 32; j++) gb_u8(b, (uint8_t)(int8_t)(j - 16 + blk));
    }
    return header_end;
}

static void test_valid(void) {
    for (uint32_t v = 2; v <= 3; v++) {
        gb b;
        build_valid(&b, v);
        sw_error err;
        sw_gguf *g = sw_gguf_open_memory(b.p, b.len, "ok.gguf", &err);
        CHECK(g != NULL, "valid v%u: %s", v, err.msg);
        if (!g) continue;
        const char *s;
        int64_t i;
        double f;
        int bl;
        CHECK(sw_gguf_version(g) == v, "version");
        CHECK(sw_gguf_get_str(g, "general.architecture", &s) && strcmp(s, "llama") == 0, "architecture");
        CHECK(sw_gguf_get_int(g, "t.u8", &i) && i == 200, "u8");
        CHECK(sw_gguf_get_int(g, "t.i8", &i) && i == -2, "i8");
        CHECK(sw_gguf_get_int(g, "t.u16", &i) && i == 0x1234, "u16");
        CHECK(sw_gguf_get_int(g, "t.i16", &i) && i == -1, "i16");
        CHECK(sw_gguf_get_int(g, "t.i64", &i) && i == -5, "i64");
        CHECK(!sw_gguf_get_int(g, "t.u64big", &i), "u64 beyond int64 is not an int");
        CHECK(sw_gguf_get_float(g, "t.u64big", &f) && f == 18446744073709551615.0, "u64 as float");
        CHECK(sw_gguf_get_float(g, "t.f32", &f) && f == 0.25, "f32");
        CHECK(sw_gguf_get_float(g, "t.f64", &f) && f == -1.5, "f64");
        CHECK(sw_gguf_get_float(g, "general.alignment", &f) && f == 32.0, "int as float");
        CHECK(!sw_gguf_get_int(g, "t.f32", &i), "float is not an int");
        CHECK(sw_gguf_get_bool(g, "t.bool", &bl) && bl == 1, "bool");
        CHECK(!sw_gguf_get_bool(g, "t.u8", &bl), "u8 is not a bool");
        CHECK(!sw_gguf_get_str(g, "t.u8", &s) && !sw_gguf_get_str(g, "nope", &s), "str type/absent");
        size_t n;
        const char *const *items;
        const uint32_t *lens;
        CHECK(sw_gguf_get_str_array(g, "t.strs", &n, &items, &lens) && n == 3 && strcmp(items[0], "x") == 0 &&
                  items[1][0] == 0 && lens[1] == 0 && strcmp(items[2], "hello") == 0 && lens[2] == 5, "string array");
        const int64_t *ints;
        CHECK(sw_gguf_get_int_array(g, "t.ints", &n, &ints) && n == 2 && ints[0] == -7 && ints[1] == 9, "int array");
        CHECK(!sw_gguf_get_int_array(g, "t.strs", &n, &ints) && !sw_gguf_get_str_array(g, "t.ints", &n, &items, &lens),
              "array element types");
        CHECK(!sw_gguf_get_int_array(g, "t.nested", &n, &ints) && !sw_gguf_get_str_array(g, "t.nested", &n, &items, NULL),
              "nested array is skipped");
        CHECK(sw_gguf_tensor_count(g) == 2 && strcmp(sw_gguf_tensor_name(g, 1), "b") == 0 && !sw_gguf_tensor_name(g, 2),
              "tensor names");
        uint32_t type;
        int nd;
        int64_t ne[4];
        CHECK(sw_gguf_tensor(g, "b", &type, &nd, ne) && type == SW_GGML_Q8_0 && nd == 2 && ne[0] == 32 && ne[1] == 2 &&
                  ne[2] == 1 && ne[3] == 1, "tensor b info");
        CHECK(!sw_gguf_tensor(g, "c", &type, &nd, ne), "no tensor c");
        float out[64];
        CHECK(sw_gguf_read_f32(g, "a", out, 4, &err) == SMOLWEB_OK && out[0] == 1.0f && out[3] == 3.0f, "read a: %s", err.msg);
        CHECK(sw_gguf_read_f32(g, "b", out, 64, &err) == SMOLWEB_OK && out[0] == -16.0f && out[31] == 15.0f &&
                  out[32] == -15.0f && out[63] == 16.0f, "read b: %s", err.msg);
        CHECK(sw_gguf_read_f32(g, "b", out, 63, &err) == SMOLWEB_ERR_INVALID_ARG &&
                  strstr(err.msg, "ok.gguf: tensor b has 64 elements, not 63"), "count mismatch: %s", err.msg);
        CHECK(sw_gguf_read_f32(g, "zz", out, 1, &err) == SMOLWEB_ERR_MISSING && strstr(err.msg, "ok.gguf: no tensor zz"),
              "missing tensor: %s", err.msg);
        sw_gguf_free(g);
    }
    sw_gguf_free(NULL);
}

/* Patches 4 or 8 bytes of a copy at off. */
static gb patched(const gb *b, size_t off, uint64_t v, int width) {
    gb c = *b;
    for (int i = 0; i < width; i++) c.p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
    return c;
}

static void test_bad(void) {
    gb b, c;
    size_t header_end = build_valid(&b, 3);

    c = b;
    c.p[3] = 'X';
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "not a GGUF file (bad magic)");
    c = patched(&b, 4, 1, 4);
    EXPECT_FAIL(&c, SMOLWEB_ERR_UNSUPPORTED, "unsupported GGUF version 1");
    c = patched(&b, 4, 0x03000000u, 4);
    EXPECT_FAIL(&c, SMOLWEB_ERR_UNSUPPORTED, "big-endian GGUF files are not supported");
    c = patched(&b, 4, 4, 4);
    EXPECT_FAIL(&c, SMOLWEB_ERR_UNSUPPORTED, "unsupported GGUF version 4");

    /* truncation: a few points by hand, then every prefix of the header */
    const size_t cuts[] = {0, 3, 6, 10, 20, 30, header_end - 30, header_end - 12, header_end - 5, header_end - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        c = b;
        c.len = cuts[i];
        EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, cuts[i] == 30 ? "bad.gguf: 14 metadata entries cannot fit in the file"
                                                           : "bad.gguf: truncated header");
    }
    for (size_t len = 0; len < header_end; len++) {
        c = b;
        c.len = len;
        sw_error err;
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan catches a read past the cut */
        memcpy(copy, b.p, len);
        sw_gguf *g = sw_gguf_open_memory(copy, len, "cut.gguf", &err);
        free(copy);
        int known = strstr(err.msg, "truncated header") || strstr(err.msg, "cannot fit in the file") ||
                    strstr(err.msg, "beyond the end of the file") || strstr(err.msg, "exceeds the file") ||
                    strstr(err.msg, "out of bounds");
        CHECK(!g && err.status == SMOLWEB_ERR_FORMAT && known, "cut at %zu: %s", len, g ? "opened" : err.msg);
        sw_gguf_free(g);
    }
    /* the header whole, the data cut short */
    c = b;
    c.len = b.len - 1;
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: tensor b out of bounds");

    /* string length beyond the file: the first key's length */
    c = patched(&b, 24, 1ull << 40, 8);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "metadata key 0: string length 1099511627776 beyond the end of the file");

    /* counts */
    c = patched(&b, 16, 1ull << 60, 8);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "1152921504606846976 metadata entries cannot fit in the file");
    c = patched(&b, 8, 1000, 8);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "1000 tensors cannot fit in the file");

    /* one-key files for value-level errors */
    gb_head(&c, 3, 0, 1);
    gb_str(&c, "arr"); gb_u32(&c, 9); gb_u32(&c, 8); gb_u64(&c, 1ull << 60);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "key arr: array length 1152921504606846976 exceeds the file");
    gb_head(&c, 3, 0, 1);
    gb_str(&c, "arr"); gb_u32(&c, 9); gb_u32(&c, 11); gb_u64(&c, 3); gb_u64(&c, 1); gb_u64(&c, 2);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "key arr: array length 3 exceeds the file");
    gb_head(&c, 3, 0, 1);
    gb_str(&c, "v"); gb_u32(&c, 13); gb_u64(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "key v has unknown value type 13");
    gb_head(&c, 3, 0, 1);
    gb_str(&c, "deep");
    gb_u32(&c, 9);
    for (int i = 0; i < 5; i++) { gb_u32(&c, 9); gb_u64(&c, 1); }
    gb_u32(&c, 0); gb_u64(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "key deep: arrays nested too deep");
    gb_head(&c, 3, 0, 2);
    gb_kv_u32(&c, "dup", 1);
    gb_kv_u32(&c, "dup", 2);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: duplicate key dup");
    gb_head(&c, 3, 0, 1);
    gb_str(&c, "s"); gb_u32(&c, 8); gb_u64(&c, 100); gb_raw(&c, "short", 5);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: s: string length 100 beyond the end of the file");

    /* alignment */
    static const uint32_t aligns[] = {48, 0};
    for (int i = 0; i < 2; i++) {
        gb_head(&c, 3, 0, 1);
        gb_kv_u32(&c, "general.alignment", aligns[i]);
        char want[64];
        snprintf(want, sizeof want, "general.alignment %u is not a power of two", aligns[i]);
        EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, want);
    }
    gb_head(&c, 3, 0, 1);
    gb_kv_str(&c, "general.alignment", "32");
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "general.alignment is not an integer");

    /* tensor infos */
    uint64_t ne4[5] = {32, 1, 1, 1, 1}, big[2] = {1ull << 32, 1ull << 32}, neg[1] = {UINT64_MAX}, ne33[1] = {33};
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "five", 5, ne4, SW_GGML_F32, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor five has 5 dimensions (1 to 4 supported)");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "zero", 0, ne4, SW_GGML_F32, 0);
    for (int i = 0; i < 64; i++) gb_u8(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor zero has 0 dimensions (1 to 4 supported)");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "t", 1, ne4, 99, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: unknown tensor type 99 for tensor t");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "t", 1, ne4, 4, 0); /* Q4_2, removed from ggml */
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "unknown tensor type 4 for tensor t");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "big", 2, big, SW_GGML_F32, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor big has too many elements");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "neg", 1, neg, SW_GGML_F32, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor neg has a negative dimension");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "part", 1, ne33, SW_GGML_Q8_0, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor part: a row of 33 elements is not a whole number of Q8_0 blocks of 32");
    gb_head(&c, 3, 2, 0);
    gb_tensor(&c, "same", 1, ne4, SW_GGML_F32, 0);
    gb_tensor(&c, "same", 1, ne4, SW_GGML_F32, 128);
    gb_pad(&c, 32);
    for (int i = 0; i < 256; i++) gb_u8(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: duplicate tensor name same");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "mis", 1, ne4, SW_GGML_F32, 16);
    gb_pad(&c, 32);
    for (int i = 0; i < 256; i++) gb_u8(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor mis data offset 16 is not a multiple of the alignment 32");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "far", 1, ne4, SW_GGML_F32, UINT64_MAX - 31); /* offset + size overflows */
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: tensor far out of bounds");
    gb_head(&c, 3, 1, 0);
    gb_tensor(&c, "far", 1, ne4, SW_GGML_F32, 1ull << 20);
    gb_pad(&c, 32);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "bad.gguf: tensor far out of bounds");
    gb_head(&c, 3, 1, 0);
    gb_u64(&c, 5);
    gb_raw(&c, "nu\0ll", 5); /* a name with a NUL inside */
    gb_u32(&c, 1); gb_u64(&c, 32); gb_u32(&c, 0); gb_u64(&c, 0);
    EXPECT_FAIL(&c, SMOLWEB_ERR_FORMAT, "tensor 0 name contains a NUL byte");

    /* a known type that cannot be converted opens, and refuses to read */
    gb_head(&c, 3, 1, 0);
    uint64_t ne256[1] = {256};
    gb_tensor(&c, "q2", 1, ne256, 10, 0);
    gb_pad(&c, 32);
    for (int i = 0; i < 84; i++) gb_u8(&c, 0);
    sw_error err;
    sw_gguf *g = sw_gguf_open_memory(c.p, c.len, "q2.gguf", &err);
    CHECK(g != NULL, "Q2_K file: %s", err.msg);
    float out[256];
    CHECK(g && sw_gguf_read_f32(g, "q2", out, 256, &err) == SMOLWEB_ERR_UNSUPPORTED &&
              strstr(err.msg, "q2.gguf: tensor q2 has type Q2_K, which cannot be converted"), "Q2_K read: %s", err.msg);
    sw_gguf_free(g);

    g = sw_gguf_open("no/such/file.gguf", &err);
    CHECK(!g && err.status == SMOLWEB_ERR_MISSING && strstr(err.msg, "no/such/file.gguf: cannot open"), "%s", err.msg);
}

/* ---- source-level errors, through files ---- */

static char tmp_dir[64];

static void write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

/* A llama header with no tensors; skip names one key to leave out. */
static void build_llama(gb *b, const char *arch, const char *skip, uint32_t rope_dims) {
    static const char *keys[] = {"llama.context_length", "llama.embedding_length", "llama.block_count",
                                 "llama.feed_forward_length", "llama.attention.head_count",
                                 "llama.attention.head_count_kv", "llama.rope.dimension_count"};
    static const uint32_t vals[] = {2048, 64, 2, 128, 4, 2, 0};
    int n = 0;
    for (int i = 0; i < 7; i++) n += !skip || strcmp(keys[i], skip) != 0;
    gb_head(b, 3, 0, (uint64_t)n + 3);
    gb_kv_str(b, "general.architecture", arch);
    for (int i = 0; i < 7; i++)
        if (!skip || strcmp(keys[i], skip) != 0) gb_kv_u32(b, keys[i], i == 6 ? rope_dims : vals[i]);
    gb_kv_f32(b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gb_kv_u32(b, "llama.vocab_size", 256);
}

static void expect_source_fail(const gb *b, smolweb_status st, const char *want, int line) {
    char path[128];
    snprintf(path, sizeof path, "%s/m.gguf", tmp_dir);
    write_file(path, b->p, b->len);
    sw_error err;
    sw_source *s = sw_source_open_gguf(path, &err);
    if (s || err.status != st || !strstr(err.msg, want)) {
        failures++;
        fprintf(stderr, "FAIL line %d: want \"%s\", got %s \"%s\"\n", line, want, s ? "success" : "", err.msg);
    }
    sw_source_free(s);
}

static void test_source_errors(void) {
    gb b;
    /* a truncated header through the file reader */
    size_t header_end = build_valid(&b, 3);
    char cut_path[128];
    snprintf(cut_path, sizeof cut_path, "%s/cut.gguf", tmp_dir);
    write_file(cut_path, b.p, header_end - 5);
    sw_error cut_err;
    sw_gguf *cut = sw_gguf_open(cut_path, &cut_err);
    CHECK(!cut && strcmp(cut_err.msg, "cut.gguf: truncated header") == 0, "file cut: %s", cut_err.msg);
    sw_gguf_free(cut);
    remove(cut_path);

    build_llama(&b, "llama", NULL, 16);
    char path[128];
    snprintf(path, sizeof path, "%s/m.gguf", tmp_dir);
    write_file(path, b.p, b.len);
    sw_error err;
    sw_source *s = sw_source_open_gguf(path, &err);
    CHECK(s != NULL, "minimal llama header: %s", err.msg);
    if (s) {
        const sw_model_config *c = &s->config;
        CHECK(strcmp(c->name, "m") == 0, "name from the file: %s", c->name);
        CHECK(c->vocab_size == 256 && c->head_dim == 16 && c->rope_theta == 10000.0 && c->bos_token_id == -1 &&
                  c->tie_word_embeddings == 1 && fabs(c->rms_norm_eps - 1e-5) < 1e-12, "defaults");
        sw_tensor_info info;
        CHECK(!s->ops->find(s, "model.embed_tokens.weight", &info), "no tensors");
        float x;
        CHECK(s->ops->read_f32(s, "model.norm.weight", &x, 1, &err) == SMOLWEB_ERR_MISSING &&
                  strstr(err.msg, "m.gguf: missing tensor model.norm.weight"), "%s", err.msg);
    }
    sw_source_free(s);
    build_llama(&b, "llama", "llama.block_count", 16);
    expect_source_fail(&b, SMOLWEB_ERR_MISSING, "m.gguf: missing key llama.block_count", __LINE__);
    build_llama(&b, "llama", "llama.embedding_length", 16);
    expect_source_fail(&b, SMOLWEB_ERR_MISSING, "m.gguf: missing key llama.embedding_length", __LINE__);
    build_llama(&b, "qwen2", NULL, 16);
    expect_source_fail(&b, SMOLWEB_ERR_UNSUPPORTED, "m.gguf: architecture 'qwen2' is not supported (only llama)", __LINE__);
    build_llama(&b, "llama", NULL, 8);
    expect_source_fail(&b, SMOLWEB_ERR_UNSUPPORTED, "m.gguf: llama.rope.dimension_count 8 differs from the head size 16",
                       __LINE__);
    gb_head(&b, 3, 0, 0);
    expect_source_fail(&b, SMOLWEB_ERR_MISSING, "m.gguf: missing key general.architecture", __LINE__);
    b.p[0] = 'X';
    expect_source_fail(&b, SMOLWEB_ERR_FORMAT, "m.gguf: not a GGUF file (bad magic)", __LINE__);
}

/* ---- round trip through the writer ---- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* Deterministic weights: uniform in [-0.5, 0.5) (norms 1 +- 0.1); the first
 * block of layer 1's v_proj is zero (a zero scale). */
static smolweb_status test_fill(void *user, const sw_gen_tensor *t, float *out, size_t count, sw_error *err) {
    (void)user;
    (void)err;
    uint64_t s = hash_str(t->hf_name) | 1;
    int norm = strstr(t->hf_name, "norm") != NULL;
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        float u = (float)((double)(s >> 11) / 9007199254740992.0) - 0.5f;
        out[i] = norm ? 1.0f + 0.2f * u : u;
    }
    if (strcmp(t->hf_name, "model.layers.1.self_attn.v_proj.weight") == 0)
        for (size_t i = 0; i < 32 && i < count; i++) out[i] = 0.0f;
    return SMOLWEB_OK;
}

static sw_model_config tiny_config(int vocab) {
    sw_model_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "tiny-test");
    snprintf(c.architecture, sizeof c.architecture, "llama");
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.head_dim = 16;
    c.vocab_size = vocab;
    c.max_position_embeddings = 2048;
    c.rope_theta = 100000.0;
    c.rms_norm_eps = 1e-5;
    c.tie_word_embeddings = 1;
    c.bos_token_id = 1;
    c.eos_token_id = 2;
    return c;
}

static int tiny_tensors(const sw_model_config *c, int with_head, sw_gen_tensor *t) {
    int n = 0, kv = c->num_kv_heads * c->head_dim;
#define ADD(nd, r, cl, ...)                                                       \
    do {                                                                          \
        snprintf(t[n].hf_name, sizeof t[n].hf_name, __VA_ARGS__);                 \
        t[n].ndim = nd, t[n].shape[0] = r, t[n].shape[1] = nd == 2 ? cl : 0, n++; \
    } while (0)
    ADD(2, c->vocab_size, c->hidden_size, "model.embed_tokens.weight");
    for (int l = 0; l < c->num_layers; l++) {
        ADD(1, c->hidden_size, 0, "model.layers.%d.input_layernorm.weight", l);
        ADD(2, c->hidden_size, c->hidden_size, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD(2, kv, c->hidden_size, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD(2, kv, c->hidden_size, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD(2, c->hidden_size, c->hidden_size, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(1, c->hidden_size, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(2, c->intermediate_size, c->hidden_size, "model.layers.%d.mlp.gate_proj.weight", l);
        ADD(2, c->intermediate_size, c->hidden_size, "model.layers.%d.mlp.up_proj.weight", l);
        ADD(2, c->hidden_size, c->intermediate_size, "model.layers.%d.mlp.down_proj.weight", l);
    }
    ADD(1, c->hidden_size, 0, "model.norm.weight");
    if (with_head) ADD(2, c->vocab_size, c->hidden_size, "lm_head.weight");
#undef ADD
    return n;
}

/* llama.cpp's names, written out independently of the source's table. */
static const char *expected_gguf_name(const char *hf, char *buf, size_t cap) {
    static const char *pairs[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},   {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},    {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    if (strcmp(hf, "model.embed_tokens.weight") == 0) return "token_embd.weight";
    if (strcmp(hf, "model.norm.weight") == 0) return "output_norm.weight";
    if (strcmp(hf, "lm_head.weight") == 0) return "output.weight";
    int l;
    char rest[96];
    if (sscanf(hf, "model.layers.%d.%95s", &l, rest) != 2) return NULL;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strcmp(rest, pairs[i][0]) == 0) {
            snprintf(buf, cap, "blk.%d.%s", l, pairs[i][1]);
            return buf;
        }
    return NULL;
}

static uint32_t expected_type(sw_gguf_ftype ft, const sw_gen_tensor *t) {
    if (t->ndim == 1 || ft == SW_GGUF_OUT_F32) return SW_GGML_F32;
    if (ft == SW_GGUF_OUT_F16) return SW_GGML_F16;
    if (ft == SW_GGUF_OUT_Q8_0) return SW_GGML_Q8_0;
    int head = strstr(t->hf_name, "embed_tokens") || strstr(t->hf_name, "lm_head");
    return ft == SW_GGUF_OUT_Q4_0_EMB_Q8 && head ? SW_GGML_Q8_0 : SW_GGML_Q4_0;
}

/* Largest allowed |error| for weight k of a row x (of n) stored as type. */
static double error_bound(uint32_t type, const float *x, int64_t k) {
    const float *blk = x + (k / 32) * 32;
    double amax = 0;
    for (int j = 0; j < 32; j++) amax = fmax(amax, fabs(blk[j]));
    double ax = fabs(x[k]);
    switch (type) {
    case SW_GGML_F16: return ax / 2048.0 + 1e-7;
    case SW_GGML_Q8_0: {
        /* half a step, plus the f16 rounding of the scale times |q| <= 127 */
        double d = amax / 127.0;
        return d / 2 * (1 + 1e-5) + 127 * d / 2048.0 + 1e-9;
    }
    case SW_GGML_Q4_0: {
        /* half a step; a full step for the one side beyond 7.5 steps (the
         * range is -8..7 steps); plus the f16 rounding of the scale */
        double d = amax / 8.0;
        return (ax > 7.5 * d ? d : d / 2) * (1 + 1e-5) + 8 * d / 2048.0 + 1e-9;
    }
    default: return 0.0;
    }
}

/* llama.cpp's permutation, written as numpy's reshape(n_head, 2, R/2, cols)
 * .swapaxes(1, 2): GGUF row r = (h, i, j) in shape (n_head, R/2, 2) comes
 * from HF row (h, j, i) in shape (n_head, 2, R/2). */
static int64_t hf_row_of_gguf_row(int64_t r, int64_t rows, int n_head) {
    int64_t per = rows / n_head, half = per / 2;
    int64_t h = r / per, i = (r % per) / 2, j = r % 2;
    return h * per + j * half + i;
}

static void check_tensor(sw_source *src, sw_gguf *g, const sw_gen_tensor *t, sw_gguf_ftype ft, const char *label) {
    char buf[96];
    const char *gname = expected_gguf_name(t->hf_name, buf, sizeof buf);
    uint32_t type;
    int nd;
    int64_t ne[4];
    CHECK(gname && sw_gguf_tensor(g, gname, &type, &nd, ne), "%s: %s has no tensor %s", label, t->hf_name, gname ? gname : "(no name)");
    if (!gname || !sw_gguf_tensor(g, gname, &type, &nd, ne)) return;
    CHECK(type == expected_type(ft, t), "%s: %s has type %u", label, gname, type);
    CHECK(nd == t->ndim && ne[0] == (t->ndim == 2 ? t->shape[1] : t->shape[0]) && (t->ndim == 1 || ne[1] == t->shape[0]),
          "%s: %s dims", label, gname);
    sw_tensor_info info;
    CHECK(src->ops->find(src, t->hf_name, &info) && info.ndim == t->ndim && info.shape[0] == t->shape[0] &&
              (t->ndim == 1 || info.shape[1] == t->shape[1]), "%s: find %s", label, t->hf_name);
    int64_t rows = t->shape[0], cols = t->ndim == 2 ? t->shape[1] : t->shape[0];
    if (t->ndim == 1) rows = 1;
    size_t count = (size_t)(rows * cols);
    float *want = malloc(count * sizeof *want), *got = malloc(count * sizeof *got), *raw = malloc(count * sizeof *raw);
    sw_error err;
    test_fill(NULL, t, want, count, &err);
    CHECK(src->ops->read_f32(src, t->hf_name, got, count, &err) == SMOLWEB_OK, "%s: read %s: %s", label, t->hf_name, err.msg);
    int bad = 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < cols; k++) {
            size_t i = (size_t)(r * cols + k);
            double e = fabs((double)got[i] - want[i]), lim = error_bound(type, want + r * cols, k);
            if (!(e <= lim) && bad++ < 3)
                CHECK(0, "%s: %s[%lld][%lld] = %.8g, want %.8g (bound %.3g)", label, t->hf_name, (long long)r,
                      (long long)k, got[i], want[i], lim);
        }
    CHECK(bad == 0, "%s: %s: %d values outside the bound", label, t->hf_name, bad);
    /* the file itself holds q/k rows in llama.cpp's order */
    int perm = strstr(t->hf_name, "q_proj") ? 4 : strstr(t->hf_name, "k_proj") ? 2 : 0;
    if (perm && sw_gguf_read_f32(g, gname, raw, count, &err) == SMOLWEB_OK) {
        int moved = 0, wrong = 0;
        for (int64_t r = 0; r < rows; r++) {
            int64_t from = hf_row_of_gguf_row(r, rows, perm);
            moved += from != r;
            wrong += memcmp(raw + r * cols, got + from * cols, (size_t)cols * sizeof *raw) != 0;
        }
        CHECK(moved > 0 && wrong == 0, "%s: %s: %d rows not where llama.cpp puts them", label, gname, wrong);
    }
    free(want);
    free(got);
    free(raw);
}

static void check_tokenizer_meta(sw_gguf *g, const char *label) {
    size_t n;
    const char *const *tok;
    const uint32_t *lens;
    const int64_t *types;
    const char *s;
    int64_t v;
    CHECK(sw_gguf_get_str_array(g, "tokenizer.ggml.tokens", &n, &tok, &lens) && n == 49152, "%s: tokens", label);
    if (n == 49152) {
        CHECK(strcmp(tok[0], "<|endoftext|>") == 0 && strcmp(tok[1], "<|im_start|>") == 0 && strcmp(tok[2], "<|im_end|>") == 0,
              "%s: special tokens", label);
        CHECK(strcmp(tok[19556], "Hello") == 0 && strcmp(tok[905], "Ġworld") == 0 && lens[905] == 7, "%s: vocab order", label);
    }
    CHECK(sw_gguf_get_int_array(g, "tokenizer.ggml.token_type", &n, &types) && n == 49152 && types[0] == 3 &&
              types[16] == 3 && types[17] == 1 && types[49151] == 1, "%s: token types", label);
    CHECK(sw_gguf_get_str_array(g, "tokenizer.ggml.merges", &n, &tok, &lens) && n == 48900 &&
              strcmp(tok[0], "Ġ t") == 0, "%s: merges", label);
    CHECK(sw_gguf_get_str(g, "tokenizer.ggml.model", &s) && strcmp(s, "gpt2") == 0, "%s: model", label);
    CHECK(sw_gguf_get_str(g, "tokenizer.ggml.pre", &s) && strcmp(s, "smollm") == 0, "%s: pre", label);
    CHECK(sw_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &v) && v == 1, "%s: bos", label);
    CHECK(sw_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &v) && v == 2, "%s: eos", label);
    CHECK(sw_gguf_get_int(g, "tokenizer.ggml.padding_token_id", &v) && v == 2, "%s: pad", label);
    CHECK(sw_gguf_get_int(g, "tokenizer.ggml.unknown_token_id", &v) && v == 0, "%s: unk", label);
    CHECK(sw_gguf_get_str(g, "tokenizer.chat_template", &s) && strncmp(s, "{% for message in messages %}", 29) == 0 &&
              strstr(s, "<|im_start|>assistant\\n") == NULL && strstr(s, "<|im_start|>assistant\n"), "%s: chat template", label);
    CHECK(sw_gguf_get_str(g, "general.name", &s) && strcmp(s, "tiny-test") == 0, "%s: name", label);
    CHECK(sw_gguf_get_int(g, "general.alignment", &v) && v == 32, "%s: alignment", label);
    CHECK(sw_gguf_get_int(g, "llama.rope.dimension_count", &v) && v == 16, "%s: rope dims", label);
    CHECK(sw_gguf_get_int(g, "llama.vocab_size", &v) && v == 49152, "%s: vocab_size", label);
}

static void round_trip(const char *tok_dir, sw_gguf_ftype ft, int with_head, int64_t file_type) {
    char path[128], label[64];
    snprintf(path, sizeof path, "%s/rt%d%s.gguf", tmp_dir, (int)ft, with_head ? "h" : "");
    snprintf(label, sizeof label, "ftype %d%s", (int)ft, with_head ? " untied" : "");
    sw_model_config cfg = tiny_config(49152);
    sw_gen_tensor ts[32];
    int n = tiny_tensors(&cfg, with_head, ts);
    sw_error err;
    smolweb_status st = sw_gguf_write(path, &cfg, ts, n, ft, tok_dir, test_fill, NULL, &err);
    CHECK(st == SMOLWEB_OK, "%s: write: %s", label, err.msg);
    if (st) return;
    sw_source *src = sw_source_open_gguf(path, &err);
    sw_gguf *g = sw_gguf_open(path, &err);
    CHECK(src && g, "%s: open: %s", label, err.msg);
    if (src && g) {
        const sw_model_config *c = &src->config;
        CHECK(src->kind == SW_SOURCE_GGUF && strcmp(c->name, "tiny-test") == 0 && strcmp(c->architecture, "llama") == 0 &&
                  c->hidden_size == 64 && c->intermediate_size == 128 && c->num_layers == 2 && c->num_heads == 4 &&
                  c->num_kv_heads == 2 && c->head_dim == 16 && c->vocab_size == 49152 &&
                  c->max_position_embeddings == 2048 && c->rope_theta == 100000.0 && fabs(c->rms_norm_eps - 1e-5) < 1e-11 &&
                  c->tie_word_embeddings == !with_head && c->bos_token_id == 1 && c->eos_token_id == 2,
              "%s: config", label);
        CHECK(sw_gguf_version(g) == 3 && sw_gguf_tensor_count(g) == (size_t)n, "%s: %zu tensors", label, sw_gguf_tensor_count(g));
        int64_t v;
        CHECK(sw_gguf_get_int(g, "general.file_type", &v) && v == file_type, "%s: file_type", label);
        CHECK(with_head || !sw_gguf_tensor(g, "output.weight", NULL, NULL, NULL), "%s: tied: no output.weight", label);
        CHECK(!src->ops->find(src, "model.layers.2.mlp.up_proj.weight", NULL) &&
                  !src->ops->find(src, "model.layers.01.mlp.up_proj.weight", NULL) &&
                  !src->ops->find(src, "model.layers.0.mlp.up_proj.bias", NULL), "%s: absent names", label);
        if (ft == SW_GGUF_OUT_F32) check_tokenizer_meta(g, label);
        for (int i = 0; i < n; i++) check_tensor(src, g, &ts[i], ft, label);
        CHECK(sw_source_check(src, &err) == SMOLWEB_OK, "%s: sw_source_check: %s", label, err.msg);
    }
    sw_gguf_free(g);
    sw_source_free(src);
    remove(path);
}

/* A hand-made tokenizer: [a, b] merge pairs, bos as {"content": ...}, a
 * non-special added token, and fewer tokens than the model's vocabulary. */
static void tokenizer_variants(void) {
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/tok", tmp_dir);
    mkdir(dir, 0777);
    static const char tj[] =
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\", \"special\": true},"
        " {\"id\": 5, \"content\": \"<user>\", \"special\": false}],"
        " \"model\": {\"type\": \"BPE\", \"vocab\": {\"<s>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, \"c\": 4},"
        " \"merges\": [[\"a\", \"b\"], [\"ab\", \"c\"]]}}";
    static const char tc[] = "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"<user>\", \"pad_token\": null}";
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    write_file(path, tj, sizeof tj - 1);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_file(path, tc, sizeof tc - 1);
    sw_model_config cfg = tiny_config(8);
    sw_gen_tensor ts[32];
    int n = tiny_tensors(&cfg, 0, ts);
    snprintf(path, sizeof path, "%s/tok.gguf", tmp_dir);
    sw_error err;
    CHECK(sw_gguf_write(path, &cfg, ts, n, SW_GGUF_OUT_Q8_0, dir, test_fill, NULL, &err) == SMOLWEB_OK, "write: %s", err.msg);
    sw_gguf *g = sw_gguf_open(path, &err);
    CHECK(g != NULL, "open: %s", err.msg);
    size_t k;
    const char *const *items;
    const int64_t *types;
    int64_t v;
    CHECK(g && sw_gguf_get_str_array(g, "tokenizer.ggml.merges", &k, &items, NULL) && k == 2 &&
              strcmp(items[0], "a b") == 0 && strcmp(items[1], "ab c") == 0, "pair merges");
    CHECK(g && sw_gguf_get_str_array(g, "tokenizer.ggml.tokens", &k, &items, NULL) && k == 8 &&
              strcmp(items[5], "<user>") == 0 && strcmp(items[6], "[PAD6]") == 0 && strcmp(items[7], "[PAD7]") == 0,
          "padded tokens");
    CHECK(g && sw_gguf_get_int_array(g, "tokenizer.ggml.token_type", &k, &types) && k == 8 && types[0] == 3 &&
              types[1] == 1 && types[5] == 4 && types[6] == 5, "token types");
    CHECK(g && sw_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &v) && v == 0, "bos from an object");
    CHECK(g && sw_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &v) && v == 5, "eos");
    CHECK(g && !sw_gguf_get_int(g, "tokenizer.ggml.padding_token_id", &v) &&
              !sw_gguf_get_int(g, "tokenizer.ggml.unknown_token_id", &v) && !sw_gguf_get_str(g, "tokenizer.chat_template", &(const char *){0}),
          "absent specials and template");
    sw_gguf_free(g);
    remove(path);

    /* a tokenizer larger than the model's vocabulary is refused */
    cfg = tiny_config(4);
    n = tiny_tensors(&cfg, 0, ts);
    CHECK(sw_gguf_write(path, &cfg, ts, n, SW_GGUF_OUT_F32, dir, test_fill, NULL, &err) == SMOLWEB_ERR_SHAPE &&
              strstr(err.msg, "tokenizer.json: token id 4 outside the vocabulary of 4"), "%s", err.msg);
    struct stat sb;
    CHECK(stat(path, &sb) != 0, "no file left after a failed write");
    cfg = tiny_config(8);
    CHECK(sw_gguf_write("no/such/dir/x.gguf", &cfg, ts, n, SW_GGUF_OUT_F32, dir, test_fill, NULL, &err) == SMOLWEB_ERR_IO &&
              strstr(err.msg, "no/such/dir/x.gguf.tmp: No such file or directory"), "%s", err.msg);
    CHECK(sw_gguf_write(path, &cfg, ts, n, SW_GGUF_OUT_F32, "no/such/dir", test_fill, NULL, &err) == SMOLWEB_ERR_MISSING &&
              strstr(err.msg, "no/such/dir/tokenizer.json: No such file or directory"), "%s", err.msg);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    remove(path);
    rmdir(dir);
}

int main(void) {
    const char *shared = getenv("SMOLWEB_SHARED"), *srcdir = getenv("SMOLWEB_SRC");
    char tok_dir[4096];
    if (shared && *shared) snprintf(tok_dir, sizeof tok_dir, "%s/models/smollm2-135m-instruct", shared);
    else snprintf(tok_dir, sizeof tok_dir, "%s/../shared/models/smollm2-135m-instruct", srcdir && *srcdir ? srcdir : "..");
    snprintf(tmp_dir, sizeof tmp_dir, "test_gguf.%ld", (long)getpid());
    if (mkdir(tmp_dir, 0777) != 0) {
        perror(tmp_dir);
        return 1;
    }
    test_valid();
    test_bad();
    test_source_errors();
    tokenizer_variants();
    round_trip(tok_dir, SW_GGUF_OUT_F32, 0, 0);
    round_trip(tok_dir, SW_GGUF_OUT_F32, 1, 0);
    round_trip(tok_dir, SW_GGUF_OUT_F16, 0, 1);
    round_trip(tok_dir, SW_GGUF_OUT_Q8_0, 0, 7);
    round_trip(tok_dir, SW_GGUF_OUT_Q4_0, 0, 2);
    round_trip(tok_dir, SW_GGUF_OUT_Q4_0_EMB_Q8, 1, 2);
    char path[128];
    snprintf(path, sizeof path, "%s/m.gguf", tmp_dir);
    remove(path);
    rmdir(tmp_dir);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_gguf: ok\n");
    return 0;
}
