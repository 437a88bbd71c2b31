/* test_abi.c: smolweb_abi_json (src/abi.c) parsed with cJSON and checked
 * against the compiler's own view of the ABI:
 *   - the buffer contract: NULL/0 asks for the length, a short buffer gets a
 *     NUL-terminated prefix, the full buffer the whole valid JSON document;
 *   - every status: its name maps to its enum value, covers 0..COUNT-1 once,
 *     and its text equals smolweb_status_str();
 *   - both params structs: size and alignment equal sizeof/_Alignof, each
 *     field's offset equals offsetof and its type's size equals the field's
 *     sizeof, fields laid out in order with natural alignment reproduce
 *     sizeof exactly (a field added to the struct but not to the JSON
 *     fails), and the defaults equal *_default_params();
 *   - writing a struct through the JSON offsets gives the same bytes as
 *     assigning its fields in C (what the JS layer does);
 *   - sizes of pointer, size_t and the error message; build flags of a
 *     native build (no wasm, no SIMD128). */
#include <cjson/cJSON.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "smolweb.h"

#include "check.h"

static size_t type_size(const char *t) {
    if (!strcmp(t, "i32") || !strcmp(t, "u32") || !strcmp(t, "f32")) return 4;
    if (!strcmp(t, "f64") || !strcmp(t, "i64") || !strcmp(t, "u64")) return 8;
    if (!strcmp(t, "ptr")) return sizeof(void *);
    return 0;
}

static int num(const cJSON *o, const char *key, double *v) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it)) return 0;
    *v = it->valuedouble;
    return 1;
}

/* Checks one struct description; expected holds (name, offset, size) for each
 * C field in declaration order. */
typedef struct field_ref {
    const char *name;
    size_t offset, size;
    const char *type;
} field_ref;

static const cJSON *check_struct(const cJSON *structs, const char *name, size_t size, size_t align,
                                 const field_ref *ref, int n_ref) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(structs, name);
    CHECK(cJSON_IsObject(s), "structs.%s missing", name);
    if (!cJSON_IsObject(s)) return NULL;
    double v;
    CHECK(num(s, "size", &v) && v == (double)size, "%s.size %g, sizeof %zu", name, v, size);
    CHECK(num(s, "align", &v) && v == (double)align, "%s.align %g, alignof %zu", name, v, align);
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(s, "fields");
    CHECK(cJSON_IsObject(fields) && cJSON_GetArraySize(fields) == n_ref, "%s: %d fields, expected %d", name,
          cJSON_GetArraySize(fields), n_ref);
    size_t end = 0, max_align = 1;
    int i = 0;
    for (const cJSON *f = fields ? fields->child : NULL; f; f = f->next, i++) {
        double off = -1;
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(f, "type");
        CHECK(num(f, "offset", &off) && cJSON_IsString(ty), "%s.%s: offset/type missing", name, f->string);
        if (!cJSON_IsString(ty) || i >= n_ref) continue;
        CHECK(!strcmp(f->string, ref[i].name), "%s: field %d is %s, C has %s", name, i, f->string, ref[i].name);
        CHECK(off == (double)ref[i].offset, "%s.%s offset %g, offsetof %zu", name, f->string, off, ref[i].offset);
        CHECK(!strcmp(ty->valuestring, ref[i].type), "%s.%s type %s, expected %s", name, f->string, ty->valuestring,
              ref[i].type);
        size_t sz = type_size(ty->valuestring);
        CHECK(sz == ref[i].size, "%s.%s: type %s is %zu bytes, the field %zu", name, f->string, ty->valuestring, sz,
              ref[i].size);
        /* natural layout: this field starts at the next multiple of its size */
        if (sz) {
            end = (end + sz - 1) / sz * sz;
            CHECK(end == (size_t)off, "%s.%s: offset %g is not the natural layout's %zu", name, f->string, off, end);
            end += sz;
            if (sz > max_align) max_align = sz;
        }
    }
    end = (end + max_align - 1) / max_align * max_align;
    CHECK(end == size, "%s: the listed fields lay out to %zu bytes, sizeof is %zu (a field not listed?)", name, end,
          size);
    return s;
}

#define REF(T, f, ty) {#f, offsetof(T, f), sizeof(((T *)0)->f), ty}

