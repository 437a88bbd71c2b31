#!/usr/bin/env bash
# profile_build.sh: the SIMD+threads variant compiled with -DSW_PROFILE (phase
# timers in src/forward.c, exported as _sw_profile) into DIR (default
# /tmp/smolweb-profile), for bench/profile.mjs:
#   bash bench/profile_build.sh [DIR] && SMOLWEB_DIST=DIR node --no-experimental-fetch bench/profile.mjs MODEL_DIR
# Needs ./build_wasm.sh to have run once (deps/).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs
D=${1:-/tmp/smolweb-profile}
mkdir -p "$D"
exported=$(grep -oE '^  smolweb_[a-z_ ]+' build_wasm.sh | tr ' ' '\n' | grep smolweb | sed 's/^/_/' | tr '\n' ',')_malloc,_free,_sw_profile
emcc -O3 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DSW_PROFILE -msimd128 -pthread \
    -Iinclude -Isrc -Imanifest -Ideps/include src/*.c manifest/*.c deps/lib/pthread/libcjson.a deps/lib/pthread/libsha256.a \
    -sMODULARIZE -sEXPORT_ES6 -sEXPORT_NAME=createSmolweb -sASSERTIONS=0 -sFILESYSTEM=0 \
    -sALLOW_MEMORY_GROWTH -sABORTING_MALLOC=0 -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=4GB -sEXPORTED_RUNTIME_METHODS=[] \
    -sPTHREAD_POOL_SIZE=2 -sPTHREAD_POOL_SIZE_STRICT=2 -sENVIRONMENT=web,worker,node -Wno-pthreads-mem-growth \
    -sEXPORTED_FUNCTIONS="$exported" -o "$D/smolweb-simd-threads.mjs"
echo '{"type": "commonjs"}' >"$D/package.json"
echo "built $D/smolweb-simd-threads.{mjs,wasm}" >&2
