#!/usr/bin/env bash
# smolweb-tokenize end to end (DESIGN.md section 1): the fixture texts as JSON
# Lines in, the reference's ids out; --decode back to the texts; a packed
# .swt from smolweb-tokpack gives the same; bad input fails with a message.
set -euo pipefail
build=${SMOLWEB_BUILD:-$(pwd)}
shared=${SMOLWEB_SHARED:-$(cd "${SMOLWEB_SRC:-.}/.." && pwd)/shared}
py=${PYTHON:-/usr/bin/python3}
model=$shared/models/smollm2-135m-instruct
cases=$shared/fixtures/tokenizer_cases.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    print(json.dumps({"text": d["text"]}))
    sys.stderr.write(json.dumps({"ids": d["ids"]}) + "\n")
' "$cases" >"$work/texts.jsonl" 2>"$work/ids.jsonl"

"$build/smolweb-tokpack" "$model" "$work/tok.swt" 2>"$work/tokpack.log"
grep -q "bos 1, eos 2, pad 2, stop 2" "$work/tokpack.log"

for src in "$model" "$work/tok.swt"; do
  "$build/smolweb-tokenize" "$src" <"$work/texts.jsonl" >"$work/got.jsonl"
  "$build/smolweb-tokenize" --decode "$src" <"$work/ids.jsonl" >"$work/dec.jsonl"
  "$py" - "$cases" "$work/got.jsonl" "$work/dec.jsonl" <<'EOF'
import json, sys
cases = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
dec = [json.loads(l) for l in open(sys.argv[3])]
assert len(got) == len(cases) == len(dec), (len(got), len(cases), len(dec))
bad = [c["text"][:40] for c, g in zip(cases, got) if c["ids"] != g["ids"]]
assert not bad, "ids differ for %r" % bad
tokenless = {chr(b) for b in (0x04, 0x06, 0x13, 0x14, 0x16, 0x1D)}
for c, d in zip(cases, dec):
    want = "".join(ch for ch in c["text"] if ch not in tokenless)
    assert d["text"] == want, (c["text"][:40], d["text"][:40])
EOF
done

# special tokens are skipped on request; an unfinished char decodes to U+FFFD
out=$(echo '{"ids":[1,9690,198,2683,2]}' | "$build/smolweb-tokenize" --decode --skip-special "$work/tok.swt")
[ "$out" = '{"text":"system\nYou"}' ] || { echo "skip-special: $out"; exit 1; }
out=$(echo '{"ids":[10813,114]}' | "$build/smolweb-tokenize" --decode "$work/tok.swt")
[ "$out" = "{\"text\":\"$(printf '\xef\xbf\xbd')\"}" ] || { echo "partial char: $out"; exit 1; }
# NUL survives the JSON text both ways
out=$(echo '{"text":"a\u0000b"}' | "$build/smolweb-tokenize" "$work/tok.swt")
ids=${out#\{\"ids\":}; ids=${ids%\}}
out=$(echo "{\"ids\":$ids}" | "$build/smolweb-tokenize" --decode "$work/tok.swt")
[ "$out" = '{"text":"a\u0000b"}' ] || { echo "NUL: $out"; exit 1; }

# failures: a message naming the problem, exit status 1
if echo '{"txt":"x"}' | "$build/smolweb-tokenize" "$work/tok.swt" 2>"$work/err"; then exit 1; fi
grep -q 'error: line 1: no "text" member' "$work/err"
printf 'SWTK1234' >"$work/bad.swt"
if "$build/smolweb-tokenize" "$work/bad.swt" </dev/null 2>"$work/err"; then exit 1; fi
grep -q "bad.swt: tokenizer: truncated header (8 bytes)" "$work/err"
if "$build/smolweb-tokenize" "$work/missing" </dev/null 2>"$work/err"; then exit 1; fi
grep -q "missing: neither a model folder" "$work/err"
echo "test_tokenize_cli: ok"
