#!/usr/bin/env bash
# examples/c-chat (a C program built with emcc that loads a model over HTTP
# with smolweb_fetch_model) in headless Chromium: its greedy ids and text equal
# the native smolweb-run's on a random-weight tiny q4 model, progress reaches
# the total, and HTTP 404, a flipped byte, a truncated body, cancellation and a
# bad URL each end in the expected status naming the file
# (tests/browser/cchat_test.mjs lists the checks).
#
# Needs dist/examples/c-chat: build it with ./build_wasm.sh (which runs
# scripts/build_wasm_fetch.sh); this test does not build it.
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
SHARED=${SMOLWEB_SHARED:-$SMOLWEB_SRC/../shared}
PY=${PYTHON:-/usr/bin/python3}
page=$SMOLWEB_SRC/dist/examples/c-chat
if [ ! -f "$page/c-chat.html" ] || [ ! -f "$page/c-chat.wasm" ]; then
    echo "test_wasm_cchat: $page is missing: run ./build_wasm.sh (or scripts/build_wasm_fetch.sh) first" >&2
    exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-cchat.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$SMOLWEB_BUILD/smolweb-gen" tiny "$work/hf" --tokenizer-dir "$SHARED/models/smollm2-135m-instruct" 2>/dev/null
"$SMOLWEB_BUILD/smolweb-chunk" --quant q4 "$work/hf" "$work/model" 2>/dev/null

# the copy with one byte flipped inside a tensor of layer-002.swc (its format
# stays valid, so only the SHA-256 can catch it)
cp -r "$work/model" "$work/bad"
"$PY" - "$work/bad/layer-002.swc" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) - 100] ^= 0x01
open(p, 'wb').write(b)
EOF

prompt="Once upon a time, in a small town"
n=16
"$SMOLWEB_BUILD/smolweb-run" "$work/model" --prompt "$prompt" -n $n --temperature 0 --ignore-eos --ids-out >"$work/ids.json"
"$SMOLWEB_BUILD/smolweb-run" "$work/model" --prompt "$prompt" -n $n --temperature 0 --ignore-eos >"$work/text.txt"

cd "$SMOLWEB_SRC"
node tests/browser/cchat_test.mjs --page "$page" --model "$work/model" --bad "$work/bad" \
    --prompt "$prompt" -n $n --expect-ids "$work/ids.json" --expect-text "$work/text.txt"
