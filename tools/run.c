/* smolweb-run: generates text with a model folder (chunker output).
 * Contract: /work/shared/DESIGN.md section 1.
 *
 *   smolweb-run MODEL_DIR (--prompt TEXT | --ids JSON) [--chat] [-n N] [--ignore-eos]
 *               [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R]
 *               [--seed S] [--threads N] [--ids-out]
 * Testing and measuring options: --ctx N (KV cache length), --kv-f16, --batch N
 * (prefill batch), --prefill-slice N (tokens per prefill call), --dump-logits FILE
 * (the prompt's last logits as raw f32), --prompt-ids-out (print the prompt ids
 * as JSON and exit), --timings (prefill/decode rates on stderr). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat.h"
#include "load_dir.h"
#include "smolweb.h"

typedef struct opts {
    const char *dir, *prompt, *ids_json, *dump_logits;
    int chat, n, ignore_eos, ids_out, prompt_ids_out, timings, slice;
    smolweb_sampler_params sp;
    smolweb_model_params mp;
} opts;

static void usage(FILE *f) {
    fprintf(f, "usage: smolweb-run MODEL_DIR (--prompt TEXT | --ids JSON) [--chat] [-n N] [--ignore-eos]\n"
               "                   [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R]\n"
               "                   [--seed S] [--threads N] [--ids-out]\n"
               "  --temperature 0 is greedy. Testing: --ctx N --kv-f16 --batch N --prefill-slice N\n"
               "  --dump-logits FILE --prompt-ids-out --timings\n");
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int parse_args(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->n = 128;
    o->sp = smolweb_sampler_default_params();
    o->sp.repeat_penalty = 1.0f; /* off unless asked for, so --temperature 0 is plain argmax */
    o->mp = smolweb_model_default_params();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKES(name) (strcmp(a, name) == 0 && v && (++i, 1))
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); exit(0); }
        else if (TAKES("--prompt")) o->prompt = v;
        else if (TAKES("--ids")) o->ids_json = v;
        else if (strcmp(a, "--chat") == 0) o->chat = 1;
        else if (TAKES("-n")) o->n = atoi(v);
        else if (strcmp(a, "--ignore-eos") == 0) o->ignore_eos = 1;
        else if (TAKES("--temperature")) o->sp.temperature = (float)atof(v);
        else if (TAKES("--top-k")) o->sp.top_k = atoi(v);
        else if (TAKES("--top-p")) o->sp.top_p = (float)atof(v);
        else if (TAKES("--min-p")) o->sp.min_p = (float)atof(v);
        else if (TAKES("--repeat-penalty")) o->sp.repeat_penalty = (float)atof(v);
        else if (TAKES("--seed")) o->sp.seed = strtoull(v, NULL, 10);
        else if (TAKES("--threads")) o->mp.n_threads = atoi(v);
        else if (strcmp(a, "--ids-out") == 0) o->ids_out = 1;
        else if (TAKES("--ctx")) o->mp.n_ctx = atoi(v);
        else if (strcmp(a, "--kv-f16") == 0) o->mp.kv_f16 = 1;
        else if (TAKES("--batch")) o->mp.prefill_batch = atoi(v);
        else if (TAKES("--prefill-slice")) o->slice = atoi(v);
        else if (TAKES("--dump-logits")) o->dump_logits = v;
        else if (strcmp(a, "--prompt-ids-out") == 0) o->prompt_ids_out = 1;
        else if (strcmp(a, "--timings") == 0) o->timings = 1;
        else if (a[0] == '-') { fprintf(stderr, "error: unknown option or missing value: %s\n", a); return 0; }
        else if (!o->dir) o->dir = a;
        else { fprintf(stderr, "error: unexpected argument %s\n", a); return 0; }
#undef TAKES
    }
    if (!o->dir || (!o->prompt == !o->ids_json)) {
        usage(stderr);
        return 0;
    }
    if (o->n < 0) { fprintf(stderr, "error: -n must be >= 0\n"); return 0; }
    return 1;
}

/* Parses a JSON array of integers into a malloc'd array. */
static int32_t *parse_ids(const char *json, int32_t *n) {
    cJSON *a = cJSON_Parse(json);
    if (!cJSON_IsArray(a)) { cJSON_Delete(a); return NULL; }
    int32_t len = cJSON_GetArraySize(a);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(len > 0 ? len : 1));
    int ok = ids != NULL;
    for (int32_t i = 0; ok && i < len; i++) {
        cJSON *e = cJSON_GetArrayItem(a, i);
        ok = cJSON_IsNumber(e) && e->valuedouble == (double)(int32_t)e->valuedouble;
        if (ok) ids[i] = (int32_t)e->valuedouble;
    }
    cJSON_Delete(a);
    if (!ok) { free(ids); return NULL; }
    *n = len;
    return ids;
}

