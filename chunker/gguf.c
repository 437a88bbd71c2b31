/* gguf.c: a bounds-checked GGUF v2/v3 reader (see gguf.h).
 *
 * Byte layout of a GGUF file (all integers little-endian):
 *   1. magic "GGUF", u32 version (2 or 3; 1 used u32 counts and is refused)
 *   2. u64 n_tensors, u64 n_kv
 *   3. n_kv metadata entries: string key, u32 value type, value
 *        string = u64 byte length + bytes (no NUL)
 *        array  = u32 element type, u64 count, count values (arrays may nest)
 *   4. n_tensors tensor infos: string name, u32 n_dims (1..4), n_dims x u64 ne
 *      (ne[0] fastest), u32 ggml type, u64 offset inside the data section
 *   5. padding to general.alignment (default 32, a power of two)
 *   6. the data section; each tensor at its offset, a multiple of the alignment
 *
 * The parser reads through a cursor that holds the header bytes read so far:
 * from memory, everything is there; from a file, the buffer grows as parsing
 * goes (a 7 GB model's header is a few MB), and tensor data is read later
 * with pread, a bounded piece at a time. Every count is checked against the
 * bytes left before anything is allocated for it, so a hostile header cannot
 * make the reader allocate more than a small multiple of the file's size. */
#define _FILE_OFFSET_BITS 64
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "f16.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c assumes a little-endian host"
#endif

#define MAX_HEADER (256ull << 20)   /* a header beyond 256 MiB is refused (real ones are < 20 MB) */
#define MAX_STRING (16ull << 20)    /* one metadata string (a chat template is a few KB) */
#define MAX_NAME 63                 /* tensor name bytes, as ggml (GGML_MAX_NAME - 1) */
#define MAX_DEPTH 4                 /* nesting of arrays inside arrays */
#define MAX_ALIGNMENT (1u << 30)
#define READ_PIECE (4u << 20)       /* raw tensor bytes read per pread */
#define FIRST_READ (1u << 20)

/* GGUF metadata value types. */
enum {
    V_U8 = 0, V_I8 = 1, V_U16 = 2, V_I16 = 3, V_U32 = 4, V_I32 = 5, V_F32 = 6, V_BOOL = 7,
    V_STRING = 8, V_ARRAY = 9, V_U64 = 10, V_I64 = 11, V_F64 = 12, V_COUNT_
};

/* ---- ggml tensor types: block geometry and dequantizers ---- */

typedef void (*dequant_fn)(const uint8_t *src, float *y, size_t nblocks);

typedef struct type_info {
    const char *name;
    uint32_t blck;  /* elements per block (1 for plain types) */
    uint32_t size;  /* bytes per block; 0: not a ggml type */
    dequant_fn dq;  /* NULL: known, but not converted by this reader */
} type_info;

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static float half(const uint8_t *p) { return sw_f16_to_f32(le16(p)); }

static void dq_f32(const uint8_t *s, float *y, size_t n) { memcpy(y, s, n * 4); }

static void dq_f16(const uint8_t *s, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = half(s + 2 * i);
}

static void dq_bf16(const uint8_t *s, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sw_bf16_to_f32(le16(s + 2 * i));
}

/* Q4_0, 18 bytes / 32 weights: f16 d, 16 bytes; byte j holds weight j (low
 * nibble) and weight j+16 (high nibble); w = (n - 8) * d. */
static void dq_q4_0(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 18, y += 32) {
        float d = half(s);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((s[2 + j] & 15) - 8) * d;
            y[j + 16] = (float)((s[2 + j] >> 4) - 8) * d;
        }
    }
}

/* Q4_1, 20 bytes / 32: f16 d, f16 m, nibbles as Q4_0; w = n * d + m. */
static void dq_q4_1(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 20, y += 32) {
        float d = half(s), m = half(s + 2);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(s[4 + j] & 15) * d + m;
            y[j + 16] = (float)(s[4 + j] >> 4) * d + m;
        }
    }
}

/* Q5_0, 22 bytes / 32: f16 d, u32 qh (bit i = 5th bit of weight i), nibbles
 * as Q4_0; w = (n5 - 16) * d. */
static void dq_q5_0(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 22, y += 32) {
        float d = half(s);
        uint32_t qh = le32(s + 2);
        const uint8_t *qs = s + 6;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)(lo - 16) * d;
            y[j + 16] = (float)(hi - 16) * d;
        }
    }
}

/* Q5_1, 24 bytes / 32: f16 d, f16 m, u32 qh, nibbles; w = n5 * d + m. */
static void dq_q5_1(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 24, y += 32) {
        float d = half(s), m = half(s + 2);
        uint32_t qh = le32(s + 4);
        const uint8_t *qs = s + 8;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)lo * d + m;
            y[j + 16] = (float)hi * d + m;
        }
    }
}

