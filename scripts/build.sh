#!/usr/bin/env bash
# Native build: build/ (release) and, with --sanitize, build-asan/ (ASan + UBSan,
# with the wasm SIMD128 kernels also compiled natively through SIMDe for test_kernels).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSMOLWEB_SANITIZE=ON -DSMOLWEB_SIMDE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
fi
