/* test_sampler.c: the sampler (smolweb.h, src/sampler.c) against independent
 * references.
 * - exp: the fixed-point e^x against libm's double exp (relative 2e-8),
 *   monotone, exact at 0, 0 below the cut, NaN and -inf.
 * - greedy: argmax of the (penalized) logits, ties to the lowest id, NaN
 *   skipped, +inf, unusable logits give -1, and no random number is used.
 * - reproducibility: same seed -> same 1000 tokens, other seeds differ,
 *   reset restarts, one 64-bit random value per non-greedy sample.
 * - golden sequences: hardcoded token ids for fixed synthetic logits and
 *   seeds; they are what the wasm build must reproduce bit for bit. They were
 *   produced by tests/ref_sampler.py, a separate implementation of the same
 *   written rule (full sorts instead of radix select, its own exp table);
 *   when $PYTHON is set the test reruns it and checks it still agrees.
 * - exact distributions: the probability vector the sampler draws from
 *   (sw_sampler_probs) equals the whole chain recomputed here in double with
 *   libm exp and a full sort (penalty formula, top-k with ties, top-p
 *   nucleus, min-p, temperature), relative 1e-6, on small and 49152-token
 *   vocabularies; tokens a filter removes have probability exactly 0.
 * - statistics: 200k draws per configuration match those reference
 *   distributions by a chi-square bound, never hit a removed token, and the
 *   same counts fail the bound against a slightly wrong temperature (the test
 *   has power).
 * - bad parameters are refused; speed for vocab 49152 is printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sampler_internal.h"
#include "smolweb.h"

#include "check.h"

/* ------------------------------------------------------------------ */
/* helpers */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void) {
    double u1 = urand() + 1e-300, u2 = urand();
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* The synthetic logits tests/ref_sampler.py builds (hash_logits). */
static void hash_logits(float *out, int n, uint64_t salt) {
    for (int i = 0; i < n; i++) {
        uint64_t z = salt * 1000003u + (uint64_t)i + 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        out[i] = (float)((double)((int)(z % 4001) - 2000) / 400.0);
    }
}

static smolweb_sampler_params mkparams(float t, int32_t k, float p, float minp, float pen, int32_t last_n,
                                       uint64_t seed) {
    smolweb_sampler_params pr = smolweb_sampler_default_params();
    pr.temperature = t;
    pr.top_k = k;
    pr.top_p = p;
    pr.min_p = minp;
    pr.repeat_penalty = pen;
    pr.repeat_last_n = last_n;
    pr.seed = seed;
    return pr;
}

/* ------------------------------------------------------------------ */
/* the reference chain, in double, by full sort */

static const float *g_sort_work;
static int by_logit_desc(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    float x = g_sort_work[i], y = g_sort_work[j];
    if (x != y) return x > y ? -1 : 1;
    return i < j ? -1 : (i > j);
}

/* Fills ref[n] with the distribution the documented chain gives for these
 * logits after the tokens hist[0..nh) were accepted. Returns the smallest
 * distance between a filter's threshold and the nearest decision it made
 * (top-p cumulative sums, min-p ratios), so callers can make sure the case is
 * not decided by rounding. */
static double ref_chain(const float *logits, int n, const smolweb_sampler_params *pr, const int32_t *hist, int nh,
                        double *ref) {
    float *work = malloc(sizeof *work * (size_t)n);
    int *idx = malloc(sizeof *idx * (size_t)n);
    char *seen = calloc((size_t)n, 1);
    double *p1 = malloc(sizeof *p1 * (size_t)n);
    double margin = 1.0;
    for (int i = 0; i < n; i++) {
        work[i] = logits[i] + 0.0f;
        ref[i] = 0;
    }
    if (pr->repeat_penalty != 1.0f && pr->repeat_last_n > 0) {
        /* the window holds the last repeat_last_n recorded tokens; ids out of
         * range are not recorded */
        int taken = 0;
        for (int j = nh - 1; j >= 0 && taken < pr->repeat_last_n; j--) {
            int t = hist[j];
            if (t < 0 || t >= n) continue;
            taken++;
            if (seen[t]) continue;
            seen[t] = 1;
            work[t] = work[t] > 0 ? work[t] / pr->repeat_penalty : work[t] * pr->repeat_penalty;
        }
    }
    /* +inf: the softmax limit, uniform over the +inf logits */
    int ninf = 0;
    for (int i = 0; i < n; i++) ninf += work[i] == INFINITY;
    if (ninf)
        for (int i = 0; i < n; i++) work[i] = work[i] == INFINITY ? 0.0f : -INFINITY;
    int nu = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(work[i]) && work[i] != -INFINITY) idx[nu++] = i;
    if (nu == 0) goto done;
    g_sort_work = work;
    qsort(idx, (size_t)nu, sizeof *idx, by_logit_desc);
    if (!(pr->temperature > 0)) {
        ref[idx[0]] = 1;
        goto done;
    }
    int cnt = pr->top_k > 0 && pr->top_k < nu ? pr->top_k : nu;
    double m = work[idx[0]], s1 = 0;
    for (int j = 0; j < cnt; j++) s1 += p1[j] = exp((double)work[idx[j]] - m);
    if (pr->top_p < 1.0f) {
        double cum = 0, p = pr->top_p;
        int keep = cnt;
        for (int j = 0; j < cnt; j++) {
            double before = cum;
            cum += p1[j] / s1;
            if (cum >= p || j == cnt - 1) {
                keep = j + 1;
                margin = fmin(margin, fabs(cum - p));
                if (j > 0) margin = fmin(margin, fabs(p - before));
                break;
            }
        }
        cnt = keep;
    }
    int keep_n = 0;
    double min_p = fmin(pr->min_p, 1.0); /* the most likely token always stays */
    for (int j = 0; j < cnt; j++) {
        if (min_p > 0 && j > 0) {
            margin = fmin(margin, fabs(p1[j] - min_p));
            if (!(p1[j] >= min_p)) continue;
        }
        idx[keep_n] = idx[j];
        keep_n++;
    }
    double st = 0;
    for (int j = 0; j < keep_n; j++) st += ref[idx[j]] = exp(((double)work[idx[j]] - m) / pr->temperature);
    for (int j = 0; j < keep_n; j++) ref[idx[j]] /= st;
done:
    free(work);
    free(idx);
    free(seen);
    free(p1);
    return margin;
}

