/* sampler.c: choosing the next token from the logits (API in smolweb.h).
 *
 * Order of operations (llama.cpp's default sampler chain, minus the samplers
 * we do not have):
 *   1. repetition penalty  on the raw logits
 *   2. top-k               on the penalized logits
 *   3. top-p               on softmax(penalized logits) over the top-k survivors, at temperature 1
 *   4. min-p               on that same temperature-1 distribution, relative to its maximum
 *   5. temperature         softmax((logit - max) / T) over the survivors
 *   6. draw one token
 * So, as in llama.cpp, the temperature changes the shape of the final
 * distribution but not which tokens survive the filters (Hugging Face's
 * generate() differs: it applies the temperature before top-k/top-p).
 * temperature <= 0 is greedy: the argmax of the penalized logits (ties: the
 * lowest id); the filters cannot change it (they always keep the argmax) and
 * no random number is used. The penalty applies in greedy mode too, as in
 * llama.cpp and Hugging Face; set repeat_penalty 1 for the plain argmax.
 *
 * Same seed, same tokens on every platform (x86-64 native, wasm32). Only
 * single IEEE-754 operations touch the choice: the penalty's float * or /,
 * and in double (exact conversions from float) logit - max, the division by
 * T, one product in e^x's range reduction, and the top-p and min-p
 * thresholds (p * total, min_p * 2^40). Each is correctly rounded on both
 * targets; there is no libm call, no a*b+c a compiler could contract into an
 * FMA, and no reassociation (fast-math and excess precision are refused
 * below). Everything else is integer arithmetic: e^x in fixed point
 * (fx_exp), probabilities as integer weights with the most likely token at
 * exactly 2^40, exact sums (so their order cannot matter), and an integer
 * draw from xoshiro256**. tests/ref_sampler.py re-implements this rule, and
 * the golden sequences in tests/test_sampler.c come from it.
 *
 * The draw: r = floor(u * total / 2^64) for the next 64-bit value u; the
 * token is the first candidate, in increasing id order, whose running weight
 * sum exceeds r. Every non-greedy sample uses exactly one 64-bit value, even
 * when one candidate is left, so the random stream does not depend on the
 * filters' outcome.
 *
 * Tie-breaking: tokens are ordered by (penalized logit descending, id
 * ascending) everywhere (top-k, top-p); -0.0 counts as +0.0.
 *
 * Special logits: NaN and -inf are never chosen; if any logit is +inf, the
 * distribution is uniform over the +inf ones (the softmax limit); all NaN or
 * -inf: the logits are unusable and sample returns -1. A token less likely
 * than e^-28.5 (4e-13) times the most likely one weighs 0 and is never drawn.
 *
 * Cost per call: O(n_vocab), no allocation, no full sort. Top-k up to 128
 * uses a heap fed straight from the logits (one float comparison for most
 * tokens); larger k and the top-p nucleus use a radix select on a 64-bit
 * (logit, id) key, weighted by probability for top-p, which without top-k
 * first drops the tokens that rank below the nucleus using a histogram
 * built while weighing them. The results do not depend on these methods:
 * keys are distinct, so every correct selection finds the same set. */
#include <float.h>
#include <math.h> /* INFINITY only: no libm calls */
#include <stdlib.h>
#include <string.h>

#include "sampler_internal.h"
#include "smolweb.h"

#if defined(__FAST_MATH__)
#error "sampler.c must not be built with -ffast-math: it would break cross-platform determinism"
#endif
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "sampler.c needs FLT_EVAL_METHOD 0 (no excess precision) for cross-platform determinism"
#endif
#if defined(__clang__)
/* Belt and braces: nothing on the decision path has the a*b+c shape anyway. */
#pragma STDC FP_CONTRACT OFF
#endif

/* ------------------------------------------------------------------ */
/* Fixed-point exponential */

