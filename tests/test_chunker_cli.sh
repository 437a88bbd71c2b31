#!/usr/bin/env bash
# smolweb-chunk's command line on bad input: each case prints its exact
# one-line error, exits non-zero, leaves no temporary folder behind, and an
# existing good output folder survives every failed run unchanged.
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
PY=${PYTHON:-/usr/bin/python3}
chunk=$SMOLWEB_BUILD/smolweb-chunk
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0

"$SMOLWEB_BUILD/smolweb-gen" tiny hf --gguf q8_0 tiny.gguf 2>/dev/null
"$chunk" hf out 2>/dev/null
good=$(cd out && sha256sum * | sha256sum)

# expect CODE MESSAGE ARGS...: runs smolweb-chunk ARGS, wants exit CODE and
# MESSAGE as a whole line of stderr; then checks out/ is untouched.
expect() {
  local code=$1 msg=$2; shift 2
  local rc=0
  "$chunk" "$@" 2>err.txt >/dev/null || rc=$?
  if [ "$rc" != "$code" ] || ! grep -Fxq -- "$msg" err.txt; then
    echo "FAIL: smolweb-chunk $*"; echo "  want exit $code: $msg"; echo "  got  exit $rc: $(cat err.txt)"; fail=1
  fi
  if [ "$(cd out && sha256sum * | sha256sum)" != "$good" ]; then echo "FAIL: out/ changed after: $*"; fail=1; fi
  if ls -d out.tmp-* out.old-* >/dev/null 2>&1; then echo "FAIL: leftovers after: $*"; ls -d out.*; fail=1; fi
}

# copy hf to NAME, then apply a change with Python (safetensors rewritten by
# tests/swref-independent code below)
variant() { rm -rf "$1"; cp -r hf "$1"; }
rewrite_st() {  # FOLDER PYTHON-EXPR-ON-header-dict
  "$PY" - "$1/model.safetensors" "$2" <<'EOF'
import json, struct, sys
path, expr = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
(n,) = struct.unpack_from("<Q", raw, 0)
hdr = json.loads(raw[8:8 + n]); data = raw[8 + n:]
exec(expr)
blob, parts, off = b"", {}, 0
for k, v in hdr.items():
    if k == "__metadata__": parts[k] = v; continue
    b, e = v["data_offsets"]; chunk = data[b:e]
    parts[k] = dict(v, data_offsets=[off, off + len(chunk)]); blob += chunk; off += len(chunk)
h = json.dumps(parts).encode(); h += b" " * ((8 - len(h) % 8) % 8)
open(path, "wb").write(struct.pack("<Q", len(h)) + h + blob)
EOF
}

expect 2 "usage: smolweb-chunk [--quant q4|q8|f16|f32] [--embed-quant q4|q8|f16|f32] INPUT OUT_DIR" hf
expect 2 "error: --quant: unknown type 'int3' (expected q4, q8, f16 or f32)" --quant int3 hf out
expect 2 "error: unknown option --fast" --fast hf out
expect 1 "error: missing-folder: cannot open: No such file or directory" missing-folder out

mkdir -p empty
expect 1 "error: config.json: cannot open empty/config.json: No such file or directory" empty out

variant nohead; rm nohead/tokenizer.json
expect 1 "error: nohead/tokenizer.json: cannot open: No such file or directory" nohead out

variant heads; sed -i 's/"num_attention_heads": 4/"num_attention_heads": 5/' heads/config.json
expect 1 "error: config.json: hidden_size 64 is not divisible by num_attention_heads 5" heads out

variant missing; rewrite_st missing 'del hdr["model.layers.1.mlp.up_proj.weight"]'
expect 1 "error: missing tensor model.layers.1.mlp.up_proj.weight" missing out

variant shape; sed -i 's/"intermediate_size": 128/"intermediate_size": 160/' shape/config.json
expect 1 "error: shape mismatch for model.layers.0.mlp.gate_proj.weight: expected [160, 64], found [128, 64]" shape out

variant trunc; truncate -s 1000000 trunc/model.safetensors
expect 1 "error: model.safetensors: truncated data: the header describes 13175040 bytes of tensor data but the file holds 995920" trunc out

variant dtype; rewrite_st dtype 'hdr["model.norm.weight"]["dtype"] = "I32"'
expect 1 "error: model.safetensors: unsupported dtype I32 for tensor model.norm.weight" dtype out

head -c 1000 tiny.gguf > cut.gguf
expect 1 "error: cut.gguf: 38 tensors cannot fit in the file" cut.gguf out
printf 'GGUF' > short.gguf
expect 1 "error: short.gguf: truncated header" short.gguf out
printf 'NOPE0000000000000000000000000000' > magic.gguf
expect 1 "error: magic.gguf: not a GGUF file (bad magic)" magic.gguf out

# a non-empty folder that is not a model folder is never replaced
mkdir -p notmodel; echo keep > notmodel/file.txt
expect 1 "error: notmodel: exists, is not empty and holds no manifest.json; refusing to replace it" hf notmodel
[ "$(cat notmodel/file.txt)" = keep ] || { echo "FAIL: notmodel/file.txt changed"; fail=1; }

# success replaces an earlier model folder atomically (q8 over q4) and leaves nothing behind
"$chunk" --quant q8 hf out 2>/dev/null
grep -q '"weights": "q8"' out/manifest.json || { echo "FAIL: out/ not replaced by the q8 conversion"; fail=1; }
if ls -d out.tmp-* out.old-* >/dev/null 2>&1; then echo "FAIL: leftovers after success"; fail=1; fi
# trailing slash on OUT_DIR and an empty existing folder are fine
mkdir -p out2; "$chunk" tiny.gguf out2/ 2>/dev/null
[ -f out2/manifest.json ] || { echo "FAIL: out2/ not written"; fail=1; }

[ $fail = 0 ] && echo "test_chunker_cli: ok"
exit $fail