/* ------------------------------------------------------------------ */

static void test_exp(void) {
    const double one = 1099511627776.0; /* 2^40 */
    CHECK(sw_sampler_exp(0.0) == 1ull << 40, "exp(0)");
    CHECK(sw_sampler_exp(-0.0) == 1ull << 40, "exp(-0)");
    CHECK(sw_sampler_exp(3.0) == 1ull << 40, "exp(3) clamps to 1");
    CHECK(sw_sampler_exp(NAN) == 0, "exp(NaN)");
    CHECK(sw_sampler_exp(-INFINITY) == 0, "exp(-inf)");
    CHECK(sw_sampler_exp(-28.5) == 0 && sw_sampler_exp(-40.0) == 0, "below the cut");
    double worst = 0;
    uint64_t prev = 1ull << 40;
    for (int i = 1; i <= 2000000; i++) {
        double x = -28.5 * i / 2000000.0;
        uint64_t v = sw_sampler_exp(x);
        double ref = exp(x) * one;
        double err = fabs((double)v - ref);
        if (err > 1.0) worst = fmax(worst, err / ref);
        CHECK(err <= 2e-8 * ref + 1.0, "exp(%.9g) = %llu, libm says %.3f", x, (unsigned long long)v, ref);
        CHECK(v <= prev, "exp not monotone at %.9g", x);
        prev = v;
        if (failures > 10) return;
    }
    /* tiny arguments, where the Q28 conversion truncates */
    for (int e = 1; e < 60; e++) {
        double x = -ldexp(1.0, -e);
        double ref = exp(x) * one;
        CHECK(fabs((double)sw_sampler_exp(x) - ref) <= 2e-8 * ref + 1.0, "exp(-2^-%d)", e);
    }
    printf("exp: worst relative error %.3g over [-28.5, 0]\n", worst);
}