/* round(2^(31 - i/256)), i = 0..255: 2^-f for the top 8 bits of a fraction f. */
static const uint32_t EXP2_NEG_Q31[256] = {
    2147483648u, 2141676973u, 2135885998u, 2130110682u, 2124350982u, 2118606857u,
    2112878262u, 2107165158u, 2101467502u, 2095785251u, 2090118366u, 2084466803u,
    2078830522u, 2073209480u, 2067603638u, 2062012954u, 2056437387u, 2050876895u,
    2045331439u, 2039800978u, 2034285470u, 2028784876u, 2023299156u, 2017828268u,
    2012372174u, 2006930832u, 2001504204u, 1996092249u, 1990694927u, 1985312200u,
    1979944027u, 1974590370u, 1969251188u, 1963926443u, 1958616096u, 1953320108u,
    1948038440u, 1942771053u, 1937517909u, 1932278970u, 1927054196u, 1921843549u,
    1916646992u, 1911464486u, 1906295993u, 1901141476u, 1896000896u, 1890874216u,
    1885761398u, 1880662405u, 1875577199u, 1870505744u, 1865448001u, 1860403934u,
    1855373507u, 1850356681u, 1845353420u, 1840363688u, 1835387448u, 1830424663u,
    1825475297u, 1820539314u, 1815616678u, 1810707353u, 1805811301u, 1800928489u,
    1796058879u, 1791202437u, 1786359126u, 1781528911u, 1776711757u, 1771907628u,
    1767116489u, 1762338305u, 1757573041u, 1752820662u, 1748081133u, 1743354420u,
    1738640488u, 1733939301u, 1729250827u, 1724575029u, 1719911875u, 1715261330u,
    1710623359u, 1705997930u, 1701385007u, 1696784557u, 1692196547u, 1687620943u,
    1683057710u, 1678506817u, 1673968228u, 1669441912u, 1664927835u, 1660425963u,
    1655936265u, 1651458706u, 1646993254u, 1642539877u, 1638098541u, 1633669214u,
    1629251865u, 1624846459u, 1620452965u, 1616071351u, 1611701585u, 1607343634u,
    1602997467u, 1598663052u, 1594340357u, 1590029350u, 1585730000u, 1581442275u,
    1577166143u, 1572901575u, 1568648537u, 1564406999u, 1560176931u, 1555958300u,
    1551751076u, 1547555228u, 1543370725u, 1539197537u, 1535035634u, 1530884983u,
    1526745556u, 1522617322u, 1518500250u, 1514394310u, 1510299473u, 1506215708u,
    1502142985u, 1498081275u, 1494030547u, 1489990772u, 1485961921u, 1481943963u,
    1477936870u, 1473940611u, 1469955159u, 1465980482u, 1462016553u, 1458063343u,
    1454120821u, 1450188960u, 1446267730u, 1442357104u, 1438457051u, 1434567544u,
    1430688553u, 1426820052u, 1422962010u, 1419114401u, 1415277195u, 1411450365u,
    1407633882u, 1403827719u, 1400031848u, 1396246240u, 1392470869u, 1388705706u,
    1384950723u, 1381205894u, 1377471191u, 1373746586u, 1370032052u, 1366327563u,
    1362633090u, 1358948606u, 1355274085u, 1351609500u, 1347954824u, 1344310030u,
    1340675091u, 1337049980u, 1333434672u, 1329829140u, 1326233356u, 1322647296u,
    1319070932u, 1315504238u, 1311947188u, 1308399756u, 1304861917u, 1301333643u,
    1297814910u, 1294305692u, 1290805962u, 1287315695u, 1283834865u, 1280363448u,
    1276901417u, 1273448747u, 1270005413u, 1266571390u, 1263146652u, 1259731174u,
    1256324931u, 1252927899u, 1249540052u, 1246161366u, 1242791816u, 1239431376u,
    1236080024u, 1232737732u, 1229404479u, 1226080238u, 1222764986u, 1219458698u,
    1216161350u, 1212872918u, 1209593378u, 1206322705u, 1203060876u, 1199807867u,
    1196563654u, 1193328213u, 1190101520u, 1186883552u, 1183674286u, 1180473697u,
    1177281762u, 1174098458u, 1170923762u, 1167757650u, 1164600099u, 1161451085u,
    1158310587u, 1155178580u, 1152055042u, 1148939949u, 1145833280u, 1142735011u,
    1139645120u, 1136563583u, 1133490379u, 1130425485u, 1127368878u, 1124320536u,
    1121280436u, 1118248556u, 1115224875u, 1112209370u, 1109202018u, 1106202798u,
    1103211687u, 1100228665u, 1097253708u, 1094286796u, 1091327906u, 1088377016u,
    1085434106u, 1082499153u, 1079572136u, 1076653033u,
};
#define LN2_Q32 2977044472u /* round(ln(2) * 2^32) */

