/* chunk.c: parse (untrusted bytes) and lay out weight chunks; the byte layout
 * is documented in chunk.h. */
#include "chunk.h"

#include <string.h>

#define HDR_FIXED 32
#define ENTRY_SIZE 64

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v) { return (v + SW_CHUNK_ALIGN - 1) & ~(uint64_t)(SW_CHUNK_ALIGN - 1); }

static size_t header_size(uint32_t n) { return (size_t)align_up(HDR_FIXED + (uint64_t)ENTRY_SIZE * n); }

static smolweb_status parse_entry(const uint8_t *e, uint32_t i, sw_chunk_tensor *t, sw_error *err) {
    if (memchr(e, '\0', SW_CHUNK_NAME_LEN) == NULL || e[0] == '\0')
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %u has no valid name", i);
    memcpy(t->name, e, SW_CHUNK_NAME_LEN);
    uint32_t dtype = rd32(e + 32);
    t->rows = rd32(e + 36);
    t->cols = rd32(e + 40);
    t->offset = rd64(e + 48);
    t->nbytes = rd64(e + 56);
    if (dtype >= SW_DTYPE_COUNT_)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s has unknown dtype %u", t->name, dtype);
    t->dtype = (sw_dtype)dtype;
    if (rd32(e + 44) != 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s has a non-zero reserved field", t->name);
    uint64_t want = sw_tensor_bytes(t->dtype, t->rows, t->cols);
    if (want == 0)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s has an invalid shape %ux%u for %s", t->name,
                            t->rows, t->cols, sw_dtype_name(t->dtype));
    if (want != t->nbytes)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s byte count %llu does not match its shape (%llu)",
                            t->name, (unsigned long long)t->nbytes, (unsigned long long)want);
    if (t->offset % SW_CHUNK_ALIGN)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s offset %llu is not %d-byte aligned", t->name,
                            (unsigned long long)t->offset, SW_CHUNK_ALIGN);
    return SMOLWEB_OK;
}

/* A blocked tensor's scales (f16, after the blocks) must be finite: an
 * infinite or NaN scale makes every weight of its block meaningless, and
 * the SIMD kernels convert scales assuming finite values (kernels_simd128.c,
 * load_scales4). */
static smolweb_status check_scales(const sw_chunk_tensor *t, sw_error *err) {
    if (!sw_dtype_is_blocked(t->dtype)) return SMOLWEB_OK;
    uint64_t nb = (uint64_t)t->rows * (t->cols / SW_QK);
    const uint8_t *sc = t->data + (t->nbytes - 2 * nb);
    for (uint64_t b = 0; b < nb; b++)
        if ((sc[2 * b + 1] & 0x7c) == 0x7c)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s: the scale of block %llu (row %llu) is %s", t->name,
                                (unsigned long long)b, (unsigned long long)(b / (t->cols / SW_QK)),
                                (sc[2 * b] | (sc[2 * b + 1] & 0x03)) ? "NaN" : "infinite");
    return SMOLWEB_OK;
}

