"""check_convert.py: compares chunker outputs with the source weights, in numpy.

  check_convert.py SOURCE_HF_DIR CHECK...

SOURCE_HF_DIR holds the f32 safetensors truth. Each CHECK is KIND:MODEL_DIR
where KIND says what the model folder was converted from, hence how close its
dequantized tensors must be to the truth:
  exact   f32 chunks of an f32 input (safetensors or GGUF F32): bit-identical
  f16     f32 chunks of an f16 input: equal to the truth rounded to f16
  gguf_f16  the same for a GGUF F16 input, whose norms stay F32 (exact)
  bf16    f32 chunks of a bf16 input: equal to the truth rounded to bf16 (RNE)
  q8_0    f32 chunks of a GGUF Q8_0 input: within half a Q8_0 step per block
  q4_0    f32 chunks of a GGUF Q4_0 input: within half a Q4_0 step per block
  ours    chunks in the folder's own quantization (q4/q8/f16/f32) of an f32
          input: within half a step of the format (quant.h), and reports the
          relative RMS reconstruction error per type
Every folder's files are also checked against the manifest with hashlib.
"""
import sys

import numpy as np

import swref


def bf16_round(x):
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def f16_scale(v):
    return np.asarray(v, dtype=np.float32).astype(np.float16).astype(np.float32)


def blocks(x):
    return x.reshape(-1, 32)


def check_q8_0(truth, got, name):
    b, g = blocks(truth), blocks(got)
    d = f16_scale(np.abs(b).max(axis=1) / 127.0)
    err = np.abs(b - g)
    # llama.cpp quantizes with the unrounded scale and stores it as f16: allow
    # the f16 rounding of the scale (2^-11 relative) on top of half a step
    bound = 0.5 * d[:, None] * (1 + 1e-5) + np.abs(b) * 2.0 ** -10 + 1e-30
    assert (err <= bound).all(), f"{name}: Q8_0 error {err.max()} beyond half a step"


def check_q4_0(truth, got, name):
    b, g = blocks(truth), blocks(got)
    idx = np.abs(b).argmax(axis=1)
    d = f16_scale(b[np.arange(len(b)), idx] / -8.0)[:, None]
    lo, hi = np.minimum(-8 * d, 7 * d), np.maximum(-8 * d, 7 * d)
    err = np.abs(b - g)
    over = np.maximum(np.maximum(lo - b, b - hi), 0)  # beyond the range: clamped
    bound = 0.5 * np.abs(d) * (1 + 1e-4) + over + np.abs(b) * 2.0 ** -10 + 1e-30
    assert (err <= bound).all(), f"{name}: Q4_0 error {err.max()} beyond half a step"


def check_ours(truth, got, dtype, name):
    if dtype == "f32":
        assert np.array_equal(truth, got), name
        return
    if dtype == "f16":
        assert np.array_equal(truth.astype(np.float16).astype(np.float32), got), name
        return
    b, g = blocks(truth), blocks(got)
    # the step is the scale the file stored; recover it from the decoded values
    if dtype == "q8":
        d = f16_scale(np.abs(b).max(axis=1) / 127.0)[:, None]
        # + float rounding of x / d when x sits on a rounding tie
        bound = 0.5 * d * (1 + 1e-5) + np.maximum(np.abs(b) - 127 * d, 0) + np.abs(b) * 2.0 ** -20 + 1e-30
    else:
        # q4 searches scales for the least error: each block must do at least as
        # well as llama.cpp's Q4_0 rule (scale = signed max / -8), computed here
        idx = np.abs(b).argmax(axis=1)
        d = f16_scale(b[np.arange(len(b)), idx] / -8.0)[:, None]
        inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
        q = np.clip(np.floor(b * inv + 8.5), 0, 15) - 8
        ref_sse = ((b - q * d) ** 2).sum(axis=1)
        sse = ((b - g) ** 2).sum(axis=1)
        assert (sse <= ref_sse * (1 + 1e-4) + 1e-30).all(), f"{name}: q4 block error above Q4_0's"
        return
    err = np.abs(b - g)
    assert (err <= bound).all(), f"{name}: {dtype} error {err.max()} beyond its bound"


def rel_rms(truth, got):
    return float(np.sqrt(((truth - got) ** 2).sum() / (truth ** 2).sum()))


def main():
    truth = swref.read_safetensors(sys.argv[1])
    for spec in sys.argv[2:]:
        kind, folder = spec.split(":", 1)
        manifest, weights = swref.read_model_dir(folder)
        n_layers = manifest["config"]["num_hidden_layers"]
        assert len(manifest["files"]) == n_layers + 2, "one chunk per layer + embedding + tokenizer"
        assert set(weights) == {k for k in truth if k != "lm_head.weight"}, f"{folder}: tensor set differs"
        errs = {}
        for name, (dtype, got) in weights.items():
            t = truth[name].reshape(got.shape)
            if kind == "exact":
                assert dtype == "f32" and np.array_equal(t, got), f"{folder}: {name} differs"
            elif kind == "f16" or (kind == "gguf_f16" and "norm" not in name):
                assert np.array_equal(t.astype(np.float16).astype(np.float32), got), f"{folder}: {name}"
            elif kind == "gguf_f16":  # GGUF keeps norms in F32
                assert np.array_equal(t, got), f"{folder}: {name}"
            elif kind == "bf16":
                assert np.array_equal(bf16_round(t), got), f"{folder}: {name}"
            elif kind in ("q8_0", "q4_0"):
                if "norm" in name:
                    assert np.array_equal(t, got), f"{folder}: norm {name} must stay exact"
                elif kind == "q8_0":
                    check_q8_0(t, got, name)
                else:
                    check_q4_0(t, got, name)
            elif kind == "q4_0emb8":
                if "norm" in name:
                    assert np.array_equal(t, got)
                elif "embed" in name:
                    check_q8_0(t, got, name)
                else:
                    check_q4_0(t, got, name)
            elif kind == "ours":
                check_ours(t, got, dtype, f"{folder}: {name}")
                if dtype in ("q4", "q8", "f16"):
                    e = errs.setdefault(dtype, [0.0, 0.0])
                    e[0] += float(((t - got) ** 2).sum())
                    e[1] += float((t ** 2).sum())
            else:
                raise SystemExit("unknown kind " + kind)
        summary = ", ".join(f"{k} rel-RMS {np.sqrt(a / b):.5f}" for k, (a, b) in sorted(errs.items()))
        print(f"ok {kind:8s} {folder} ({manifest['total_bytes']} bytes{'; ' + summary if summary else ''})")


if __name__ == "__main__":
    main()
