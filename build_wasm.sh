#!/usr/bin/env bash
# build_wasm.sh: builds the runtime (src/*.c, manifest/*.c) to WebAssembly.
#
#   ./build_wasm.sh            -> dist/smolweb-simd.{mjs,wasm}  SIMD128, single thread
#                                 dist/smolweb-scalar.{mjs,wasm} baseline, no SIMD
#
# Toolchain: Debian's emscripten 3.1.6 (installed with apt-get if missing).
# Dependencies: cJSON and Mbed TLS's SHA-256 compiled from Debian's source
# packages (apt-get source, into deps/src) to deps/lib/*.a. deps/ and dist/
# are git-ignored. Toolchain facts and flags: research/wasm-feasibility.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
DEPS=$ROOT/deps
DIST=$ROOT/dist
# emcc's JS optimizer needs acorn, which Debian keeps in /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs

# The exported C API: every function declared in include/smolweb.h, plus
# malloc/free so JS can pass buffers. Kept explicit (a narrow export list) and
# checked against the header below so the two cannot drift apart.
EXPORTS=(
  smolweb_status_str
  smolweb_sampler_default_params smolweb_sampler_create smolweb_sampler_free smolweb_sampler_reset
  smolweb_sampler_accept smolweb_sampler_sample
  smolweb_model_default_params smolweb_model_create smolweb_model_free smolweb_model_error
  smolweb_model_chunk_count smolweb_model_chunk_info smolweb_model_chunk_buffer smolweb_model_chunk_commit
  smolweb_model_chunk_drop smolweb_model_load_chunk smolweb_model_missing_chunks
  smolweb_model_n_vocab smolweb_model_n_ctx smolweb_model_n_layers smolweb_model_stop_ids
  smolweb_model_chat_template smolweb_model_chat_format
  smolweb_tokenize smolweb_detokenize smolweb_decode_piece smolweb_decode_flush smolweb_decode_reset
  smolweb_common_prefix smolweb_prefill smolweb_decode_step smolweb_logits smolweb_reset
)

die() { echo "build_wasm.sh: error: $*" >&2; exit 1; }

check_exports() {
    local declared listed
    # function names followed by '(' outside comment lines
    declared=$(grep -vE '^\s*(/\*|\*)' include/smolweb.h | grep -oE 'smolweb_[a-z_]+\(' | tr -d '(' | sort -u)
    listed=$(printf '%s\n' "${EXPORTS[@]}" | sort -u)
    if [ "$declared" != "$listed" ]; then
        diff <(echo "$declared") <(echo "$listed") >&2 || true
        die "export list differs from include/smolweb.h (< header only, > list only)"
    fi
}

need_emcc() {
    if ! command -v emcc >/dev/null; then
        echo "installing emscripten (apt-get)" >&2
        apt-get install -y emscripten >/dev/null || die "cannot install emscripten"
    fi
}

# Debian source packages of cJSON and Mbed TLS, unpacked into deps/src.
fetch_sources() {
    mkdir -p "$DEPS/src"
    if ! ls -d "$DEPS"/src/cjson-*/ >/dev/null 2>&1 || ! ls -d "$DEPS"/src/mbedtls-*/ >/dev/null 2>&1; then
        if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
            echo "adding a deb-src entry (/etc/apt/sources.list.d/smolweb-src.sources)" >&2
            cat >/etc/apt/sources.list.d/smolweb-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        apt-get update -qq || die "apt-get update failed"
        (cd "$DEPS/src" && apt-get source -qq cjson mbedtls) || die "apt-get source cjson mbedtls failed"
    fi
}

# deps/lib/libcjson.a, deps/lib/libsha256.a and headers in deps/include.
build_deps() {
    local cj mb obj
    cj=$(ls -d "$DEPS"/src/cjson-*/ | head -1)
    mb=$(ls -d "$DEPS"/src/mbedtls-*/ | head -1)
    mkdir -p "$DEPS/include/cjson" "$DEPS/lib" "$DEPS/obj"
    cp "$cj/cJSON.h" "$DEPS/include/cjson/"
    cp -r "$mb/include/mbedtls" "$DEPS/include/"
    obj=$DEPS/obj
    if [ ! -f "$DEPS/lib/libcjson.a" ]; then
        emcc -O2 -c "$cj/cJSON.c" -o "$obj/cJSON.o"
        emar rcs "$DEPS/lib/libcjson.a" "$obj/cJSON.o"
    fi
    if [ ! -f "$DEPS/lib/libsha256.a" ]; then
        # only the SHA-256 module and the zeroize helper it calls
        emcc -O2 -I"$mb/include" -I"$mb/library" -c "$mb/library/sha256.c" -o "$obj/sha256.o"
        emcc -O2 -I"$mb/include" -I"$mb/library" -c "$mb/library/platform_util.c" -o "$obj/platform_util.o"
        emar rcs "$DEPS/lib/libsha256.a" "$obj/sha256.o" "$obj/platform_util.o"
    fi
}

# One variant: $1 = output name, then extra compiler flags.
build_variant() {
    local name=$1
    shift
    local exported
    exported=$(printf '_%s,' "${EXPORTS[@]}")_malloc,_free
    mkdir -p "$DIST"
    emcc -O3 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "$@" \
        -Iinclude -Isrc -Imanifest -I"$DEPS/include" \
        src/*.c manifest/*.c "$DEPS/lib/libcjson.a" "$DEPS/lib/libsha256.a" \
        -sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createSmolweb \
        -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB \
        -sEXPORTED_FUNCTIONS="$exported" -sEXPORTED_RUNTIME_METHODS=UTF8ToString \
        -o "$DIST/$name.mjs"
    echo "built dist/$name.mjs + dist/$name.wasm ($(stat -c %s "$DIST/$name.wasm") bytes)" >&2
}

check_exports
need_emcc
fetch_sources
build_deps
build_variant smolweb-simd -msimd128
build_variant smolweb-scalar