/* Q8_0, 34 bytes / 32: f16 d, 32 int8; w = q * d. */
static void dq_q8_0(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 34, y += 32) {
        float d = half(s);
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)s[2 + j] * d;
    }
}

/* The K-quants' 12 scale bytes pack eight 6-bit scales and eight 6-bit mins:
 * sub-blocks 0..3 use the low 6 bits of bytes 0..3 (scale) and 4..7 (min);
 * sub-blocks 4..7 take their low 4 bits from bytes 8..11 (scale low nibble,
 * min high nibble) and their top 2 bits from the spare top bits of bytes 0..7. */
static void k_scale_min(const uint8_t *q, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = q[j] & 63;
        *mn = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 15) | (q[j - 4] >> 6) << 4;
        *mn = (q[j + 4] >> 4) | (q[j] >> 6) << 4;
    }
}

/* Q4_K, 144 bytes / 256: f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes.
 * Eight sub-blocks of 32; each 32-byte group of qs holds sub-block 2g in its
 * low nibbles and 2g+1 in its high nibbles; w = d*sc * n - dmin*mn. */
static void dq_q4_k(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 144) {
        float d = half(s), dmin = half(s + 2);
        const uint8_t *sc = s + 4, *qs = s + 16;
        for (int g = 0; g < 4; g++, qs += 32) {
            int s0, m0, s1, m1;
            k_scale_min(sc, 2 * g, &s0, &m0);
            k_scale_min(sc, 2 * g + 1, &s1, &m1);
            float d0 = d * (float)s0, o0 = dmin * (float)m0, d1 = d * (float)s1, o1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) *y++ = d0 * (float)(qs[l] & 15) - o0;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(qs[l] >> 4) - o1;
        }
    }
}

/* Q5_K, 176 bytes / 256: f16 d, f16 dmin, 12 scale bytes, 32 qh bytes, 128
 * nibble bytes. As Q4_K, plus a 5th bit: sub-block k's weight l has it in
 * bit k of qh[l]. */
static void dq_q5_k(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 176) {
        float d = half(s), dmin = half(s + 2);
        const uint8_t *sc = s + 4, *qh = s + 16, *qs = s + 48;
        for (int g = 0; g < 4; g++, qs += 32) {
            int s0, m0, s1, m1;
            k_scale_min(sc, 2 * g, &s0, &m0);
            k_scale_min(sc, 2 * g + 1, &s1, &m1);
            float d0 = d * (float)s0, o0 = dmin * (float)m0, d1 = d * (float)s1, o1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) *y++ = d0 * (float)((qs[l] & 15) | ((qh[l] >> (2 * g)) & 1) << 4) - o0;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((qs[l] >> 4) | ((qh[l] >> (2 * g + 1)) & 1) << 4) - o1;
        }
    }
}

/* Q6_K, 210 bytes / 256: 128 ql bytes (low 4 bits), 64 qh bytes (top 2 bits),
 * 16 int8 scales (one per 16 weights), f16 d; w = d * scale * (q6 - 32).
 * Each half of 128 weights uses 64 ql and 32 qh bytes: weight l + 32k of the
 * half takes ql[l + 32(k&1)] (low nibble for k < 2, else high) and bits
 * 2k..2k+1 of qh[l]. */
static void dq_q6_k(const uint8_t *s, float *y, size_t n) {
    for (size_t b = 0; b < n; b++, s += 210) {
        float d = half(s + 208);
        const uint8_t *ql = s, *qh = s + 128;
        const int8_t *sc = (const int8_t *)(s + 192);
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, y += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                y[l] = d * (float)sc[is] * (float)q0;
                y[l + 32] = d * (float)sc[is + 2] * (float)q1;
                y[l + 64] = d * (float)sc[is + 4] * (float)q2;
                y[l + 96] = d * (float)sc[is + 6] * (float)q3;
            }
        }
    }
}

/* Every type ggml writes to GGUF files, so that bounds are checked for all of
 * them; only those with a dequantizer can be read. Gaps are removed types. */
