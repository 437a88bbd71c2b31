/* st_write.c: sw_safetensors_write (see gen.h).
 *
 * Writes what Hugging Face's safetensors library writes: a u64 little-endian
 * header length, the JSON header with "__metadata__": {"format": "pt"}
 * padded with spaces to a multiple of 8 bytes (so the data section starts
 * 8-aligned), then each tensor's bytes back to back in list order. Tensors
 * are produced and written one at a time, so memory stays at one tensor's
 * f32 values plus a small conversion buffer whatever the file size. Sharded
 * output splits the list into n_shards contiguous runs of roughly equal
 * bytes, named model-0000i-of-0000N.safetensors, plus
 * model.safetensors.index.json as transformers' save_pretrained writes it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f16.h"
#include "gen.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "st_write.c writes f32 values in host order and assumes a little-endian host"
#endif

#define MAX_SHARDS 99999          /* five-digit shard numbers */
#define MAX_COUNT ((uint64_t)1 << 50) /* elements per tensor */
#define PIECE 65536               /* f16/bf16 values converted per fwrite */

/* ---- a growable text buffer ---- */

typedef struct text {
    char *s;
    size_t len, cap;
    int oom;
} text;

static void text_printf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(text *t, const char *fmt, ...) {
    if (t->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->oom = 1;
            return;
        }
        if (t->s && (size_t)k < t->cap - t->len) {
            t->len += (size_t)k;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k + 1;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* Appends s as a JSON string literal. */
static void text_json_string(text *t, const char *s) {
    text_printf(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') text_printf(t, "\\%c", c);
        else if (c < 0x20) text_printf(t, "\\u%04x", c);
        else text_printf(t, "%c", c);
    }
    text_printf(t, "\"");
}

/* ---- the plan: sizes and shard of every tensor ---- */

static const char *dtype_name(sw_st_dtype d) { return d == SW_ST_F32 ? "F32" : d == SW_ST_F16 ? "F16" : "BF16"; }
static uint64_t dtype_size(sw_st_dtype d) { return d == SW_ST_F32 ? 4 : 2; }

static uint64_t tensor_count(const sw_gen_tensor *t) {
    return (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
}

static smolweb_status check_args(const char *dir, const sw_gen_tensor *tensors, int n, sw_st_dtype dtype,
                                 int n_shards, sw_gen_fill_fn fill, sw_error *err) {
    if (!dir || !tensors || n < 1 || !fill)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: missing folder, tensors or fill");
    if (dtype != SW_ST_F32 && dtype != SW_ST_F16 && dtype != SW_ST_BF16)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: unknown dtype %d", (int)dtype);
    if (n_shards > n || n_shards > MAX_SHARDS)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: %d shards for %d tensors", n_shards, n);
    for (int i = 0; i < n; i++) {
        const sw_gen_tensor *t = &tensors[i];
        if (memchr(t->hf_name, '\0', sizeof t->hf_name) == NULL || t->hf_name[0] == '\0' ||
            strcmp(t->hf_name, "__metadata__") == 0)
            return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: tensor %d has a bad name", i);
        int64_t cols = t->ndim == 2 ? t->shape[1] : 1;
        if ((t->ndim != 1 && t->ndim != 2) || t->shape[0] < 1 || cols < 1 || (uint64_t)t->shape[0] > MAX_COUNT ||
            (uint64_t)cols > MAX_COUNT / (uint64_t)t->shape[0])
            return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: tensor %s has a bad shape", t->hf_name);
        for (int j = 0; j < i; j++)
            if (strcmp(tensors[j].hf_name, t->hf_name) == 0)
                return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "safetensors writer: duplicate tensor %s", t->hf_name);
    }
    return SMOLWEB_OK;
}

/* Assigns each tensor (in order) to a shard: a shard closes once it holds
 * its even share of the bytes not yet placed (so one huge tensor, like the
 * embedding, does not squeeze the shards after it), or when the tensors left
 * just cover the shards left, so no shard is empty. */
static void plan_shards(const sw_gen_tensor *tensors, int n, sw_st_dtype dtype, int n_shards, int *shard_of) {
    uint64_t unplaced = 0, in_shard = 0;
    for (int i = 0; i < n; i++) unplaced += tensor_count(&tensors[i]) * dtype_size(dtype);
    int s = 0;
    for (int i = 0; i < n; i++) {
        shard_of[i] = s;
        in_shard += tensor_count(&tensors[i]) * dtype_size(dtype);
        int left_t = n - i - 1, left_s = n_shards - s - 1;
        /* bytes stay below 2^53 (checked shapes, few tensors), so * n_shards (< 2^17) fits */
        if (left_s > 0 && (left_t == left_s || in_shard * (uint64_t)(left_s + 1) >= unplaced)) {
            s++;
            unplaced -= in_shard;
            in_shard = 0;
        }
    }
}

/* ---- one shard file ---- */

static smolweb_status build_header(const sw_gen_tensor *tensors, int n, const int *shard_of, int shard,
                                   sw_st_dtype dtype, text *h, sw_error *err) {
    text_printf(h, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (shard_of[i] != shard) continue;
        const sw_gen_tensor *t = &tensors[i];
        uint64_t bytes = tensor_count(t) * dtype_size(dtype);
        text_printf(h, ",");
        text_json_string(h, t->hf_name);
        text_printf(h, ":{\"dtype\":\"%s\",\"shape\":[%lld", dtype_name(dtype), (long long)t->shape[0]);
        if (t->ndim == 2) text_printf(h, ",%lld", (long long)t->shape[1]);
        text_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
        off += bytes;
    }
    text_printf(h, "}");
    while (!h->oom && h->len % 8) text_printf(h, " ");
    return h->oom ? sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory building a safetensors header") : SMOLWEB_OK;
}

static smolweb_status write_bytes(FILE *f, const char *path, const void *p, size_t len, sw_error *err) {
    if (len && fwrite(p, 1, len, f) != len)
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return SMOLWEB_OK;
}

/* Produces one tensor through fill and writes it converted to dtype. */
static smolweb_status write_tensor(FILE *f, const char *path, const sw_gen_tensor *t, sw_st_dtype dtype,
                                   sw_gen_fill_fn fill, void *user, sw_error *err) {
    size_t count = (size_t)tensor_count(t);
    float *x = malloc(count * sizeof *x);
    if (!x) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory for tensor %s (%zu values)", t->hf_name, count);
    smolweb_status st = fill(user, t, x, count, err);
    if (!st && dtype == SW_ST_F32) st = write_bytes(f, path, x, count * sizeof *x, err);
    if (!st && dtype != SW_ST_F32) {
        uint8_t buf[2 * PIECE];
        for (size_t i = 0; i < count && !st; i += PIECE) {
            size_t m = count - i < PIECE ? count - i : PIECE;
            for (size_t j = 0; j < m; j++) {
                uint16_t h = dtype == SW_ST_F16 ? sw_f32_to_f16(x[i + j]) : sw_f32_to_bf16(x[i + j]);
                buf[2 * j] = (uint8_t)h;
                buf[2 * j + 1] = (uint8_t)(h >> 8);
            }
            st = write_bytes(f, path, buf, 2 * m, err);
        }
    }
    free(x);
    return st;
}

static smolweb_status write_shard(const char *path, const sw_gen_tensor *tensors, int n, const int *shard_of,
                                  int shard, sw_st_dtype dtype, sw_gen_fill_fn fill, void *user, sw_error *err) {
    text h = {0};
    smolweb_status st = build_header(tensors, n, shard_of, shard, dtype, &h, err);
    if (st) {
        free(h.s);
        return st;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(h.s);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    st = write_bytes(f, path, len8, 8, err);
    if (!st) st = write_bytes(f, path, h.s, h.len, err);
    free(h.s);
    for (int i = 0; i < n && !st; i++)
        if (shard_of[i] == shard) st = write_tensor(f, path, &tensors[i], dtype, fill, user, err);
    if (fclose(f) != 0 && !st) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    if (st) unlink(path); /* no half-written file left behind */
    return st;
}

/* ---- the index ---- */

static int cmp_tensor_ptr(const void *a, const void *b) {
    const sw_gen_tensor *x = *(const sw_gen_tensor *const *)a, *y = *(const sw_gen_tensor *const *)b;
    return strcmp(x->hf_name, y->hf_name);
}

static void shard_name(char *buf, size_t cap, int i, int n) {
    snprintf(buf, cap, "model-%05d-of-%05d.safetensors", i + 1, n);
}

/* Writes the index as transformers does: keys sorted, two-space indent. */
static smolweb_status write_index(const char *dir, const sw_gen_tensor *tensors, int n, const int *shard_of,
                                  int n_shards, sw_st_dtype dtype, sw_error *err) {
    const sw_gen_tensor **order = malloc((size_t)n * sizeof *order);
    if (!order) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        order[i] = &tensors[i];
        total += tensor_count(&tensors[i]) * dtype_size(dtype);
    }
    qsort(order, (size_t)n, sizeof *order, cmp_tensor_ptr);
    text t = {0};
    text_printf(&t, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n  \"weight_map\": {\n",
                (unsigned long long)total);
    for (int i = 0; i < n; i++) {
        char name[64];
        shard_name(name, sizeof name, shard_of[order[i] - tensors], n_shards);
        text_printf(&t, "    ");
        text_json_string(&t, order[i]->hf_name);
        text_printf(&t, ": \"%s\"%s\n", name, i + 1 < n ? "," : "");
    }
    text_printf(&t, "  }\n}\n");
    free(order);
    if (t.oom) {
        free(t.s);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    FILE *f = fopen(path, "wb");
    smolweb_status st = SMOLWEB_OK;
    if (!f) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    else {
        st = write_bytes(f, path, t.s, t.len, err);
        if (fclose(f) != 0 && !st) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed", path);
    }
    free(t.s);
    return st;
}

smolweb_status sw_safetensors_write(const char *dir, const sw_gen_tensor *tensors, int n, sw_st_dtype dtype,
                                    int n_shards, sw_gen_fill_fn fill, void *user, sw_error *err) {
    if (n_shards < 1) n_shards = 1;
    smolweb_status st = check_args(dir, tensors, n, dtype, n_shards, fill, err);
    if (st) return st;
    if (strlen(dir) > 3000) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", dir);
    int *shard_of = calloc((size_t)n, sizeof *shard_of);
    if (!shard_of) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    plan_shards(tensors, n, dtype, n_shards, shard_of);
    char path[4096];
    for (int s = 0; s < n_shards && !st; s++) {
        if (n_shards == 1) {
            snprintf(path, sizeof path, "%s/model.safetensors", dir);
        } else {
            char name[64];
            shard_name(name, sizeof name, s, n_shards);
            snprintf(path, sizeof path, "%s/%s", dir, name);
        }
        st = write_shard(path, tensors, n, shard_of, s, dtype, fill, user, err);
    }
    if (!st && n_shards > 1) st = write_index(dir, tensors, n, shard_of, n_shards, dtype, err);
    free(shard_of);
    return st;
}
