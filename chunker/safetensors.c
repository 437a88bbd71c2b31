/* safetensors.c: header validation and on-demand tensor reads (see safetensors.h). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "f16.h"

/* F32 tensors are read straight into the caller's floats: the file is
 * little-endian, and so is every host we build for (x86, arm64, wasm). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define PIECE_ELEMS 65536u          /* f16/bf16 elements converted per read */
#define F32_PIECE_BYTES (64u << 20) /* f32 bytes per read call */
#define MAX_JSON_INT 9007199254740992.0 /* 2^53: larger JSON numbers are not exact doubles */

struct sw_st_file {
    char *name;            /* display name for messages */
    int fd;                /* -1 when reading from memory */
    const uint8_t *mem;    /* borrowed; NULL when reading from fd */
    uint64_t data_start;   /* 8 + header length */
    uint64_t data_len;     /* bytes after the header */
    sw_st_tensor *tensors; /* sorted by name */
    size_t n;
};

const char *sw_st_elem_name(sw_st_elem e) {
    switch (e) {
    case SW_ST_ELEM_F32: return "F32";
    case SW_ST_ELEM_F16: return "F16";
    case SW_ST_ELEM_BF16: return "BF16";
    }
    return "?";
}

size_t sw_st_elem_size(sw_st_elem e) { return e == SW_ST_ELEM_F32 ? 4 : 2; }

const char *sw_st_name(const sw_st_file *f) { return f ? f->name : ""; }
size_t sw_st_count(const sw_st_file *f) { return f ? f->n : 0; }

const sw_st_tensor *sw_st_tensor_at(const sw_st_file *f, size_t i) {
    return f && i < f->n ? &f->tensors[i] : NULL;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const sw_st_tensor *)a)->name, ((const sw_st_tensor *)b)->name);
}

const sw_st_tensor *sw_st_find(const sw_st_file *f, const char *name) {
    if (!f || !name || f->n == 0) return NULL;
    sw_st_tensor key;
    memset(&key, 0, sizeof key);
    key.name = name;
    return bsearch(&key, f->tensors, f->n, sizeof key, cmp_name);
}

void sw_st_free(sw_st_file *f) {
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    for (size_t i = 0; i < f->n; i++) free((char *)f->tensors[i].name);
    free(f->tensors);
    free(f->name);
    free(f);
}

static sw_st_file *file_new(const char *name, sw_error *err) {
    sw_st_file *f = calloc(1, sizeof *f);
    char *copy = strdup(name ? name : "");
    if (!f || !copy) {
        free(f);
        free(copy);
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    f->name = copy;
    f->fd = -1;
    return f;
}

/* ---- header validation ---- */

/* A JSON number that is a non-negative integer exactly representable as a double. */
static int json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d >= MAX_JSON_INT || d != floor(d)) return 0;
    *out = (uint64_t)d;
    return 1;
}

static smolweb_status parse_dtype(const sw_st_file *f, const char *tname, const cJSON *e, sw_st_elem *out,
                                  sw_error *err) {
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dt))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has no dtype string", f->name, tname);
    const char *s = dt->valuestring;
    if (strcmp(s, "F32") == 0) *out = SW_ST_ELEM_F32;
    else if (strcmp(s, "F16") == 0) *out = SW_ST_ELEM_F16;
    else if (strcmp(s, "BF16") == 0) *out = SW_ST_ELEM_BF16;
    else return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: unsupported dtype %.32s for tensor %s", f->name, s, tname);
    return SMOLWEB_OK;
}

