/* test_gguf_dequant.c: the GGUF reader's dequantization of every supported
 * type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)
 * against tests/ref_ggml.py, an independent numpy implementation of ggml's
 * block formats. The script writes GGUF files of random blocks (v3 with
 * alignment 64, v2 with the default 32, written by its own GGUF writer) and
 * the values it expects; this test reads them through sw_gguf_open (the file
 * path, pread) and sw_gguf_open_memory, and compares every value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"

#include "check.h"

static const char *env_or(const char *name, const char *def) {
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Compares every tensor of g with dir/<name>.f32. Returns the tensors checked. */
static int compare_all(sw_gguf *g, const char *dir, const char *label) {
    int checked = 0;
    for (size_t i = 0; i < sw_gguf_tensor_count(g); i++) {
        const char *name = sw_gguf_tensor_name(g, i);
        uint32_t type;
        int nd;
        int64_t ne[4];
        CHECK(sw_gguf_tensor(g, name, &type, &nd, ne), "%s: lookup %s", label, name);
        size_t count = (size_t)(ne[0] * ne[1] * ne[2] * ne[3]), n_want = 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.f32", dir, name);
        float *want = (float *)slurp(path, &n_want);
        float *got = malloc(count * sizeof *got);
        CHECK(want && n_want == count * sizeof(float), "%s: %s: expected values missing", label, path);
        sw_error err;
        smolweb_status st = sw_gguf_read_f32(g, name, got, count, &err);
        CHECK(st == SMOLWEB_OK, "%s: read %s: %s", label, name, err.msg);
        int bad = 0;
        for (size_t k = 0; want && st == SMOLWEB_OK && n_want == count * sizeof(float) && k < count; k++) {
            /* same f32 operations in the same order: equal up to rounding of a
             * possibly fused multiply-add */
            float tol = 1e-6f * fmaxf(fabsf(want[k]), 1e-30f);
            if (!(fabsf(got[k] - want[k]) <= tol) && bad++ < 5)
                CHECK(0, "%s: %s (type %u) [%zu]: got %.9g, want %.9g", label, name, type, k, got[k], want[k]);
        }
        CHECK(bad == 0, "%s: %s: %d values differ", label, name, bad);
        free(want);
        free(got);
        checked++;
    }
    return checked;
}

int main(void) {
    const char *src = env_or("SMOLWEB_SRC", "..");
    const char *py = env_or("PYTHON", "/usr/bin/python3");
    char dir[256], cmd[8192];
    snprintf(dir, sizeof dir, "gguf_dequant_ref.%ld", (long)getpid());
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref_ggml.py' '%s' 20240917", py, src, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "FAIL: %s\n", cmd);
        return 1;
    }
    static const char *files[] = {"dequant_v3.gguf", "dequant_v2.gguf"};
    for (int f = 0; f < 2; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        sw_error err;
        sw_gguf *g = sw_gguf_open(path, &err);
        CHECK(g != NULL, "open %s: %s", path, err.msg);
        if (!g) continue;
        CHECK(sw_gguf_version(g) == (f == 0 ? 3u : 2u), "%s: version %u", path, sw_gguf_version(g));
        CHECK(sw_gguf_tensor_count(g) == 11, "%s: %zu tensors", path, sw_gguf_tensor_count(g));
        CHECK(compare_all(g, dir, path) == 11, "%s: not every type checked", path);
        sw_gguf_free(g);

        size_t len;
        uint8_t *bytes = slurp(path, &len);
        g = bytes ? sw_gguf_open_memory(bytes, len, files[f], &err) : NULL;
        CHECK(g != NULL, "open_memory %s: %s", path, err.msg);
        if (g) compare_all(g, dir, files[f]);
        sw_gguf_free(g);
        free(bytes);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (failures == 0 && system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", dir);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_gguf_dequant: ok\n");
    return 0;
}