static const type_info k_types[] = {
    [0] = {"F32", 1, 4, dq_f32},         [1] = {"F16", 1, 2, dq_f16},
    [2] = {"Q4_0", 32, 18, dq_q4_0},     [3] = {"Q4_1", 32, 20, dq_q4_1},
    [6] = {"Q5_0", 32, 22, dq_q5_0},     [7] = {"Q5_1", 32, 24, dq_q5_1},
    [8] = {"Q8_0", 32, 34, dq_q8_0},     [9] = {"Q8_1", 32, 36, NULL},
    [10] = {"Q2_K", 256, 84, NULL},      [11] = {"Q3_K", 256, 110, NULL},
    [12] = {"Q4_K", 256, 144, dq_q4_k},  [13] = {"Q5_K", 256, 176, dq_q5_k},
    [14] = {"Q6_K", 256, 210, dq_q6_k},  [15] = {"Q8_K", 256, 292, NULL},
    [16] = {"IQ2_XXS", 256, 66, NULL},   [17] = {"IQ2_XS", 256, 74, NULL},
    [18] = {"IQ3_XXS", 256, 98, NULL},   [19] = {"IQ1_S", 256, 50, NULL},
    [20] = {"IQ4_NL", 32, 18, NULL},     [21] = {"IQ3_S", 256, 110, NULL},
    [22] = {"IQ2_S", 256, 82, NULL},     [23] = {"IQ4_XS", 256, 136, NULL},
    [24] = {"I8", 1, 1, NULL},           [25] = {"I16", 1, 2, NULL},
    [26] = {"I32", 1, 4, NULL},          [27] = {"I64", 1, 8, NULL},
    [28] = {"F64", 1, 8, NULL},          [29] = {"IQ1_M", 256, 56, NULL},
    [30] = {"BF16", 1, 2, dq_bf16},      [34] = {"TQ1_0", 256, 54, NULL},
    [35] = {"TQ2_0", 256, 66, NULL},     [39] = {"MXFP4", 32, 17, NULL},
};
#define N_TYPES (sizeof k_types / sizeof k_types[0])

static const type_info *type_of(uint32_t t) { return t < N_TYPES && k_types[t].size ? &k_types[t] : NULL; }

/* ---- the handle ---- */

typedef struct gguf_kv {
    char *key;
    uint32_t type;       /* V_* */
    uint32_t elem_type;  /* arrays: the element type */
    int has_int;         /* scalar integer that fits int64 */
    int64_t i;
    double f;            /* floats, and integers as doubles */
    char *str;           /* V_STRING: NUL-terminated copy */
    size_t n;            /* arrays: element count */
    char **strs;         /* string arrays: n pointers into one arena (strs[0]) */
    uint32_t *lens;
    int64_t *ints;       /* integer arrays; NULL if an element does not fit int64 */
} gguf_kv;

typedef struct gguf_tensor {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[4];       /* unused dimensions are 1 */
    uint64_t count;      /* elements */
    uint64_t offset;     /* relative to the data section */
    uint64_t nbytes;
} gguf_tensor;

struct sw_gguf {
    char *name;             /* display name for messages */
    uint32_t version;
    const uint8_t *mem;     /* memory mode: borrowed bytes; NULL in file mode */
    int fd;                 /* file mode: open descriptor; -1 in memory mode */
    uint64_t size;          /* file size */
    uint64_t alignment;
    uint64_t data_start;
    gguf_kv *kv;            /* file order */
    size_t n_kv;
    size_t *kv_sorted;      /* indices of kv sorted by key */
    gguf_tensor *tensors;   /* file order */
    size_t n_tensors;
    size_t *t_sorted;       /* indices of tensors sorted by name */
};

static void kv_clear(gguf_kv *kv) {
    free(kv->key);
    free(kv->str);
    if (kv->strs) free(kv->strs[0]);
    free(kv->strs);
    free(kv->lens);
    free(kv->ints);
}

void sw_gguf_free(sw_gguf *g) {
    if (!g) return;
    if (g->fd >= 0) close(g->fd);
    for (size_t i = 0; i < g->n_kv; i++) kv_clear(&g->kv[i]);
    for (size_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->kv_sorted);
    free(g->tensors);
    free(g->t_sorted);
    free(g->name);
    free(g);
}

/* ---- the header cursor ---- */

typedef struct reader {
    sw_gguf *g;
    const uint8_t *buf;  /* bytes [0, have) of the file */
    uint64_t have;
    uint64_t pos;
    uint8_t *own;        /* file mode: the growing buffer buf points to */
    sw_error *err;
} reader;

static smolweb_status truncated(reader *r) {
    return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: truncated header", r->g->name);
}

/* Makes bytes [pos, pos + n) available, reading more of the file if needed. */
static smolweb_status need(reader *r, uint64_t n) {
    sw_gguf *g = r->g;
    if (n > g->size - r->pos) return truncated(r);
    uint64_t end = r->pos + n;
    if (end <= r->have) return SMOLWEB_OK;
    if (end > MAX_HEADER)
        return sw_error_set(r->err, SMOLWEB_ERR_UNSUPPORTED, "%s: header larger than %llu MiB", g->name,
                            (unsigned long long)(MAX_HEADER >> 20));
    uint64_t want = r->have * 2 > FIRST_READ ? r->have * 2 : FIRST_READ;
    if (want < end) want = end;
    if (want > MAX_HEADER) want = MAX_HEADER;
    if (want > g->size) want = g->size;
    uint8_t *nb = realloc(r->own, (size_t)want);
    if (!nb) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory reading the header", g->name);
    r->own = nb;
    r->buf = nb;
    while (r->have < want) {
        ssize_t got = pread(g->fd, nb + r->have, (size_t)(want - r->have), (off_t)r->have);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return sw_error_set(r->err, SMOLWEB_ERR_IO, "%s: read error: %s", g->name, strerror(errno));
        if (got == 0) return truncated(r); /* the file shrank since fstat */
        r->have += (uint64_t)got;
    }
    return SMOLWEB_OK;
}