/* e^x * 2^40 rounded, for x <= 0 (sw_sampler_exp in sampler_internal.h). */
static inline uint64_t fx_exp(double x) {
    if (!(x > -SW_SAMPLER_EXP_CUT)) return 0; /* also NaN and -inf */
    if (x >= 0.0) return 1ull << SW_SAMPLER_ONE_BITS;
    /* t = -x * log2(e) in Q32, t < 41.2 * 2^32: one IEEE double product (the
     * constant is log2(e) * 2^32, an exact power-of-two scaling of the
     * double nearest log2(e)), then truncation: a relative error < 2e-10.
     * The value is below 2^63, so the cheaper signed conversion is exact. */
    uint64_t t = (uint64_t)(int64_t)(x * (-1.4426950408889634 * 4294967296.0));
    unsigned k = (unsigned)(t >> 32); /* integer part, <= 41 */
    uint32_t f = (uint32_t)t;         /* fraction, Q32 */
    /* 2^-f = 2^-(top 8 bits) * e^-r with r = (low 24 bits) * ln 2 < 0.0028:
     * table times a 3rd-order Taylor series (remainder r^4/24 < 3e-12) */
    uint64_t r = ((uint64_t)(f & 0xFFFFFFu) * LN2_Q32) >> 32;
    uint64_t r2 = (r * r) >> 32;
    uint64_t r3 = (r2 * r) >> 32;
    uint64_t e = (1ull << 32) - r + (r2 >> 1) - r3 / 6;                              /* Q32, <= 2^32 */
    uint64_t m = ((uint64_t)EXP2_NEG_Q31[f >> 24] * e) >> (63 - SW_SAMPLER_ONE_BITS); /* Q40 */
    /* round(m / 2^k) without a branch on k: floor((floor(2m / 2^k) + 1) / 2) */
    return (((m << 1) >> k) + 1) >> 1;
}

uint64_t sw_sampler_exp(double x) { return fx_exp(x); }

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** (Blackman and Vigna), seeded by splitmix64 */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4]) {
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* floor(a * b / 2^64), from 32-bit halves (no 128-bit type on every target). */
static uint64_t mulhi64(uint64_t a, uint64_t b) {
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, hl = ah * bl, lh = al * bh, hh = ah * bh;
    uint64_t cross = (ll >> 32) + (uint32_t)hl + lh; /* <= 2^64 - 1 */
    return hh + (hl >> 32) + (cross >> 32);
}

/* ------------------------------------------------------------------ */
/* The sampler */

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)
#define SMALL_SELECT 32
#define HEAP_TOP_K 128 /* top-k up to this uses a heap, larger a radix select */

struct smolweb_sampler {
    smolweb_sampler_params p;
    int32_t n_vocab;
    uint64_t rng[4];
    int32_t *recent;    /* (repeat_last_n) ring of the last accepted tokens */
    int32_t n_recent;   /* how many of them are filled */
    int32_t recent_pos; /* where the next one goes */
    uint32_t *mark;     /* (n_vocab) == mark_now: already penalized this call */
    uint32_t mark_now;
    float *work;        /* (n_vocab) penalized logits */
    uint64_t *key;      /* (n_vocab) candidates: see make_key */
    uint64_t *w;        /* (n_vocab) candidates' weights */
    uint64_t *sub_key;  /* (n_vocab) radix-select scratch */
    uint64_t *sub_w;    /* (n_vocab) radix-select scratch; nucleus_candidates' per-id weights */
    uint64_t bins[RADIX_SIZE];
    uint64_t heap[HEAP_TOP_K];
    /* results of prepare() */
    const float *lg;    /* the logits it used: the caller's, or work when penalized */
    float max_logit;
    int32_t n_cand;     /* key/w[0..n_cand): candidates in increasing id order */
    uint64_t total;     /* sum of w[0..n_cand) */
};

smolweb_sampler_params smolweb_sampler_default_params(void) {
    smolweb_sampler_params p;
    memset(&p, 0, sizeof p);
    p.temperature = 0.7f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.repeat_penalty = 1.1f;
    p.repeat_last_n = 64;
    p.seed = 0;
    return p;
}

