#!/usr/bin/env bash
# The JavaScript library (web/src/index.js) in headless Chromium: loading with
# progress, greedy ids equal to the native CLI's, a second load from the cache
# with no chunk requests, every error path of issue 7, abort, BUSY, and
# threads on (COOP/COEP) and off. tests/browser/lib_test.mjs lists the checks.
# Needs dist/ (./build_wasm.sh).
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
SHARED=${SMOLWEB_SHARED:-$SMOLWEB_SRC/../shared}
if [ ! -f "$SMOLWEB_SRC/dist/smolweb-simd.wasm" ]; then
    echo "test_wasm_lib: dist/ is missing: run ./build_wasm.sh first" >&2
    exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-lib.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$SMOLWEB_BUILD/smolweb-gen" tiny "$work/hf" --tokenizer-dir "$SHARED/models/smollm2-135m-instruct" 2>/dev/null
mkdir -p "$work/models"
"$SMOLWEB_BUILD/smolweb-chunk" --quant q4 "$work/hf" "$work/models/tiny" 2>/dev/null
prompt="Once upon a time, in a small town"
"$SMOLWEB_BUILD/smolweb-run" "$work/models/tiny" --prompt "$prompt" -n 24 --temperature 0 --ignore-eos --ids-out >"$work/ids.json"
cd "$SMOLWEB_SRC"
node tests/browser/lib_test.mjs "$work" "$prompt"