static void test_greedy(void) {
    enum { N = 300 };
    float l[N];
    smolweb_sampler_params pr = mkparams(0.0f, 40, 0.9f, 0.1f, 1.0f, 64, 5);
    smolweb_sampler *s = smolweb_sampler_create(&pr, N);
    smolweb_sampler *fresh = smolweb_sampler_create(&pr, N);
    CHECK(s && fresh, "create");
    if (!s || !fresh) return;
    for (int trial = 0; trial < 200; trial++) {
        int best = 0;
        for (int i = 0; i < N; i++) {
            l[i] = (float)nrand();
            if (trial % 2) l[i] = roundf(l[i] * 2) / 2; /* many ties */
            if (l[i] > l[best]) best = i;
        }
        CHECK(smolweb_sampler_sample(s, l) == best, "greedy trial %d", trial);
    }
    /* explicit ties and special values */
    for (int i = 0; i < N; i++) l[i] = 0.0f;
    CHECK(smolweb_sampler_sample(s, l) == 0, "all equal -> id 0");
    l[0] = -0.0f;
    l[7] = 3.0f;
    l[5] = 3.0f;
    l[2] = NAN;
    CHECK(smolweb_sampler_sample(s, l) == 5, "tie at 5 and 7 -> 5");
    l[9] = INFINITY;
    l[4] = INFINITY;
    CHECK(smolweb_sampler_sample(s, l) == 4, "+inf at 4 and 9 -> 4");
    for (int i = 0; i < N; i++) l[i] = NAN;
    CHECK(smolweb_sampler_sample(s, l) == -1, "all NaN -> -1");
    l[17] = -INFINITY;
    CHECK(smolweb_sampler_sample(s, l) == -1, "NaN and -inf only -> -1");
    l[200] = -1e30f;
    CHECK(smolweb_sampler_sample(s, l) == 200, "one finite logit");
    CHECK(smolweb_sampler_sample(s, NULL) == -1 && smolweb_sampler_sample(NULL, l) == -1, "NULL arguments");
    /* greedy used no random number */
    CHECK(sw_sampler_rng_next(s) == sw_sampler_rng_next(fresh), "greedy advanced the generator");
    smolweb_sampler_free(s);
    smolweb_sampler_free(fresh);

    /* greedy applies the repetition penalty: 2.0 / 1.5 < 1.5, and -1 * 1.5 < -1.2 */
    pr = mkparams(0.0f, 0, 1.0f, 0.0f, 1.5f, 4, 0);
    s = smolweb_sampler_create(&pr, 4);
    float small[4] = {2.0f, 1.5f, -1.0f, -1.2f};
    smolweb_sampler_accept(s, 0);
    CHECK(smolweb_sampler_sample(s, small) == 1, "penalized argmax"); /* records 1 */
    smolweb_sampler_reset(s);
    float neg[4] = {-5.0f, -5.0f, -1.0f, -1.2f};
    smolweb_sampler_accept(s, 2);
    CHECK(smolweb_sampler_sample(s, neg) == 3, "negative logit multiplied");
    smolweb_sampler_free(s);
}

static void test_reproducible(void) {
    enum { N = 500, STEPS = 1000 };
    float l[N];
    for (int i = 0; i < N; i++) l[i] = (float)(nrand() * 2);
    smolweb_sampler_params pr = mkparams(1.0f, 0, 1.0f, 0.0f, 1.1f, 64, 42);
    smolweb_sampler *a = smolweb_sampler_create(&pr, N), *b = smolweb_sampler_create(&pr, N);
    pr.seed = 43;
    smolweb_sampler *c = smolweb_sampler_create(&pr, N);
    int32_t sa[STEPS];
    int same_ab = 1, diff_c = 0;
    for (int i = 0; i < STEPS; i++) {
        sa[i] = smolweb_sampler_sample(a, l);
        same_ab &= sa[i] == smolweb_sampler_sample(b, l);
        diff_c += sa[i] != smolweb_sampler_sample(c, l);
    }
    CHECK(same_ab, "same seed, different tokens");
    CHECK(diff_c > STEPS / 2, "seed 43 agrees with seed 42 on %d of %d", STEPS - diff_c, STEPS);
    smolweb_sampler_reset(a);
    int again = 1;
    for (int i = 0; i < STEPS; i++) again &= sa[i] == smolweb_sampler_sample(a, l);
    CHECK(again, "reset does not restart the sequence");

    /* one 64-bit value per sample, whatever the filters leave (top_k 1 here) */
    pr = mkparams(0.8f, 1, 0.5f, 0.3f, 1.0f, 0, 9);
    smolweb_sampler *d = smolweb_sampler_create(&pr, N), *e = smolweb_sampler_create(&pr, N);
    for (int i = 0; i < 10; i++) {
        smolweb_sampler_sample(d, l);
        sw_sampler_rng_next(e);
    }
    CHECK(sw_sampler_rng_next(d) == sw_sampler_rng_next(e), "a sample used other than one random value");
    smolweb_sampler_free(a);
    smolweb_sampler_free(b);
    smolweb_sampler_free(c);
    smolweb_sampler_free(d);
    smolweb_sampler_free(e);
}

/* ------------------------------------------------------------------ */
/* golden sequences (must match tests/ref_sampler.py's CASES) */

typedef struct golden {
    const char *name;
    int n_vocab;
    uint64_t salt;
    float t, p, minp, pen;
    int32_t k, last_n;
    uint64_t seed;
    int steps;
    int32_t ids[48];
} golden;

