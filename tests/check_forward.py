"""check_forward.py: smolweb-run against the independent numpy forward pass
(ref_forward.py) on a model folder's dequantized weights.

  check_forward.py RUN MODEL_DIR --prompts "1,2,3;4,5" [-n 32] --tol T [--act-quant] [--extra ARGS]

For each prompt: the last position's logits from `smolweb-run --dump-logits`
must be within T (max abs difference) of the reference's, and each of the 32
greedy ids must be the reference's argmax at that step, given the same
preceding tokens (one reference pass over prompt + continuation), unless the
reference's top logit beats it by at most the gap tolerance (default 2T; a
near-tie, reported). With --act-quant the reference quantizes activations per block to int8
before q4/q8 matrix products, as the runtime does.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_forward  # noqa: E402


def run_c(run, model, ids, n, extra):
    with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as f:
        path = f.name
    try:
        cmd = [run, model, "--ids", json.dumps(ids), "-n", str(n), "--temperature", "0", "--ignore-eos",
               "--ids-out", "--dump-logits", path] + extra
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1]), np.fromfile(path, dtype="<f4")
    finally:
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("model")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("--tol", type=float, required=True)
    ap.add_argument("--gap-tol", type=float, default=None, help="near-tie margin for the greedy check (default 2*tol)")
    ap.add_argument("--act-quant", action="store_true")
    ap.add_argument("--extra", default="")
    a = ap.parse_args()
    ref = ref_forward.Model(a.model, act_quant=a.act_quant)
    gap_tol = a.gap_tol if a.gap_tol is not None else 2 * a.tol
    bad = 0
    for p in a.prompts.split(";"):
        ids = [int(t) for t in p.split(",")]
        c_ids, c_logits = run_c(a.run, a.model, ids, a.n, a.extra.split())
        # one reference pass over the prompt and smolweb's own continuation
        # (teacher forcing): position len(ids)-1+i holds the logits that chose c_ids[i]
        r_all = ref.forward(ids + c_ids[:-1])
        diff = float(np.abs(c_logits - r_all[len(ids) - 1]).max())
        argmax_equal, ties, note = 0, [], ""
        for i, c in enumerate(c_ids):
            r = r_all[len(ids) - 1 + i]
            top = int(np.argmax(r))
            if c == top:
                argmax_equal += 1
            elif r[top] - r[c] <= gap_tol:
                ties.append(f"{i} ({r[top] - r[c]:.1e})")  # a near-tie: either choice is right
            else:
                bad = 1
                note += f"; MISMATCH at step {i}: chose {c}, reference prefers {top} by {r[top] - r[c]:.3f}"
        if ties:
            note += "; near-ties at steps " + ", ".join(ties)
        if diff > a.tol:
            bad = 1
            note += f"; LOGITS differ by {diff:.3e} > {a.tol:.1e}"
        print(f"{os.path.basename(a.model.rstrip('/'))} prompt of {len(ids)}: max|dlogit| {diff:.2e}, "
              f"greedy {argmax_equal}/{len(c_ids)} are the reference's argmax, {len(set(c_ids))} distinct ids{note}")
    sys.exit(bad)


if __name__ == "__main__":
    main()
