/* test_generate.c: the runtime's public API on a tiny random model.
 * - chunks load in any order; the model names what is missing; generation
 *   before every chunk is present fails clearly; a corrupted or truncated
 *   chunk is refused with a message naming it and stays missing
 * - batched prefill == token by token == sliced prefill (bit-identical logits)
 * - KV-cache decode == re-running the whole sequence (bit-identical logits)
 * - prefix reuse: a prompt extending the cached one prefills only the rest
 *   and gives the same logits as a fresh prefill
 * - context overflow is SMOLWEB_ERR_CONTEXT, in prefill and in decode
 * - f16 KV cache stays close to f32 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load_dir.h"
#include "smolweb.h"

#include "check.h"

#define SW_TEST_MAX_THREADS 64 /* SW_MAX_THREADS in src/model.h */
static char g_dir[256];
static const int32_t k_prompt[] = {1, 9690, 198, 2683, 359, 5356, 30, 216, 33, 34, 35, 504, 3158};
#define NP ((int32_t)(sizeof k_prompt / sizeof k_prompt[0]))

static int make_model(void) {
    const char *build = getenv("SMOLWEB_BUILD"), *shared = getenv("SMOLWEB_SHARED");
    if (!build || !shared) {
        fprintf(stderr, "SMOLWEB_BUILD and SMOLWEB_SHARED must be set (ctest sets them)\n");
        return 0;
    }
    snprintf(g_dir, sizeof g_dir, "%s/test_generate.tmp", build);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "rm -rf '%s' && mkdir -p '%s' && SMOLWEB_SHARED='%s' '%s/smolweb-gen' tiny '%s/hf' 2>/dev/null && "
             "'%s/smolweb-chunk' --quant q8 '%s/hf' '%s/model' 2>/dev/null",
             g_dir, g_dir, shared, build, g_dir, build, g_dir, g_dir);
    return system(cmd) == 0;
}

static smolweb_model *load(const smolweb_model_params *p) {
    char dir[600], err[512];
    snprintf(dir, sizeof dir, "%s/model", g_dir);
    smolweb_model *m = NULL;
    if (sw_load_model_dir(dir, p, &m, err, sizeof err)) fprintf(stderr, "load failed: %s\n", err);
    return m;
}

static float *copy_logits(const smolweb_model *m) {
    const float *l = smolweb_logits(m);
    if (!l) return NULL;
    size_t n = (size_t)smolweb_model_n_vocab(m);
    float *c = malloc(n * sizeof *c);
    memcpy(c, l, n * sizeof *c);
    return c;
}

static int same_logits(const smolweb_model *m, const float *ref) {
    const float *l = smolweb_logits(m);
    return l && ref && memcmp(l, ref, (size_t)smolweb_model_n_vocab(m) * sizeof(float)) == 0;
}

static float *prefill_logits(smolweb_model *m, const int32_t *ids, int32_t n, int32_t slice) {
    int32_t done = 0;
    smolweb_reset(m);
    while (done < n)
        if (smolweb_prefill(m, ids, n, slice, &done) != SMOLWEB_OK) {
            fprintf(stderr, "prefill: %s\n", smolweb_model_error(m));
            return NULL;
        }
    return copy_logits(m);
}