static void check_defaults_model(const cJSON *s) {
    const smolweb_model_params d = smolweb_model_default_params();
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "defaults");
    double v;
    CHECK(num(def, "n_ctx", &v) && v == d.n_ctx, "model defaults.n_ctx");
    CHECK(num(def, "n_threads", &v) && v == d.n_threads, "model defaults.n_threads");
    CHECK(num(def, "kv_f16", &v) && v == d.kv_f16, "model defaults.kv_f16");
    CHECK(num(def, "prefill_batch", &v) && v == d.prefill_batch, "model defaults.prefill_batch");
}

static void check_defaults_sampler(const cJSON *s) {
    const smolweb_sampler_params d = smolweb_sampler_default_params();
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "defaults");
    double v;
    /* floats printed with %.9g parse back to the same float */
    CHECK(num(def, "temperature", &v) && (float)v == d.temperature, "sampler defaults.temperature");
    CHECK(num(def, "top_k", &v) && v == d.top_k, "sampler defaults.top_k");
    CHECK(num(def, "top_p", &v) && (float)v == d.top_p, "sampler defaults.top_p");
    CHECK(num(def, "min_p", &v) && (float)v == d.min_p, "sampler defaults.min_p");
    CHECK(num(def, "repeat_penalty", &v) && (float)v == d.repeat_penalty, "sampler defaults.repeat_penalty");
    CHECK(num(def, "repeat_last_n", &v) && v == d.repeat_last_n, "sampler defaults.repeat_last_n");
    CHECK(num(def, "seed", &v) && v == (double)d.seed, "sampler defaults.seed");
}

/* Offset of field `name` in struct description s, or -1. */
static long off_of(const cJSON *s, const char *name) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "fields"), name);
    double v;
    return num(f, "offset", &v) ? (long)v : -1;
}

/* Bytes written by offsets (as the JS layer does) equal a C assignment. */
static void check_write_by_offset(const cJSON *sampler) {
    smolweb_sampler_params c;
    memset(&c, 0, sizeof c);
    c.temperature = 0.5f, c.top_k = 7, c.top_p = 0.25f, c.min_p = 0.125f, c.repeat_penalty = 1.5f;
    c.repeat_last_n = 33, c.seed = 0x0123456789abcdefull;
    unsigned char js[sizeof c];
    memset(js, 0, sizeof js);
    const struct {
        const char *name;
        const void *val;
        size_t n;
    } w[] = {{"temperature", &c.temperature, 4}, {"top_k", &c.top_k, 4},
             {"top_p", &c.top_p, 4},             {"min_p", &c.min_p, 4},
             {"repeat_penalty", &c.repeat_penalty, 4}, {"repeat_last_n", &c.repeat_last_n, 4},
             {"seed", &c.seed, 8}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        long o = off_of(sampler, w[i].name);
        CHECK(o >= 0 && (size_t)o + w[i].n <= sizeof js, "sampler field %s has no usable offset", w[i].name);
        if (o >= 0 && (size_t)o + w[i].n <= sizeof js) memcpy(js + o, w[i].val, w[i].n);
    }
    CHECK(!memcmp(js, &c, sizeof c), "a sampler struct written by the JSON offsets differs from C's");
}