static const golden GOLDEN[] = {
    {"default_seed1234", 1000, 1, 0.7f, 0.95f, 0.05f, 1.1f, 40, 64, 1234, 48,
     {13,  726, 550, 739, 101, 827, 270, 183, 373, 466, 307, 199, 139, 491, 243, 674,
      415, 943, 917, 672, 606, 206, 227, 37,  410, 58,  226, 889, 58,  12,  324, 228,
      607, 238, 360, 219, 75,  594, 366, 485, 367, 853, 726, 415, 408, 222, 223, 261}},
    {"topp_t1.3_seed7", 1000, 2, 1.3f, 0.9f, 0.0f, 1.0f, 0, 64, 7, 48,
     {721, 270, 848, 975, 982, 886, 57,  83,  409, 120, 546, 754, 930, 890, 441, 580,
      251, 459, 129, 100, 131, 667, 671, 274, 771, 97,  50,  606, 153, 474, 68,  103,
      826, 977, 919, 420, 356, 694, 919, 977, 894, 191, 559, 153, 671, 56,  764, 825}},
    {"big_vocab_penalty", 49152, 3, 0.9f, 0.97f, 0.0f, 1.3f, 0, 16, 99, 24,
     {16827, 27286, 18227, 42188, 38642, 9914,  13349, 2695,  41709, 28315, 36298, 8326,
      7232,  6020,  19033, 24899, 9467,  44719, 7284,  37032, 21501, 13803, 42113, 31351}},
    {"t1_nofilter", 300, 4, 1.0f, 1.0f, 0.0f, 1.0f, 0, 0, 18446744073709551615ull, 48,
     {140, 230, 126, 229, 145, 215, 92,  230, 162, 162, 64,  11,  122, 122, 53,  237,
      53,  229, 114, 116, 11,  154, 229, 122, 268, 61,  61,  119, 155, 7,   119, 96,
      53,  30,  68,  78,  271, 229, 88,  280, 229, 229, 262, 199, 20,  271, 53,  30}},
    {"minp_topk", 5000, 5, 2.0f, 1.0f, 0.2f, 1.0f, 1000, 0, 5, 48,
     {1396, 3086, 3328, 4179, 2633, 3936, 2568, 4100, 1783, 1867, 4984, 1235, 1746, 3744, 2873, 4421,
      3502, 4197, 2393, 3668, 1656, 2146, 280,  4512, 3149, 4404, 879,  591,  2786, 4154, 3502, 1731,
      3862, 1902, 2873, 3046, 1847, 3251, 1345, 2978, 1579, 3041, 2146, 727,  4922, 1106, 4428, 174}},
};
#define N_GOLDEN ((int)(sizeof GOLDEN / sizeof GOLDEN[0]))