static smolweb_status take(reader *r, uint64_t n, const uint8_t **p) {
    smolweb_status st = need(r, n);
    if (st) return st;
    *p = r->buf + r->pos;
    r->pos += n;
    return SMOLWEB_OK;
}

static smolweb_status rd_u32(reader *r, uint32_t *v) {
    const uint8_t *p;
    smolweb_status st = take(r, 4, &p);
    if (!st) *v = le32(p);
    return st;
}

static smolweb_status rd_u64(reader *r, uint64_t *v) {
    const uint8_t *p;
    smolweb_status st = take(r, 8, &p);
    if (!st) *v = le64(p);
    return st;
}

/* Reads a string's length and makes its bytes available; *p points at them. */
static smolweb_status rd_str_span(reader *r, const char *what, const uint8_t **p, uint64_t *len) {
    smolweb_status st = rd_u64(r, len);
    if (st) return st;
    if (*len > r->g->size - r->pos)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %s: string length %llu beyond the end of the file",
                            r->g->name, what, (unsigned long long)*len);
    if (*len > MAX_STRING)
        return sw_error_set(r->err, SMOLWEB_ERR_UNSUPPORTED, "%s: %s: string of %llu bytes is too long", r->g->name,
                            what, (unsigned long long)*len);
    return take(r, *len, p);
}

static smolweb_status rd_str(reader *r, const char *what, char **out, uint64_t *out_len) {
    const uint8_t *p;
    uint64_t len;
    smolweb_status st = rd_str_span(r, what, &p, &len);
    if (st) return st;
    char *s = malloc((size_t)len + 1);
    if (!s) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", r->g->name);
    memcpy(s, p, (size_t)len);
    s[len] = '\0';
    *out = s;
    if (out_len) *out_len = len;
    return SMOLWEB_OK;
}

/* ---- metadata values ---- */

static uint64_t scalar_size(uint32_t t) {
    static const uint8_t sz[V_COUNT_] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < V_COUNT_ ? sz[t] : 0;
}

static int is_int_type(uint32_t t) { return t <= V_I32 || t == V_U64 || t == V_I64; }

/* Decodes an integer value; returns 0 if it does not fit int64. */
static int int_value(uint32_t t, const uint8_t *p, int64_t *v) {
    switch (t) {
    case V_U8: *v = p[0]; return 1;
    case V_I8: *v = (int8_t)p[0]; return 1;
    case V_U16: *v = le16(p); return 1;
    case V_I16: *v = (int16_t)le16(p); return 1;
    case V_U32: *v = le32(p); return 1;
    case V_I32: *v = (int32_t)le32(p); return 1;
    case V_I64: *v = (int64_t)le64(p); return 1;
    case V_U64: {
        uint64_t u = le64(p);
        if (u > (uint64_t)INT64_MAX) return 0;
        *v = (int64_t)u;
        return 1;
    }
    }
    return 0;
}

static const char *key_of(const gguf_kv *kv) { return kv->key; }

static smolweb_status bad_type(reader *r, const char *key, uint32_t t) {
    return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: key %s has unknown value type %u", r->g->name, key, t);
}

/* Validates and skips one value of type t (arrays recursively). */
static smolweb_status skip_value(reader *r, const char *key, uint32_t t, int depth);

/* Reads an array header and checks its count against the bytes left. */
static smolweb_status array_header(reader *r, const char *key, int depth, uint32_t *et, uint64_t *count) {
    if (depth >= MAX_DEPTH) return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: key %s: arrays nested too deep", r->g->name, key);
    smolweb_status st = rd_u32(r, et);
    if (!st) st = rd_u64(r, count);
    if (st) return st;
    if (*et >= V_COUNT_) return bad_type(r, key, *et);
    uint64_t min = *et == V_STRING ? 8 : *et == V_ARRAY ? 12 : scalar_size(*et);
    if (*count > (r->g->size - r->pos) / min)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: key %s: array length %llu exceeds the file", r->g->name,
                            key, (unsigned long long)*count);
    return SMOLWEB_OK;
}

static smolweb_status skip_value(reader *r, const char *key, uint32_t t, int depth) {
    const uint8_t *p;
    uint64_t len;
    if (t == V_STRING) return rd_str_span(r, key, &p, &len);
    if (t != V_ARRAY) return t < V_COUNT_ ? take(r, scalar_size(t), &p) : bad_type(r, key, t);
    uint32_t et;
    uint64_t count;
    smolweb_status st = array_header(r, key, depth, &et, &count);
    if (st) return st;
    if (et != V_STRING && et != V_ARRAY) return take(r, count * scalar_size(et), &p);
    for (uint64_t i = 0; i < count && !st; i++) st = skip_value(r, key, et, depth + 1);
    return st;
}

