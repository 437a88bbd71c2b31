/* convert.c: source model -> verified model folder (see convert.h). */
#include "convert.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chat.h"
#include "chunk.h"
#include "gguf.h"
#include "layout.h"
#include "manifest.h"
#include "sha256.h"
#include "source.h"
#include "tokpack.h"

#define TOKENIZER_FILE "tokenizer.swt"
#define EMBEDDING_FILE "embedding.swc"

/* Formats "a" + sep + "b" into out; 0 if it does not fit (paths are capped at
 * PATH_LEN, far above any real one, so this only guards against misuse). */
#define PATH_LEN 4096
static int join(char *out, const char *a, const char *sep, const char *b) {
    int r = snprintf(out, PATH_LEN, "%s%s%s", a, sep, b);
    return r >= 0 && r < PATH_LEN;
}

sw_convert_params sw_convert_default_params(void) {
    sw_convert_params p = {SW_DTYPE_Q4, SW_DTYPE_Q8, NULL, NULL};
    return p;
}

static void progress(const sw_convert_params *p, const char *fmt, ...) {
    if (!p->on_progress) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->on_progress(p->user, line);
}

static sw_dims dims_of(const sw_model_config *c) {
    sw_dims d = {c->hidden_size, c->intermediate_size, c->num_heads, c->num_kv_heads,
                 c->head_dim, c->vocab_size, c->tie_word_embeddings};
    return d;
}

/* ---- writing one file while hashing it ---- */

typedef struct out_file {
    FILE *f;
    sw_sha256 *sha;
    uint64_t written;
    const char *path;
} out_file;

static smolweb_status out_open(out_file *o, const char *path, sw_error *err) {
    memset(o, 0, sizeof *o);
    o->path = path;
    o->f = fopen(path, "wb");
    if (!o->f) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    o->sha = sw_sha256_create();
    if (!o->sha) {
        fclose(o->f);
        o->f = NULL;
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    }
    return SMOLWEB_OK;
}

static smolweb_status out_write(out_file *o, const void *data, size_t len, sw_error *err) {
    if (len && fwrite(data, 1, len, o->f) != len)
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    sw_sha256_update(o->sha, data, len);
    o->written += len;
    return SMOLWEB_OK;
}

static smolweb_status out_pad_to(out_file *o, uint64_t offset, sw_error *err) {
    static const uint8_t zeros[SW_CHUNK_ALIGN];
    while (o->written < offset) {
        uint64_t n = offset - o->written;
        smolweb_status st = out_write(o, zeros, n > sizeof zeros ? sizeof zeros : (size_t)n, err);
        if (st) return st;
    }
    return SMOLWEB_OK;
}

/* Closes the file; fills the manifest entry's size and hash on success. */
static smolweb_status out_close(out_file *o, sw_manifest_file *entry, sw_error *err) {
    smolweb_status st = SMOLWEB_OK;
    if (o->f && fclose(o->f) != 0) st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: close failed: %s", o->path, strerror(errno));
    o->f = NULL;
    if (o->sha && entry) {
        sw_sha256_finish_hex(o->sha, entry->sha256);
        entry->bytes = o->written;
    }
    sw_sha256_free(o->sha);
    o->sha = NULL;
    return st;
}

/* ---- chunks ---- */

/* Reads one tensor from the source, converts it and writes it at its offset. */
static smolweb_status write_tensor(sw_source *src, out_file *o, const sw_chunk_tensor *t, const char *hf_name,
                                   sw_error *err) {
    size_t count = (size_t)t->rows * t->cols;
    float *x = malloc(count * sizeof *x);
    void *q = malloc((size_t)t->nbytes);
    smolweb_status st = SMOLWEB_OK;
    if (!x || !q) st = sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory reading %s", hf_name);
    if (!st) st = src->ops->read_f32(src, hf_name, x, count, err);
    if (!st) {
        sw_quantize_tensor(t->dtype, x, t->rows, t->cols, q);
        st = out_pad_to(o, t->offset, err);
    }
    if (!st) st = out_write(o, q, (size_t)t->nbytes, err);
    free(x);
    free(q);
    return st;
}

