/* test_chunk.c: the chunk format (chunk.h) round trip and every rejection of
 * bad bytes, each with its exact message; the layout check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "layout.h"

#include "check.h"

static const sw_dims k_dims = {64, 128, 4, 2, 16, 256, 1};

/* Builds a valid layer chunk (q4 weights) into a malloc'd buffer. */
static uint8_t *make_layer(size_t *len, sw_chunk_view *out) {
    sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
    int n = sw_layout_layer(&k_dims, want);
    sw_chunk_view v;
    memset(&v, 0, sizeof v);
    v.role = 2;
    v.layer = 3;
    v.n_tensors = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        snprintf(v.tensors[i].name, SW_CHUNK_NAME_LEN, "%s", want[i].name);
        v.tensors[i].dtype = sw_layout_dtype(&want[i], SW_DTYPE_Q4, SW_DTYPE_Q8);
        v.tensors[i].rows = want[i].rows;
        v.tensors[i].cols = want[i].cols;
    }
    uint64_t size = sw_chunk_layout(&v);
    uint8_t *buf = calloc(1, (size_t)size);
    sw_chunk_header_bytes(&v, size, buf, (size_t)size);
    for (int i = 0; i < n; i++) {
        sw_chunk_tensor *t = &v.tensors[i];
        for (uint64_t b = 0; b < t->nbytes; b++) buf[t->offset + b] = (uint8_t)(i * 31 + b);
        if (!sw_dtype_is_blocked(t->dtype)) continue;
        /* scales (the last 2 bytes per block) finite: exponent bits not all set */
        uint64_t nb = (uint64_t)t->rows * (t->cols / SW_QK);
        for (uint64_t b = 0; b < nb; b++) {
            uint8_t *hi = buf + t->offset + t->nbytes - 2 * nb + 2 * b + 1;
            if ((*hi & 0x7c) == 0x7c) *hi ^= 0x40;
        }
    }
    *len = (size_t)size;
    if (out) *out = v;
    return buf;
}

