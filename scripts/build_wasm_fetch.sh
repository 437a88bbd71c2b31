#!/usr/bin/env bash
# build_wasm_fetch.sh: the C library for programs compiled with Emscripten,
# and the example that uses it.
#
#   dist/c/libsmolweb.a      runtime (src/*.c, manifest/*.c) + the HTTP model
#                            loader (src/emscripten/fetch_model.c), -O3 -msimd128
#   dist/c/libcjson.a, dist/c/libsha256.a   its dependencies (from deps/lib/plain)
#   dist/c/include/          smolweb.h, smolweb_fetch.h
#   dist/examples/c-chat/    examples/c-chat linked with -sFETCH (c-chat.html/.js/.wasm)
#
# -sFETCH is a link flag of the program, so it stays out of the JavaScript
# library's builds (build_wasm.sh). Needs deps/lib/plain/*.a, which build_wasm.sh
# makes; run from any directory, as often as you like.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=$ROOT/deps
OUT=$ROOT/dist/c
EX_OUT=$ROOT/dist/examples/c-chat
# emcc's JS optimizer needs acorn, which Debian keeps in /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs

die() { echo "build_wasm_fetch.sh: error: $*" >&2; exit 1; }

command -v emcc >/dev/null || die "emcc not found (apt-get install emscripten)"
for a in libcjson.a libsha256.a; do
    [ -f "$DEPS/lib/plain/$a" ] || die "deps/lib/plain/$a is missing: run ./build_wasm.sh first (it builds the dependencies)"
done

CFLAGS=(-O3 -msimd128 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
        -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/manifest" -I"$DEPS/include")

OBJ=$(mktemp -d)
trap 'rm -rf "$OBJ"' EXIT

# One object per source, named after its folder so equal file names cannot
# clash; two compilers at a time (the machine has two cores).
SOURCES=("$ROOT"/src/*.c "$ROOT"/manifest/*.c "$ROOT"/src/emscripten/fetch_model.c)
pids=()
for s in "${SOURCES[@]}"; do
    rel=${s#"$ROOT"/}
    emcc "${CFLAGS[@]}" -c "$s" -o "$OBJ/${rel//\//_}.o" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then
        wait "${pids[0]}" || die "compiling the library failed"
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do wait "$p" || die "compiling the library failed"; done

mkdir -p "$OUT/include"
rm -f "$OUT/libsmolweb.a"
emar rcs "$OUT/libsmolweb.a" "$OBJ"/*.o
cp "$DEPS/lib/plain/libcjson.a" "$DEPS/lib/plain/libsha256.a" "$OUT/"
cp "$ROOT/include/smolweb.h" "$ROOT/include/smolweb_fetch.h" "$OUT/include/"
echo "built dist/c/libsmolweb.a ($(stat -c %s "$OUT/libsmolweb.a") bytes) + dist/c/include" >&2

# The example, linked the way its README shows, with emscripten's minimal page.
mkdir -p "$EX_OUT"
SHELL_ARGS=()
shell_html=$(dirname "$(readlink -f "$(command -v emcc)")")/src/shell_minimal.html
[ -f "$shell_html" ] && SHELL_ARGS=(--shell-file "$shell_html")
emcc -O3 -msimd128 -std=c11 -Wall -Wextra -Werror -I"$OUT/include" \
    "$ROOT/examples/c-chat/main.c" "$OUT/libsmolweb.a" "$OUT/libcjson.a" "$OUT/libsha256.a" \
    -sFETCH -sFETCH_SUPPORT_INDEXEDDB=0 -sENVIRONMENT=web,worker -sMINIFY_HTML=0 \
    -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB \
    "${SHELL_ARGS[@]}" \
    -o "$EX_OUT/c-chat.html" || die "linking examples/c-chat failed"
echo "built dist/examples/c-chat/c-chat.{html,js,wasm} (wasm $(stat -c %s "$EX_OUT/c-chat.wasm") bytes)" >&2
