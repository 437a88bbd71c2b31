#!/usr/bin/env bash
# The WebAssembly build (dist/, from ./build_wasm.sh) in headless Chromium
# (tests/browser/chromium.mjs), in a module worker as the library runs it
# (tests/browser/wasm_page/): the tiny shape (q4, q8, f16, f32) and the
# SmolLM2-135M shape (q4) against native smolweb-run, with the rules of
# tests/wasm/greedy.mjs (prompt ids, greedy ids up to a reported near-tie,
# prompt logits), for smolweb-simd-threads with 1 and 2 threads (served with
# COOP/COEP: the page must be crossOriginIsolated) and smolweb-simd and
# smolweb-scalar (served without: must not be). Prints prefill/decode tok/s.
# Env: SMOLWEB_SRC, SMOLWEB_BUILD (native tools), SMOLWEB_SHARED (tokenizer);
# WASM_SHAPES overrides the models (default "tiny:q4,q8,f16,f32,q4+kvf16 smollm2-135m:q4,q4+kvf16").
set -euo pipefail
: "${SMOLWEB_SRC:?}" "${SMOLWEB_BUILD:?}"
cd "$SMOLWEB_SRC"
for f in smolweb-simd smolweb-scalar smolweb-simd-threads; do
  [ -f "dist/$f.wasm" ] || { echo "dist/$f.wasm missing: run ./build_wasm.sh" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-wasm-chromium.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== models and native references"
node tests/wasm/make_models.mjs "$work" ${WASM_SHAPES:-tiny:q4,q8,f16,f32,q4+kvf16 smollm2-135m:q4,q4+kvf16}
echo "== whole model in wasm in headless Chromium vs native"
node tests/wasm/chromium_model.mjs "$work"
echo "test_wasm_chromium: ok"
