#!/usr/bin/env bash
# Slow target (ctest -L slow, or scripts/test.sh --slow): the 360M and 1.7B
# shapes (SmolLM2 and SmolLM). For each: generate f32 safetensors (1.7B: 6.8 GB)
# and a Q8_0 GGUF, chunk at q4 (default, embedding q8) and at q4 + q4 embedding,
# time the chunker and its peak memory, check the chunks against the f32 truth
# (tests/check_convert.py), check the GGUF conversion, and run 8 greedy tokens
# through smolweb-run against the numpy reference's argmax (tests/check_forward.py).
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
PY=${PYTHON:-/usr/bin/python3}
B=$SMOLWEB_BUILD
work=$(mktemp -d "${TMPDIR:-/var/tmp}/smolweb-slow.XXXXXX")
trap 'rm -rf "$work"' EXIT
for shape in ${SLOW_SHAPES:-smollm2-360m smollm2-1.7b smollm-360m smollm-1.7b}; do
  w=$work/$shape
  mkdir -p "$w"
  echo "== $shape"
  /usr/bin/time -f "generate: %e s, peak %M KiB" "$B/smolweb-gen" "$shape" "$w/hf" --gguf q8_0 "$w/q8_0.gguf" 2>&1 | grep -v "^writing"
  /usr/bin/time -f "chunk q4 (embed q8): %e s, peak %M KiB" "$B/smolweb-chunk" "$w/hf" "$w/q4" 2>&1 | grep -v "^\["
  /usr/bin/time -f "chunk q4 (embed q4): %e s, peak %M KiB" "$B/smolweb-chunk" --quant q4 --embed-quant q4 "$w/hf" "$w/q4q4" 2>&1 | grep -v "^\["
  /usr/bin/time -f "chunk GGUF Q8_0 -> f32: %e s, peak %M KiB" "$B/smolweb-chunk" --quant f32 "$w/q8_0.gguf" "$w/gg" 2>&1 | grep -v "^\["
  "$PY" "$SMOLWEB_SRC/tests/check_convert.py" "$w/hf" "ours:$w/q4" "ours:$w/q4q4" "q8_0:$w/gg"
  for d in q4 q4q4; do
    echo "$d: $(ls "$w/$d" | wc -l) files, $(stat -c %s "$w/$d"/*.swc "$w/$d"/tokenizer.swt | awk '{s+=$1} END {print s}') bytes of chunks; largest layer $(stat -c %s "$w/$d"/layer-000.swc), embedding $(stat -c %s "$w/$d"/embedding.swc)"
  done
  rm -rf "$w/q4q4" "$w/gg" "$w/q8_0.gguf"
  "$PY" "$SMOLWEB_SRC/tests/check_forward.py" "$B/smolweb-run" "$w/q4" --prompts "1,9690,198,2683,359,5356" -n 8 --tol 0.5 --gap-tol 0.25 --act-quant
  rm -rf "$w"
done
echo "test_slow_shapes: ok"
