"""check_llamacpp.py: smolweb's greedy ids against llama.cpp's (wllama, run by
llamacpp_greedy.mjs) on the same GGUF, for tests/test_llamacpp.sh.

  check_llamacpp.py --build DIR --node NODE --gguf MODEL.gguf --model CHUNK_DIR
                    --tol T [--lp-tol L] [-n 32] [--label NAME] [--calibrate] PROMPT...

For each PROMPT (text; both sides tokenize it, and the prompt lengths must
match):
- step 0: smolweb's log-softmax of the prompt's last logits, at llama.cpp's top
  two tokens, within L of llama.cpp's logprobs for them (a wrong attention
  layout moves these by whole units, quantization noise by tenths);
- then the n greedy ids, step by step, until the first difference. There,
  on the common prefix, smolweb's logit for its pick minus its logit for
  llama.cpp's pick must be below T (that is smolweb's top-2 gap when
  llama.cpp picked smolweb's runner-up, a true near tie; more otherwise). The
  runtimes round activations differently (see the tolerance note in
  test_llamacpp.sh), so a near tie may resolve either way; after it the
  sequences are no longer comparable, so that prompt stops there (reported).
llama.cpp may stop early on a token whose text is not valid UTF-8 (see
llamacpp_greedy.mjs): the comparison then covers the tokens it streamed.
Fails unless, over all prompts, at least MIN_STEPS greedy steps were compared.

--calibrate prints, for every step of llama.cpp's sequence, smolweb's logits
on that same context against llama.cpp's logprobs (the data behind T and L),
and asserts nothing.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

MIN_STEPS = 8


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


class Smolweb:
    def __init__(self, build, model):
        self.run_bin = os.path.join(build, "smolweb-run")
        self.model = model

    def _run(self, args):
        r = subprocess.run([self.run_bin, self.model] + args, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"FAIL: smolweb-run {' '.join(args)[:80]}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def prompt_ids(self, text):
        return json.loads(self._run(["--prompt", text, "--prompt-ids-out"]))

    def greedy(self, ids, n):
        """n greedy ids after ids, and the logits at the last prompt position."""
        fd, path = tempfile.mkstemp(suffix=".f32")
        os.close(fd)
        try:
            out = self._run(["--ids", json.dumps(ids), "-n", str(n), "--temperature", "0", "--ignore-eos",
                             "--ids-out", "--dump-logits", path])
            return json.loads(out.strip().splitlines()[-1]), np.fromfile(path, dtype="<f4")
        finally:
            os.unlink(path)

    def logits(self, ids):
        return self.greedy(ids, 0)[1]


def llamacpp(node, gguf, n, prompts):
    mjs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "llamacpp_greedy.mjs")
    r = subprocess.run([node, mjs, gguf, str(n)] + prompts, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: llamacpp_greedy.mjs exit {r.returncode}:\n{r.stderr[-3000:]}")
    # wllama's worker prints the C++ exception behind a cut on stderr, in order
    reasons = [ln.strip() for ln in r.stderr.splitlines() if "json.exception" in ln]
    res = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    if len(res) != len(prompts):
        sys.exit(f"FAIL: llamacpp_greedy.mjs answered {len(res)} of {len(prompts)} prompts:\n{r.stderr[-3000:]}")
    for x in res:
        if x["cut"] and reasons:
            x["cut"] = reasons.pop(0)
    return res


def gap_of(logits):
    a, b = np.argsort(-logits)[:2]
    return int(a), int(b), float(logits[a] - logits[b])


def calibrate(sw, prompt, ids, ll):
    ctx = list(ids)
    for k, (t1, l1, t2, l2) in enumerate(ll["top2"]):
        lp = log_softmax(sw.logits(ctx))
        d1, d2 = lp[t1] - l1, lp[t2] - l2
        print(f"  calib step {k:2d}: llama top2 {t1} {l1:.4f} / {t2} {l2:.4f} gap {l1 - l2:.4f}; "
              f"smolweb gap {lp[t1] - lp[t2]:+.4f}; d1 {d1:+.4f} d2 {d2:+.4f} dgap {d1 - d2:+.4f}")
        ctx.append(t1)


def check_prompt(sw, ll, prompt, n, tol, lp_tol, label):
    """Returns the number of greedy steps compared; exits on failure."""
    if not ll["ids"]:
        print(f"{label}: {prompt!r}: nothing compared: llama.cpp streamed no token ({ll['cut']})", flush=True)
        return 0
    ids = sw.prompt_ids(prompt)
    if ll["add_bos"]:
        sys.exit(f"FAIL: {label}: llama.cpp would prepend BOS (the GGUF asks for it); the ids would not line up")
    if ll["prompt_tokens"] != len(ids):
        sys.exit(f"FAIL: {label}: {prompt!r}: llama.cpp tokenized {ll['prompt_tokens']} tokens, smolweb {len(ids)} {ids}")
    sw_ids, logits0 = sw.greedy(ids, n)
    if len(sw_ids) != n:
        sys.exit(f"FAIL: {label}: smolweb-run gave {len(sw_ids)} ids, expected {n}")
    msg = f"{label}: {prompt!r} ({len(ids)} tokens):"
    t1, l1, t2, l2 = ll["top2"][0]
    lp = log_softmax(logits0)
    d = max(abs(lp[t1] - l1), abs(lp[t2] - l2))
    if d > lp_tol:
        sys.exit(f"FAIL: {msg} step 0 logprobs differ by {d:.3f} > {lp_tol}: llama.cpp {t1}:{l1:.4f} {t2}:{l2:.4f},"
                 f" smolweb {t1}:{lp[t1]:.4f} {t2}:{lp[t2]:.4f}")
    msg += f" step-0 logprobs within {d:.3f};"
    ll_ids = ll["ids"]
    for k in range(len(ll_ids)):
        if ll_ids[k] == sw_ids[k]:
            continue
        logits = sw.logits(ids + sw_ids[:k])
        a, b, gap = gap_of(logits)
        # the tie that matters is between the two picks; when llama.cpp's pick
        # is smolweb's runner-up (a true near tie) this is the top-2 gap
        pair = float(logits[sw_ids[k]] - logits[ll_ids[k]])
        _, ll_l1, ll_t2, ll_l2 = ll["top2"][k]
        where = (f"step {k}: llama.cpp {ll_ids[k]} (its top-2 gap: {ll_l1 - ll_l2:.4f}), smolweb {sw_ids[k]}"
                 f" (its logit gap to llama.cpp's pick: {pair:.4f}; top-2 gap {gap:.4f})")
        if a != sw_ids[k]:  # prefill and decode round differently: a tie within smolweb too
            where += f" (smolweb's prefill of the prefix prefers {a})"
        if pair >= tol:
            sys.exit(f"FAIL: {msg} greedy ids differ at {where} >= tolerance {tol}\n"
                     f"  llama.cpp {ll_ids}\n  smolweb   {sw_ids}")
        print(f"{msg} ids agree on the first {k} steps; near tie at {where} < {tol}: stop", flush=True)
        return k + 1
    tail = f"; llama.cpp cut after {len(ll_ids)}: {ll['cut']}" if ll["cut"] else ""
    print(f"{msg} ids agree on all {len(ll_ids)} steps{tail}", flush=True)
    return len(ll_ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tol", type=float, required=True)
    ap.add_argument("--lp-tol", type=float, default=None)
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("--label", default="")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("prompts", nargs="+")
    a = ap.parse_args()
    sw = Smolweb(a.build, a.model)
    lls = llamacpp(a.node, a.gguf, a.n, a.prompts)
    if a.calibrate:
        for p, ll in zip(a.prompts, lls):
            print(f"{a.label}: {p!r}: llama.cpp {len(ll['ids'])} ids, cut {ll['cut']}")
            calibrate(sw, p, sw.prompt_ids(p), ll)
        return
    lp_tol = a.lp_tol if a.lp_tol is not None else a.tol
    compared = sum(check_prompt(sw, ll, p, a.n, a.tol, lp_tol, a.label) for p, ll in zip(a.prompts, lls))
    if compared < MIN_STEPS:
        sys.exit(f"FAIL: {a.label}: only {compared} greedy steps compared over {len(a.prompts)} prompts"
                 f" (need {MIN_STEPS}): too many near ties or cuts to say anything")


if __name__ == "__main__":
    main()
