/* fetch_model.c: smolweb_fetch_model, the model loader for C programs compiled
 * with Emscripten (contract in include/smolweb_fetch.h). Compiled only by emcc
 * (scripts/build_wasm_fetch.sh); programs link with -sFETCH.
 *
 * Flow: a zero-delay timer starts the manifest request (so on_done never runs
 * before smolweb_fetch_model returns); its body goes to smolweb_model_create
 * (the one manifest reader); then up to max_in_flight chunk requests run in
 * the manifest's order, and each body is handed to sw_model_chunk_adopt (the
 * one chunk validator: size, SHA-256, format), which keeps emscripten_fetch's
 * heap buffer as the chunk buffer.
 *
 * Emscripten 3.1.6 facts this relies on (system/lib/fetch/emscripten_fetch.c
 * and src/Fetch.js):
 *  - with EMSCRIPTEN_FETCH_LOAD_TO_MEMORY the body is _malloc'd into
 *    fetch->data, and emscripten_fetch_close() free()s fetch->data: setting it
 *    to NULL first takes ownership of the buffer;
 *  - emscripten_fetch_close() does not abort the XHR (emscripten issue 8234,
 *    fixed in 3.1.19 by PR 17541): a closed request still completes and then
 *    writes into the freed fetch and calls its handlers with it. So a request
 *    is cancelled by aborting its XHR first (sw_abort_xhr), which moves it to
 *    DONE without calling a handler, then closing it. If the XHR cannot be
 *    found, the request is orphaned instead: userData is cleared and the
 *    handler that eventually runs closes it;
 *  - emscripten_fetch_close() of a request not DONE calls its onerror
 *    synchronously, and a handler may run inside emscripten_fetch() itself (a
 *    throwing xhr.send()): both cases are handled by clearing userData before
 *    closing and by the `busy` flag of a request slot;
 *  - xhr.open() throws (uncaught, through the wasm stack) for a URL it cannot
 *    parse, so the manifest URL is checked first (sw_url_ok); chunk URLs are
 *    that base plus a manifest path, which the manifest reader restricts to
 *    letters, digits, '.', '_', '-' and '/'.
 *
 * Re-entrancy: user callbacks may cancel or free the handle. Every entry point
 * brackets its work with enter()/leave(); smolweb_fetch_free during a callback
 * only marks the handle, and the outermost leave() frees it. */
#include <emscripten.h>
#include <emscripten/eventloop.h>
#include <emscripten/fetch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "smolweb_fetch.h"

#define DEFAULT_IN_FLIGHT 3
#define MAX_IN_FLIGHT 16
#define READY_DONE 4 /* XMLHttpRequest.DONE */

/* Aborts the XHR behind a 3.1.6 fetch id (Fetch.xhrs[id - 1]); 1 if it did. */
EM_JS(int, sw_abort_xhr, (unsigned id), {
    var xs = typeof Fetch != 'undefined' ? Fetch.xhrs : undefined;
    var x = Array.isArray(xs) ? xs[id - 1] : undefined;
    if (!x || typeof x.abort != 'function') return 0;
    x.abort();
    return 1;
});

/* 1 if XMLHttpRequest.open would accept url (relative to the document). */
EM_JS(int, sw_url_ok, (const char *url), {
    try {
        new URL(UTF8ToString(url), typeof location != 'undefined' ? location.href : undefined);
        return 1;
    } catch (e) {
        return 0;
    }
});

typedef struct sw_req {
    smolweb_fetch *owner;
    emscripten_fetch_t *x; /* the request in flight; NULL when idle or while starting */
    int busy;              /* a request is running (set before emscripten_fetch returns) */
    int32_t chunk;         /* chunk index, -1 for the manifest */
    uint64_t loaded;       /* body bytes received so far, capped at the chunk's size */
} sw_req;

struct smolweb_fetch {
    smolweb_fetch_params p;
    smolweb_fetch_progress_fn on_progress;
    void *user_data;
    char *manifest_url;
    char *base;          /* manifest_url up to and including its path's last '/' */
    char *manifest_name; /* its last path segment, for messages */
    smolweb_model *model; /* owned until on_done hands it over */
    sw_req *reqs;        /* (n_reqs) request slots */
    int32_t n_reqs;
    int32_t n_chunks, next, n_ready;
    uint64_t total, done_bytes;
    long timer;          /* the pending start timer, 0 if none */
    int finished;        /* on_done has run, or the load was abandoned */
    int depth;           /* our frames on the stack */
    int free_pending;    /* smolweb_fetch_free came during a callback */
    int reported;        /* last_* hold the previous progress report */
    uint64_t last_loaded;
    const char *last_file;
};