static smolweb_status parse_shape(const sw_st_file *f, sw_st_tensor *t, const cJSON *e, sw_error *err) {
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(sh))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has no shape array", f->name, t->name);
    int nd = cJSON_GetArraySize(sh);
    if (nd > SW_ST_MAX_DIMS)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "%s: tensor %s has %d dimensions (at most %d supported)",
                            f->name, t->name, nd, SW_ST_MAX_DIMS);
    t->ndim = nd;
    /* count * 4 bytes must fit the 2^53 offset range, so cap count at 2^50 */
    const uint64_t cap = (uint64_t)1 << 50;
    uint64_t count = 1;
    int zero = 0, i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        uint64_t v;
        if (!json_u64(d, &v) || v > cap)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: shape entry %d is not a valid size", f->name,
                                t->name, i);
        t->shape[i++] = (int64_t)v;
        if (v == 0) zero = 1;
        else if (!zero && count > cap / v)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: shape is too large", f->name, t->name);
        else if (!zero) count *= v;
    }
    t->count = zero ? 0 : count;
    return SMOLWEB_OK;
}

static void format_shape(const sw_st_tensor *t, char *buf, size_t cap) {
    size_t p = 0;
    p += (size_t)snprintf(buf + p, cap - p, "[");
    for (int i = 0; i < t->ndim && p < cap; i++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (p < cap) snprintf(buf + p, cap - p, "]");
}

static smolweb_status parse_offsets(const sw_st_file *f, sw_st_tensor *t, const cJSON *e, sw_error *err) {
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t b, x;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s has no data_offsets pair", f->name, t->name);
    if (!json_u64(cJSON_GetArrayItem(off, 0), &b) || !json_u64(cJSON_GetArrayItem(off, 1), &x))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: data_offsets out of bounds", f->name, t->name);
    if (b > x)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] are reversed", f->name,
                            t->name, (unsigned long long)b, (unsigned long long)x);
    t->begin = b;
    t->end = x;
    uint64_t need = t->count * sw_st_elem_size(t->dtype); /* no overflow: count <= 2^50 */
    if (x - b != need) {
        char shape[160];
        format_shape(t, shape, sizeof shape);
        return sw_error_set(err, SMOLWEB_ERR_FORMAT,
                            "%s: tensor %s: data_offsets [%llu, %llu] span %llu bytes but shape %s of %s needs %llu",
                            f->name, t->name, (unsigned long long)b, (unsigned long long)x,
                            (unsigned long long)(x - b), shape, sw_st_elem_name(t->dtype), (unsigned long long)need);
    }
    return SMOLWEB_OK;
}

static smolweb_status parse_entry(const sw_st_file *f, sw_st_tensor *t, const cJSON *e, sw_error *err) {
    if (!cJSON_IsObject(e))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: entry is not an object", f->name, t->name);
    smolweb_status st = parse_dtype(f, t->name, e, &t->dtype, err);
    if (!st) st = parse_shape(f, t, e, err);
    if (!st) st = parse_offsets(f, t, e, err);
    return st;
}

static int cmp_begin(const void *a, const void *b) {
    const sw_st_tensor *x = *(const sw_st_tensor *const *)a, *y = *(const sw_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* With names sorted: no duplicates; then no two non-empty ranges overlap and
 * every range lies inside the data section. */
static smolweb_status check_layout(sw_st_file *f, sw_error *err) {
    for (size_t i = 1; i < f->n; i++)
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: duplicate tensor %s", f->name, f->tensors[i].name);
    if (f->n == 0) return SMOLWEB_OK;
    const sw_st_tensor **by = malloc(f->n * sizeof *by);
    if (!by) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->tensors[i].end > f->tensors[i].begin) by[m++] = &f->tensors[i];
    qsort(by, m, sizeof *by, cmp_begin);
    smolweb_status st = SMOLWEB_OK;
    int contiguous = m == 0 || by[0]->begin == 0;
    uint64_t max_end = 0;
    for (size_t i = 0; i < m && !st; i++) {
        if (i > 0 && by[i]->begin < by[i - 1]->end)
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensors %s and %s overlap ([%llu, %llu] and [%llu, %llu])",
                              f->name, by[i - 1]->name, by[i]->name, (unsigned long long)by[i - 1]->begin,
                              (unsigned long long)by[i - 1]->end, (unsigned long long)by[i]->begin,
                              (unsigned long long)by[i]->end);
        if (i > 0 && by[i]->begin != by[i - 1]->end) contiguous = 0;
        if (by[i]->end > max_end) max_end = by[i]->end;
    }
    if (!st && max_end > f->data_len) {
        if (contiguous) {
            /* a well-formed header whose data stops early: the file was cut short */
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT,
                              "%s: truncated data: the header describes %llu bytes of tensor data but the file holds %llu",
                              f->name, (unsigned long long)max_end, (unsigned long long)f->data_len);
        } else {
            for (size_t i = 0; i < m; i++)
                if (by[i]->end > f->data_len) {
                    st = sw_error_set(err, SMOLWEB_ERR_FORMAT,
                                      "%s: tensor %s: data_offsets [%llu, %llu] out of bounds (the data section is %llu bytes)",
                                      f->name, by[i]->name, (unsigned long long)by[i]->begin,
                                      (unsigned long long)by[i]->end, (unsigned long long)f->data_len);
                    break;
                }
        }
    }
    free(by);
    return st;
}