static int params_ok(const smolweb_sampler_params *p) {
    /* written so that NaN fails every comparison */
    if (!(p->temperature >= -FLT_MAX && p->temperature <= FLT_MAX)) return 0;
    if (!(p->top_p == p->top_p) || !(p->min_p == p->min_p)) return 0;
    if (!(p->repeat_penalty > 0.0f && p->repeat_penalty <= FLT_MAX)) return 0;
    if (p->repeat_last_n < 0 || p->repeat_last_n > SW_SAMPLER_MAX_LAST_N) return 0;
    return 1;
}

smolweb_sampler *smolweb_sampler_create(const smolweb_sampler_params *params, int32_t n_vocab) {
    if (!params || !params_ok(params) || n_vocab < 1 || n_vocab > SW_SAMPLER_MAX_VOCAB) return NULL;
    smolweb_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t n = (size_t)n_vocab;
    s->p = *params;
    s->n_vocab = n_vocab;
    s->recent = malloc(sizeof *s->recent * (params->repeat_last_n > 0 ? (size_t)params->repeat_last_n : 1));
    s->mark = calloc(n, sizeof *s->mark);
    s->work = malloc(sizeof *s->work * n);
    s->key = malloc(sizeof *s->key * n);
    s->w = malloc(sizeof *s->w * n);
    s->sub_key = malloc(sizeof *s->sub_key * n);
    s->sub_w = malloc(sizeof *s->sub_w * n);
    if (!s->recent || !s->mark || !s->work || !s->key || !s->w || !s->sub_key || !s->sub_w) {
        smolweb_sampler_free(s);
        return NULL;
    }
    smolweb_sampler_reset(s);
    return s;
}

void smolweb_sampler_free(smolweb_sampler *s) {
    if (!s) return;
    free(s->recent);
    free(s->mark);
    free(s->work);
    free(s->key);
    free(s->w);
    free(s->sub_key);
    free(s->sub_w);
    free(s);
}