smolweb_fetch_params smolweb_fetch_default_params(void) {
    smolweb_fetch_params p;
    memset(&p, 0, sizeof p);
    p.model = smolweb_model_default_params();
    p.max_in_flight = DEFAULT_IN_FLIGHT;
    return p;
}

/* ---- URLs ---- */

/* Where the path of url starts: after "scheme://authority" or "//authority". */
static size_t path_start(const char *url) {
    const char *s = strstr(url, "//");
    size_t lead = strcspn(url, "/?#");
    if (!s || (size_t)(s - url) > lead) return 0; /* no authority: all path */
    if (s != url && s[-1] != ':') return 0;
    return (size_t)(s - url) + 2 + strcspn(s + 2, "/?#");
}

/* The manifest URL's directory (kept with its scheme and authority, without
 * its query) and last segment. 0 when out of memory. */
static int split_url(smolweb_fetch *f, const char *url) {
    size_t p0 = path_start(url), end = p0 + strcspn(url + p0, "?#"), cut = p0;
    for (size_t i = p0; i < end; i++)
        if (url[i] == '/') cut = i + 1;
    int need_slash = cut == p0 && p0 > 0; /* "http://host" has an empty path: base "http://host/" */
    f->base = malloc(cut + 2);
    f->manifest_name = malloc(end - cut + sizeof "manifest.json");
    if (!f->base || !f->manifest_name) return 0;
    memcpy(f->base, url, cut);
    if (need_slash) f->base[cut++] = '/';
    f->base[cut] = 0;
    size_t nlen = need_slash ? 0 : end - cut;
    if (nlen) {
        memcpy(f->manifest_name, url + cut, nlen);
        f->manifest_name[nlen] = 0;
    } else {
        strcpy(f->manifest_name, "manifest.json");
    }
    return 1;
}

static char *join(const char *base, const char *path) {
    size_t a = strlen(base), b = strlen(path);
    char *s = malloc(a + b + 1);
    if (!s) return NULL;
    memcpy(s, base, a);
    memcpy(s + a, path, b + 1);
    return s;
}

/* ---- lifetime ---- */

static void enter(smolweb_fetch *f) { f->depth++; }

static void destroy(smolweb_fetch *f);

/* After leave() the caller must not touch f. */
static void leave(smolweb_fetch *f) {
    if (--f->depth == 0 && f->free_pending) destroy(f);
}

static const char *req_name(const smolweb_fetch *f, const sw_req *r) {
    const char *path = f->manifest_name;
    if (r->chunk >= 0) smolweb_model_chunk_info(f->model, r->chunk, &path, NULL, NULL, NULL);
    return path;
}

/* Closes a request whose handler is running or that has finished: userData is
 * cleared first, so an onerror that close() may call is seen as an orphan. */
static void finish_request(sw_req *r, emscripten_fetch_t *x) {
    r->busy = 0;
    r->x = NULL;
    x->userData = NULL;
    emscripten_fetch_close(x);
}

/* Cancels a request in flight (see the file comment for why abort first). */
static void drop_request(sw_req *r) {
    emscripten_fetch_t *x = r->x;
    r->busy = 0;
    r->x = NULL;
    r->loaded = 0;
    if (!x) return;
    x->userData = NULL;
    if (sw_abort_xhr(x->id)) emscripten_fetch_close(x);
}

/* A handler of a cancelled request: close it once it is DONE (never from the
 * onerror that emscripten_fetch_close itself calls, which is not DONE). */
static void orphan(emscripten_fetch_t *x) {
    if (x->readyState == READY_DONE) emscripten_fetch_close(x);
}

static void abort_all(smolweb_fetch *f) {
    if (f->timer) emscripten_clear_timeout(f->timer);
    f->timer = 0;
    for (int32_t k = 0; f->reqs && k < f->n_reqs; k++) drop_request(&f->reqs[k]);
}

static void destroy(smolweb_fetch *f) {
    abort_all(f);
    smolweb_model_free(f->model);
    free(f->reqs);
    free(f->manifest_url);
    free(f->base);
    free(f->manifest_name);
    free(f);
}