static smolweb_status parse_header(sw_st_file *f, const char *json, size_t len, sw_error *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: header is not valid JSON (error at byte %zu)", f->name, at);
    }
    smolweb_status st = SMOLWEB_OK;
    if (!cJSON_IsObject(root)) {
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: header is not a JSON object", f->name);
        goto done;
    }
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) n++;
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    if (!f->tensors) {
        st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        goto done;
    }
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e) && !cJSON_IsNull(e)) {
                st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: __metadata__ is not an object", f->name);
                goto done;
            }
            continue;
        }
        sw_st_tensor *t = &f->tensors[f->n];
        t->name = strdup(e->string);
        if (!t->name) {
            st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
            goto done;
        }
        f->n++;
        st = parse_entry(f, t, e, err);
        if (st) goto done;
    }
    qsort(f->tensors, f->n, sizeof *f->tensors, cmp_name);
    st = check_layout(f, err);
done:
    cJSON_Delete(root);
    return st;
}

static uint64_t load_u64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Checks the header length against the file size and the limit. */
static smolweb_status check_header_len(const sw_st_file *f, uint64_t size, uint64_t n, sw_error *err) {
    if (n > SW_ST_MAX_HEADER)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: header length %llu exceeds the %u MB limit", f->name,
                            (unsigned long long)n, SW_ST_MAX_HEADER / 1000000u);
    if (n > size - 8)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: header length %llu exceeds the file size (%llu bytes)",
                            f->name, (unsigned long long)n, (unsigned long long)size);
    if (n < 2) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: header is not valid JSON (length %llu)", f->name,
                                   (unsigned long long)n);
    return SMOLWEB_OK;
}

sw_st_file *sw_st_open_memory(const uint8_t *bytes, size_t len, const char *name, sw_error *err) {
    sw_error_clear(err);
    sw_st_file *f = file_new(name, err);
    if (!f) return NULL;
    smolweb_status st = SMOLWEB_OK;
    if (len < 8 || !bytes) {
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: truncated header: the file is %zu bytes", f->name, len);
    } else {
        uint64_t n = load_u64_le(bytes);
        st = check_header_len(f, len, n, err);
        if (!st) {
            f->mem = bytes;
            f->data_start = 8 + n;
            f->data_len = len - f->data_start;
            st = parse_header(f, (const char *)bytes + 8, (size_t)n, err);
        }
    }
    if (st) {
        sw_st_free(f);
        return NULL;
    }
    return f;
}