void smolweb_sampler_reset(smolweb_sampler *s) {
    if (!s) return;
    s->n_recent = 0;
    s->recent_pos = 0;
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

/* Ids outside [0, n_vocab) are ignored (not recorded): they have no logit. */
void smolweb_sampler_accept(smolweb_sampler *s, int32_t token) {
    if (!s || token < 0 || token >= s->n_vocab || s->p.repeat_last_n <= 0) return;
    s->recent[s->recent_pos] = token;
    s->recent_pos = (s->recent_pos + 1) % s->p.repeat_last_n;
    if (s->n_recent < s->p.repeat_last_n) s->n_recent++;
}

uint64_t sw_sampler_rng_next(smolweb_sampler *s) { return xoshiro_next(s->rng); }

/* Returns the logits to use: the caller's when no penalty applies, else a
 * copy in work[] with the penalty applied once to each distinct recent token. */
static const float *penalize(smolweb_sampler *s, const float *logits) {
    float pen = s->p.repeat_penalty;
    if (pen == 1.0f || s->n_recent == 0) return logits;
    float *work = s->work;
    memcpy(work, logits, sizeof *work * (size_t)s->n_vocab);
    if (++s->mark_now == 0) { /* wrapped: stale marks could collide */
        memset(s->mark, 0, sizeof *s->mark * (size_t)s->n_vocab);
        s->mark_now = 1;
    }
    for (int32_t j = 0; j < s->n_recent; j++) {
        int32_t t = s->recent[j];
        if (s->mark[t] == s->mark_now) continue;
        s->mark[t] = s->mark_now;
        work[t] = work[t] > 0.0f ? work[t] / pen : work[t] * pen;
    }
    return work;
}

/* Largest logit; -inf when none is usable (x > m fails for NaN, and for
 * -inf against -inf). */
static float max_logit(const float *lg, int32_t n) {
    float m = -INFINITY;
    for (int32_t i = 0; i < n; i++)
        if (lg[i] > m) m = lg[i];
    return m;
}

/* First index of the largest usable logit, -1 if none. */
static int32_t argmax(const float *lg, int32_t n) {
    int32_t best = -1;
    float bv = -INFINITY;
    for (int32_t i = 0; i < n; i++) {
        if (lg[i] > bv) {
            bv = lg[i];
            best = i;
        }
    }
    return best;
}

/* logit - max as a double, <= 0. The +inf rule falls out of it: with max
 * +inf, the +inf logits get 0 (weight 1) and every other one -inf (weight 0). */
static double rel(float l, float m) { return l == m ? 0.0 : (double)l - (double)m; }

/* A usable logit's 64-bit key, in the total order of the header comment:
 * bigger key = bigger logit, or equal logit and smaller id. The high half is
 * the float's bits made monotone (negative: all bits flipped; positive: sign
 * bit set), with -0.0 taken as +0.0; the low half is ~id. */
static uint64_t make_key(float logit, int32_t id) {
    uint32_t b;
    memcpy(&b, &logit, sizeof b);
    if (b == 0x80000000u) b = 0;
    uint32_t u = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
    return ((uint64_t)u << 32) | (uint32_t)~(uint32_t)id;
}

static int32_t key_id(uint64_t key) { return (int32_t)(uint32_t)~(uint32_t)key; }

/* The smallest key of the shortest prefix, in decreasing key order, of the
 * n >= 1 candidates in s->key (weights s->w when weighted, else 1 each) whose
 * weight sum reaches target (1 <= target <= the total). Radix select on
 * 11-bit digits from the top: each pass keeps only the bucket where the
 * running sum crosses the target. Keys are distinct, so it ends after at
 * most six passes (usually two or three). */
static uint64_t select_boundary(smolweb_sampler *s, int32_t n, int weighted, uint64_t target) {
    const uint64_t *key = s->key, *w = s->w;
    int shift = 64 - RADIX_BITS;
    while (n > SMALL_SELECT) {
        memset(s->bins, 0, sizeof s->bins);
        if (weighted)
            for (int32_t i = 0; i < n; i++) s->bins[(key[i] >> shift) & (RADIX_SIZE - 1)] += w[i];
        else
            for (int32_t i = 0; i < n; i++) s->bins[(key[i] >> shift) & (RADIX_SIZE - 1)]++;
        uint64_t cum = 0;
        int b = RADIX_SIZE - 1;
        while (b > 0 && cum + s->bins[b] < target) cum += s->bins[b--];
        target -= cum;
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++) {
            if ((int)((key[i] >> shift) & (RADIX_SIZE - 1)) != b) continue;
            s->sub_key[m] = key[i];
            if (weighted) s->sub_w[m] = w[i];
            m++;
        }
        key = s->sub_key;
        w = s->sub_w;
        n = m;
        if (shift == 0) break; /* all 64 bits equal: n is 1 */
        shift = shift > RADIX_BITS ? shift - RADIX_BITS : 0;
    }
    /* few left: insertion sort, decreasing key */
    uint64_t k[SMALL_SELECT], kw[SMALL_SELECT];
    for (int32_t i = 0; i < n; i++) {
        uint64_t ki = key[i], wi = weighted ? w[i] : 1;
        int32_t j = i;
        for (; j > 0 && k[j - 1] < ki; j--) {
            k[j] = k[j - 1];
            kw[j] = kw[j - 1];
        }
        k[j] = ki;
        kw[j] = wi;
    }
    uint64_t cum = 0;
    for (int32_t i = 0; i < n; i++) {
        cum += kw[i];
        if (cum >= target) return k[i];
    }
    return n > 0 ? k[n - 1] : 0; /* not reached when target <= total */
}

/* Keeps the candidates whose key is >= boundary (order preserved). */
static int32_t keep_from(smolweb_sampler *s, int32_t n, uint64_t boundary) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (s->key[i] < boundary) continue;
        s->key[m] = s->key[i];
        s->w[m] = s->w[i];
        m++;
    }
    return m;
}

static void heap_sift_down(uint64_t *h, int n, int i) {
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[i] <= h[c]) return;
        uint64_t t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

static int by_id(const void *a, const void *b) {
    int32_t x = key_id(*(const uint64_t *)a), y = key_id(*(const uint64_t *)b);
    return (x > y) - (x < y);
}

/* Top-k for k <= HEAP_TOP_K straight from the logits: a min-heap of the k
 * best keys, where most logits are rejected by one float comparison. Leaves
 * the (at most k) candidates in s->key in increasing id order; returns how
 * many. Keys are distinct, so the set does not depend on the method. */
