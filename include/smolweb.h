/* smolweb.h: the public C API of the smolweb runtime.
 *
 * One prefix (smolweb_), opaque handles, *_default_params(), create/free
 * pairs, a status enum with smolweb_status_str(). This is what the wasm build
 * exports and the JavaScript library wraps, so weights are pushed in by the
 * caller (no file or network access here) and every call is synchronous.
 *
 * Typical use:
 *   smolweb_model_create(manifest_json, len, &params, &model, &err);
 *   for each chunk i: fill smolweb_model_chunk_buffer(model, i) with the
 *     file's bytes (e.g. stream them straight in), then
 *     smolweb_model_chunk_commit(model, i)    -- validates, weights become views
 *   smolweb_tokenize(model, text, ...);
 *   smolweb_prefill(model, ids, n, slice, &done) until done == n
 *   loop: smolweb_decode_step(model, sampler, &id)
 */
#ifndef SMOLWEB_H
#define SMOLWEB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum smolweb_status {
    SMOLWEB_OK = 0,
    SMOLWEB_ERR_INVALID_ARG = 1,   /* a caller passed a bad value */
    SMOLWEB_ERR_IO = 2,            /* a file could not be opened, read or written */
    SMOLWEB_ERR_FORMAT = 3,        /* bytes do not follow their format (truncated, bad magic, out of bounds) */
    SMOLWEB_ERR_UNSUPPORTED = 4,   /* a valid input this build does not handle (dtype, version, architecture) */
    SMOLWEB_ERR_SHAPE = 5,         /* a tensor's shape or a config value disagrees with the model */
    SMOLWEB_ERR_MISSING = 6,       /* a required tensor, file, key or chunk is absent */
    SMOLWEB_ERR_INTEGRITY = 7,     /* a size or SHA-256 does not match the manifest */
    SMOLWEB_ERR_NOMEM = 8,         /* an allocation failed */
    SMOLWEB_ERR_CONTEXT = 9,       /* the sequence would exceed the KV cache */
    SMOLWEB_ERR_STATE = 10,        /* the call is not valid now (e.g. generation before all chunks) */
    SMOLWEB_STATUS_COUNT_
} smolweb_status;

/* Returns a static, human-readable name for a status; never NULL. */
const char *smolweb_status_str(smolweb_status status);

#ifdef __cplusplus
}
#endif
#endif