/* A string array: two passes over the (already validated) bytes, so the
 * strings go into one arena. */
static smolweb_status read_str_array(reader *r, gguf_kv *kv, uint64_t count) {
    uint64_t start = r->pos, total = 0, len;
    const uint8_t *p;
    smolweb_status st = SMOLWEB_OK;
    for (uint64_t i = 0; i < count && !st; i++) {
        st = rd_str_span(r, kv->key, &p, &len);
        total += len + 1;
    }
    if (st) return st;
    kv->strs = malloc((size_t)(count ? count : 1) * sizeof *kv->strs);
    kv->lens = malloc((size_t)(count ? count : 1) * sizeof *kv->lens);
    char *arena = malloc((size_t)total + 1);
    if (!kv->strs || !kv->lens || !arena) {
        free(arena);
        free(kv->strs);
        kv->strs = NULL;
        return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", r->g->name);
    }
    kv->strs[0] = arena; /* so kv_clear frees the arena even when count is 0 */
    r->pos = start;
    for (uint64_t i = 0; i < count; i++) {
        (void)rd_str_span(r, kv->key, &p, &len); /* cannot fail: checked above */
        memcpy(arena, p, (size_t)len);
        arena[len] = '\0';
        kv->strs[i] = arena;
        kv->lens[i] = (uint32_t)len;
        arena += len + 1;
    }
    kv->n = (size_t)count;
    return SMOLWEB_OK;
}

static smolweb_status read_array(reader *r, gguf_kv *kv, int depth) {
    uint32_t et;
    uint64_t count;
    smolweb_status st = array_header(r, kv->key, depth, &et, &count);
    if (st) return st;
    kv->elem_type = et;
    kv->n = (size_t)count;
    if (et == V_STRING) return read_str_array(r, kv, count);
    if (et == V_ARRAY) {
        for (uint64_t i = 0; i < count && !st; i++) st = skip_value(r, kv->key, et, depth + 1);
        return st;
    }
    const uint8_t *p;
    uint64_t es = scalar_size(et);
    st = take(r, count * es, &p);
    if (st || !is_int_type(et)) return st;
    kv->ints = malloc((size_t)(count ? count : 1) * sizeof *kv->ints);
    if (!kv->ints) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", r->g->name);
    for (uint64_t i = 0; i < count; i++) {
        if (!int_value(et, p + i * es, &kv->ints[i])) {
            free(kv->ints); /* a u64 beyond int64: not readable as integers */
            kv->ints = NULL;
            break;
        }
    }
    return SMOLWEB_OK;
}

static smolweb_status read_value(reader *r, gguf_kv *kv) {
    const uint8_t *p;
    uint32_t t = kv->type;
    if (t == V_STRING) return rd_str(r, kv->key, &kv->str, NULL);
    if (t == V_ARRAY) return read_array(r, kv, 0);
    if (t >= V_COUNT_) return bad_type(r, kv->key, t);
    smolweb_status st = take(r, scalar_size(t), &p);
    if (st) return st;
    if (is_int_type(t)) {
        kv->has_int = int_value(t, p, &kv->i);
        kv->f = t == V_U64 ? (double)le64(p) : (double)kv->i;
    } else if (t == V_F32) {
        kv->f = sw_bits_f32(le32(p));
    } else if (t == V_F64) {
        uint64_t u = le64(p);
        memcpy(&kv->f, &u, 8);
    } else if (t == V_BOOL) {
        kv->i = p[0] != 0;
    }
    return SMOLWEB_OK;
}

/* ---- sorted lookups ---- */

/* qsort has no context argument: sort (name, index) pairs instead. */
typedef struct name_idx {
    const char *name;
    size_t i;
} name_idx;

static int cmp_name_idx(const void *a, const void *b) {
    return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}

/* Sorts n names into *out (indices); returns the index of a duplicate name or
 * SIZE_MAX. On allocation failure *out is NULL. */
static size_t sort_names(const char *(*get)(const void *, size_t), const void *arr, size_t n, size_t **out) {
    name_idx *tmp = malloc((n ? n : 1) * sizeof *tmp);
    *out = malloc((n ? n : 1) * sizeof **out);
    if (!tmp || !*out) {
        free(tmp);
        free(*out);
        *out = NULL;
        return SIZE_MAX;
    }
    for (size_t i = 0; i < n; i++) tmp[i] = (name_idx){get(arr, i), i};
    qsort(tmp, n, sizeof *tmp, cmp_name_idx);
    size_t dup = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = tmp[i].i;
        if (i > 0 && dup == SIZE_MAX && strcmp(tmp[i - 1].name, tmp[i].name) == 0) dup = tmp[i].i;
    }
    free(tmp);
    return dup;
}