static void test_golden(void) {
    for (int g = 0; g < N_GOLDEN; g++) {
        const golden *c = &GOLDEN[g];
        float *l = malloc(sizeof *l * (size_t)c->n_vocab);
        hash_logits(l, c->n_vocab, c->salt);
        smolweb_sampler_params pr = mkparams(c->t, c->k, c->p, c->minp, c->pen, c->last_n, c->seed);
        smolweb_sampler *s = smolweb_sampler_create(&pr, c->n_vocab);
        for (int i = 0; i < c->steps; i++) {
            int32_t id = smolweb_sampler_sample(s, l);
            CHECK(id == c->ids[i], "golden %s step %d: %d, expected %d", c->name, i, id, c->ids[i]);
            if (id != c->ids[i]) break;
        }
        smolweb_sampler_free(s);
        free(l);
    }

    /* the independent Python implementation still agrees with the hardcoded ids */
    const char *py = getenv("PYTHON"), *src = getenv("SMOLWEB_SRC");
    if (!py || !*py || !src || !*src) {
        printf("golden: PYTHON or SMOLWEB_SRC unset, ref_sampler.py not rerun\n");
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref_sampler.py'", py, src);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL, "cannot run %s", cmd);
    if (!f) return;
    static char line[65536];
    int g = 0;
    while (fgets(line, sizeof line, f)) {
        CHECK(g < N_GOLDEN, "ref_sampler.py printed more cases than test_sampler.c has");
        if (g >= N_GOLDEN) break;
        char want[65536];
        int len = snprintf(want, sizeof want, "{\"name\": \"%s\", \"ids\": [", GOLDEN[g].name);
        for (int i = 0; i < GOLDEN[g].steps; i++)
            len += snprintf(want + len, sizeof want - (size_t)len, "%s%d", i ? ", " : "", GOLDEN[g].ids[i]);
        snprintf(want + len, sizeof want - (size_t)len, "]}\n");
        CHECK(strcmp(line, want) == 0, "ref_sampler.py case %d:\n  got  %s  want %s", g, line, want);
        g++;
    }
    CHECK(pclose(f) == 0, "ref_sampler.py failed");
    CHECK(g == N_GOLDEN, "ref_sampler.py printed %d cases, expected %d", g, N_GOLDEN);
}

/* ------------------------------------------------------------------ */
/* exact distributions */

/* Compares the sampler's distribution with the reference; returns 0 on mismatch. */
static int check_probs(const char *what, const float *l, int n, const smolweb_sampler_params *pr, const int32_t *hist,
                       int nh, double min_margin) {
    double *ref = malloc(sizeof *ref * (size_t)n), *got = malloc(sizeof *got * (size_t)n);
    double margin = ref_chain(l, n, pr, hist, nh, ref);
    int ok = 1;
    CHECK(margin >= min_margin, "%s: the case is too close to a filter threshold (%.3g); pick another", what, margin);
    smolweb_sampler *s = smolweb_sampler_create(pr, n);
    for (int i = 0; i < nh; i++) smolweb_sampler_accept(s, hist[i]);
    int32_t nc = sw_sampler_probs(s, l, got);
    int nref = 0;
    for (int i = 0; i < n; i++) nref += ref[i] > 0;
    for (int i = 0; i < n && ok; i++) {
        int bad = ref[i] == 0 ? got[i] != 0 : fabs(got[i] - ref[i]) > 1e-6 * ref[i] + 1e-12;
        if (bad) {
            ok = 0;
            CHECK(0, "%s: token %d has p %.12g, reference %.12g", what, i, got[i], ref[i]);
        }
    }
    /* the candidate count may only differ by tokens of negligible weight */
    CHECK(nc <= nref, "%s: %d candidates, reference %d", what, nc, nref);
    smolweb_sampler_free(s);
    free(ref);
    free(got);
    return ok;
}

static void test_probs(void) {
    enum { N = 100, BIG = 49152 };
    float l[N];
    for (int i = 0; i < N; i++) l[i] = (float)(nrand() * 2.5);
    float q[N]; /* quantized: ties everywhere */
    for (int i = 0; i < N; i++) q[i] = roundf(l[i] * 2) / 2;
    int32_t none[1] = {0};
    char what[128];
    const float temps[] = {0.3f, 0.7f, 1.0f, 1.7f};
    for (int ti = 0; ti < 4; ti++) {
        float t = temps[ti];
        smolweb_sampler_params pr = mkparams(t, 0, 1.0f, 0.0f, 1.0f, 0, 0);
        snprintf(what, sizeof what, "T=%g", t);
        check_probs(what, l, N, &pr, none, 0, 0);
        const int ks[] = {1, 2, 5, 17, 40, 99, 100, 1000};
        for (int ki = 0; ki < 8; ki++) {
            pr = mkparams(t, ks[ki], 1.0f, 0.0f, 1.0f, 0, 0);
            snprintf(what, sizeof what, "T=%g top_k=%d", t, ks[ki]);
            check_probs(what, l, N, &pr, none, 0, 0);
            snprintf(what, sizeof what, "T=%g top_k=%d (ties)", t, ks[ki]);
            check_probs(what, q, N, &pr, none, 0, 0);
        }
        const float ps[] = {0.0f, 0.2f, 0.5f, 0.77f, 0.9f, 0.95f, 0.999f};
        for (int pi = 0; pi < 7; pi++) {
            pr = mkparams(t, 0, ps[pi], 0.0f, 1.0f, 0, 0);
            snprintf(what, sizeof what, "T=%g top_p=%g", t, ps[pi]);
            check_probs(what, l, N, &pr, none, 0, 1e-7);
            snprintf(what, sizeof what, "T=%g top_p=%g (ties)", t, ps[pi]);
            check_probs(what, q, N, &pr, none, 0, 1e-7);
            pr.top_k = 12;
            snprintf(what, sizeof what, "T=%g top_k=12 top_p=%g", t, ps[pi]);
            check_probs(what, l, N, &pr, none, 0, 1e-7);
        }
        const float mps[] = {0.01f, 0.05f, 0.3f, 0.9f, 1.0f, 2.0f};
        for (int mi = 0; mi < 6; mi++) {
            pr = mkparams(t, 0, 1.0f, mps[mi], 1.0f, 0, 0);
            snprintf(what, sizeof what, "T=%g min_p=%g", t, mps[mi]);
            check_probs(what, l, N, &pr, none, 0, 1e-7);
            pr = mkparams(t, 30, 0.8f, mps[mi], 1.0f, 0, 0);
            snprintf(what, sizeof what, "T=%g top_k=30 top_p=0.8 min_p=%g", t, mps[mi]);
            check_probs(what, l, N, &pr, none, 0, 1e-7);
        }
    }

    /* repetition penalty: repeated tokens count once; only the last n count;
     * positive logits divided, negative multiplied; ids out of range ignored */
    int32_t hist[] = {3, 3, 3, 7, -1, 1000, 11, 7, 20, 21, 22, 23};
    for (int i = 0; i < N; i++) q[i] = l[i];
    q[3] = 2.0f;
    q[7] = -1.0f;
    q[11] = 0.0f;
    smolweb_sampler_params pr = mkparams(0.9f, 0, 1.0f, 0.0f, 1.7f, 9, 0);
    check_probs("penalty last 9", q, N, &pr, hist, 12, 0);
    pr.repeat_last_n = 64;
    check_probs("penalty last 64", q, N, &pr, hist, 12, 0);
    pr.repeat_penalty = 0.5f; /* below 1 boosts */
    check_probs("penalty 0.5", q, N, &pr, hist, 12, 0);
    /* and the reference really differs from no penalty */
    {
        double a[N], b[N];
        smolweb_sampler_params p0 = pr;
        p0.repeat_penalty = 1.0f;
        ref_chain(q, N, &pr, hist, 12, a);
        ref_chain(q, N, &p0, hist, 12, b);
        CHECK(fabs(a[3] - b[3]) > 1e-3, "penalty reference does not depend on the penalty");
    }

    /* special values: NaN never, -inf never, +inf uniform */
    for (int i = 0; i < N; i++) q[i] = l[i];
    q[4] = NAN;
    q[50] = -INFINITY;
    pr = mkparams(1.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0);
    check_probs("NaN and -inf", q, N, &pr, none, 0, 0);
    q[60] = INFINITY;
    q[10] = INFINITY;
    check_probs("+inf", q, N, &pr, none, 0, 0);
    pr = smolweb_sampler_default_params(); /* heap top-k, top-p, min-p */
    check_probs("+inf with defaults", q, N, &pr, none, 0, 0);
    pr.top_k = 1;
    check_probs("+inf top_k 1", q, N, &pr, none, 0, 0);
    /* -0.0 ties with +0.0 (lowest id first), both top-k methods */
    for (int i = 0; i < N; i++) q[i] = -1.0f - (float)i;
    q[40] = -0.0f;
    q[41] = 0.0f;
    pr = mkparams(1.0f, 1, 1.0f, 0.0f, 1.0f, 0, 0);
    check_probs("-0 vs +0, heap top_k", q, N, &pr, none, 0, 0);
    q[39] = -0.0f;
    pr.top_k = 0;
    pr.top_p = 0.1f;
    check_probs("-0 vs +0, top_p", q, N, &pr, none, 0, 0);
    /* top-p exactly at and just past a cumulative step: 4 equal logits */
    {
        float eq[8] = {1, 1, 1, 1, -100, -100, -100, -100};
        double got[8];
        const float ps[] = {0.25f, 0.5f, 0.50000006f, 0.75f, 0.7500001f, 0.2499999f};
        const int want[] = {1, 2, 3, 3, 4, 1};
        for (int i = 0; i < 6; i++) {
            smolweb_sampler_params pe = mkparams(1.0f, 0, ps[i], 0.0f, 1.0f, 0, 0);
            smolweb_sampler *se = smolweb_sampler_create(&pe, 8);
            int32_t nc = sw_sampler_probs(se, eq, got);
            CHECK(nc == want[i] && got[0] > 0 && (nc < 2 || got[nc - 1] > 0), "top_p %.9g keeps %d, want %d", ps[i],
                  nc, want[i]);
            smolweb_sampler_free(se);
        }
    }
    /* top-k larger than the usable logits (95 NaN), both top-k methods */
    for (int i = 0; i < N; i++) q[i] = i % 20 == 3 ? l[i] : NAN;
    pr = mkparams(1.0f, 10, 1.0f, 0.0f, 1.0f, 0, 0);
    check_probs("top_k 10 of 5 usable", q, N, &pr, none, 0, 0);
    pr.top_k = 99;
    check_probs("top_k 99 of 5 usable", q, N, &pr, none, 0, 0);

    /* a real vocabulary size: the radix select's multi-pass path, with and without ties */
    float *big = malloc(sizeof *big * BIG);
    for (int v = 0; v < 3; v++) {
        for (int i = 0; i < BIG; i++) {
            double x = nrand() * 2.0;
            if (i % 1000 == 0) x += 8; /* a few likely tokens */
            big[i] = v == 0 ? (float)x : v == 1 ? (float)(round(x * 8) / 8) : (float)(i % 7 == 0);
        }
        const smolweb_sampler_params cfg[] = {
            smolweb_sampler_default_params(), mkparams(0.7f, 0, 0.95f, 0.05f, 1.0f, 0, 0),
            mkparams(1.0f, 0, 0.95f, 0.0f, 1.0f, 0, 0), mkparams(1.2f, 2000, 0.999f, 0.0f, 1.0f, 0, 0),
            mkparams(0.8f, 30000, 1.0f, 0.0f, 1.0f, 0, 0), mkparams(1.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0),
        };
        for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
            snprintf(what, sizeof what, "vocab %d logits %d config %zu", BIG, v, c);
            check_probs(what, big, BIG, &cfg[c], none, 0, v == 2 ? 0 : 1e-7);
        }
    }
    free(big);
}