static smolweb_status write_chunk(sw_source *src, const char *path, const sw_layout_tensor *want, int n, int layer,
                                  const sw_convert_params *p, sw_manifest_file *entry, sw_error *err) {
    sw_chunk_view v;
    memset(&v, 0, sizeof v);
    v.role = layer >= 0 ? SW_ROLE_LAYER : SW_ROLE_EMBEDDING;
    v.layer = layer;
    v.n_tensors = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        snprintf(v.tensors[i].name, SW_CHUNK_NAME_LEN, "%s", want[i].name);
        v.tensors[i].dtype = sw_layout_dtype(&want[i], p->quant, p->embed_quant);
        v.tensors[i].rows = want[i].rows;
        v.tensors[i].cols = want[i].cols;
    }
    uint64_t size = sw_chunk_layout(&v);
    if (size == 0) return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s: tensor shapes cannot be stored as chunked", path);
    uint8_t header[32 + 64 * SW_CHUNK_MAX_TENSORS + 64];
    size_t hlen = sw_chunk_header_bytes(&v, size, header, sizeof header);
    out_file o;
    smolweb_status st = out_open(&o, path, err);
    if (st) return st;
    st = out_write(&o, header, hlen, err);
    for (int i = 0; i < n && !st; i++) {
        char hf[128];
        snprintf(hf, sizeof hf, want[i].hf_fmt, layer);
        st = write_tensor(src, &o, &v.tensors[i], hf, err);
    }
    if (!st && o.written != size)
        st = sw_error_set(err, SMOLWEB_ERR_IO, "%s: wrote %llu bytes, expected %llu", path,
                          (unsigned long long)o.written, (unsigned long long)size);
    smolweb_status cst = out_close(&o, entry, err);
    return st ? st : cst;
}

/* ---- tokenizer ---- */

static smolweb_status write_tokenizer(const sw_source *src, const char *path, sw_tok_meta *meta, sw_manifest_file *entry,
                                      sw_error *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    smolweb_status st;
    if (src->kind == SW_SOURCE_GGUF) {
        sw_gguf *g = sw_gguf_open(src->path, err);
        if (!g) return err ? err->status : SMOLWEB_ERR_FORMAT;
        st = sw_tokpack_from_gguf(g, &buf, &len, meta, err);
        sw_gguf_free(g);
    } else {
        st = sw_tokpack_from_hf_dir(src->path, &buf, &len, meta, err);
    }
    if (st) return st;
    out_file o;
    st = out_open(&o, path, err);
    if (!st) st = out_write(&o, buf, len, err);
    smolweb_status cst = o.f ? out_close(&o, entry, err) : SMOLWEB_OK;
    free(buf);
    return st ? st : cst;
}

/* ---- manifest ---- */

/* "chatml" exactly when the runtime's renderer (src/chat.h) accepts the
 * template, so the manifest and smolweb-run --chat always agree. */
static const char *chat_format_of(const char *tmpl) { return sw_chat_format_name(sw_chat_classify(tmpl)); }