static const char *kv_name_at(const void *arr, size_t i) { return key_of(&((const gguf_kv *)arr)[i]); }
static const char *tensor_name_at(const void *arr, size_t i) { return ((const gguf_tensor *)arr)[i].name; }

/* Binary search over sorted indices; returns the element index or SIZE_MAX. */
static size_t lookup(const char *(*get)(const void *, size_t), const void *arr, const size_t *sorted, size_t n,
                     const char *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(get(arr, sorted[mid]), name);
        if (c == 0) return sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return SIZE_MAX;
}

static const gguf_kv *find_kv(const sw_gguf *g, const char *key) {
    if (!g || !key || !g->kv_sorted) return NULL;
    size_t i = lookup(kv_name_at, g->kv, g->kv_sorted, g->n_kv, key);
    return i == SIZE_MAX ? NULL : &g->kv[i];
}

static const gguf_tensor *find_tensor(const sw_gguf *g, const char *name) {
    if (!g || !name || !g->t_sorted) return NULL;
    size_t i = lookup(tensor_name_at, g->tensors, g->t_sorted, g->n_tensors, name);
    return i == SIZE_MAX ? NULL : &g->tensors[i];
}

/* ---- header parsing ---- */

static smolweb_status parse_prefix(reader *r, uint64_t *n_tensors, uint64_t *n_kv) {
    sw_gguf *g = r->g;
    const uint8_t *p;
    if (g->size < 4) return truncated(r);
    smolweb_status st = take(r, 4, &p);
    if (st) return st;
    if (memcmp(p, "GGUF", 4) != 0) return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: not a GGUF file (bad magic)", g->name);
    st = rd_u32(r, &g->version);
    if (st) return st;
    if (g->version == 0x02000000u || g->version == 0x03000000u)
        return sw_error_set(r->err, SMOLWEB_ERR_UNSUPPORTED, "%s: big-endian GGUF files are not supported", g->name);
    if (g->version != 2 && g->version != 3)
        return sw_error_set(r->err, SMOLWEB_ERR_UNSUPPORTED, "%s: unsupported GGUF version %u (2 and 3 are supported)",
                            g->name, g->version);
    st = rd_u64(r, n_tensors);
    if (!st) st = rd_u64(r, n_kv);
    if (st) return st;
    /* smallest entries: a key/value is 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 + 4 + 8 */
    uint64_t left = g->size - r->pos;
    if (*n_kv > left / 13)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %llu metadata entries cannot fit in the file", g->name,
                            (unsigned long long)*n_kv);
    if (*n_tensors > left / 32)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %llu tensors cannot fit in the file", g->name,
                            (unsigned long long)*n_tensors);
    return SMOLWEB_OK;
}

static smolweb_status parse_kvs(reader *r, uint64_t n) {
    sw_gguf *g = r->g;
    g->kv = calloc((size_t)(n ? n : 1), sizeof *g->kv);
    if (!g->kv) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", g->name);
    smolweb_status st = SMOLWEB_OK;
    for (uint64_t i = 0; i < n && !st; i++) {
        gguf_kv *kv = &g->kv[i];
        uint64_t klen;
        char what[48];
        snprintf(what, sizeof what, "metadata key %llu", (unsigned long long)i);
        st = rd_str(r, what, &kv->key, &klen);
        if (st) break;
        g->n_kv = (size_t)i + 1;
        if (strlen(kv->key) != klen)
            return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %s contains a NUL byte", g->name, what);
        st = rd_u32(r, &kv->type);
        if (!st) st = read_value(r, kv);
    }
    if (st) return st;
    size_t dup = sort_names(kv_name_at, g->kv, g->n_kv, &g->kv_sorted);
    if (!g->kv_sorted) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", g->name);
    if (dup != SIZE_MAX) return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: duplicate key %s", g->name, g->kv[dup].key);
    return SMOLWEB_OK;
}

static smolweb_status parse_alignment(reader *r) {
    sw_gguf *g = r->g;
    g->alignment = 32;
    const gguf_kv *kv = find_kv(g, "general.alignment");
    if (!kv) return SMOLWEB_OK;
    if (!kv->has_int)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: general.alignment is not an integer", g->name);
    if (kv->i <= 0 || (kv->i & (kv->i - 1)) != 0)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: general.alignment %lld is not a power of two", g->name,
                            (long long)kv->i);
    if (kv->i > MAX_ALIGNMENT)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: general.alignment %lld is too large", g->name, (long long)kv->i);
    g->alignment = (uint64_t)kv->i;
    return SMOLWEB_OK;
}

