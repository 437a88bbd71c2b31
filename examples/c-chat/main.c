/* c-chat: a C program compiled with emcc that loads a smolweb model over HTTP
 * (smolweb_fetch_model, no JavaScript of its own) and prints a greedy
 * generation. Parameters come from the page URL:
 *
 *   c-chat.html?model=/models/tiny/manifest.json&prompt=Hello&n=16
 *     model       manifest URL (required)
 *     prompt      prompt text, tokenized as is (default "Hello")
 *     n           tokens to generate (default 16)
 *     ignore_eos  1: do not stop at an end-of-sequence token
 *     ctx         KV cache length (default 512)
 *     cancel_after_bytes  N: call smolweb_fetch_cancel once N bytes arrived
 *
 * Output (stdout, which the page shows and sends to the console), line by line:
 *   PROGRESS <loaded> <total> <file>      while loading
 *   <the generated text>
 *   TEXT "<the text as a JSON string>"
 *   IDS [<generated ids>]
 *   DONE                                  or: ERROR <status number> <message>
 *   END                                   300 ms later: nothing may come in between
 *
 * It is written the way a game would use it: the load runs in the background,
 * and generation advances one step per frame (emscripten_set_main_loop), so
 * the page stays responsive. */
#include <emscripten.h>
#include <emscripten/eventloop.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smolweb.h"
#include "smolweb_fetch.h"

#define PREFILL_SLICE 32 /* prompt tokens per frame */
#define MAX_STOPS 64

typedef struct app {
    char *model_url, *prompt;
    int32_t n_tokens, ignore_eos, ctx;
    uint64_t cancel_after; /* 0: never */
    int cancelled;
    smolweb_model *model;
    smolweb_sampler *sampler;
    int32_t *prompt_ids, n_prompt, n_prefilled;
    int32_t *out, n_out;
    char *text;
    size_t text_len, text_cap;
    int32_t stops[MAX_STOPS], n_stops;
} app;

/* A query parameter of the page URL, malloc'd ("" when absent). */
static char *query(const char *name) {
    char js[160];
    snprintf(js, sizeof js, "new URLSearchParams(location.search).get('%s') || ''", name);
    const char *v = emscripten_run_script_string(js); /* emscripten's buffer, valid until the next call */
    char *s = malloc(strlen(v) + 1);
    if (s) strcpy(s, v);
    return s;
}

static long query_int(const char *name, long dflt) {
    char *v = query(name);
    long n = v && v[0] ? strtol(v, NULL, 10) : dflt;
    free(v);
    return n;
}

static void app_free(app *a) {
    smolweb_sampler_free(a->sampler);
    smolweb_model_free(a->model);
    free(a->prompt_ids);
    free(a->out);
    free(a->text);
    free(a->model_url);
    free(a->prompt);
    free(a);
}

static void say_end(void *arg) {
    app_free(arg);
    printf("END\n");
}

/* Prints the final line, then END a little later (a late callback after the
 * end would show up in between). */
static void finish(app *a, smolweb_status st, const char *message) {
    if (st) printf("ERROR %d %s (%s)\n", (int)st, message, smolweb_status_str(st));
    else printf("DONE\n");
    emscripten_set_timeout(say_end, 300, a);
}

static int append_text(app *a, const char *s, size_t n) {
    if (a->text_len + n + 1 > a->text_cap) {
        size_t cap = (a->text_len + n + 1) * 2;
        char *t = realloc(a->text, cap);
        if (!t) return 0;
        a->text = t;
        a->text_cap = cap;
    }
    memcpy(a->text + a->text_len, s, n);
    a->text_len += n;
    a->text[a->text_len] = 0;
    return 1;
}

/* The text as a JSON string (control characters, quote and backslash escaped). */
static void print_json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void print_result(app *a) {
    const char *piece;
    size_t len;
    if (smolweb_decode_flush(a->model, &piece, &len) == SMOLWEB_OK) append_text(a, piece, len);
    printf("%s\n", a->text ? a->text : "");
    printf("TEXT ");
    print_json_string(a->text ? a->text : "", a->text_len);
    printf("\nIDS [");
    for (int32_t i = 0; i < a->n_out; i++) printf(i ? ",%d" : "%d", a->out[i]);
    printf("]\n");
}

static int is_stop(const app *a, int32_t id) {
    for (int32_t i = 0; i < a->n_stops && i < MAX_STOPS; i++)
        if (a->stops[i] == id) return 1;
    return 0;
}

