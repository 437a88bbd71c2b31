#!/usr/bin/env bash
# The main job: set up, build, make the default model and chunk it, then serve
# the demo (http://127.0.0.1:PORT, printed; Ctrl-C stops it).
#   MODEL=/path/to/hf-folder-or.gguf  convert that model instead of generating one
#   MODEL=hf:OWNER/NAME               download it from the Hugging Face Hub first (needs
#                                     internet), e.g. MODEL=hf:HuggingFaceTB/SmolLM2-135M-Instruct
#   QUANT=q4|q8|f16|f32               weight type (default q4; embedding q8 under q4)
#   PORT=8080                         the demo server's port;  SERVE=0 stops before serving
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash build_wasm.sh   # dist/: the WebAssembly runtime the demo loads

quant=${QUANT:-q4}
model=${MODEL:-}
mkdir -p models
if [ "$model" != "${model#hf:}" ]; then
  name=$(basename "${model#hf:}")
  src=models/src/$name
  bash scripts/hf_download.sh "${model#hf:}" "$src"
elif [ -n "$model" ]; then
  name=$(basename "${model%/}"); name=${name%.gguf}
  src=$model
else
  name=smollm2-135m-random
  src=models/src/$name
  if [ ! -f "$src/model.safetensors" ]; then
    echo "main: generating a random-weight model with SmolLM2-135M-Instruct's shapes in $src" >&2
    mkdir -p models/src
    SMOLWEB_SHARED=${SMOLWEB_SHARED:-$PWD/../shared} build/smolweb-gen smollm2-135m "$src"
  fi
fi
out=models/$name-$quant
build/smolweb-chunk --quant "$quant" "$src" "$out"
echo "main: model folder ready: $out ($(du -sh "$out" | cut -f1))" >&2
[ "${SERVE:-1}" = 0 ] && exit 0
exec node scripts/serve.mjs --port "${PORT:-8080}" --models models
