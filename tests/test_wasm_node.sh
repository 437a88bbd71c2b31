#!/usr/bin/env bash
# The WebAssembly build (dist/, from ./build_wasm.sh) under Node 20:
#  1. kernels: tests/test_kernels.c compiled with emcc and run in real wasm:
#     with -msimd128 -DSW_TEST_SIMD128 the SIMD128 kernels against the scalar
#     ones and double references on every shape class (named tolerances, max
#     abs/rel error printed); without SIMD the scalar kernels in wasm.
#  2. whole model: tests/wasm/node_model.mjs, through web/src/runtime.js, on
#     the tiny shape (q4, q8, f16, f32) and the SmolLM2-135M shape (q4):
#     prompt ids, greedy ids (near-tie rule) and prompt logits against native
#     smolweb-run, for smolweb-simd, smolweb-scalar and smolweb-simd-threads
#     with 1 and 2 threads (tolerances: tests/wasm/greedy.mjs).
#     Seeded sampling is compared too (identical ids required where the
#     logits agree to rounding).
#  3. the rest of the runtime.js API: tests/wasm/node_runtime_api.mjs.
#  4. bad input, out of memory, thread-pool exhaustion: tests/wasm/node_bad_input.mjs.
# Env: SMOLWEB_SRC, SMOLWEB_BUILD (native tools), SMOLWEB_SHARED (tokenizer);
# WASM_SHAPES overrides the models (default "tiny:q4,q8,f16,f32,q4+kvf16 smollm2-135m:q4,q4+kvf16").
set -euo pipefail
: "${SMOLWEB_SRC:?}" "${SMOLWEB_BUILD:?}"
cd "$SMOLWEB_SRC"
export NODE_PATH=/usr/share/nodejs # emcc's JS optimizer needs acorn
for f in smolweb-simd smolweb-scalar smolweb-simd-threads; do
  [ -f "dist/$f.wasm" ] || { echo "dist/$f.wasm missing: run ./build_wasm.sh" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-wasm-node.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== kernels in wasm (Node $(node --version))"
out=$SMOLWEB_BUILD/wasm-tests
mkdir -p "$out"
echo '{"type": "commonjs"}' >"$out/package.json" # emcc's .js output is CommonJS
deps=deps/lib/plain
kernel_test() { # $1 = name, then flags
  local name=$1
  shift
  emcc -O3 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "$@" \
    -Iinclude -Isrc -Imanifest -Itests -Ideps/include tests/test_kernels.c src/*.c manifest/*.c \
    "$deps/libcjson.a" "$deps/libsha256.a" \
    -sALLOW_MEMORY_GROWTH -sMAXIMUM_MEMORY=4GB -sEXIT_RUNTIME -sENVIRONMENT=node -o "$out/$name.js"
  # Node 20's fetch() cannot load the .wasm from a file path; without it the
  # loader reads the file with fs
  node --no-experimental-fetch "$out/$name.js"
}
kernel_test test_kernels_simd128 -msimd128 -DSW_TEST_SIMD128
kernel_test test_kernels_scalar

echo "== models and native references"
node tests/wasm/make_models.mjs "$work" ${WASM_SHAPES:-tiny:q4,q8,f16,f32,q4+kvf16 smollm2-135m:q4,q4+kvf16}
echo "== whole model in wasm vs native"
node tests/wasm/node_model.mjs "$work"
echo "== runtime.js API"
node tests/wasm/node_runtime_api.mjs "$work"
echo "== bad input and out of memory"
node tests/wasm/node_bad_input.mjs "$work"
echo "test_wasm_node: ok"
