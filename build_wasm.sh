#!/usr/bin/env bash
# build_wasm.sh: builds the runtime (src/*.c, manifest/*.c) to WebAssembly, as
# ES-module loaders (.mjs) plus .wasm files in dist/, in three variants:
#
#   dist/smolweb-simd-threads.{mjs,wasm,worker.js}  SIMD128 + pthreads; needs a
#        cross-origin-isolated page (COOP/COEP) for SharedArrayBuffer
#   dist/smolweb-simd.{mjs,wasm}     SIMD128, single thread
#   dist/smolweb-scalar.{mjs,wasm}   baseline without SIMD, for old engines
#
# JS picks one (web/src/runtime.js wraps whichever it gets): threads when
# self.crossOriginIsolated, SIMD when WebAssembly.validate accepts a SIMD
# module, else scalar.
#
# Every variant: -O3, no assertions, memory growing on demand up to 4 GiB
# (wasm32; pointers above 2 GiB reach JS negative, read them with `>>> 0`),
# malloc returning NULL when memory cannot grow (-sABORTING_MALLOC=0), so an
# allocation failure becomes SMOLWEB_ERR_NOMEM instead of a trap.
#
# Threads: the runtime's pool (src/pool.c) calls pthread_create from the
# module's main thread, which in a browser is a Web Worker that never returns
# to its event loop during the call, so each thread must get a Worker
# pre-spawned at module start-up: -sPTHREAD_POOL_SIZE is a JS expression
# evaluated then: Module.smolwebPoolSize if the caller passes it (>= 1), else
# navigator.hardwareConcurrency capped at 8 (2 where navigator is absent:
# Node 20). The pool must hold n_threads - 1 workers. With
# -sPTHREAD_POOL_SIZE_STRICT=2 a pthread_create beyond the pool fails with
# EAGAIN (the runtime then computes with the threads it got) instead of
# deadlocking while waiting for a new Worker to load.
#
#   SMOLWEB_WASM_LTO=1 ./build_wasm.sh   also compile with -flto. Off by
#        default: measured with emcc 3.1.6 (clang 14) on the SmolLM2-135M
#        shape, q4, Node 20, SIMD, 1 thread, interleaved runs: the .wasm is
#        0.3-0.7% larger (scalar 154544 vs 154026 bytes, simd 167360 vs
#        166613) and no faster (median decode 40.1/36.3 tok/s with LTO,
#        38.7/36.5 without; prefill 90/84 vs 86/80: within run-to-run noise).
#
#   SMOLWEB_WASM_PROFILE=DIR ./build_wasm.sh   instead builds only the
#        SIMD+threads variant with -DSW_PROFILE (phase timers in
#        src/forward.c, read through the extra export _sw_profile) into DIR,
#        for bench/profile.mjs; dist/ is left alone.
#
# ENVIRONMENT: the threads build includes `node` so the Node tests can run
# its pool (worker_threads); that costs 2.3 kB raw / 0.7 kB gzip of .mjs and
# 0.7 kB / 0.3 kB of .worker.js. About 10 kB of its .mjs is WebGL/canvas
# glue that 3.1.6's prebuilt libpthread references (proxied calls) and that
# the frozen cache cannot drop.
#
# Toolchain: Debian's emscripten 3.1.6 (installed with apt-get if missing).
# Dependencies: cJSON and Mbed TLS's SHA-256 compiled from Debian's source
# packages (apt-get source, into deps/src) to deps/lib/{plain,pthread}/*.a
# (objects linked into a pthread build must be compiled with -pthread).
# deps/ and dist/ are git-ignored. Toolchain facts and flags:
# research/wasm-feasibility.md.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
DEPS=$ROOT/deps
DIST=$ROOT/dist
# emcc's JS optimizer needs acorn, which Debian keeps in /usr/share/nodejs.
export NODE_PATH=/usr/share/nodejs
LTO=${SMOLWEB_WASM_LTO:-0}
PROFILE_DIR=${SMOLWEB_WASM_PROFILE:-}
EXTRA_CFLAGS=()
EXTRA_EXPORTS=
if [ -n "$PROFILE_DIR" ]; then
    DIST=$PROFILE_DIR
    EXTRA_CFLAGS=(-DSW_PROFILE)
    EXTRA_EXPORTS=,_sw_profile
fi

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
  smolweb_model_n_vocab smolweb_model_n_ctx smolweb_model_n_layers smolweb_model_n_threads smolweb_model_stop_ids
  smolweb_model_chat_template smolweb_model_chat_format
  smolweb_tokenize smolweb_detokenize smolweb_decode_piece smolweb_decode_flush smolweb_decode_reset
  smolweb_common_prefix smolweb_prefill smolweb_decode_step smolweb_logits smolweb_reset
  smolweb_abi_json
)

# The Worker pool's size, evaluated by the loader at start-up (no commas:
# emcc would read them as a list).
POOL_SIZE='(Module.smolwebPoolSize>0?Module.smolwebPoolSize:(typeof navigator=="object"&&navigator.hardwareConcurrency>0?(navigator.hardwareConcurrency>8?8:navigator.hardwareConcurrency):2))'

die() { echo "build_wasm.sh: error: $*" >&2; exit 1; }

# Runs a command as root: directly when root, else through sudo.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

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
        as_root apt-get install -y emscripten >/dev/null || die "cannot install emscripten"
    fi
}

