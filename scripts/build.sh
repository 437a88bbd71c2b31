#!/usr/bin/env bash
# Native build: build/ (release) and, with --sanitize, build-asan/ (ASan + UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSMOLWEB_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
fi