/* Ends the load with an error: aborts everything, frees the partial model and
 * reports through on_done. The message is formatted before the model (whose
 * error string it may quote) is freed. */
static void fail(smolweb_fetch *f, smolweb_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(smolweb_fetch *f, smolweb_status st, const char *fmt, ...) {
    if (f->finished) return;
    char msg[sizeof(((sw_error *)0)->msg) + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->finished = 1;
    abort_all(f);
    smolweb_model_free(f->model);
    f->model = NULL;
    f->p.on_done(f, st, NULL, msg, f->user_data);
}

static void succeed(smolweb_fetch *f) {
    smolweb_model *m = f->model;
    f->finished = 1;
    f->model = NULL;
    f->p.on_done(f, SMOLWEB_OK, m, "", f->user_data);
}

static void report(smolweb_fetch *f, const char *file) {
    if (f->finished || !f->on_progress || !f->model) return;
    uint64_t loaded = f->done_bytes;
    for (int32_t k = 0; k < f->n_reqs; k++)
        if (f->reqs[k].busy && f->reqs[k].chunk >= 0) loaded += f->reqs[k].loaded;
    /* a request's last onprogress and its completion carry the same count */
    if (f->reported && loaded == f->last_loaded && file == f->last_file) return;
    f->reported = 1;
    f->last_loaded = loaded;
    f->last_file = file;
    f->on_progress(f, loaded, f->total, file, f->user_data);
}

/* ---- requests ---- */

static void on_success(emscripten_fetch_t *x);
static void on_error(emscripten_fetch_t *x);
static void on_progress(emscripten_fetch_t *x);

static void start_request(smolweb_fetch *f, sw_req *r, int32_t chunk, const char *url) {
    emscripten_fetch_attr_t a;
    emscripten_fetch_attr_init(&a);
    strcpy(a.requestMethod, "GET");
    /* REPLACE: straight to the network, no IndexedDB lookup */
    a.attributes = EMSCRIPTEN_FETCH_LOAD_TO_MEMORY | EMSCRIPTEN_FETCH_REPLACE;
    a.onsuccess = on_success;
    a.onerror = on_error;
    a.onprogress = on_progress;
    a.userData = r;
    r->chunk = chunk;
    r->loaded = 0;
    r->x = NULL;
    r->busy = 1;
    emscripten_fetch_t *x = emscripten_fetch(&a, url);
    if (!r->busy) return; /* a handler already ran inside emscripten_fetch and closed x */
    if (!x) {
        r->busy = 0;
        fail(f, SMOLWEB_ERR_NOMEM, "%s: cannot start the request", req_name(f, r));
        return;
    }
    r->x = x;
}

static void start_chunk(smolweb_fetch *f, sw_req *r, int32_t i) {
    const char *path = NULL;
    smolweb_model_chunk_info(f->model, i, &path, NULL, NULL, NULL);
    char *url = join(f->base, path);
    if (!url) {
        fail(f, SMOLWEB_ERR_NOMEM, "%s: out of memory", path);
        return;
    }
    start_request(f, r, i, url);
    free(url);
}

/* Fills idle slots with the next chunks; succeeds once every chunk is in. */
static void pump(smolweb_fetch *f) {
    for (int32_t k = 0; k < f->n_reqs && !f->finished && f->next < f->n_chunks; k++)
        if (!f->reqs[k].busy) start_chunk(f, &f->reqs[k], f->next++);
    if (!f->finished && f->model && f->n_ready == f->n_chunks) succeed(f);
}

static void got_manifest(smolweb_fetch *f, const char *json, size_t len) {
    char err[sizeof(((sw_error *)0)->msg)];
    smolweb_status st = smolweb_model_create(json, len, &f->p.model, &f->model, err, sizeof err);
    if (st) {
        fail(f, st, "%s", err);
        return;
    }
    f->n_chunks = smolweb_model_chunk_count(f->model);
    for (int32_t i = 0; i < f->n_chunks; i++) {
        uint64_t bytes = 0;
        smolweb_model_chunk_info(f->model, i, NULL, &bytes, NULL, NULL);
        f->total += bytes;
    }
    report(f, f->manifest_name);
}

static void got_chunk(smolweb_fetch *f, int32_t i, uint8_t *data, size_t len) {
    uint64_t bytes = 0;
    const char *path = NULL;
    smolweb_model_chunk_info(f->model, i, &path, &bytes, NULL, NULL);
    smolweb_status st = sw_model_chunk_adopt(f->model, i, data, len, 1);
    if (st) {
        fail(f, st, "%s", smolweb_model_error(f->model));
        return;
    }
    f->done_bytes += bytes;
    f->n_ready++;
    report(f, path);
}

static void on_success(emscripten_fetch_t *x) {
    sw_req *r = x->userData;
    if (!r) {
        orphan(x);
        return;
    }
    smolweb_fetch *f = r->owner;
    enter(f);
    int32_t chunk = r->chunk;
    uint8_t *data = (uint8_t *)(uintptr_t)x->data;
    uint64_t n = x->numBytes;
    x->data = NULL; /* ours now: emscripten_fetch_close frees only a non-NULL data */
    finish_request(r, x);
    size_t len = (size_t)n;
    if (n > SIZE_MAX) {
        free(data);
        fail(f, SMOLWEB_ERR_NOMEM, "%s: too large", req_name(f, r));
    } else if (chunk < 0) {
        got_manifest(f, (const char *)data, len);
        free(data);
    } else {
        got_chunk(f, chunk, data, len); /* data is the model's (or freed) */
    }
    pump(f);
    leave(f);
}

static void on_error(emscripten_fetch_t *x) {
    sw_req *r = x->userData;
    if (!r) {
        orphan(x);
        return;
    }
    smolweb_fetch *f = r->owner;
    enter(f);
    unsigned status = x->status;
    char text[sizeof x->statusText + 1];
    memcpy(text, x->statusText, sizeof x->statusText);
    text[sizeof x->statusText] = 0;
    finish_request(r, x);
    const char *name = req_name(f, r);
    if (status == 0)
        fail(f, SMOLWEB_ERR_IO, "%s: network error (no HTTP response: offline, refused, or blocked by CORS)", name);
    else
        fail(f, SMOLWEB_ERR_IO, "%s: HTTP %u%s%s", name, status, text[0] ? " " : "", text);
    leave(f);
}

static void on_progress(emscripten_fetch_t *x) {
    sw_req *r = x->userData;
    if (!r) return;
    smolweb_fetch *f = r->owner;
    enter(f);
    /* without STREAM_DATA, dataOffset is the XHR's loaded count */
    uint64_t got = x->dataOffset, cap = UINT64_MAX;
    if (r->chunk >= 0) smolweb_model_chunk_info(f->model, r->chunk, NULL, &cap, NULL, NULL);
    r->loaded = got < cap ? got : cap;
    if (r->chunk >= 0) report(f, req_name(f, r));
    leave(f);
}

static void start(void *arg) {
    smolweb_fetch *f = arg;
    f->timer = 0;
    enter(f);
    if (!sw_url_ok(f->manifest_url))
        fail(f, SMOLWEB_ERR_INVALID_ARG, "%s: not a valid URL", f->manifest_url);
    else
        start_request(f, &f->reqs[0], -1, f->manifest_url);
    leave(f);
}

/* ---- public ---- */

smolweb_fetch *smolweb_fetch_model(const char *manifest_url, const smolweb_fetch_params *params,
                                   smolweb_fetch_progress_fn on_progress, void *user_data) {
    if (!manifest_url || !params || !params->on_done) return NULL;
    int32_t n = params->max_in_flight ? params->max_in_flight : DEFAULT_IN_FLIGHT;
    if (n < 1 || n > MAX_IN_FLIGHT) return NULL;
    smolweb_fetch *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->p = *params;
    f->on_progress = on_progress;
    f->user_data = user_data;
    f->n_reqs = n;
    f->reqs = calloc((size_t)n, sizeof *f->reqs);
    f->manifest_url = join("", manifest_url);
    if (!f->reqs || !f->manifest_url || !split_url(f, manifest_url)) {
        destroy(f);
        return NULL;
    }
    for (int32_t k = 0; k < n; k++) f->reqs[k].owner = f;
    f->timer = emscripten_set_timeout(start, 0, f);
    return f;
}

void smolweb_fetch_cancel(smolweb_fetch *f) {
    if (!f) return;
    enter(f);
    fail(f, SMOLWEB_ERR_STATE, "cancelled");
    leave(f);
}

void smolweb_fetch_free(smolweb_fetch *f) {
    if (!f) return;
    if (!f->finished) {
        f->finished = 1;
        abort_all(f);
    }
    if (f->depth)
        f->free_pending = 1;
    else
        destroy(f);
}