static void test_batching(void) {
    smolweb_model_params p = smolweb_model_default_params();
    smolweb_model *m = load(&p);
    p.prefill_batch = 1;
    smolweb_model *one = load(&p);
    if (!m || !one) { failures++; smolweb_model_free(m); smolweb_model_free(one); return; }
    float *full = prefill_logits(m, k_prompt, NP, 0);
    float *tok = prefill_logits(one, k_prompt, NP, 0);
    float *sliced = prefill_logits(m, k_prompt, NP, 3);
    CHECK(full && tok && memcmp(full, tok, 49152 * 4) == 0, "batched prefill differs from token-by-token");
    CHECK(full && sliced && memcmp(full, sliced, 49152 * 4) == 0, "sliced prefill differs from one prefill");

    /* decode: greedy steps, then compare with a fresh prefill of the same sequence */
    smolweb_sampler_params sp = smolweb_sampler_default_params();
    sp.temperature = 0;
    sp.repeat_penalty = 1;
    smolweb_sampler *s = smolweb_sampler_create(&sp, smolweb_model_n_vocab(m));
    int32_t seq[NP + 8];
    memcpy(seq, k_prompt, sizeof k_prompt);
    smolweb_reset(m);
    int32_t done;
    CHECK(smolweb_prefill(m, k_prompt, NP, 0, &done) == SMOLWEB_OK && done == NP, "prefill");
    for (int i = 0; i < 6; i++) CHECK(smolweb_decode_step(m, s, &seq[NP + i]) == SMOLWEB_OK, "decode step %d", i);
    /* the last sampled token is pending: the cache holds NP + 5 tokens */
    float *after = copy_logits(m);
    float *fresh = prefill_logits(one, seq, NP + 5, 0);
    CHECK(after && fresh && memcmp(after, fresh, 49152 * 4) == 0, "KV-cache decode differs from a full re-run");

    /* prefix reuse: the cache holds NP + 5 tokens of seq; extend with the pending token and one more */
    seq[NP + 6] = 42;
    CHECK(smolweb_common_prefix(m, seq, NP + 7) == NP + 5, "common prefix %d", smolweb_common_prefix(m, seq, NP + 7));
    CHECK(smolweb_prefill(m, seq, NP + 7, 0, &done) == SMOLWEB_OK && done == NP + 7, "prefix-reuse prefill");
    float *fresh2 = prefill_logits(one, seq, NP + 7, 0);
    CHECK(fresh2 && same_logits(m, fresh2), "prefix reuse differs from a fresh prefill");
    /* the same prompt again recomputes only its last token and gives the same logits */
    CHECK(smolweb_prefill(m, seq, NP + 7, 0, &done) == SMOLWEB_OK && same_logits(m, fresh2), "repeated prompt");
    /* a shorter prompt that diverges truncates the cache */
    int32_t other[4] = {1, 9690, 198, 77};
    CHECK(smolweb_common_prefix(m, other, 4) == 3, "common prefix of a diverging prompt");
    float *fresh3 = prefill_logits(one, other, 4, 0);
    CHECK(smolweb_prefill(m, other, 4, 0, &done) == SMOLWEB_OK && same_logits(m, fresh3), "diverging prompt");

    free(full), free(tok), free(sliced), free(after), free(fresh), free(fresh2), free(fresh3);
    smolweb_sampler_free(s);
    smolweb_model_free(m);
    smolweb_model_free(one);
}

static void test_context(void) {
    smolweb_model_params p = smolweb_model_default_params();
    p.n_ctx = 16;
    smolweb_model *m = load(&p);
    if (!m) { failures++; return; }
    int32_t ids[20] = {0};
    for (int i = 0; i < 20; i++) ids[i] = 100 + i;
    int32_t done;
    CHECK(smolweb_prefill(m, ids, 17, 0, &done) == SMOLWEB_ERR_CONTEXT, "17 tokens in a 16-token context");
    CHECK(strstr(smolweb_model_error(m), "the prompt has 17 tokens, the context holds 16") != NULL, "%s",
          smolweb_model_error(m));
    CHECK(smolweb_prefill(m, ids, 14, 0, &done) == SMOLWEB_OK, "14 tokens fit");
    smolweb_sampler_params sp = smolweb_sampler_default_params();
    sp.temperature = 0;
    smolweb_sampler *s = smolweb_sampler_create(&sp, smolweb_model_n_vocab(m));
    int32_t t;
    smolweb_status st = SMOLWEB_OK;
    int steps = 0;
    while (st == SMOLWEB_OK && steps < 10) st = smolweb_decode_step(m, s, &t), steps += st == SMOLWEB_OK;
    CHECK(st == SMOLWEB_ERR_CONTEXT && steps == 3, "decode stops at the context (status %d after %d steps)", st, steps);
    smolweb_sampler_free(s);
    smolweb_model_free(m);

    p.n_ctx = 100000;
    char err[256];
    smolweb_model *big = NULL;
    char path[700];
    snprintf(path, sizeof path, "%s/model/manifest.json", g_dir);
    size_t len;
    char *json = sw_read_text_file(path, &len);
    CHECK(smolweb_model_create(json, len, &p, &big, err, sizeof err) == SMOLWEB_ERR_INVALID_ARG && !big &&
              strstr(err, "n_ctx 100000 exceeds the model's max_position_embeddings 2048"),
          "%s", err);
    free(json);
}