/* One frame: a slice of the prompt, or one generated token. */
static void step(void *arg) {
    app *a = arg;
    smolweb_status st;
    if (a->n_prefilled < a->n_prompt) {
        st = smolweb_prefill(a->model, a->prompt_ids, a->n_prompt, PREFILL_SLICE, &a->n_prefilled);
        if (st) goto fail;
        return;
    }
    int32_t id;
    int end = a->n_out >= a->n_tokens;
    if (!end) {
        st = smolweb_decode_step(a->model, a->sampler, &id);
        if (st == SMOLWEB_ERR_CONTEXT) end = 1;
        else if (st) goto fail;
        else if (!a->ignore_eos && is_stop(a, id)) end = 1;
    }
    if (end) {
        emscripten_cancel_main_loop();
        print_result(a);
        finish(a, SMOLWEB_OK, "");
        return;
    }
    a->out[a->n_out++] = id;
    const char *piece;
    size_t len;
    st = smolweb_decode_piece(a->model, id, &piece, &len);
    if (st || !append_text(a, piece, len)) goto fail;
    return;
fail:
    emscripten_cancel_main_loop();
    finish(a, st ? st : SMOLWEB_ERR_NOMEM, smolweb_model_error(a->model));
}

static int prepare(app *a) {
    int32_t need = 0;
    size_t plen = strlen(a->prompt);
    if (smolweb_tokenize(a->model, a->prompt, plen, NULL, 0, &need)) return 0;
    a->prompt_ids = malloc(sizeof(int32_t) * (size_t)(need > 0 ? need : 1));
    a->out = malloc(sizeof(int32_t) * (size_t)(a->n_tokens > 0 ? a->n_tokens : 1));
    if (!a->prompt_ids || !a->out) return 0;
    if (smolweb_tokenize(a->model, a->prompt, plen, a->prompt_ids, need, &a->n_prompt)) return 0;
    smolweb_sampler_params sp = smolweb_sampler_default_params();
    sp.temperature = 0.0f;     /* greedy */
    sp.repeat_penalty = 1.0f;  /* plain argmax, like smolweb-run --temperature 0 */
    a->sampler = smolweb_sampler_create(&sp, smolweb_model_n_vocab(a->model));
    if (!a->sampler) return 0;
    for (int32_t i = 0; i < a->n_prompt; i++) smolweb_sampler_accept(a->sampler, a->prompt_ids[i]);
    a->n_stops = smolweb_model_stop_ids(a->model, a->stops, MAX_STOPS);
    smolweb_decode_reset(a->model);
    return 1;
}

static void on_progress(smolweb_fetch *f, uint64_t loaded, uint64_t total, const char *file, void *user_data) {
    app *a = user_data;
    printf("PROGRESS %" PRIu64 " %" PRIu64 " %s\n", loaded, total, file);
    if (a->cancel_after && loaded >= a->cancel_after && !a->cancelled) {
        a->cancelled = 1;
        printf("CANCEL\n");
        smolweb_fetch_cancel(f); /* on_done runs before this returns */
    }
}

static void on_done(smolweb_fetch *f, smolweb_status st, smolweb_model *model, const char *message, void *user_data) {
    app *a = user_data;
    smolweb_fetch_free(f);
    if (st) {
        finish(a, st, message);
        return;
    }
    a->model = model;
    if (a->n_tokens <= 0 || !prepare(a)) {
        finish(a, a->n_tokens <= 0 ? SMOLWEB_ERR_INVALID_ARG : SMOLWEB_ERR_NOMEM,
               a->n_tokens <= 0 ? "n must be positive" : smolweb_model_error(model));
        return;
    }
    printf("loaded: %d chunks, prompt %d tokens\n", smolweb_model_chunk_count(model), a->n_prompt);
    emscripten_set_main_loop_arg(step, a, 0, 0);
}

int main(void) {
    app *a = calloc(1, sizeof *a);
    if (!a) return 1;
    a->model_url = query("model");
    a->prompt = query("prompt");
    a->n_tokens = (int32_t)query_int("n", 16);
    a->ignore_eos = query_int("ignore_eos", 0) != 0;
    a->ctx = (int32_t)query_int("ctx", 512);
    a->cancel_after = (uint64_t)query_int("cancel_after_bytes", 0);
    if (a->prompt && !a->prompt[0]) {
        free(a->prompt);
        a->prompt = malloc(sizeof "Hello");
        if (a->prompt) strcpy(a->prompt, "Hello");
    }
    if (!a->model_url || !a->prompt || !a->model_url[0]) {
        finish(a, SMOLWEB_ERR_INVALID_ARG, "no ?model=<manifest URL> in the page URL");
        return 0;
    }
    smolweb_fetch_params p = smolweb_fetch_default_params();
    p.model.n_ctx = a->ctx;
    p.on_done = on_done;
    printf("loading %s\n", a->model_url);
    if (!smolweb_fetch_model(a->model_url, &p, on_progress, a)) {
        finish(a, SMOLWEB_ERR_INVALID_ARG, "smolweb_fetch_model refused its arguments");
        return 0;
    }
    return 0; /* the runtime stays alive: the load and the frames continue */
}