/* ------------------------------------------------------------------ */
/* statistics */

/* Chi-square of counts against probabilities (bins with expected count < 5
 * pooled); *df gets the degrees of freedom. */
static double chi_square(const long *counts, const double *p, int n, long total, int *df) {
    double chi = 0, pool_o = 0, pool_e = 0;
    int bins = 0;
    for (int i = 0; i < n; i++) {
        double e = p[i] * (double)total;
        if (e < 5) {
            pool_o += (double)counts[i];
            pool_e += e;
            continue;
        }
        chi += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
        bins++;
    }
    if (pool_e > 0) {
        chi += (pool_o - pool_e) * (pool_o - pool_e) / pool_e;
        bins++;
    }
    *df = bins - 1;
    return chi;
}

static double chi_bound(int df) { return df + 6.0 * sqrt(2.0 * df) + 6.0; }

/* Draws `draws` tokens (the history is cleared before each so the penalty
 * stays fixed) and checks them against the reference distribution. */
static void check_stats(const char *what, const float *l, int n, const smolweb_sampler_params *pr,
                        const int32_t *hist, int nh, long draws, const smolweb_sampler_params *wrong) {
    double *ref = malloc(sizeof *ref * (size_t)n);
    long *counts = calloc((size_t)n, sizeof *counts);
    ref_chain(l, n, pr, hist, nh, ref);
    smolweb_sampler *s = smolweb_sampler_create(pr, n);
    long outside = 0;
    for (long d = 0; d < draws; d++) {
        /* re-accepting hist (as long as the window) pushes the previous
         * draw out, so the penalty stays the same for every draw */
        for (int i = 0; i < nh; i++) smolweb_sampler_accept(s, hist[i]);
        int32_t id = smolweb_sampler_sample(s, l);
        if (id < 0 || id >= n || ref[id] == 0) {
            outside++;
            continue;
        }
        counts[id]++;
    }
    CHECK(outside == 0, "%s: %ld draws outside the reference support", what, outside);
    int df;
    double chi = chi_square(counts, ref, n, draws, &df);
    printf("stats %-34s chi2 %8.1f df %3d bound %6.1f", what, chi, df, chi_bound(df));
    CHECK(df >= 1 && chi <= chi_bound(df), "%s: chi2 %.1f > %.1f (df %d)", what, chi, chi_bound(df), df);
    if (wrong) {
        ref_chain(l, n, wrong, hist, nh, ref);
        double chi_w = chi_square(counts, ref, n, draws, &df);
        printf("   vs wrong: %.1f", chi_w);
        CHECK(chi_w > chi_bound(df), "%s: the test cannot tell a wrong distribution (chi2 %.1f)", what, chi_w);
    }
    printf("\n");
    smolweb_sampler_free(s);
    free(ref);
    free(counts);
}

