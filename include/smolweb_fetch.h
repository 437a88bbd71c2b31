/* smolweb_fetch.h: loading a model over HTTP from C, for programs compiled
 * with Emscripten (a game, an SDL or Qt app) that want no JavaScript of their
 * own. Only in the Emscripten build of the C library (dist/c/libsmolweb.a);
 * link the program with -sFETCH.
 *
 * The loader fetches the manifest, creates the model from it, then fetches
 * every chunk with emscripten_fetch (a few requests in flight), checks each
 * one's size and SHA-256 and its format, and hands the heap buffer that
 * emscripten_fetch filled to the model: no copy beyond the one emscripten_fetch
 * itself makes (the XHR body is copied once into the wasm heap). Everything is
 * asynchronous and runs on the calling thread's event loop: the program keeps
 * running (main may return; Emscripten keeps the runtime alive) and learns the
 * outcome in on_done.
 *
 *   static void done(smolweb_fetch *f, smolweb_status st, smolweb_model *m, const char *msg, void *ud) {
 *       smolweb_fetch_free(f);
 *       if (st) { printf("error: %s\n", msg); return; }
 *       ... use m, then smolweb_model_free(m)
 *   }
 *   smolweb_fetch_params p = smolweb_fetch_default_params();
 *   p.on_done = done;
 *   smolweb_fetch_model("models/smollm2/manifest.json", &p, NULL, NULL);
 *
 * Errors reach on_done as a status and a one-line message naming the file:
 *   SMOLWEB_ERR_IO         "layer-003.swc: HTTP 404 Not Found", "tokenizer.swt: network error ..."
 *   SMOLWEB_ERR_INTEGRITY  "layer-003.swc: SHA-256 does not match the manifest",
 *                          "layer-003.swc: 1000 bytes, the manifest says 21888"
 *   SMOLWEB_ERR_FORMAT...  a manifest or chunk that does not follow its format
 *   SMOLWEB_ERR_STATE      "cancelled" after smolweb_fetch_cancel
 *
 * Not thread-safe: call everything on the thread that started the load (the
 * callbacks run there). Needs XMLHttpRequest, so a page or a dedicated worker,
 * not Node (tested on a page's main thread in Chromium). */
#ifndef SMOLWEB_FETCH_H
#define SMOLWEB_FETCH_H

#include <stdint.h>

#include "smolweb.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct smolweb_fetch smolweb_fetch;

/* Called as bytes arrive: loaded and total are body bytes summed over the
 * model's chunk files (total is the manifest's sum, so loaded == total once
 * everything is in); file is the manifest path of the file that moved (valid
 * during the call only). May call smolweb_fetch_cancel(f). */
typedef void (*smolweb_fetch_progress_fn)(smolweb_fetch *f, uint64_t loaded, uint64_t total, const char *file,
                                          void *user_data);

/* Called exactly once per load, never before smolweb_fetch_model returned, and
 * not at all if smolweb_fetch_free comes first. On success st is SMOLWEB_OK,
 * message is "" and the caller owns model (free it with smolweb_model_free);
 * otherwise model is NULL. message is valid during the call only. May call
 * smolweb_fetch_free(f). */
typedef void (*smolweb_fetch_done_fn)(smolweb_fetch *f, smolweb_status st, smolweb_model *model, const char *message,
                                      void *user_data);

typedef struct smolweb_fetch_params {
    smolweb_model_params model;  /* for smolweb_model_create */
    int32_t max_in_flight;       /* chunk requests at once, 1..16; 0: 3 */
    smolweb_fetch_done_fn on_done; /* required */
} smolweb_fetch_params;

/* smolweb_model_default_params(), 3 requests in flight, no on_done. */
smolweb_fetch_params smolweb_fetch_default_params(void);

/* Starts loading the model whose manifest is at manifest_url (absolute, or
 * relative to the page or worker; chunk paths are resolved relative to it).
 * Returns a handle that the caller frees with smolweb_fetch_free (after
 * on_done, or to abandon the load), or NULL when manifest_url or on_done is
 * missing, max_in_flight is out of range, or memory runs out. on_progress and
 * user_data may be NULL. The strings and params are copied. */
smolweb_fetch *smolweb_fetch_model(const char *manifest_url, const smolweb_fetch_params *params,
                                   smolweb_fetch_progress_fn on_progress, void *user_data);

/* Aborts the requests in flight, frees what was loaded and reports
 * SMOLWEB_ERR_STATE "cancelled" through on_done (before returning). A no-op
 * once on_done has run; NULL is a no-op. */
void smolweb_fetch_cancel(smolweb_fetch *f);

/* Frees the handle. If the load is still running it is aborted and on_done is
 * not called. Safe inside on_done and on_progress; NULL is a no-op. */
void smolweb_fetch_free(smolweb_fetch *f);

#ifdef __cplusplus
}
#endif
#endif
