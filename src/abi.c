/* abi.c: the binary interface of this build as JSON (smolweb_abi_json), so
 * the JavaScript layer over the wasm exports hardcodes no offset, size or enum
 * value: everything below is computed by the compiler that built the runtime
 * (offsetof, sizeof, _Generic on each field's type, the enum constants).
 *
 * Shape of the document (one line, no spaces; ABI version 1):
 *   {"abi_version":1,
 *    "build":{"wasm":bool,"simd128":bool,"threads":bool,"kernels":"simd128"},
 *    "sizes":{"pointer":4,"size_t":4,"error_message":512},
 *    "status":{"OK":0,"INVALID_ARG":1,...},            names = enum names minus SMOLWEB_(ERR_)
 *    "status_text":{"OK":"ok",...},                   smolweb_status_str()
 *    "structs":{"smolweb_model_params":{"size":16,"align":4,
 *                 "fields":{"n_ctx":{"offset":0,"type":"i32"},...},
 *                 "defaults":{"n_ctx":0,...}},
 *               "smolweb_sampler_params":{...}}}
 * Field types: i32, u32, f32, f64, i64, u64, ptr. Defaults are the values of
 * *_default_params(), so JS needs no call returning a struct by value. */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "kernels.h"
#include "smolweb.h"

/* Raise when a struct, a field or a status changes meaning. */
#define SW_ABI_VERSION 1

/* An append-only writer over the caller's buffer: counts every byte it would
 * write, writes only what fits, always leaves the buffer NUL-terminated. */
typedef struct abi_out {
    char *buf;
    size_t cap;
    size_t len; /* bytes the whole document needs, without the NUL */
} abi_out;

static void put(abi_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(abi_out *o, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    for (size_t i = 0; i < len; i++, o->len++)
        if (o->buf && o->len + 1 < o->cap) o->buf[o->len] = tmp[i];
    if (o->buf && o->cap) o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

/* A JSON string literal of s (quotes, backslashes and control bytes escaped). */
static void put_str(abi_out *o, const char *s) {
    put(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(o, "\\%c", c);
        else if (c < 0x20)
            put(o, "\\u%04x", c);
        else
            put(o, "%c", c);
    }
    put(o, "\"");
}

/* Status names: the enum identifiers without their prefix. */
typedef struct status_name {
    smolweb_status value;
    const char *name;
} status_name;

#define ST(id) {SMOLWEB_ERR_##id, #id}
static const status_name k_status[] = {
    {SMOLWEB_OK, "OK"}, ST(INVALID_ARG), ST(IO),        ST(FORMAT),  ST(UNSUPPORTED), ST(SHAPE),
    ST(MISSING),        ST(INTEGRITY),   ST(NOMEM),     ST(CONTEXT), ST(STATE),
};
#undef ST
_Static_assert(sizeof k_status / sizeof k_status[0] == SMOLWEB_STATUS_COUNT_,
               "every smolweb_status needs a name in k_status");

/* The JSON type name of a field, from its C type. */
#define TYPE_OF(x)                                                                                          \
    _Generic((x), int32_t: "i32", uint32_t: "u32", float: "f32", double: "f64", int64_t: "i64", uint64_t: "u64", \
             default: "ptr")

/* One field: "name":{"offset":N,"type":"T"} (sep is "" or ","). */
#define FIELD(o, T, f, sep)                                                                          \
    put(o, "%s\"%s\":{\"offset\":%zu,\"type\":\"%s\"}", sep, #f, offsetof(T, f), TYPE_OF(((T *)0)->f))

static void model_params(abi_out *o) {
    typedef smolweb_model_params T;
    const T d = smolweb_model_default_params();
    put(o, "\"smolweb_model_params\":{\"size\":%zu,\"align\":%zu,\"fields\":{", sizeof(T), alignof(T));
    FIELD(o, T, n_ctx, "");
    FIELD(o, T, n_threads, ",");
    FIELD(o, T, kv_f16, ",");
    FIELD(o, T, prefill_batch, ",");
    put(o, "},\"defaults\":{\"n_ctx\":%d,\"n_threads\":%d,\"kv_f16\":%d,\"prefill_batch\":%d}}", (int)d.n_ctx,
        (int)d.n_threads, (int)d.kv_f16, (int)d.prefill_batch);
}

static void sampler_params(abi_out *o) {
    typedef smolweb_sampler_params T;
    const T d = smolweb_sampler_default_params();
    put(o, "\"smolweb_sampler_params\":{\"size\":%zu,\"align\":%zu,\"fields\":{", sizeof(T), alignof(T));
    FIELD(o, T, temperature, "");
    FIELD(o, T, top_k, ",");
    FIELD(o, T, top_p, ",");
    FIELD(o, T, min_p, ",");
    FIELD(o, T, repeat_penalty, ",");
    FIELD(o, T, repeat_last_n, ",");
    FIELD(o, T, seed, ",");
    /* %.9g round-trips every float; the seed as a decimal integer (JSON
     * numbers are exact below 2^53; larger defaults would need a string) */
    put(o, "},\"defaults\":{\"temperature\":%.9g,\"top_k\":%d,\"top_p\":%.9g,\"min_p\":%.9g,", (double)d.temperature,
        (int)d.top_k, (double)d.top_p, (double)d.min_p);
    put(o, "\"repeat_penalty\":%.9g,\"repeat_last_n\":%d,\"seed\":%llu}}", (double)d.repeat_penalty,
        (int)d.repeat_last_n, (unsigned long long)d.seed);
}

static void build_info(abi_out *o) {
#if defined(__wasm__)
    const char *wasm = "true";
#else
    const char *wasm = "false";
#endif
#if defined(__wasm_simd128__)
    const char *simd = "true";
#else
    const char *simd = "false";
#endif
#if defined(__EMSCRIPTEN_PTHREADS__) || (!defined(__wasm__) && !defined(__EMSCRIPTEN__))
    const char *threads = "true"; /* native builds always link pthreads */
#else
    const char *threads = "false";
#endif
    put(o, "\"build\":{\"wasm\":%s,\"simd128\":%s,\"threads\":%s,\"kernels\":", wasm, simd, threads);
    put_str(o, sw_kernels_best()->name);
    put(o, "}");
}

int32_t smolweb_abi_json(char *out, int32_t cap) {
    abi_out o = {out, cap > 0 ? (size_t)cap : 0, 0};
    if (o.buf && o.cap) o.buf[0] = '\0';
    put(&o, "{\"abi_version\":%d,", SW_ABI_VERSION);
    build_info(&o);
    put(&o, ",\"sizes\":{\"pointer\":%zu,\"size_t\":%zu,\"error_message\":%zu}", sizeof(void *), sizeof(size_t),
        sizeof(((sw_error *)0)->msg));
    put(&o, ",\"status\":{");
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++)
        put(&o, "%s\"%s\":%d", i ? "," : "", k_status[i].name, (int)k_status[i].value);
    put(&o, "},\"status_text\":{");
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++) {
        put(&o, "%s\"%s\":", i ? "," : "", k_status[i].name);
        put_str(&o, smolweb_status_str(k_status[i].value));
    }
    put(&o, "},\"structs\":{");
    model_params(&o);
    put(&o, ",");
    sampler_params(&o);
    put(&o, "}}");
    return o.len > INT32_MAX ? INT32_MAX : (int32_t)o.len;
}