static int32_t *prompt_ids(smolweb_model *m, const opts *o, int32_t *n) {
    if (o->ids_json) {
        int32_t *ids = parse_ids(o->ids_json, n);
        if (!ids) fprintf(stderr, "error: --ids: expected a JSON array of integers\n");
        return ids;
    }
    char *text = NULL;
    if (o->chat) {
        sw_error err;
        sw_chat_template *tmpl = sw_chat_template_parse(smolweb_model_chat_template(m), &err);
        sw_chat_message msg = {"user", o->prompt};
        if (!tmpl || sw_chat_render(tmpl, &msg, 1, 1, &text, NULL, &err)) {
            fprintf(stderr, "error: --chat: %s\n", err.msg);
            sw_chat_template_free(tmpl);
            return NULL;
        }
        sw_chat_template_free(tmpl);
    }
    const char *t = text ? text : o->prompt;
    int32_t need = 0;
    smolweb_status st = smolweb_tokenize(m, t, strlen(t), NULL, 0, &need);
    int32_t *ids = st ? NULL : malloc(sizeof(int32_t) * (size_t)(need > 0 ? need : 1));
    if (ids) st = smolweb_tokenize(m, t, strlen(t), ids, need, n);
    free(text);
    if (st || !ids) {
        fprintf(stderr, "error: %s\n", smolweb_model_error(m));
        free(ids);
        return NULL;
    }
    return ids;
}

static int is_stop(const int32_t *stops, int32_t n_stops, int32_t id) {
    for (int32_t i = 0; i < n_stops; i++) if (stops[i] == id) return 1;
    return 0;
}

static void print_ids(const int32_t *ids, int32_t n) {
    printf("[");
    for (int32_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    printf("]\n");
}

static int dump_logits(smolweb_model *m, const char *path) {
    const float *l = smolweb_logits(m);
    FILE *f = fopen(path, "wb");
    if (!f || !l) { fprintf(stderr, "error: %s: %s\n", path, f ? "no logits" : strerror(errno)); if (f) fclose(f); return 0; }
    size_t n = (size_t)smolweb_model_n_vocab(m);
    int ok = fwrite(l, sizeof(float), n, f) == n;
    return (fclose(f) == 0) && ok;
}

static int generate(smolweb_model *m, const opts *o, const int32_t *ids, int32_t n_ids) {
    if (n_ids == 0) { fprintf(stderr, "error: the prompt is empty\n"); return 0; }
    double t0 = now_s();
    int32_t done = 0;
    while (done < n_ids) {
        if (smolweb_prefill(m, ids, n_ids, o->slice, &done)) { fprintf(stderr, "error: %s\n", smolweb_model_error(m)); return 0; }
    }
    double t1 = now_s();
    if (o->dump_logits && !dump_logits(m, o->dump_logits)) return 0;
    smolweb_sampler *s = smolweb_sampler_create(&o->sp, smolweb_model_n_vocab(m));
    if (!s) { fprintf(stderr, "error: bad sampling parameters\n"); return 0; }
    for (int32_t i = 0; i < n_ids; i++) smolweb_sampler_accept(s, ids[i]);
    int32_t stops[64], n_stops = smolweb_model_stop_ids(m, stops, 64);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)(o->n > 0 ? o->n : 1)), n_out = 0;
    int ok = out != NULL;
    smolweb_decode_reset(m);
    double t2 = t1;
    while (ok && n_out < o->n) {
        int32_t id;
        smolweb_status st = smolweb_decode_step(m, s, &id);
        if (st == SMOLWEB_ERR_CONTEXT) { fprintf(stderr, "note: %s\n", smolweb_model_error(m)); break; }
        if (st) { fprintf(stderr, "error: %s\n", smolweb_model_error(m)); ok = 0; break; }
        if (n_out == 0) t2 = now_s();
        if (!o->ignore_eos && is_stop(stops, n_stops, id)) break;
        out[n_out++] = id;
        if (!o->ids_out) {
            const char *piece;
            size_t len;
            if (smolweb_decode_piece(m, id, &piece, &len) == SMOLWEB_OK) { fwrite(piece, 1, len, stdout); fflush(stdout); }
        }
    }
    double t3 = now_s();
    if (ok && o->ids_out) print_ids(out, n_out);
    else if (ok) {
        const char *piece;
        size_t len;
        if (smolweb_decode_flush(m, &piece, &len) == SMOLWEB_OK) fwrite(piece, 1, len, stdout);
        printf("\n");
    }
    if (o->timings)
        fprintf(stderr, "prompt %d tokens in %.3f s (%.1f tok/s); %d tokens generated, decode %.1f tok/s\n", n_ids,
                t1 - t0, n_ids / (t1 - t0), n_out, n_out > 1 ? (n_out - 1) / (t3 - t2) : 0.0);
    free(out);
    smolweb_sampler_free(s);
    return ok;
}

int main(int argc, char **argv) {
    opts o;
    if (!parse_args(argc, argv, &o)) return 2;
    smolweb_model *m;
    char err[512];
    if (sw_load_model_dir(o.dir, &o.mp, &m, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    int32_t n_ids = 0;
    int32_t *ids = prompt_ids(m, &o, &n_ids);
    int ok = ids != NULL;
    if (ok && o.prompt_ids_out) print_ids(ids, n_ids);
    else if (ok) ok = generate(m, &o, ids, n_ids);
    free(ids);
    smolweb_model_free(m);
    return ok ? 0 : 1;
}