static char *dup_str(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static uint64_t count_params(const sw_dims *d, int layers) {
    sw_layout_tensor t[SW_CHUNK_MAX_TENSORS];
    uint64_t total = 0;
    int n = sw_layout_layer(d, t);
    for (int i = 0; i < n; i++) total += (uint64_t)t[i].rows * t[i].cols * (uint64_t)layers;
    n = sw_layout_embedding(d, t);
    for (int i = 0; i < n; i++) total += (uint64_t)t[i].rows * t[i].cols;
    return total;
}

/* Fills everything but the files' sizes and hashes. */
static smolweb_status build_manifest(sw_manifest *m, const sw_model_config *c, const sw_tok_meta *tm,
                                     const sw_convert_params *p, sw_error *err) {
    memset(m, 0, sizeof *m);
    sw_dims d = dims_of(c);
    m->format_version = SW_MANIFEST_VERSION;
    m->name = dup_str(c->name);
    m->architecture = dup_str(c->architecture[0] ? c->architecture : "llama");
    m->params = count_params(&d, c->num_layers);
    m->hidden_size = c->hidden_size;
    m->intermediate_size = c->intermediate_size;
    m->num_layers = c->num_layers;
    m->num_heads = c->num_heads;
    m->num_kv_heads = c->num_kv_heads;
    m->head_dim = c->head_dim;
    m->vocab_size = c->vocab_size;
    m->max_position_embeddings = c->max_position_embeddings;
    m->rope_theta = c->rope_theta;
    m->rms_norm_eps = c->rms_norm_eps;
    m->tie_word_embeddings = c->tie_word_embeddings;
    m->rope_layers = malloc((size_t)c->num_layers);
    snprintf(m->weights_type, sizeof m->weights_type, "%s", sw_dtype_name(p->quant));
    snprintf(m->embedding_type, sizeof m->embedding_type, "%s", sw_dtype_name(p->embed_quant));
    m->group_size = sw_dtype_is_blocked(p->quant) ? SW_QK : 0;
    m->bos_id = tm->bos_id >= 0 ? tm->bos_id : c->bos_token_id;
    m->eos_id = tm->eos_id >= 0 ? tm->eos_id : c->eos_token_id;
    m->pad_id = tm->pad_id;
    m->n_stop_ids = tm->n_stop;
    m->stop_ids = malloc(sizeof(int) * (size_t)(tm->n_stop > 0 ? tm->n_stop : 1));
    m->chat_template = dup_str(tm->chat_template);
    snprintf(m->chat_format, sizeof m->chat_format, "%s", chat_format_of(tm->chat_template));
    m->n_files = c->num_layers + 2;
    m->files = calloc((size_t)m->n_files, sizeof *m->files);
    if (!m->name || !m->architecture || !m->rope_layers || !m->stop_ids || !m->files ||
        (tm->chat_template && !m->chat_template))
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    memset(m->rope_layers, 1, (size_t)c->num_layers);
    for (int i = 0; i < tm->n_stop; i++) m->stop_ids[i] = tm->stop_ids[i];
    m->files[0] = (sw_manifest_file){dup_str(TOKENIZER_FILE), 0, "", SW_ROLE_TOKENIZER, -1};
    m->files[1] = (sw_manifest_file){dup_str(EMBEDDING_FILE), 0, "", SW_ROLE_EMBEDDING, -1};
    for (int l = 0; l < c->num_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer-%03d.swc", l);
        m->files[2 + l] = (sw_manifest_file){dup_str(name), 0, "", SW_ROLE_LAYER, l};
    }
    for (int i = 0; i < m->n_files; i++)
        if (!m->files[i].path) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    return SMOLWEB_OK;
}

static smolweb_status write_text_file(const char *path, const char *text, sw_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    return ok ? SMOLWEB_OK : sw_error_set(err, SMOLWEB_ERR_IO, "%s: write failed: %s", path, strerror(errno));
}

/* ---- verification ---- */

static smolweb_status read_file(const char *path, uint8_t **out, size_t *len, sw_error *err) {
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return sw_error_set(err, SMOLWEB_ERR_MISSING, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fclose(f);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot stat", path);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return sw_error_set(err, SMOLWEB_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: short read", path);
    }
    *out = buf;
    *len = n;
    return SMOLWEB_OK;
}

static smolweb_status verify_file(const char *dir, const sw_manifest *m, const sw_manifest_file *f, sw_error *err) {
    char path[PATH_LEN];
    if (!join(path, dir, "/", f->path)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", dir);
    uint8_t *buf;
    size_t len;
    smolweb_status st = read_file(path, &buf, &len, err);
    if (st) return st;
    char hex[65];
    if (len != f->bytes) {
        st = sw_error_set(err, SMOLWEB_ERR_INTEGRITY, "%s: size %zu does not match the manifest's %llu", f->path, len,
                          (unsigned long long)f->bytes);
    } else {
        sw_sha256_hex(buf, len, hex);
        if (strcmp(hex, f->sha256) != 0)
            st = sw_error_set(err, SMOLWEB_ERR_INTEGRITY, "%s: SHA-256 %s does not match the manifest's %s", f->path, hex,
                              f->sha256);
    }
    if (!st && f->role != SW_ROLE_TOKENIZER) {
        sw_chunk_view v;
        sw_dims d = {m->hidden_size, m->intermediate_size, m->num_heads, m->num_kv_heads,
                     m->head_dim, m->vocab_size, m->tie_word_embeddings};
        sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
        int n = f->role == SW_ROLE_LAYER ? sw_layout_layer(&d, want) : sw_layout_embedding(&d, want);
        st = sw_chunk_parse(buf, len, &v, err);
        if (!st && (int)v.role != (int)f->role)
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "chunk role %u does not match the manifest", v.role);
        if (!st && v.layer != f->layer)
            st = sw_error_set(err, SMOLWEB_ERR_FORMAT, "chunk holds layer %d, the manifest says %d", v.layer, f->layer);
        if (!st)
            st = sw_layout_check_chunk(&v, want, n, (sw_dtype)sw_dtype_from_name(m->weights_type),
                                       (sw_dtype)sw_dtype_from_name(m->embedding_type), err);
        if (st) sw_error_prefix(err, "%s", f->path);
    }
    free(buf);
    return st;
}