static void expect_error(const uint8_t *buf, size_t len, const char *want, const char *what) {
    sw_chunk_view v;
    sw_error err;
    sw_error_clear(&err);
    smolweb_status st = sw_chunk_parse(buf, len, &v, &err);
    CHECK(st != SMOLWEB_OK, "%s: accepted", what);
    CHECK(strstr(err.msg, want) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, want);
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void test_round_trip(void) {
    size_t len;
    sw_chunk_view made;
    uint8_t *buf = make_layer(&len, &made);
    sw_chunk_view v;
    sw_error err;
    CHECK(sw_chunk_parse(buf, len, &v, &err) == SMOLWEB_OK, "valid chunk rejected: %s", err.msg);
    CHECK(v.layer == 3 && v.role == 2 && v.n_tensors == 9, "header fields");
    for (uint32_t i = 0; i < v.n_tensors; i++) {
        const sw_chunk_tensor *t = &v.tensors[i];
        CHECK(t->offset % 64 == 0 && t->data == buf + t->offset, "tensor %s is a view at an aligned offset", t->name);
        CHECK(t->data[0] == (uint8_t)(i * 31), "tensor %s data", t->name);
        CHECK(t->rows == made.tensors[i].rows && t->cols == made.tensors[i].cols, "shape of %s", t->name);
    }
    sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
    int n = sw_layout_layer(&k_dims, want);
    CHECK(sw_layout_check_chunk(&v, want, n, SW_DTYPE_Q4, SW_DTYPE_Q8, &err) == SMOLWEB_OK, "layout: %s", err.msg);
    CHECK(sw_layout_check_chunk(&v, want, n, SW_DTYPE_Q8, SW_DTYPE_Q8, &err) == SMOLWEB_ERR_SHAPE &&
              strstr(err.msg, "tensor q is q4, expected q8"),
          "dtype mismatch: %s", err.msg);
    sw_dims other = k_dims;
    other.intermediate = 256;
    sw_layout_layer(&other, want);
    CHECK(sw_layout_check_chunk(&v, want, n, SW_DTYPE_Q4, SW_DTYPE_Q8, &err) == SMOLWEB_ERR_SHAPE &&
              strstr(err.msg, "tensor gate is 128x64, expected 256x64"),
          "shape mismatch: %s", err.msg);
    free(buf);
}

static void test_bad(void) {
    size_t len;
    uint8_t *good = make_layer(&len, NULL);
    uint8_t *b = malloc(len + 64);
#define FRESH() memcpy(b, good, len)
    FRESH();
    expect_error(b, 10, "truncated chunk header (10 bytes)", "short");
    FRESH();
    b[0] = 'X';
    expect_error(b, len, "bad magic", "magic");
    FRESH();
    put32(b + 4, 2);
    expect_error(b, len, "chunk version 2 is not supported (this build reads 1)", "version");
    FRESH();
    put32(b + 8, 7);
    expect_error(b, len, "unknown chunk role 7", "role");
    FRESH();
    put32(b + 12, (uint32_t)-1);
    expect_error(b, len, "layer index -1 does not fit role 2", "layer");
    FRESH();
    put32(b + 16, 0);
    expect_error(b, len, "tensor count 0 out of range", "count 0");
    FRESH();
    put32(b + 16, 1000);
    expect_error(b, len, "tensor count 1000 out of range", "count big");
    FRESH();
    put32(b + 20, 64);
    expect_error(b, len, "header size 64 does not match 9 tensors", "hsize");
    FRESH();
    expect_error(b, len - 1, "but its header says", "truncated file");
    FRESH();
    memset(b + len, 0, 64);
    expect_error(b, len + 64, "but its header says", "padded file");
    /* tensor entry 1 ("q") at 32 + 64 */
    uint8_t *e = NULL;
    FRESH();
    e = b + 32 + 64;
    put32(e + 32, 9);
    expect_error(b, len, "tensor q has unknown dtype 9", "dtype");
    FRESH();
    e = b + 32 + 64;
    put32(e + 40, 65);
    expect_error(b, len, "tensor q has an invalid shape 64x65 for q4", "cols");
    FRESH();
    e = b + 32 + 64;
    put32(e + 36, 32);
    expect_error(b, len, "tensor q byte count 2304 does not match its shape (1152)", "rows");
    FRESH();
    e = b + 32 + 64;
    e[48] += 8;
    expect_error(b, len, "tensor q offset", "unaligned");
    FRESH();
    e = b + 32 + 64;
    memset(e, 'x', 32);
    expect_error(b, len, "tensor 1 has no valid name", "name");
    FRESH();
    e = b + 32 + 64 * 2; /* "k" renamed to "q" */
    memcpy(e, "q", 2);
    expect_error(b, len, "duplicate tensor q", "dup");
    FRESH();
    e = b + 32 + 64 * 2; /* k pointed back at q's bytes */
    memcpy(e + 48, b + 32 + 64 + 48, 8);
    expect_error(b, len, "tensor k overlaps the header or the previous tensor", "overlap");
    FRESH();
    e = b + 32 + 64 * 8; /* the last tensor pushed past the end */
    e[49] += 1;
    expect_error(b, len, "tensor down is out of bounds", "oob");
    FRESH();
    e = b + 32 + 64 * 2;
    put32(e + 44, 1);
    expect_error(b, len, "tensor k has a non-zero reserved field", "reserved");
    /* q's last block scale (the tensor's last two bytes) made infinite, then NaN */
    FRESH();
    e = b + 32 + 64;
    {
        uint64_t end = get64(e + 48) + get64(e + 56);
        b[end - 2] = 0x00, b[end - 1] = 0x7c;
        expect_error(b, len, "tensor q: the scale of block 127 (row 63) is infinite", "inf scale");
        b[end - 2] = 0x01, b[end - 1] = 0xfc;
        expect_error(b, len, "tensor q: the scale of block 127 (row 63) is NaN", "nan scale");
    }
#undef FRESH
    free(b);
    free(good);
}

int main(void) {
    test_round_trip();
    test_bad();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_chunk: ok\n");
    return 0;
}
