#!/usr/bin/env bash
# The test job: set up, build (release + ASan/UBSan + libFuzzer), run every
# test that is not labelled slow in both builds, short fuzz runs, valgrind on
# the CLI. `scripts/test.sh --slow` runs the slow target (large shapes) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SMOLWEB_SHARED=${SMOLWEB_SHARED:-$(cd .. && pwd)/shared}
jobs=$(nproc 2>/dev/null || echo 2)

if [ "${1:-}" = "--slow" ]; then
  bash scripts/build.sh
  ctest --test-dir build -L slow --output-on-failure
  exit 0
fi

bash scripts/build.sh --sanitize
echo "== WebAssembly build (dist/)" >&2
bash build_wasm.sh
echo "== tests (release build)" >&2
ctest --test-dir build -LE slow --output-on-failure -j"$jobs"
echo "== tests (ASan + UBSan build; conversions on the tiny shape)" >&2
SHAPES=tiny FORWARD_SHAPES=tiny LLAMACPP_SHAPES=tiny ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan -LE 'slow|wasm' --output-on-failure -j"$jobs"

echo "== fuzzers (short runs)" >&2
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSMOLWEB_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
bash tests/fuzz_run.sh build-fuzz "${FUZZ_SECONDS:-20}"

echo "== valgrind (CLI)" >&2
bash tests/valgrind_cli.sh build
echo "all tests passed" >&2