smolweb_status sw_verify_model_dir(const char *dir, sw_error *err) {
    char path[PATH_LEN];
    if (!join(path, dir, "/", "manifest.json")) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", dir);
    sw_manifest *m = sw_manifest_load(path, err);
    if (!m) return err ? err->status : SMOLWEB_ERR_FORMAT;
    smolweb_status st = SMOLWEB_OK;
    for (int i = 0; i < m->n_files && !st; i++) st = verify_file(dir, m, &m->files[i], err);
    sw_manifest_free(m);
    return st;
}

/* ---- output folder handling ---- */

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int path_exists(const char *p) {
    struct stat sb;
    return lstat(p, &sb) == 0;
}

/* Removes a folder the chunker made (plain files only, then the folder). */
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[PATH_LEN];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            if (join(p, dir, "/", e->d_name)) unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* 1 if dir is empty, 0 if not, -1 if unreadable. */
static int dir_is_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) { empty = 0; break; }
    closedir(d);
    return empty;
}

/* May out_dir be replaced? Only when absent, empty, or an earlier chunker output. */
static smolweb_status check_out_dir(const char *out_dir, sw_error *err) {
    if (!path_exists(out_dir)) return SMOLWEB_OK;
    if (!is_dir(out_dir)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: exists and is not a folder", out_dir);
    char p[PATH_LEN];
    if (!join(p, out_dir, "/", "manifest.json")) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", out_dir);
    if (dir_is_empty(out_dir) == 1 || path_exists(p)) return SMOLWEB_OK;
    return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG,
                        "%s: exists, is not empty and holds no manifest.json; refusing to replace it", out_dir);
}

/* Moves the verified tmp folder into place; an existing out_dir is moved aside
 * first and deleted only after the new one is in place. */
