/* source.c: the Hugging Face folder reader, the format dispatch and the
 * generic tensor check every source goes through (see source.h). */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "hf_config.h"
#include "layout.h"
#include "safetensors.h"

#define SINGLE_NAME "model.safetensors"
#define INDEX_NAME "model.safetensors.index.json"
#define MAX_INDEX_BYTES (64u << 20)

/* ---- the HF reader: tensor name -> (shard, tensor) ---- */

typedef struct hf_entry {
    const char *name;        /* borrowed from the shard's tensor */
    sw_st_file *shard;
    const sw_st_tensor *t;
} hf_entry;

typedef struct hf_impl {
    sw_st_file **shards;     /* owned */
    int n_shards;
    hf_entry *map;           /* owned, sorted by name */
    size_t n;
} hf_impl;

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const hf_entry *)a)->name, ((const hf_entry *)b)->name);
}

static const hf_entry *hf_lookup(const hf_impl *h, const char *name) {
    if (!h || h->n == 0 || !name) return NULL;
    hf_entry key = {name, NULL, NULL};
    return bsearch(&key, h->map, h->n, sizeof key, cmp_entry);
}

static void hf_impl_free(hf_impl *h) {
    if (!h) return;
    for (int i = 0; i < h->n_shards; i++) sw_st_free(h->shards[i]);
    free(h->shards);
    free(h->map);
    free(h);
}

static int hf_find(sw_source *src, const char *hf_name, sw_tensor_info *info) {
    const hf_entry *e = hf_lookup(src->impl, hf_name);
    if (!e) return 0;
    if (info) {
        memset(info, 0, sizeof *info);
        info->ndim = e->t->ndim; /* 0 or > 2 fails the shape check with the first two dims shown */
        for (int i = 0; i < 2 && i < e->t->ndim; i++) info->shape[i] = e->t->shape[i];
    }
    return 1;
}

static smolweb_status hf_read_f32(sw_source *src, const char *hf_name, float *out, size_t count, sw_error *err) {
    const hf_entry *e = hf_lookup(src->impl, hf_name);
    if (!e) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing tensor %s", hf_name ? hf_name : "(null)");
    return sw_st_read_f32(e->shard, e->t, out, count, err);
}

static void hf_free(sw_source *src) {
    hf_impl_free(src->impl);
    src->impl = NULL;
}

static const sw_source_ops k_hf_ops = {hf_find, hf_read_f32, hf_free};

static smolweb_status add_shard(hf_impl *h, sw_st_file *f, sw_error *err) {
    sw_st_file **s = realloc(h->shards, (size_t)(h->n_shards + 1) * sizeof *s);
    if (!s) {
        sw_st_free(f);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    }
    h->shards = s;
    h->shards[h->n_shards++] = f;
    return SMOLWEB_OK;
}

static smolweb_status sort_map(hf_impl *h, sw_error *err) {
    qsort(h->map, h->n, sizeof *h->map, cmp_entry);
    for (size_t i = 1; i < h->n; i++)
        if (strcmp(h->map[i - 1].name, h->map[i].name) == 0)
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, INDEX_NAME ": tensor %s is listed twice", h->map[i].name);
    return SMOLWEB_OK;
}

static smolweb_status open_single(hf_impl *h, const char *path, sw_error *err) {
    sw_st_file *f = sw_st_open(path, err);
    if (!f) return err ? err->status : SMOLWEB_ERR_FORMAT;
    smolweb_status st = add_shard(h, f, err);
    if (st) return st;
    h->n = sw_st_count(f);
    h->map = calloc(h->n ? h->n : 1, sizeof *h->map);
    if (!h->map) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h->n; i++) {
        const sw_st_tensor *t = sw_st_tensor_at(f, i);
        h->map[i].name = t->name;
        h->map[i].shard = f;
        h->map[i].t = t;
    }
    return SMOLWEB_OK; /* names within one file are unique and already sorted */
}

/* A shard must be a plain file in the folder: no path separators, no "..". */
static int plain_name(const char *s) {
    return s[0] != '\0' && !strchr(s, '/') && !strchr(s, '\\') && !strstr(s, "..");
}