static int32_t top_k_heap(smolweb_sampler *s, int32_t k) {
    const float *lg = s->lg;
    uint64_t *h = s->heap;
    int n = 0;
    float floor_logit = -INFINITY; /* logit of the heap's smallest key once full */
    for (int32_t i = 0; i < s->n_vocab; i++) {
        float l = lg[i];
        if (!(l >= floor_logit) || l == -INFINITY) continue; /* NaN, -inf, or too small */
        uint64_t key = make_key(l, i);
        if (n < k) {
            int j = n++; /* sift up */
            while (j > 0 && h[(j - 1) / 2] > key) {
                h[j] = h[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            h[j] = key;
        } else {
            if (key <= h[0]) continue;
            h[0] = key;
            heap_sift_down(h, n, 0);
        }
        if (n == k) floor_logit = lg[key_id(h[0])];
    }
    memcpy(s->key, h, sizeof *h * (size_t)n);
    qsort(s->key, (size_t)n, sizeof *s->key, by_id); /* distinct ids: a unique order */
    return n;
}

/* Weights at temperature t (t == 1: e^(logit - max)); returns their sum. */
static uint64_t weigh(smolweb_sampler *s, int32_t n, double t) {
    const float *lg = s->lg;
    float m = s->max_logit;
    uint64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        double x = rel(lg[key_id(s->key[i])], m);
        total += s->w[i] = fx_exp(t == 1.0 ? x : x / t);
    }
    return total;
}

/* The weight sum top-p must reach: ceil(top_p * total1), within [1, total1]. */
static uint64_t top_p_target(float top_p, uint64_t total1) {
    double want = (double)top_p * (double)total1;
    uint64_t target = want > 0.0 ? (uint64_t)want : 0;
    if ((double)target < want) target++; /* round up */
    if (target < 1) target = 1;
    if (target > total1) target = total1;
    return target;
}

/* Histogram bucket of x = logit - max <= 0, in steps of 1/32: bucket order
 * agrees with key order (x is monotone in the logit; equal logits share a
 * bucket). */
static int x_bucket(double x) { return -x < 64.0 ? (int)(-x * 32.0) : RADIX_SIZE - 1; }

/* Candidates for top-p without top-k, the common case that has to look at
 * the whole vocabulary. One pass weighs every token (the total is needed)
 * and sums the weights per x_bucket; only the tokens down to the bucket
 * where the running sum reaches the target become candidates (keys and
 * weights, increasing id order). Every token left out ranks below all of
 * them, so the select among candidates finds the same nucleus as among all
 * tokens, without building a key for each. Sets *total1 to the full sum. */
static int32_t nucleus_candidates(smolweb_sampler *s, double cut, uint64_t *total1) {
    const float *lg = s->lg;
    float m = s->max_logit;
    /* per id, until select_boundary reuses the array: bucket << 48 | weight
     * (weights are at most 2^40), all ones for a token below the cut */
    uint64_t *packed = s->sub_w;
    uint64_t total = 0;
    memset(s->bins, 0, sizeof s->bins);
    for (int32_t i = 0; i < s->n_vocab; i++) {
        double x = rel(lg[i], m);
        if (!(x >= cut)) {
            packed[i] = UINT64_MAX;
            continue;
        }
        uint64_t w = fx_exp(x);
        int b = x_bucket(x);
        packed[i] = (uint64_t)b << 48 | w;
        s->bins[b] += w;
        total += w;
    }
    uint64_t target = top_p_target(s->p.top_p, total), cum = 0;
    uint64_t last = 0;
    while (last < RADIX_SIZE - 1 && cum + s->bins[last] < target) cum += s->bins[last++];
    int32_t n = 0;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        if ((packed[i] >> 48) > last) continue;
        s->key[n] = make_key(lg[i], i);
        s->w[n++] = packed[i] & ((1ull << 48) - 1);
    }
    *total1 = total;
    return n;
}

static uint64_t sum_weights(const uint64_t *w, int32_t n) {
    uint64_t total = 0;
    for (int32_t i = 0; i < n; i++) total += w[i];
    return total;
}

/* Steps 1-5 of the chain for temperature > 0: leaves the candidates in
 * s->key/s->w[0..s->n_cand), increasing id order, and their sum in s->total.
 * Returns 0 when the logits are unusable. */