static void test_stats(void) {
    enum { N = 100 };
    const long DRAWS = 200000;
    float l[N];
    for (int i = 0; i < N; i++) l[i] = (float)(nrand() * 1.5);
    int32_t none[1] = {0};
    smolweb_sampler_params pr = mkparams(0.8f, 0, 1.0f, 0.0f, 1.0f, 0, 11);
    smolweb_sampler_params wrong = mkparams(0.84f, 0, 1.0f, 0.0f, 1.0f, 0, 11);
    check_stats("T=0.8", l, N, &pr, none, 0, DRAWS, &wrong);
    pr = mkparams(1.0f, 0, 1.0f, 0.0f, 1.0f, 0, 12);
    check_stats("T=1", l, N, &pr, none, 0, DRAWS, NULL);
    pr = mkparams(1.3f, 10, 1.0f, 0.0f, 1.0f, 0, 13);
    wrong = mkparams(1.3f, 11, 1.0f, 0.0f, 1.0f, 0, 13);
    check_stats("T=1.3 top_k=10", l, N, &pr, none, 0, DRAWS, &wrong);
    pr = mkparams(1.0f, 0, 0.8f, 0.0f, 1.0f, 0, 14);
    check_stats("top_p=0.8", l, N, &pr, none, 0, DRAWS, NULL);
    pr = mkparams(2.0f, 0, 1.0f, 0.1f, 1.0f, 0, 15);
    check_stats("T=2 min_p=0.1", l, N, &pr, none, 0, DRAWS, NULL);
    pr = smolweb_sampler_default_params();
    pr.repeat_penalty = 1.0f; /* the history grows with every draw here */
    pr.seed = 16;
    check_stats("defaults without penalty", l, N, &pr, none, 0, DRAWS, NULL);
    /* penalty: history re-accepted before every draw, window exactly its size */
    int32_t hist[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int i = 0; i < 10; i++) hist[i] = (int32_t)(i * 7 % N);
    pr = mkparams(1.0f, 0, 1.0f, 0.0f, 1.8f, 10, 17);
    wrong = mkparams(1.0f, 0, 1.0f, 0.0f, 1.5f, 10, 17);
    check_stats("penalty 1.8", l, N, &pr, hist, 10, DRAWS, &wrong);
}

