#include "load_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sw_read_text_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, 65536, f);
        n += got;
        if (got < 65536) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* Reads dir/path into the model's buffer for chunk i, then commits it. */
static smolweb_status load_chunk(smolweb_model *m, const char *dir, int32_t i, char *err, size_t err_len) {
    const char *path;
    uint64_t bytes;
    smolweb_model_chunk_info(m, i, &path, &bytes, NULL, NULL);
    char full[4096];
    if (snprintf(full, sizeof full, "%s/%s", dir, path) >= (int)sizeof full) {
        snprintf(err, err_len, "%s: path too long", dir);
        return SMOLWEB_ERR_INVALID_ARG;
    }
    FILE *f = fopen(full, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open: %s", full, strerror(errno));
        return SMOLWEB_ERR_MISSING;
    }
    uint8_t *buf = smolweb_model_chunk_buffer(m, i);
    smolweb_status st = SMOLWEB_OK;
    if (!buf) {
        snprintf(err, err_len, "%s", smolweb_model_error(m));
        st = SMOLWEB_ERR_NOMEM;
    } else {
        size_t got = fread(buf, 1, (size_t)bytes, f);
        int extra = fgetc(f) != EOF;
        if (got != bytes || extra) {
            snprintf(err, err_len, "%s: size differs from the manifest's %llu bytes", full, (unsigned long long)bytes);
            st = SMOLWEB_ERR_INTEGRITY;
        } else {
            st = smolweb_model_chunk_commit(m, i, 1);
            if (st) snprintf(err, err_len, "%s", smolweb_model_error(m));
        }
    }
    fclose(f);
    return st;
}

smolweb_status sw_load_model_dir(const char *dir, const smolweb_model_params *params, smolweb_model **out, char *err,
                                 size_t err_len) {
    *out = NULL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/manifest.json", dir) >= (int)sizeof path) {
        snprintf(err, err_len, "%s: path too long", dir);
        return SMOLWEB_ERR_INVALID_ARG;
    }
    size_t len;
    char *json = sw_read_text_file(path, &len);
    if (!json) {
        snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
        return SMOLWEB_ERR_MISSING;
    }
    smolweb_model *m = NULL;
    smolweb_status st = smolweb_model_create(json, len, params, &m, err, err_len);
    free(json);
    for (int32_t i = 0; !st && i < smolweb_model_chunk_count(m); i++) st = load_chunk(m, dir, i, err, err_len);
    if (st) {
        smolweb_model_free(m);
        return st;
    }
    *out = m;
    return SMOLWEB_OK;
}
