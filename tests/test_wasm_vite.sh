#!/usr/bin/env bash
# The npm package in a fresh Vite 6 app: `npm pack` the repository, check the
# tarball holds exactly the library, its types and the three wasm builds; make
# an app from tests/vite/ (package.json with vite pinned, index.html, main.js
# importing { loadModel } from 'smolweb', vite.config.js with only the lines
# the README documents), `npm install` the tarball, vite and typescript (the
# only network this test uses: the npm registry, through npm's cache), check
# installing smolweb brings in nothing but @huggingface/jinja, type-check
# tests/vite/types_check.ts against the package's .d.ts (tsc --strict, bundler
# and node16 resolution), `vite build` with no warning, then
# tests/vite/check.mjs runs the built site (threads on and off, our server and
# `vite preview`) and the dev server in headless Chromium: greedy ids and a
# chat turn equal to the native CLI's on a tiny q4 model, and the objects the
# library returns shaped as index.d.ts declares. Needs dist/ (./build_wasm.sh).
# Runs on Node 18 (npm 9) as well as on newer ones; about 20 s with npm's cache
# warm.
set -euo pipefail
: "${SMOLWEB_BUILD:?}" "${SMOLWEB_SRC:?}"
SHARED=${SMOLWEB_SHARED:-$SMOLWEB_SRC/../shared}
for f in smolweb-simd-threads.mjs smolweb-simd-threads.wasm smolweb-simd-threads.worker.js \
         smolweb-simd.mjs smolweb-simd.wasm smolweb-scalar.mjs smolweb-scalar.wasm package.json; do
    if [ ! -f "$SMOLWEB_SRC/dist/$f" ]; then
        echo "test_wasm_vite: dist/$f is missing: run ./build_wasm.sh first" >&2
        exit 1
    fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/smolweb-vite.XXXXXX")
trap 'rm -rf "$work"' EXIT
npm_q=(--no-audit --no-fund --prefer-offline --loglevel=error)
passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# ---- the tarball and its file list ----
(cd "$SMOLWEB_SRC" && npm pack --pack-destination "$work" "${npm_q[@]}" >"$work/pack.out")
tarball=$(ls "$work"/smolweb-*.tgz)
tar -tzf "$tarball" | sed 's|^package/||' | sort >"$work/files.txt"
{
    echo README.md
    for f in smolweb-scalar.mjs smolweb-scalar.wasm smolweb-simd-threads.mjs smolweb-simd-threads.wasm \
             smolweb-simd-threads.worker.js smolweb-simd.mjs smolweb-simd.wasm package.json; do
        echo "dist/$f"
    done
    [ -f "$SMOLWEB_SRC/LICENSE" ] && echo LICENSE
    echo package.json
    (cd "$SMOLWEB_SRC" && ls web/src/*.js web/src/index.d.ts)
} | sort >"$work/expected.txt"
if diff "$work/expected.txt" "$work/files.txt" >"$work/files.diff"; then
    ok "npm pack: $(wc -l <"$work/files.txt") files, $(stat -c %s "$tarball") bytes"
else
    fail "npm pack: the tarball's files differ from the library's (< expected, > packed):"
    cat "$work/files.diff"
fi

# ---- the model and the native references ----
"$SMOLWEB_BUILD/smolweb-gen" tiny "$work/hf" --tokenizer-dir "$SHARED/models/smollm2-135m-instruct" 2>/dev/null
app=$work/app
mkdir -p "$app/public/models"
"$SMOLWEB_BUILD/smolweb-chunk" --quant q4 "$work/hf" "$app/public/models/tiny" 2>/dev/null
prompt="Once upon a time, in a small town"
printf '%s' "$prompt" >"$work/prompt.txt"
"$SMOLWEB_BUILD/smolweb-run" "$app/public/models/tiny" --prompt "$prompt" -n 16 --temperature 0 --ignore-eos --ids-out >"$work/ids.json"
"$SMOLWEB_BUILD/smolweb-run" "$app/public/models/tiny" --chat --prompt 'Hi there!' -n 8 --temperature 0 --ignore-eos --ids-out >"$work/chat.json"

# ---- a fresh Vite app with the package ----
cp "$SMOLWEB_SRC"/tests/vite/{package.json,index.html,main.js,vite.config.js,types_check.ts} "$app/"
(cd "$app" && npm install "${npm_q[@]}" "$tarball" >"$work/install.out" 2>&1) || {
    cat "$work/install.out" >&2
    echo "FAIL npm install of the tarball and vite" >&2
    exit 1
}
ok "npm install: smolweb (tarball), vite $(node -p "require('$app/node_modules/vite/package.json').version"), typescript $(node -p "require('$app/node_modules/typescript/package.json').version")"
# what installing smolweb adds to an app (its runtime dependencies only): the
# packages that the app's own dev dependencies (vite, typescript) do not need
brought=$(cd "$app" && node -e '
const lock = require("./node_modules/.package-lock.json").packages;
const needed = new Set();
const walk = (name) => {
  if (needed.has(name)) return;
  needed.add(name);
  const m = lock["node_modules/" + name] || {};
  for (const d of Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies })) walk(d);
};
Object.keys(require("./package.json").devDependencies).forEach(walk);
const top = Object.keys(lock).filter((p) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p)).map((p) => p.slice("node_modules/".length));
console.log(top.filter((n) => !needed.has(n)).sort().join(" "));
')
if [ "$brought" = "@huggingface/jinja smolweb" ]; then
    ok "npm install: smolweb brings in only @huggingface/jinja"
else
    fail "npm install: smolweb brings in more than @huggingface/jinja: $brought"
fi

# ---- the types, as TypeScript resolves them from the package ----
for res in bundler node16; do
    mod=esnext
    [ "$res" = node16 ] && mod=node16
    if (cd "$app" && node node_modules/typescript/bin/tsc --noEmit --strict --target es2022 --lib es2022,dom \
            --module "$mod" --moduleResolution "$res" types_check.ts >"$work/tsc.out" 2>&1); then
        ok "tsc --strict --moduleResolution $res: web/src/index.d.ts through \"exports\", every misuse refused"
    else
        fail "tsc --strict --moduleResolution $res:"
        cat "$work/tsc.out"
    fi
done

# ---- vite build ----
(cd "$app" && node node_modules/vite/bin/vite.js build --logLevel warn >"$work/build.out" 2>&1) || {
    cat "$work/build.out" >&2
    echo "FAIL vite build" >&2
    exit 1
}
if [ -s "$work/build.out" ]; then
    fail "vite build: warnings:"
    cat "$work/build.out"
else
    ok "vite build: $(ls "$app/dist/assets" | wc -l) assets, no warnings"
fi

cd "$SMOLWEB_SRC"
CHECKS_PASSED=$passed CHECKS_FAILED=$failed node tests/vite/check.mjs "$app" "$work"