static smolweb_status commit_out_dir(const char *tmp, const char *out_dir, sw_error *err) {
    char old[PATH_LEN];
    int had_old = path_exists(out_dir);
    if (had_old) {
        char pid[32];
        snprintf(pid, sizeof pid, "%ld", (long)getpid());
        if (!join(old, out_dir, ".old-", pid)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", out_dir);
        if (rename(out_dir, old) != 0)
            return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot move the old folder aside: %s", out_dir, strerror(errno));
    }
    if (rename(tmp, out_dir) != 0) {
        int e = errno;
        if (had_old) rename(old, out_dir);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot move the new folder into place: %s", out_dir, strerror(e));
    }
    if (had_old) remove_dir(old);
    return SMOLWEB_OK;
}

/* ---- the pipeline ---- */

static smolweb_status check_quant_dims(const sw_model_config *c, const sw_convert_params *p, sw_error *err) {
    if (!sw_dtype_is_blocked(p->quant) && !sw_dtype_is_blocked(p->embed_quant)) return SMOLWEB_OK;
    int dims[3] = {c->hidden_size, c->intermediate_size, c->num_heads * c->head_dim};
    static const char *names[3] = {"hidden_size", "intermediate_size", "num_attention_heads * head_dim"};
    for (int i = 0; i < 3; i++)
        if (dims[i] % SW_QK)
            return sw_error_set(err, SMOLWEB_ERR_SHAPE, "%s %d is not a multiple of the quantization group size %d",
                                names[i], dims[i], SW_QK);
    return SMOLWEB_OK;
}

static smolweb_status write_all(sw_source *src, const char *tmp, const sw_convert_params *p, sw_manifest *m,
                                sw_error *err) {
    const sw_model_config *c = &src->config;
    sw_tok_meta tm;
    memset(&tm, 0, sizeof tm);
    char path[PATH_LEN];
    if (!join(path, tmp, "/", TOKENIZER_FILE)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", tmp);
    sw_manifest_file tok_entry = {0};
    progress(p, "tokenizer");
    smolweb_status st = write_tokenizer(src, path, &tm, &tok_entry, err);
    if (!st && tm.vocab_size > c->vocab_size)
        st = sw_error_set(err, SMOLWEB_ERR_SHAPE, "tokenizer has %d tokens but the model's vocab_size is %d", tm.vocab_size,
                          c->vocab_size);
    if (!st) st = build_manifest(m, c, &tm, p, err);
    sw_tok_meta_clear(&tm);
    if (st) return st;
    m->files[0].bytes = tok_entry.bytes;
    memcpy(m->files[0].sha256, tok_entry.sha256, sizeof tok_entry.sha256);

    sw_dims d = dims_of(c);
    sw_layout_tensor want[SW_CHUNK_MAX_TENSORS];
    int n = sw_layout_embedding(&d, want);
    if (!join(path, tmp, "/", EMBEDDING_FILE)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", tmp);
    progress(p, "embedding (%s)", sw_dtype_name(p->embed_quant));
    st = write_chunk(src, path, want, n, -1, p, &m->files[1], err);
    n = sw_layout_layer(&d, want);
    for (int l = 0; l < c->num_layers && !st; l++) {
        if (!join(path, tmp, "/", m->files[2 + l].path)) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", tmp);
        progress(p, "layer %d/%d", l + 1, c->num_layers);
        st = write_chunk(src, path, want, n, l, p, &m->files[2 + l], err);
    }
    if (st) return st;
    m->total_bytes = 0;
    for (int i = 0; i < m->n_files; i++) m->total_bytes += m->files[i].bytes;
    st = sw_manifest_validate(m, err);
    if (st) {
        sw_error_prefix(err, "manifest.json");
        return st;
    }
    char *json = sw_manifest_to_json(m);
    if (!json) return sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory writing manifest.json");
    if (!join(path, tmp, "/", "manifest.json")) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "%s: path too long", tmp);
    st = write_text_file(path, json, err);
    free(json);
    if (st) return st;
    progress(p, "verifying");
    return sw_verify_model_dir(tmp, err);
}

smolweb_status sw_convert(const char *input, const char *out_dir, const sw_convert_params *p, sw_error *err) {
    sw_error_clear(err);
    if (!input || !out_dir || !p) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "missing input or output path");
    if (!sw_dtype_name(p->quant) || !sw_dtype_name(p->embed_quant))
        return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "unknown quantization type");
    size_t olen = strlen(out_dir);
    while (olen > 1 && out_dir[olen - 1] == '/') olen--;
    if (olen == 0 || olen > 3000) return sw_error_set(err, SMOLWEB_ERR_INVALID_ARG, "bad output path");
    char out[PATH_LEN];
    snprintf(out, sizeof out, "%.*s", (int)olen, out_dir);
    smolweb_status st = check_out_dir(out, err);
    if (st) return st;

    progress(p, "reading %s", input);
    sw_source *src = sw_source_open(input, err);
    if (!src) return err ? err->status : SMOLWEB_ERR_FORMAT;
    st = sw_source_check(src, err);
    if (!st) st = check_quant_dims(&src->config, p, err);
    if (st) {
        sw_source_free(src);
        return st;
    }

    char tmp[PATH_LEN];
    if (!join(tmp, out, ".tmp-", "XXXXXX") || !mkdtemp(tmp)) {
        sw_source_free(src);
        return sw_error_set(err, SMOLWEB_ERR_IO, "%s: cannot create a folder beside it: %s", out, strerror(errno));
    }
    mode_t mask = umask(0);
    umask(mask);
    chmod(tmp, 0777 & ~mask); /* mkdtemp makes it 0700; the folder is meant to be served */
    sw_manifest *m = calloc(1, sizeof *m);
    st = m ? write_all(src, tmp, p, m, err) : sw_error_set(err, SMOLWEB_ERR_NOMEM, "out of memory");
    sw_source_free(src);
    sw_manifest_free(m);
    if (!st) st = commit_out_dir(tmp, out, err);
    if (st) remove_dir(tmp);
    return st;
}
