#!/usr/bin/env bash
# The forward pass against the independent numpy reference (tests/ref_forward.py)
# on random-weight models: last-position logits within a stated tolerance and
# 32 greedy tokens identical (up to a reported near-tie), from several prompts.
# Shapes from $FORWARD_SHAPES (default: tiny, SmolLM2-135M, SmolLM-135M, whose
# rope_theta 10000 comes from its config). f32 chunks are compared with the
# float reference; q8 and q4 chunks with the reference on their dequantized
# weights, activations quantized per block as the runtime does.
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
PY=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-forward.XXXXXX")
trap 'rm -rf "$work"' EXIT
run=$SMOLWEB_BUILD/smolweb-run
# prompts: a chat-like start, text with digits, a single token
prompts="1,9690,198,2683,359,5356,30,216,33,34;504,3158,282,9529,30,216,33,34,35,36,17,28;42"
# Tolerance on max |logit difference| (logits span about +-15). f32: float32 vs
# float64 rounding only. q8/q4 on the 30-layer shapes: the runtime and the
# reference round activations to int8 independently, and an occasional
# rounding flip at a .5 boundary is amplified by these deliberately high-gain
# random models (measured up to ~0.3); on the tiny shape q8/q4 prefill logits
# agree to 1e-5. Greedy steps, deeper into the sequence, allow a near-tie
# margin for q8/q4: 0.25 on tiny (a 0.056 flip was seen on tiny q4 at step
# 30), and on the 30-layer shapes the logit tolerance itself, 0.5 (when logits
# may each be off by up to 0.5, a top-2 gap may move by twice that; a 0.282
# flip was seen on SmolLM2-135M q8 at step 27 after the kernels' summation
# order changed).
tol_for() { if [ "$1" = f32 ] || [ "$2" = tiny ]; then echo 2e-3; else echo 0.5; fi; }
gap_for() { if [ "$1" = f32 ]; then echo 4e-3; elif [ "$2" = tiny ]; then echo 0.25; else echo 0.5; fi; }
for shape in ${FORWARD_SHAPES:-tiny smollm2-135m smollm-135m}; do
  "$SMOLWEB_BUILD/smolweb-gen" "$shape" "$work/$shape-hf" 2>/dev/null
  for q in f32 q8 q4; do
    "$SMOLWEB_BUILD/smolweb-chunk" --quant "$q" "$work/$shape-hf" "$work/$shape-$q" 2>/dev/null
    aq=""; [ "$q" = f32 ] || aq="--act-quant"
    "$PY" "$SMOLWEB_SRC/tests/check_forward.py" "$run" "$work/$shape-$q" --prompts "$prompts" -n 32 --tol "$(tol_for "$q" "$shape")" --gap-tol "$(gap_for "$q" "$shape")" $aq
    rm -rf "$work/$shape-$q"
  done
  rm -rf "$work/$shape-hf"
done
echo "test_forward: ok"