/* ------------------------------------------------------------------ */

static void test_params(void) {
    smolweb_sampler_params d = smolweb_sampler_default_params();
    CHECK(d.temperature == 0.7f && d.top_k == 40 && d.top_p == 0.95f && d.min_p == 0.05f && d.repeat_penalty == 1.1f &&
              d.repeat_last_n == 64 && d.seed == 0,
          "default params");
    smolweb_sampler *s = smolweb_sampler_create(&d, 10);
    CHECK(s != NULL, "create with defaults");
    smolweb_sampler_free(s);
    smolweb_sampler_free(NULL);
    smolweb_sampler_reset(NULL);
    smolweb_sampler_accept(NULL, 3);
    CHECK(smolweb_sampler_create(NULL, 10) == NULL, "NULL params");
    CHECK(smolweb_sampler_create(&d, 0) == NULL, "n_vocab 0");
    CHECK(smolweb_sampler_create(&d, SW_SAMPLER_MAX_VOCAB + 1) == NULL, "n_vocab too large");
    smolweb_sampler_params p = d;
    p.temperature = NAN;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "temperature NaN");
    p = d;
    p.temperature = INFINITY;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "temperature inf");
    p = d;
    p.top_p = NAN;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "top_p NaN");
    p = d;
    p.min_p = NAN;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "min_p NaN");
    p = d;
    p.repeat_penalty = 0.0f;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "repeat_penalty 0");
    p.repeat_penalty = -1.0f;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "repeat_penalty -1");
    p = d;
    p.repeat_last_n = -1;
    CHECK(smolweb_sampler_create(&p, 10) == NULL, "repeat_last_n -1");
    p.repeat_last_n = 0; /* penalty off */
    s = smolweb_sampler_create(&p, 10);
    CHECK(s != NULL, "repeat_last_n 0");
    smolweb_sampler_accept(s, 3);
    smolweb_sampler_free(s);
    p = d;
    p.temperature = -1.0f; /* greedy */
    p.top_k = -5;           /* off */
    p.top_p = 7.0f;         /* off */
    p.min_p = -1.0f;        /* off */
    s = smolweb_sampler_create(&p, 10);
    CHECK(s != NULL, "out-of-range but meaningful values");
    smolweb_sampler_free(s);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_speed(void) {
    enum { N = 49152, REPS = 300 };
    float *l = malloc(sizeof *l * N);
    for (int i = 0; i < N; i++) l[i] = (float)(nrand() * 2.5);
    for (int i = 0; i < 20; i++) l[(int)(urand() * N)] += 12.0f; /* a peaked head like an LM's */
    struct {
        const char *name;
        smolweb_sampler_params p;
    } cfg[] = {
        {"defaults (T 0.7, k 40, p 0.95, min_p 0.05, pen 1.1)", smolweb_sampler_default_params()},
        {"greedy", mkparams(0.0f, 40, 0.95f, 0.05f, 1.0f, 64, 0)},
        {"greedy + penalty 1.1", mkparams(0.0f, 40, 0.95f, 0.05f, 1.1f, 64, 0)},
        {"top_k off, top_p 0.95, T 0.7", mkparams(0.7f, 0, 0.95f, 0.0f, 1.1f, 64, 0)},
        {"top_k off, top_p 0.95, flat logits", mkparams(0.7f, 0, 0.95f, 0.0f, 1.1f, 64, 0)},
        {"no filters, T 1", mkparams(1.0f, 0, 1.0f, 0.0f, 1.0f, 0, 0)},
    };
    float *flat = malloc(sizeof *flat * N);
    for (int i = 0; i < N; i++) flat[i] = (float)(nrand() * 0.5);
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        smolweb_sampler *s = smolweb_sampler_create(&cfg[c].p, N);
        const float *lg = strstr(cfg[c].name, "flat") ? flat : l;
        for (int i = 0; i < 64; i++) smolweb_sampler_accept(s, (int32_t)(urand() * N));
        double t0 = now_s();
        long sum = 0;
        for (int r = 0; r < REPS; r++) sum += smolweb_sampler_sample(s, lg);
        double per = (now_s() - t0) / REPS;
        printf("speed vocab %d: %-52s %8.1f us/sample (checksum %ld)\n", N, cfg[c].name, per * 1e6, sum);
        CHECK(per < 0.05, "%s: %.3f ms per sample", cfg[c].name, per * 1e3);
        smolweb_sampler_free(s);
    }
    free(l);
    free(flat);
}

int main(void) {
    test_exp();
    test_greedy();
    test_reproducible();
    test_golden();
    test_params();
    test_probs();
    test_stats();
    test_speed();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all sampler tests passed\n");
    return 0;
}