static smolweb_status read_small_file(const char *path, const char *name, size_t limit, char **out, size_t *len,
                                      sw_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return sw_error_set(err, errno == ENOENT ? SMOLWEB_ERR_MISSING : SMOLWEB_ERR_IO, "%s: cannot open: %s", name,
                            strerror(errno));
    struct stat sb;
    smolweb_status st = SMOLWEB_OK;
    char *buf = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: not a regular file", name);
    else if ((uint64_t)sb.st_size > limit)
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "%s: %lld bytes is over the %zu MB limit", name,
                          (long long)sb.st_size, limit >> 20);
    else if (!(buf = malloc((size_t)sb.st_size + 1)))
        st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    else if (fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size || ferror(f))
        st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: read failed", name);
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    *out = buf;
    *len = (size_t)sb.st_size;
    return SMOLWEB_OK;
}

/* Returns the open shard with this file name, opening it on first use. */
static smolweb_status get_shard(hf_impl *h, const char *dir, const char *file, const char *tensor, sw_st_file **out,
                                sw_error *err) {
    for (int i = 0; i < h->n_shards; i++)
        if (strcmp(sw_st_name(h->shards[i]), file) == 0) {
            *out = h->shards[i];
            return SMOLWEB_OK;
        }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, INDEX_NAME ": shard path too long");
    sw_st_file *f = sw_st_open(path, err);
    if (!f) {
        if (err && err->status == SMOLWEB_ERR_MISSING)
            sw_error_set(err, SMOLWEB_ERR_MISSING, INDEX_NAME ": shard %.200s (holding tensor %.150s) is missing", file,
                         tensor);
        return err ? err->status : SMOLWEB_ERR_FORMAT;
    }
    *out = f;
    return add_shard(h, f, err);
}

static smolweb_status map_index(hf_impl *h, const char *dir, const cJSON *wm, sw_error *err) {
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, wm) n++;
    h->map = calloc(n ? n : 1, sizeof *h->map);
    if (!h->map) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT, INDEX_NAME ": weight_map entry for %.200s is not a file name",
                                e->string);
        if (!plain_name(e->valuestring))
            return sw_error_set(err, SMOLWEB_ERR_FORMAT,
                                INDEX_NAME ": shard name \"%.200s\" for tensor %.150s is not a plain file name in the folder",
                                e->valuestring, e->string);
        sw_st_file *shard = NULL;
        smolweb_status st = get_shard(h, dir, e->valuestring, e->string, &shard, err);
        if (st) return st;
        const sw_st_tensor *t = sw_st_find(shard, e->string);
        if (!t)
            return sw_error_set(err, SMOLWEB_ERR_MISSING, INDEX_NAME ": tensor %.200s is listed in %.150s but absent from it",
                                e->string, e->valuestring);
        h->map[h->n].name = t->name;
        h->map[h->n].shard = shard;
        h->map[h->n].t = t;
        h->n++;
    }
    return sort_map(h, err);
}

static smolweb_status open_index(hf_impl *h, const char *dir, const char *path, sw_error *err) {
    char *text = NULL;
    size_t len = 0;
    smolweb_status st = read_small_file(path, INDEX_NAME, MAX_INDEX_BYTES, &text, &len, err);
    if (st) return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        st = sw_error_set(err, SMOLWEB_ERR_FORMAT, INDEX_NAME ": not valid JSON (error at byte %zu)", at);
    } else {
        const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
        if (!cJSON_IsObject(wm)) st = sw_error_set(err, SMOLWEB_ERR_FORMAT, INDEX_NAME ": no weight_map object");
        else st = map_index(h, dir, wm, err);
    }
    cJSON_Delete(root);
    free(text);
    return st;
}

static int is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