/* Reads exactly len bytes at off; 0 on success, else errno or -1 for end of file. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off) {
    uint8_t *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : -1;
        }
        if (r == 0) return -1;
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

sw_st_file *sw_st_open(const char *path, sw_error *err) {
    sw_error_clear(err);
    if (!path) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no safetensors path");
        return NULL;
    }
    sw_st_file *f = file_new(base_name(path), err);
    if (!f) return NULL;
    smolweb_status st = SMOLWEB_OK;
    char *header = NULL;
    struct stat sb;
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        st = sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: cannot open: %s", f->name,
                          strerror(errno));
        goto done;
    }
    if (fstat(f->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: not a regular file", f->name);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    uint8_t lenbuf[8];
    if (size < 8 || pread_full(f->fd, lenbuf, 8, 0) != 0) {
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: truncated header: the file is %llu bytes", f->name,
                          (unsigned long long)size);
        goto done;
    }
    uint64_t n = load_u64_le(lenbuf);
    st = check_header_len(f, size, n, err);
    if (st) goto done;
    header = malloc((size_t)n);
    if (!header) {
        st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory for a %llu-byte header", f->name,
                          (unsigned long long)n);
        goto done;
    }
    if (pread_full(f->fd, header, (size_t)n, 8) != 0) {
        st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot read the header", f->name);
        goto done;
    }
    f->data_start = 8 + n;
    f->data_len = size - f->data_start;
    st = parse_header(f, header, (size_t)n, err);
done:
    free(header);
    if (st) {
        sw_st_free(f);
        return NULL;
    }
    return f;
}

/* ---- reading tensor data ---- */

static smolweb_status read_at(sw_st_file *f, const sw_st_tensor *t, uint64_t off, void *buf, size_t len, sw_error *err) {
    /* off is relative to the data section; open checked the tensor lies inside it */
    if (off > f->data_len || len > f->data_len - off)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s out of bounds", f->name, t->name);
    if (f->mem) {
        memcpy(buf, f->mem + f->data_start + off, len);
        return SMOLWEB_OK;
    }
    int e = pread_full(f->fd, buf, len, f->data_start + off);
    if (e == -1)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: tensor %s: truncated data (the file shrank while reading)",
                            f->name, t->name);
    if (e) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: tensor %s: read failed: %s", f->name, t->name, strerror(e));
    return SMOLWEB_OK;
}

smolweb_status sw_st_read_f32(sw_st_file *f, const sw_st_tensor *t, float *out, size_t count, sw_error *err) {
    if (!f || !t || t < f->tensors || t >= f->tensors + f->n)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "tensor does not belong to %s", f ? f->name : "(null)");
    if ((uint64_t)count != t->count)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: tensor %s has %llu values, asked for %zu", f->name,
                            t->name, (unsigned long long)t->count, count);
    if (count == 0) return SMOLWEB_OK;
    if (t->dtype == SW_ST_ELEM_F32) {
        uint8_t *dst = (uint8_t *)out;
        uint64_t total = t->count * 4, done = 0;
        while (done < total) {
            size_t len = total - done > F32_PIECE_BYTES ? F32_PIECE_BYTES : (size_t)(total - done);
            smolweb_status st = read_at(f, t, t->begin + done, dst + done, len, err);
            if (st) return st;
            done += len;
        }
        return SMOLWEB_OK;
    }
    uint8_t *piece = malloc((size_t)PIECE_ELEMS * 2);
    if (!piece) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    smolweb_status st = SMOLWEB_OK;
    for (size_t i = 0; i < count && !st; i += PIECE_ELEMS) {
        size_t m = count - i > PIECE_ELEMS ? PIECE_ELEMS : count - i;
        st = read_at(f, t, t->begin + (uint64_t)i * 2, piece, m * 2, err);
        for (size_t j = 0; j < m && !st; j++) {
            uint16_t h = (uint16_t)(piece[2 * j] | (piece[2 * j + 1] << 8));
            out[i + j] = t->dtype == SW_ST_ELEM_F16 ? sw_f16_to_f32(h) : sw_bf16_to_f32(h);
        }
    }
    free(piece);
    return st;
}