smolweb_status sw_chunk_parse(const uint8_t *bytes, size_t len, sw_chunk_view *view, sw_error *err) {
    memset(view, 0, sizeof *view);
    if (len < HDR_FIXED) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "truncated chunk header (%zu bytes)", len);
    if (memcmp(bytes, SW_CHUNK_MAGIC, 4) != 0) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "bad magic (not a smolweb chunk)");
    view->version = rd32(bytes + 4);
    if (view->version != SW_CHUNK_VERSION)
        return sw_error_set(err, SMOLWEB_ERR_UNSUPPORTED, "chunk version %u is not supported (this build reads %d)",
                            view->version, SW_CHUNK_VERSION);
    view->role = rd32(bytes + 8);
    view->layer = (int32_t)rd32(bytes + 12);
    view->n_tensors = rd32(bytes + 16);
    uint32_t hsize = rd32(bytes + 20);
    uint64_t fsize = rd64(bytes + 24);
    if (view->role != 1 && view->role != 2) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "unknown chunk role %u", view->role);
    if ((view->role == 2) != (view->layer >= 0))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "layer index %d does not fit role %u", view->layer, view->role);
    if (view->n_tensors == 0 || view->n_tensors > SW_CHUNK_MAX_TENSORS)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor count %u out of range 1..%d", view->n_tensors,
                            SW_CHUNK_MAX_TENSORS);
    if (hsize != header_size(view->n_tensors))
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "header size %u does not match %u tensors", hsize, view->n_tensors);
    if (fsize != len)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "chunk is %zu bytes but its header says %llu (truncated or padded)",
                            len, (unsigned long long)fsize);
    if (len < hsize) return sw_error_set(err, SMOLWEB_ERR_FORMAT, "truncated tensor table");
    uint64_t end = hsize;
    for (uint32_t i = 0; i < view->n_tensors; i++) {
        sw_chunk_tensor *t = &view->tensors[i];
        smolweb_status st = parse_entry(bytes + HDR_FIXED + (size_t)ENTRY_SIZE * i, i, t, err);
        if (st) return st;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(view->tensors[j].name, t->name) == 0)
                return sw_error_set(err, SMOLWEB_ERR_FORMAT, "duplicate tensor %s", t->name);
        /* tensors follow in table order without overlap, each inside the file */
        if (t->offset < end)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s overlaps the header or the previous tensor", t->name);
        if (t->nbytes > len || t->offset > len - t->nbytes)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, "tensor %s is out of bounds (offset %llu + %llu bytes > %zu)",
                                t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes, len);
        end = t->offset + t->nbytes;
        t->data = bytes + t->offset;
        st = check_scales(t, err);
        if (st) return st;
    }
    if (end != len)
        return sw_error_set(err, SMOLWEB_ERR_FORMAT, "%llu trailing bytes after the last tensor",
                            (unsigned long long)(len - end));
    return SMOLWEB_OK;
}

const sw_chunk_tensor *sw_chunk_find(const sw_chunk_view *view, const char *name) {
    for (uint32_t i = 0; i < view->n_tensors; i++)
        if (strcmp(view->tensors[i].name, name) == 0) return &view->tensors[i];
    return NULL;
}

uint64_t sw_chunk_layout(sw_chunk_view *view) {
    if (view->n_tensors == 0 || view->n_tensors > SW_CHUNK_MAX_TENSORS) return 0;
    uint64_t off = header_size(view->n_tensors);
    for (uint32_t i = 0; i < view->n_tensors; i++) {
        sw_chunk_tensor *t = &view->tensors[i];
        t->nbytes = sw_tensor_bytes(t->dtype, t->rows, t->cols);
        if (t->nbytes == 0 || t->name[0] == '\0' || memchr(t->name, '\0', SW_CHUNK_NAME_LEN) == NULL) return 0;
        t->offset = align_up(off);
        off = t->offset + t->nbytes;
    }
    return off;
}

size_t sw_chunk_header_bytes(const sw_chunk_view *view, uint64_t file_size, uint8_t *buf, size_t buf_len) {
    size_t h = header_size(view->n_tensors);
    if (buf_len < h) return 0;
    memset(buf, 0, h);
    memcpy(buf, SW_CHUNK_MAGIC, 4);
    wr32(buf + 4, SW_CHUNK_VERSION);
    wr32(buf + 8, view->role);
    wr32(buf + 12, (uint32_t)view->layer);
    wr32(buf + 16, view->n_tensors);
    wr32(buf + 20, (uint32_t)h);
    wr64(buf + 24, file_size);
    for (uint32_t i = 0; i < view->n_tensors; i++) {
        const sw_chunk_tensor *t = &view->tensors[i];
        uint8_t *e = buf + HDR_FIXED + (size_t)ENTRY_SIZE * i;
        memcpy(e, t->name, SW_CHUNK_NAME_LEN);
        wr32(e + 32, (uint32_t)t->dtype);
        wr32(e + 36, t->rows);
        wr32(e + 40, t->cols);
        wr64(e + 48, t->offset);
        wr64(e + 56, t->nbytes);
    }
    return h;
}
