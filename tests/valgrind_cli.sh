#!/usr/bin/env bash
# valgrind (memcheck, leaks) over the native CLIs on the tiny shape.
#   tests/valgrind_cli.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
"${vg[@]}" "$build/smolweb-gen" tiny "$work/hf" --gguf q8_0 "$work/tiny.gguf" 2>"$work/gen.log" || { cat "$work/gen.log"; exit 1; }
"${vg[@]}" "$build/smolweb-chunk" "$work/hf" "$work/out" 2>"$work/chunk.log" || { cat "$work/chunk.log"; exit 1; }
"${vg[@]}" "$build/smolweb-chunk" --quant q8 "$work/tiny.gguf" "$work/out-gguf" 2>"$work/chunk2.log" || { cat "$work/chunk2.log"; exit 1; }
if [ -x "$build/smolweb-run" ]; then
  "${vg[@]}" "$build/smolweb-run" "$work/out" --prompt "Hello, world" -n 6 --temperature 0.8 --seed 3 >/dev/null 2>"$work/run.log" || { cat "$work/run.log"; exit 1; }
  "${vg[@]}" "$build/smolweb-run" "$work/out-gguf" --chat --prompt "Hi" -n 4 --ids-out >/dev/null 2>"$work/run2.log" || { cat "$work/run2.log"; exit 1; }
fi
"${vg[@]}" "$build/smolweb-tokenize" "$work/out" <<<'{"text": "Hello <|im_end|> world 123"}' >/dev/null 2>"$work/tok.log" || { cat "$work/tok.log"; exit 1; }
# a failing run must be clean too
rc=0; "${vg[@]}" "$build/smolweb-chunk" "$work/missing" "$work/out3" 2>"$work/fail.log" || rc=$?
[ "$rc" = 1 ] && grep -q "^error: " "$work/fail.log" || { echo "failing run: exit $rc"; cat "$work/fail.log"; exit 1; }
echo "valgrind: clean" >&2
