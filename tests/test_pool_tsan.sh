#!/usr/bin/env bash
# test_pool_tsan.sh: the thread pool's test (tests/test_pool.c) under
# ThreadSanitizer, which reports any data race between the caller publishing
# a job and the pool's threads claiming chunks, sleeping and waking.
set -euo pipefail
SRC=${SMOLWEB_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
clang -std=c11 -D_DEFAULT_SOURCE -O1 -g -fsanitize=thread -I"$SRC/src" -I"$SRC/include" -I"$SRC/tests" \
  "$SRC/tests/test_pool.c" "$SRC/src/pool.c" "$SRC/src/error.c" -o "$OUT/test_pool_tsan" -lpthread
TSAN_OPTIONS=halt_on_error=1 "$OUT/test_pool_tsan"