sw_source *sw_source_open_hf(const char *dir, sw_error *err) {
    sw_error_clear(err);
    if (!dir || strlen(dir) >= sizeof ((sw_source *)0)->path) {
        sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "model folder path missing or too long");
        return NULL;
    }
    sw_source *src = calloc(1, sizeof *src);
    hf_impl *h = calloc(1, sizeof *h);
    if (!src || !h) {
        free(src);
        free(h);
        sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
        return NULL;
    }
    src->ops = &k_hf_ops;
    src->kind = SW_SOURCE_HF;
    src->impl = h;
    snprintf(src->path, sizeof src->path, "%s", dir);
    smolweb_status st = sw_hf_config_load(dir, &src->config, err);
    char single[4096], index[4096];
    snprintf(single, sizeof single, "%s/" SINGLE_NAME, dir);
    snprintf(index, sizeof index, "%s/" INDEX_NAME, dir);
    if (st) {
        /* already set */
    } else if (is_file(single)) { /* a single file wins over a stale index beside it */
        st = open_single(h, single, err);
    } else if (is_file(index)) {
        st = open_index(h, dir, index, err);
    } else {
        st = sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: no " SINGLE_NAME " or " INDEX_NAME, dir);
    }
    if (st) {
        sw_source_free(src);
        return NULL;
    }
    return src;
}

sw_source *sw_source_open(const char *path, sw_error *err) {
    sw_error_clear(err);
    struct stat sb;
    if (!path || stat(path, &sb) != 0) {
        sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: cannot open: %s", path ? path : "(null)",
                     path ? strerror(errno) : "no path");
        return NULL;
    }
    return S_ISDIR(sb.st_mode) ? sw_source_open_hf(path, err) : sw_source_open_gguf(path, err);
}

void sw_source_free(sw_source *src) {
    if (!src) return;
    if (src->ops && src->ops->free) src->ops->free(src);
    else if (src->kind == SW_SOURCE_HF) hf_impl_free(src->impl);
    free(src);
}

/* ---- the generic check ---- */

static void format_dims(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t p = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && i < 2 && p < cap; i++)
        p += (size_t)snprintf(buf + p, cap - p, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (ndim > 2 && p < cap) p += (size_t)snprintf(buf + p, cap - p, ", ...");
    if (p < cap) snprintf(buf + p, cap - p, "]");
}

static smolweb_status check_tensor(sw_source *src, const sw_layout_tensor *want, int layer, sw_error *err) {
    char name[160];
    snprintf(name, sizeof name, want->hf_fmt, layer);
    sw_tensor_info info;
    if (!src->ops->find(src, name, &info)) return sw_error_set(err, SMOLWEB_ERR_MISSING, "missing tensor %s", name);
    const sw_model_config *c = &src->config;
    int ndim = want->is_norm ? 1 : 2;
    int64_t shape[2] = {want->is_norm ? (int64_t)want->cols : (int64_t)want->rows, want->is_norm ? 0 : want->cols};
    int same = info.ndim == ndim && info.shape[0] == shape[0] && (ndim == 1 || info.shape[1] == shape[1]);
    if (same) return SMOLWEB_OK;
    if (want->is_embedding && info.ndim == 2 && info.shape[1] == c->hidden_size && info.shape[0] != c->vocab_size)
        return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s has %lld rows but vocab_size is %d", name,
                            (long long)info.shape[0], c->vocab_size);
    char a[64], b[64];
    format_dims(ndim, shape, a, sizeof a);
    format_dims(info.ndim, info.shape, b, sizeof b);
    return sw_error_set(err, SMOLWEB_ERR_SHAPE, "shape mismatch for %s: expected %s, found %s", name, a, b);
}

smolweb_status sw_source_check(sw_source *src, sw_error *err) {
    if (!src || !src->ops) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "no source");
    const sw_model_config *c = &src->config;
    smolweb_status st = sw_model_config_validate(c, err);
    if (st) {
        const char *base = strrchr(src->path, '/');
        sw_error_prefix(err, "%s", src->kind == SW_SOURCE_HF ? "config.json" : base ? base + 1 : src->path);
        return st;
    }
    sw_dims d = {c->hidden_size, c->intermediate_size, c->num_heads, c->num_kv_heads,
                 c->head_dim, c->vocab_size, c->tie_word_embeddings};
    sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
    int n = sw_layout_embedding(&d, want);
    for (int i = 0; i < n && !st; i++) st = check_tensor(src, &want[i], -1, err);
    n = sw_layout_layer(&d, want);
    for (int l = 0; l < c->num_layers && !st; l++)
        for (int i = 0; i < n && !st; i++) st = check_tensor(src, &want[i], l, err);
    return st;
}
