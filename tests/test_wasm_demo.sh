#!/usr/bin/env bash
# The PWA demo (web/demo/) in headless Chromium, served in-process by the demo
# server of the main command (scripts/serve.mjs): models listed from
# /models/index.json, load with the progress bar reaching 100%, streamed
# answer, Stop mid-answer, reload offline (service worker + the library's
# cache), a missing chunk's error message, deleting a cached model
# (tests/browser/demo_test.mjs lists the checks). Screenshots of each step are
# kept in a temporary folder whose path is printed.
#
# Needs dist/ (./build_wasm.sh) and the library (web/src/index.js); until
# web/src/index.js exists only the page, model list and service worker checks run.
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
SHARED=${SMOLWEB_SHARED:-$SMOLWEB_SRC/../shared}
for f in smolweb-simd smolweb-scalar smolweb-simd-threads; do
    [ -f "$SMOLWEB_SRC/dist/$f.wasm" ] || { echo "test_wasm_demo: dist/$f.wasm missing: run ./build_wasm.sh" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-demo.XXXXXX")
shots=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-demo-shots.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the default model's kind (random weights, real tokenizer) at the tiny shape,
# for speed; the source folder's name becomes the manifest's name
mkdir -p "$work/src" "$work/models"
"$SMOLWEB_BUILD/smolweb-gen" tiny "$work/src/tiny-random" --tokenizer-dir "$SHARED/models/smollm2-135m-instruct" >/dev/null
"$SMOLWEB_BUILD/smolweb-chunk" --quant q4 "$work/src/tiny-random" "$work/models/tiny-random-q4" 2>"$work/chunk.log" ||
    { cat "$work/chunk.log" >&2; exit 1; }
# a copy with one layer missing on the server
cp -r "$work/models/tiny-random-q4" "$work/models/tiny-random-missing-chunk"
rm "$work/models/tiny-random-missing-chunk/layer-002.swc"

cd "$SMOLWEB_SRC"
node tests/browser/demo_test.mjs --models "$work/models" --good tiny-random-q4 --broken tiny-random-missing-chunk --shots "$shots"