int main(void) {
    /* buffer contract */
    int32_t need = smolweb_abi_json(NULL, 0);
    CHECK(need > 100, "length %d", need);
    char small[16];
    memset(small, 'x', sizeof small);
    CHECK(smolweb_abi_json(small, (int32_t)sizeof small) == need, "a short buffer changes the returned length");
    CHECK(small[sizeof small - 1] == '\0' && strlen(small) == sizeof small - 1, "short buffer not a terminated prefix");
    char *buf = malloc((size_t)need + 1);
    CHECK(buf != NULL, "malloc");
    if (!buf) return 1;
    CHECK(smolweb_abi_json(buf, need + 1) == need && strlen(buf) == (size_t)need, "full buffer");
    CHECK(!strncmp(buf, small, sizeof small - 1), "the short buffer's prefix differs from the document");
    char *exact = malloc((size_t)need);
    if (exact) {
        smolweb_abi_json(exact, need); /* one byte short: truncated by one */
        CHECK(strlen(exact) == (size_t)need - 1, "cap == length must truncate by one byte");
        free(exact);
    }
    printf("%s\n", buf);

    cJSON *root = cJSON_Parse(buf);
    CHECK(root != NULL, "not valid JSON");
    if (!root) return 1;
    double v;
    CHECK(num(root, "abi_version", &v) && v == 1, "abi_version");

    /* statuses */
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    const cJSON *txt = cJSON_GetObjectItemCaseSensitive(root, "status_text");
    CHECK(cJSON_GetArraySize(st) == SMOLWEB_STATUS_COUNT_, "status has %d entries, enum %d", cJSON_GetArraySize(st),
          SMOLWEB_STATUS_COUNT_);
    const struct {
        const char *name;
        smolweb_status value;
    } names[] = {{"OK", SMOLWEB_OK},
                 {"INVALID_ARG", SMOLWEB_ERR_INVALID_ARG},
                 {"IO", SMOLWEB_ERR_IO},
                 {"FORMAT", SMOLWEB_ERR_FORMAT},
                 {"UNSUPPORTED", SMOLWEB_ERR_UNSUPPORTED},
                 {"SHAPE", SMOLWEB_ERR_SHAPE},
                 {"MISSING", SMOLWEB_ERR_MISSING},
                 {"INTEGRITY", SMOLWEB_ERR_INTEGRITY},
                 {"NOMEM", SMOLWEB_ERR_NOMEM},
                 {"CONTEXT", SMOLWEB_ERR_CONTEXT},
                 {"STATE", SMOLWEB_ERR_STATE}};
    CHECK(sizeof names / sizeof names[0] == SMOLWEB_STATUS_COUNT_, "this test misses a status");
    int seen[SMOLWEB_STATUS_COUNT_] = {0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(num(st, names[i].name, &v) && v == names[i].value, "status.%s is not %d", names[i].name,
              names[i].value);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(txt, names[i].name);
        CHECK(cJSON_IsString(t) && !strcmp(t->valuestring, smolweb_status_str(names[i].value)),
              "status_text.%s differs from smolweb_status_str", names[i].name);
    }
    for (const cJSON *s = st ? st->child : NULL; s; s = s->next)
        if (cJSON_IsNumber(s) && s->valueint >= 0 && s->valueint < SMOLWEB_STATUS_COUNT_) seen[s->valueint]++;
    for (int i = 0; i < SMOLWEB_STATUS_COUNT_; i++) CHECK(seen[i] == 1, "status value %d named %d times", i, seen[i]);

    /* structs */
    const cJSON *structs = cJSON_GetObjectItemCaseSensitive(root, "structs");
    const field_ref mref[] = {REF(smolweb_model_params, n_ctx, "i32"), REF(smolweb_model_params, n_threads, "i32"),
                              REF(smolweb_model_params, kv_f16, "i32"),
                              REF(smolweb_model_params, prefill_batch, "i32")};
    const cJSON *ms = check_struct(structs, "smolweb_model_params", sizeof(smolweb_model_params),
                                   alignof(smolweb_model_params), mref, 4);
    if (ms) check_defaults_model(ms);
    const field_ref sref[] = {
        REF(smolweb_sampler_params, temperature, "f32"),    REF(smolweb_sampler_params, top_k, "i32"),
        REF(smolweb_sampler_params, top_p, "f32"),          REF(smolweb_sampler_params, min_p, "f32"),
        REF(smolweb_sampler_params, repeat_penalty, "f32"), REF(smolweb_sampler_params, repeat_last_n, "i32"),
        REF(smolweb_sampler_params, seed, "u64")};
    const cJSON *ss = check_struct(structs, "smolweb_sampler_params", sizeof(smolweb_sampler_params),
                                   alignof(smolweb_sampler_params), sref, 7);
    if (ss) {
        check_defaults_sampler(ss);
        check_write_by_offset(ss);
    }

    /* sizes and build */
    const cJSON *sizes = cJSON_GetObjectItemCaseSensitive(root, "sizes");
    CHECK(num(sizes, "pointer", &v) && v == sizeof(void *), "sizes.pointer");
    CHECK(num(sizes, "size_t", &v) && v == sizeof(size_t), "sizes.size_t");
    CHECK(num(sizes, "error_message", &v) && v == sizeof(((sw_error *)0)->msg), "sizes.error_message");
    const cJSON *build = cJSON_GetObjectItemCaseSensitive(root, "build");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(build, "wasm")), "native build says wasm");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(build, "simd128")), "native build says simd128");
    CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(build, "threads")), "build.threads");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(build, "kernels")), "build.kernels");

    cJSON_Delete(root);
    free(buf);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
