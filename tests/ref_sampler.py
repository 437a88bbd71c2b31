#!/usr/bin/env python3
"""ref_sampler.py: an independent re-implementation of the sampler's exact
token-choosing rule (src/sampler.c's header comment), used to produce the
golden token sequences that tests/test_sampler.c hardcodes and that the wasm
build must reproduce bit for bit.

It shares only the written specification with the C code, not its
algorithms: top-k and top-p are done by a full sort (the C code uses a radix
select), the fixed-point exponential's table is recomputed here with 60-digit
decimals, and the 64x64 -> 128-bit product uses Python integers.

    /usr/bin/python3 tests/ref_sampler.py      # prints one JSON line per golden case
"""
import json
import sys
from decimal import Decimal, getcontext

import numpy as np

M64 = (1 << 64) - 1
ONE_BITS = 40
EXP_CUT = 28.5

getcontext().prec = 60
_LN2 = Decimal(2).ln()


def _round(d):
    return int((d + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))


EXP2_NEG_Q31 = [_round((-(Decimal(i) / 256) * _LN2).exp() * 2**31) for i in range(256)]
LN2_Q32 = _round(_LN2 * 2**32)


def fx_exp(x):
    """e^x * 2^40 in the sampler's fixed point, for an array of doubles x <= 0
    (uint64 arithmetic: every intermediate product stays below 2^64)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape, dtype=np.uint64)
    live = x > -EXP_CUT
    xs = x[live]
    # t = -x * log2(e) in Q32: one double product by the double nearest
    # log2(e) scaled by 2^32 (exactly), truncated toward zero
    t = (xs * (-1.4426950408889634 * 4294967296.0)).astype(np.int64).astype(np.uint64)
    k = t >> np.uint64(32)
    f = t & np.uint64(0xFFFFFFFF)
    r = ((f & np.uint64(0xFFFFFF)) * np.uint64(LN2_Q32)) >> np.uint64(32)
    r2 = (r * r) >> np.uint64(32)
    r3 = (r2 * r) >> np.uint64(32)
    e = np.uint64(1 << 32) - r + (r2 >> np.uint64(1)) - r3 // np.uint64(6)
    table = np.array(EXP2_NEG_Q31, dtype=np.uint64)
    m = (table[(f >> np.uint64(24)).astype(np.int64)] * e) >> np.uint64(63 - ONE_BITS)
    out[live] = (((m << np.uint64(1)) >> k) + np.uint64(1)) >> np.uint64(1)  # m / 2^k, rounded
    out[x >= 0.0] = np.uint64(1 << ONE_BITS)
    return out


class Rng:
    """xoshiro256** seeded with four splitmix64 outputs."""

    def __init__(self, seed):
        self.x = seed & M64
        self.s = [self._splitmix() for _ in range(4)]

    def _splitmix(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def f32(v):
    return np.float32(v)


class Sampler:
    def __init__(self, n_vocab, temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed):
        self.n = n_vocab
        self.t = f32(temperature)
        self.top_k = top_k
        self.top_p = f32(top_p)
        self.min_p = f32(min_p)
        self.pen = f32(repeat_penalty)
        self.last_n = repeat_last_n
        self.rng = Rng(seed)
        self.recent = []

    def accept(self, tok):
        if self.last_n > 0 and 0 <= tok < self.n:
            self.recent.append(tok)
            self.recent = self.recent[-self.last_n:]

    def sample(self, logits):
        work = np.array(logits, dtype=np.float32)
        if self.pen != f32(1.0):
            for tok in set(self.recent):
                v = work[tok]
                work[tok] = v / self.pen if v > 0 else v * self.pen  # float32 arithmetic
        ids = np.arange(self.n)
        usable = ~np.isnan(work) & (work != -np.inf)
        if not usable.any():
            return -1
        if not (self.t > 0):
            best = int(ids[usable][np.argmax(work[usable])])  # argmax: first of the maxima
            self.accept(best)
            return best
        m = float(work[usable].max())
        assert m != float("inf"), "the golden cases have finite logits"
        t = float(self.t)
        cut = -EXP_CUT * (t if t > 1.0 else 1.0)
        d = work.astype(np.float64) - m  # (double)logit - max, exact per IEEE
        cand = ids[usable & (d >= cut)]
        order = cand[np.lexsort((cand, -work[cand]))]  # logit descending, then id ascending
        if 0 < self.top_k < len(order):
            order = order[: self.top_k]
        w1 = fx_exp(d[order])
        if self.top_p < f32(1.0):
            total1 = int(w1.sum(dtype=np.uint64))
            want = float(self.top_p) * float(total1)
            target = int(want) if want > 0.0 else 0
            if float(target) < want:
                target += 1
            target = min(max(target, 1), total1)
            j = int(np.searchsorted(np.cumsum(w1, dtype=np.uint64), np.uint64(target), side="left"))
            order, w1 = order[: j + 1], w1[: j + 1]
        if self.min_p > f32(0.0):
            one = float(1 << ONE_BITS)
            thr = min(float(self.min_p) * one, one)
            keep = w1.astype(np.float64) >= thr
            order, w1 = order[keep], w1[keep]
        by_id = np.argsort(order)  # the draw walks candidates in increasing id order
        final = order[by_id]
        w = w1[by_id] if t == 1.0 else fx_exp(d[final] / t)
        cum = np.cumsum(w, dtype=np.uint64)
        total = int(cum[-1])
        r = (self.rng.next() * total) >> 64
        tok = int(final[int(np.searchsorted(cum, np.uint64(r), side="right"))])
        self.accept(tok)
        return tok


def hash_logits(n, salt):
    """The synthetic logits test_sampler.c builds too: multiples of 1/400 in
    [-5, 5] (so many ties), from splitmix64 of salt * 1000003 + i."""
    out = []
    for i in range(n):
        x = (salt * 1000003 + i) & M64
        z = (x + 0x9E3779B97F4A7C15) & M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out.append(f32(((z % 4001) - 2000) / 400.0))
    return out


# name, n_vocab, salt, params (temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed), steps
CASES = [
    ("default_seed1234", 1000, 1, (0.7, 40, 0.95, 0.05, 1.1, 64, 1234), 48),
    ("topp_t1.3_seed7", 1000, 2, (1.3, 0, 0.9, 0.0, 1.0, 64, 7), 48),
    ("big_vocab_penalty", 49152, 3, (0.9, 0, 0.97, 0.0, 1.3, 16, 99), 24),
    ("t1_nofilter", 300, 4, (1.0, 0, 1.0, 0.0, 1.0, 0, 2**64 - 1), 48),
    ("minp_topk", 5000, 5, (2.0, 1000, 1.0, 0.2, 1.0, 0, 5), 48),
]


def main():
    for name, n, salt, params, steps in CASES:
        logits = hash_logits(n, salt)
        s = Sampler(n, *params)
        ids = [s.sample(logits) for _ in range(steps)]
        print(json.dumps({"name": name, "ids": ids}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