static int prepare(smolweb_sampler *s, const float *logits) {
    const smolweb_sampler_params *p = &s->p;
    double t = (double)p->temperature;
    int need_w1 = p->top_p < 1.0f || p->min_p > 0.0f || t == 1.0;
    int32_t n;
    uint64_t total1 = 0;
    s->lg = penalize(s, logits);

    if (p->top_k > 0 && p->top_k <= HEAP_TOP_K && p->top_k < s->n_vocab) {
        n = top_k_heap(s, p->top_k);
        if (n == 0) return 0;
        float m = -INFINITY;
        for (int32_t i = 0; i < n; i++) {
            float l = s->lg[key_id(s->key[i])];
            if (l > m) m = l;
        }
        s->max_logit = m;
        if (need_w1) total1 = weigh(s, n, 1.0);
    } else {
        float m = max_logit(s->lg, s->n_vocab);
        if (m == -INFINITY) return 0;
        s->max_logit = m;
        /* Candidates: usable logits (the comparison fails for NaN and -inf)
         * minus those that weigh 0 both at temperature 1 and at t: they weigh
         * 0 at every step, so dropping them changes no probability and no
         * filter's outcome (a token that weighs 0 is never needed to reach a
         * top-p target, never passes min-p, and in top-k only stands for a
         * zero weight). With no top-k, the temperature-1 weights come in the
         * same pass. */
        double cut = -SW_SAMPLER_EXP_CUT * (t > 1.0 ? t : 1.0);
        int top_k_on = p->top_k > 0 && p->top_k < s->n_vocab;
        if (!top_k_on && p->top_p < 1.0f) {
            n = nucleus_candidates(s, cut, &total1);
        } else {
            int fuse = need_w1 && !top_k_on;
            n = 0;
            for (int32_t i = 0; i < s->n_vocab; i++) {
                float l = s->lg[i];
                double x = rel(l, m);
                if (!(x >= cut)) continue;
                s->key[n] = make_key(l, i);
                uint64_t w = fuse ? fx_exp(x) : 0;
                s->w[n++] = w;
                total1 += w;
            }
            if (top_k_on && p->top_k < n) n = keep_from(s, n, select_boundary(s, n, 0, (uint64_t)p->top_k));
            if (need_w1 && !fuse) total1 = weigh(s, n, 1.0);
        }
    }

    if (p->top_p < 1.0f) n = keep_from(s, n, select_boundary(s, n, 1, top_p_target(p->top_p, total1)));
    if (p->min_p > 0.0f) {
        /* p >= min_p * pmax, i.e. w >= min_p * 2^40 (the max weighs 2^40);
         * min_p >= 1 keeps only the tokens as likely as the max */
        double one = (double)(1ull << SW_SAMPLER_ONE_BITS);
        double thr = (double)p->min_p * one;
        if (thr > one) thr = one;
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++) {
            if (!((double)s->w[i] >= thr)) continue;
            s->key[m] = s->key[i];
            s->w[m] = s->w[i];
            m++;
        }
        n = m;
    }
    s->n_cand = n;
    s->total = t == 1.0 ? sum_weights(s->w, n) : weigh(s, n, t);
    return 1;
}

static int greedy(const smolweb_sampler *s) { return !(s->p.temperature > 0.0f); }

int32_t smolweb_sampler_sample(smolweb_sampler *s, const float *logits) {
    if (!s || !logits) return -1;
    int32_t id;
    if (greedy(s)) {
        id = argmax(penalize(s, logits), s->n_vocab);
    } else {
        if (!prepare(s, logits)) return -1;
        uint64_t r = mulhi64(xoshiro_next(s->rng), s->total);
        uint64_t cum = 0;
        id = key_id(s->key[s->n_cand - 1]);
        for (int32_t i = 0; i < s->n_cand; i++) {
            cum += s->w[i];
            if (r < cum) {
                id = key_id(s->key[i]);
                break;
            }
        }
    }
    if (id >= 0) smolweb_sampler_accept(s, id);
    return id;
}

int32_t sw_sampler_probs(smolweb_sampler *s, const float *logits, double *probs) {
    if (!s || !logits || !probs) return 0;
    for (int32_t i = 0; i < s->n_vocab; i++) probs[i] = 0.0;
    if (greedy(s)) {
        int32_t id = argmax(penalize(s, logits), s->n_vocab);
        if (id < 0) return 0;
        probs[id] = 1.0;
        return 1;
    }
    if (!prepare(s, logits)) return 0;
    for (int32_t i = 0; i < s->n_cand; i++) probs[key_id(s->key[i])] = (double)s->w[i] / (double)s->total;
    return s->n_cand;
}