/* a * b into *out; 0 on overflow beyond INT64_MAX. */
static int mul_ok(uint64_t a, uint64_t b, uint64_t *out) {
    if (a && b > (uint64_t)INT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

static smolweb_status parse_tensor(reader *r, gguf_tensor *t, uint64_t i) {
    sw_gguf *g = r->g;
    char what[48];
    uint64_t nlen;
    snprintf(what, sizeof what, "tensor %llu name", (unsigned long long)i);
    smolweb_status st = rd_str(r, what, &t->name, &nlen);
    if (st) return st;
    if (strlen(t->name) != nlen) return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %s contains a NUL byte", g->name, what);
    if (nlen > MAX_NAME)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: %s is %llu bytes long (at most %d)", g->name, what,
                            (unsigned long long)nlen, MAX_NAME);
    uint32_t nd;
    st = rd_u32(r, &nd);
    if (st) return st;
    if (nd < 1 || nd > 4)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has %u dimensions (1 to 4 supported)", g->name,
                            t->name, nd);
    t->n_dims = (int)nd;
    uint64_t count = 1;
    for (int d = 0; d < 4; d++) {
        uint64_t ne = 1;
        if (d < t->n_dims && (st = rd_u64(r, &ne)) != SMOLWEB_OK) return st;
        if (ne > (uint64_t)INT64_MAX)
            return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has a negative dimension", g->name, t->name);
        if (!mul_ok(count, ne, &count))
            return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has too many elements", g->name, t->name);
        t->ne[d] = (int64_t)ne;
    }
    t->count = count;
    st = rd_u32(r, &t->type);
    if (!st) st = rd_u64(r, &t->offset);
    if (st) return st;
    const type_info *ti = type_of(t->type);
    if (!ti) return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: unknown tensor type %u for tensor %s", g->name, t->type, t->name);
    if ((uint64_t)t->ne[0] % ti->blck != 0)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: a row of %lld elements is not a whole number of %s blocks of %u",
                            g->name, t->name, (long long)t->ne[0], ti->name, ti->blck);
    if (!mul_ok(count / ti->blck, ti->size, &t->nbytes))
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s is too large", g->name, t->name);
    return SMOLWEB_OK;
}

/* After the infos: the data section's start, and every tensor inside the file. */
static smolweb_status place_tensors(reader *r) {
    sw_gguf *g = r->g;
    uint64_t a = g->alignment;
    g->data_start = r->pos + (a - r->pos % a) % a; /* pos <= MAX_HEADER: cannot overflow */
    for (size_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        if (t->offset % a != 0)
            return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s data offset %llu is not a multiple of the alignment %llu",
                                g->name, t->name, (unsigned long long)t->offset, (unsigned long long)a);
        if (g->data_start > g->size || t->offset > g->size - g->data_start || t->nbytes > g->size - g->data_start - t->offset)
            return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: tensor %s out of bounds", g->name, t->name);
    }
    return SMOLWEB_OK;
}

static smolweb_status parse(reader *r) {
    sw_gguf *g = r->g;
    uint64_t n_tensors = 0, n_kv = 0;
    smolweb_status st = parse_prefix(r, &n_tensors, &n_kv);
    if (!st) st = parse_kvs(r, n_kv);
    if (!st) st = parse_alignment(r);
    if (st) return st;
    g->tensors = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *g->tensors);
    if (!g->tensors) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", g->name);
    for (uint64_t i = 0; i < n_tensors && !st; i++) {
        st = parse_tensor(r, &g->tensors[i], i);
        g->n_tensors = (size_t)i + 1; /* so a partly read name is freed */
    }
    if (st) return st;
    size_t dup = sort_names(tensor_name_at, g->tensors, g->n_tensors, &g->t_sorted);
    if (!g->t_sorted) return sw_error_set(r->err, SMOLWEB_ERR_NOMEM, "%s: out of memory", g->name);
    if (dup != SIZE_MAX)
        return sw_error_set(r->err, SMOLWEB_ERR_FORMAT, "%s: duplicate tensor name %s", g->name, g->tensors[dup].name);
    return place_tensors(r);
}

static sw_gguf *handle_new(const char *name, sw_error *err) {
    sw_gguf *g = calloc(1, sizeof *g);
    char *copy = strdup(name ? name : "");
    if (!g || !copy) {
        free(g);
        free(copy);
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    g->name = copy;
    g->fd = -1;
    return g;
}

sw_gguf *sw_gguf_open_memory(const uint8_t *bytes, size_t len, const char *name, sw_error *err) {
    sw_error_clear(err);
    if (!bytes && len) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: no bytes", name ? name : "");
        return NULL;
    }
    sw_gguf *g = handle_new(name, err);
    if (!g) return NULL;
    static const uint8_t empty[1] = {0};
    g->mem = bytes ? bytes : empty;
    g->size = len;
    reader r = {g, g->mem, len, 0, NULL, err};
    if (parse(&r) != SMOLWEB_OK) {
        sw_gguf_free(g);
        return NULL;
    }
    return g;
}