# Debian source packages of cJSON and Mbed TLS, unpacked into deps/src.
fetch_sources() {
    mkdir -p "$DEPS/src"
    if ! ls -d "$DEPS"/src/cjson-*/ >/dev/null 2>&1 || ! ls -d "$DEPS"/src/mbedtls-*/ >/dev/null 2>&1; then
        if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
            echo "adding a deb-src entry (/etc/apt/sources.list.d/smolweb-src.sources)" >&2
            as_root tee /etc/apt/sources.list.d/smolweb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        as_root apt-get update -qq || die "apt-get update failed"
        # apt-get source needs no root: it downloads and unpacks into the cwd
        (cd "$DEPS/src" && apt-get source -qq cjson mbedtls) || die "apt-get source cjson mbedtls failed"
    fi
}

# deps/lib/$flavour/{libcjson,libsha256}.a and headers in deps/include;
# flavour "pthread" is compiled with -pthread (shared memory, atomics).
build_deps() {
    local flavour=$1 cj mb obj lib flags=()
    [ "$flavour" = pthread ] && flags=(-pthread)
    cj=$(ls -d "$DEPS"/src/cjson-*/ | head -1)
    mb=$(ls -d "$DEPS"/src/mbedtls-*/ | head -1)
    obj=$DEPS/obj/$flavour
    lib=$DEPS/lib/$flavour
    mkdir -p "$DEPS/include/cjson" "$lib" "$obj"
    cp "$cj/cJSON.h" "$DEPS/include/cjson/"
    cp -r "$mb/include/mbedtls" "$DEPS/include/"
    if [ ! -f "$lib/libcjson.a" ]; then
        emcc -O3 "${flags[@]}" -c "$cj/cJSON.c" -o "$obj/cJSON.o"
        emar rcs "$lib/libcjson.a" "$obj/cJSON.o"
    fi
    if [ ! -f "$lib/libsha256.a" ]; then
        # only the SHA-256 module and the zeroize helper it calls
        emcc -O3 "${flags[@]}" -I"$mb/include" -I"$mb/library" -c "$mb/library/sha256.c" -o "$obj/sha256.o"
        emcc -O3 "${flags[@]}" -I"$mb/include" -I"$mb/library" -c "$mb/library/platform_util.c" -o "$obj/platform_util.o"
        emar rcs "$lib/libsha256.a" "$obj/sha256.o" "$obj/platform_util.o"
    fi
}

# One variant: $1 = output name, $2 = deps flavour, then extra emcc flags.
build_variant() {
    local name=$1 flavour=$2
    shift 2
    local exported lto=()
    exported=$(printf '_%s,' "${EXPORTS[@]}")_malloc,_free$EXTRA_EXPORTS
    [ "$LTO" = 1 ] && lto=(-flto)
    mkdir -p "$DIST"
    rm -f "$DIST/$name".*
    emcc -O3 "${lto[@]}" "${EXTRA_CFLAGS[@]}" -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "$@" \
        -Iinclude -Isrc -Imanifest -I"$DEPS/include" \
        src/*.c manifest/*.c "$DEPS/lib/$flavour/libcjson.a" "$DEPS/lib/$flavour/libsha256.a" \
        -sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createSmolweb \
        -sASSERTIONS=0 -sFILESYSTEM=0 \
        -sALLOW_MEMORY_GROWTH -sABORTING_MALLOC=0 -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB \
        -sEXPORTED_FUNCTIONS="$exported" -sEXPORTED_RUNTIME_METHODS=[] \
        -o "$DIST/$name.mjs"
    echo "built ${DIST#"$ROOT"/}/$name.mjs + .wasm" >&2
}

# Raw and gzip -9 sizes of every file a page downloads for a variant.
size_table() {
    local f raw gz
    printf '%-34s %10s %10s\n' file bytes gzip
    for f in "$DIST"/*.wasm "$DIST"/*.mjs "$DIST"/*.worker.js; do
        [ -f "$f" ] || continue
        raw=$(stat -c %s "$f")
        gz=$(gzip -9 -c "$f" | wc -c)
        printf '%-34s %10d %10d\n' "dist/$(basename "$f")" "$raw" "$gz"
    done
}

check_exports
need_emcc
fetch_sources
build_deps plain
build_deps pthread
# Browser variants carry no Node code except the threads one: its pool
# workers need Node's worker_threads for the Node tests (the Node code is a
# few kB of dead branches in a browser). The single-thread variants run in
# Node when the caller hands the loader wasmBinary and the require/__dirname
# shim (tests/wasm/load.mjs).
build_variant smolweb-simd-threads pthread -msimd128 -pthread \
    -sPTHREAD_POOL_SIZE="$POOL_SIZE" -sPTHREAD_POOL_SIZE_STRICT=2 -sENVIRONMENT=web,worker,node \
    -Wno-pthreads-mem-growth  # the warning is about JS-side heap access only
# The pthread pool's worker script (.worker.js) is CommonJS under Node; the
# repository's package.json says "type": "module", which would make Node load
# it as an ES module (`require is not defined`). This scope marker fixes that
# for dist/ only (.mjs files stay ES modules; browsers ignore it).
echo '{"type": "commonjs"}' >"$DIST/package.json"
[ -n "$PROFILE_DIR" ] && exit 0
build_variant smolweb-simd plain -msimd128 -sENVIRONMENT=web,worker
build_variant smolweb-scalar plain -sENVIRONMENT=web,worker
size_table

# The C library for Emscripten applications (emscripten_fetch loader, -sFETCH
# only there) and its example, examples/c-chat.
bash scripts/build_wasm_fetch.sh