static void test_chunks(void) {
    char path[700];
    snprintf(path, sizeof path, "%s/model/manifest.json", g_dir);
    size_t len;
    char *json = sw_read_text_file(path, &len);
    char err[256];
    smolweb_model *m = NULL;
    smolweb_model_params p = smolweb_model_default_params();
    CHECK(smolweb_model_create(json, len, &p, &m, err, sizeof err) == SMOLWEB_OK, "create: %s", err);
    free(json);
    if (!m) return;
    int32_t n = smolweb_model_chunk_count(m), miss[64];
    CHECK(n == 6 && smolweb_model_missing_chunks(m, miss, 64) == 6, "6 chunks, all missing");
    int32_t done;
    CHECK(smolweb_prefill(m, k_prompt, NP, 0, &done) == SMOLWEB_ERR_STATE &&
              strstr(smolweb_model_error(m), "6 chunk(s) still missing (first: tokenizer.swt)"),
          "generation before chunks: %s", smolweb_model_error(m));
    /* load in reverse order; corrupt layer 1 first */
    for (int32_t i = n - 1; i >= 0; i--) {
        const char *rel;
        uint64_t bytes;
        smolweb_model_chunk_info(m, i, &rel, &bytes, NULL, NULL);
        char full[800];
        snprintf(full, sizeof full, "%s/model/%s", g_dir, rel);
        size_t blen;
        char *data = sw_read_text_file(full, &blen);
        CHECK(data && blen == bytes, "read %s", rel);
        if (strcmp(rel, "layer-001.swc") == 0) {
            data[blen / 2] ^= 1;
            CHECK(smolweb_model_load_chunk(m, i, (uint8_t *)data, blen, 1) == SMOLWEB_ERR_INTEGRITY &&
                      strcmp(smolweb_model_error(m), "layer-001.swc: SHA-256 does not match the manifest") == 0,
                  "corrupted chunk: %s", smolweb_model_error(m));
            CHECK(smolweb_model_load_chunk(m, i, (uint8_t *)data, blen - 1, 1) == SMOLWEB_ERR_INTEGRITY &&
                      strstr(smolweb_model_error(m), "layer-001.swc: ") != NULL,
                  "truncated chunk: %s", smolweb_model_error(m));
            /* without the hash check the format check still catches a bad header */
            data[blen / 2] ^= 1;
            data[0] = 'X';
            CHECK(smolweb_model_load_chunk(m, i, (uint8_t *)data, blen, 0) == SMOLWEB_ERR_FORMAT &&
                      strcmp(smolweb_model_error(m), "layer-001.swc: bad magic (not a smolweb chunk)") == 0,
                  "bad magic: %s", smolweb_model_error(m));
            smolweb_model_chunk_drop(m, i);
            data[0] = 'S';
            CHECK(smolweb_model_missing_chunks(m, miss, 64) == i + 1, "layer 1 still missing");
        }
        CHECK(smolweb_model_load_chunk(m, i, (uint8_t *)data, blen, 1) == SMOLWEB_OK, "load %s: %s", rel,
              smolweb_model_error(m));
        free(data);
    }
    CHECK(smolweb_model_missing_chunks(m, miss, 64) == 0, "all loaded");
    CHECK(smolweb_prefill(m, k_prompt, NP, 0, &done) == SMOLWEB_OK && done == NP, "prefill after loading");
    smolweb_model_free(m);
}