sw_gguf *sw_gguf_open(const char *path, sw_error *err) {
    sw_error_clear(err);
    if (!path) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no GGUF path");
        return NULL;
    }
    const char *base = strrchr(path, '/');
    sw_gguf *g = handle_new(base ? base + 1 : path, err);
    if (!g) return NULL;
    g->fd = open(path, O_RDONLY);
    struct stat sb;
    if (g->fd < 0) {
        sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    } else if (fstat(g->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sw_error_set(err, SMOLWEB_ERR_IO, "%s: not a regular file", path);
    } else {
        g->size = (uint64_t)sb.st_size;
        reader r = {g, NULL, 0, 0, NULL, err};
        smolweb_status st = parse(&r);
        free(r.own); /* every value was copied out */
        if (st == SMOLWEB_OK) return g;
    }
    sw_gguf_free(g);
    return NULL;
}

/* ---- queries ---- */

uint32_t sw_gguf_version(const sw_gguf *g) { return g ? g->version : 0; }

int sw_gguf_get_str(const sw_gguf *g, const char *key, const char **out) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || kv->type != V_STRING) return 0;
    *out = kv->str;
    return 1;
}

int sw_gguf_get_int(const sw_gguf *g, const char *key, int64_t *out) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || !is_int_type(kv->type) || !kv->has_int) return 0;
    *out = kv->i;
    return 1;
}

int sw_gguf_get_float(const sw_gguf *g, const char *key, double *out) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || !(is_int_type(kv->type) || kv->type == V_F32 || kv->type == V_F64)) return 0;
    *out = kv->f;
    return 1;
}

int sw_gguf_get_bool(const sw_gguf *g, const char *key, int *out) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || kv->type != V_BOOL) return 0;
    *out = (int)kv->i;
    return 1;
}

int sw_gguf_get_str_array(const sw_gguf *g, const char *key, size_t *n, const char *const **items, const uint32_t **lens) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || kv->type != V_ARRAY || kv->elem_type != V_STRING) return 0;
    *n = kv->n;
    *items = (const char *const *)kv->strs;
    if (lens) *lens = kv->lens;
    return 1;
}

int sw_gguf_get_int_array(const sw_gguf *g, const char *key, size_t *n, const int64_t **items) {
    const gguf_kv *kv = find_kv(g, key);
    if (!kv || kv->type != V_ARRAY || !kv->ints) return 0;
    *n = kv->n;
    *items = kv->ints;
    return 1;
}

int sw_gguf_tensor(const sw_gguf *g, const char *name, uint32_t *ggml_type, int *n_dims, int64_t ne[4]) {
    const gguf_tensor *t = find_tensor(g, name);
    if (!t) return 0;
    if (ggml_type) *ggml_type = t->type;
    if (n_dims) *n_dims = t->n_dims;
    if (ne) memcpy(ne, t->ne, sizeof t->ne);
    return 1;
}

size_t sw_gguf_tensor_count(const sw_gguf *g) { return g ? g->n_tensors : 0; }

const char *sw_gguf_tensor_name(const sw_gguf *g, size_t i) { return g && i < g->n_tensors ? g->tensors[i].name : NULL; }

/* ---- tensor data ---- */

static smolweb_status read_at(const sw_gguf *g, const gguf_tensor *t, uint64_t off, uint8_t *dst, size_t n, sw_error *err) {
    while (n > 0) {
        ssize_t got = pread(g->fd, dst, n, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: reading tensor %s: %s", g->name, t->name, strerror(errno));
        if (got == 0) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: tensor %s: unexpected end of file", g->name, t->name);
        dst += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return SMOLWEB_OK;
}

smolweb_status sw_gguf_read_f32(sw_gguf *g, const char *name, float *out, size_t count, sw_error *err) {
    if (!g || !name || (!out && count)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "sw_gguf_read_f32: bad arguments");
    const gguf_tensor *t = find_tensor(g, name);
    if (!t) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: no tensor %s", g->name, name);
    if ((uint64_t)count != t->count)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: tensor %s has %llu elements, not %zu", g->name, name,
                            (unsigned long long)t->count, count);
    const type_info *ti = type_of(t->type);
    if (!ti->dq)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED,
                            "%s: tensor %s has type %s, which cannot be converted (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, "
                            "Q8_0, Q4_K, Q5_K and Q6_K can)", g->name, name, ti->name);
    uint64_t blocks = t->count / ti->blck, pos = g->data_start + t->offset;
    if (g->mem) {
        ti->dq(g->mem + pos, out, (size_t)blocks);
        return SMOLWEB_OK;
    }
    uint64_t per = READ_PIECE / ti->size;
    size_t cap = (size_t)((blocks < per ? blocks : per) * ti->size);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory reading %s", g->name, name);
    smolweb_status st = SMOLWEB_OK;
    for (uint64_t b = 0; b < blocks && !st; b += per) {
        uint64_t nb = blocks - b < per ? blocks - b : per;
        st = read_at(g, t, pos + b * ti->size, buf, (size_t)(nb * ti->size), err);
        if (!st) ti->dq(buf, out + b * ti->blck, (size_t)nb);
    }
    free(buf);
    return st;
}