static void test_kv_f16(void) {
    smolweb_model_params p = smolweb_model_default_params();
    smolweb_model *a = load(&p);
    p.kv_f16 = 1;
    smolweb_model *b = load(&p);
    if (!a || !b) { failures++; smolweb_model_free(a); smolweb_model_free(b); return; }
    float *la = prefill_logits(a, k_prompt, NP, 0), *lb = prefill_logits(b, k_prompt, NP, 0);
    float md = 0, mx = 0;
    int arg_a = 0, arg_b = 0;
    for (int i = 0; la && lb && i < 49152; i++) {
        if (la[i] > la[arg_a]) arg_a = i;
        if (lb[i] > lb[arg_b]) arg_b = i;
        float d = la[i] > lb[i] ? la[i] - lb[i] : lb[i] - la[i];
        md = d > md ? d : md;
        mx = la[i] > mx ? la[i] : (-la[i] > mx ? -la[i] : mx);
    }
    printf("f16 KV cache: max |dlogit| %.2e (logits up to %.2f)\n", md, mx);
    /* f16 keys/values (11-bit mantissa) through 4 layers of this deliberately
     * high-gain random model move logits by up to ~2% of their range */
    CHECK(la && lb && md < 0.05f * mx && arg_a == arg_b, "f16 KV cache too far from f32: %g", md);
    free(la), free(lb);
    smolweb_model_free(a);
    smolweb_model_free(b);
}

/* Threads split rows and heads; every output element is computed by the same
 * code in the same order, so logits must be bit-identical to one thread's,
 * for prefill batches and decode steps alike. */
static void test_threads(void) {
    smolweb_model_params p = smolweb_model_default_params();
    smolweb_model *one = load(&p);
    float *ref = one ? prefill_logits(one, k_prompt, NP, 0) : NULL;
    for (int32_t t = 2; t <= 4; t++) {
        p.n_threads = t;
        smolweb_model *m = load(&p);
        if (!m) { failures++; continue; }
        CHECK(smolweb_model_n_threads(m) == t, "%d threads asked, %d running", t, smolweb_model_n_threads(m));
        for (int rep = 0; rep < 3; rep++) {
            float *l = prefill_logits(m, k_prompt, NP, 0);
            CHECK(l && ref && memcmp(l, ref, 49152 * 4) == 0, "%d threads: prefill logits differ from 1 thread", t);
            free(l);
        }
        /* decode token by token: prefill_batch 1 path through the pool */
        int32_t done = 0;
        smolweb_reset(m);
        smolweb_reset(one);
        for (int32_t i = 1; i <= NP; i++) {
            CHECK(smolweb_prefill(m, k_prompt, i, 1, &done) == SMOLWEB_OK, "step prefill");
            CHECK(smolweb_prefill(one, k_prompt, i, 1, &done) == SMOLWEB_OK, "step prefill");
            CHECK(memcmp(smolweb_logits(m), smolweb_logits(one), 49152 * 4) == 0, "%d threads: step %d differs", t, i);
        }
        smolweb_model_free(m);
    }
    p.n_threads = SW_TEST_MAX_THREADS + 1;
    char err[256];
    smolweb_model *bad = NULL;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/model", g_dir);
    CHECK(sw_load_model_dir(dir, &p, &bad, err, sizeof err) == SMOLWEB_ERR_INVALID_ARG && !bad &&
              strstr(err, "n_threads 65 is outside 0..64"),
          "too many threads: %s", err);
    free(ref);
    smolweb_model_free(one);
}

int main(void) {
    if (!make_model()) {
        fprintf(stderr, "could not make the test model\n");
        return 1;
    }
    test_chunks();
    test_batching();
    test_context();
    test_kv_f16();
    test_threads();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", g_dir);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("test_generate: ok\n");
    return 0;
}
