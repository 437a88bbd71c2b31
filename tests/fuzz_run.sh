#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, seeded from
# fuzz/seeds/<target>/ (committed, small) and tests/make_fuzz_seeds.py.
#   tests/fuzz_run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$(cd "$1" && pwd); secs=${2:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$build/fuzz-work
rm -rf "$work"; mkdir -p "$work"
/usr/bin/python3 "$src/tests/make_fuzz_seeds.py" "$work/seeds"
status=0
for f in "$build"/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=$work/corpus/$name
  mkdir -p "$corpus"
  for d in "$src/fuzz/seeds/$name" "$work/seeds/$name"; do
    [ -d "$d" ] && cp "$d"/* "$corpus"/ 2>/dev/null || true
  done
  echo "fuzz: $name for ${secs}s ($(ls "$corpus" | wc -l) seeds)" >&2
  if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "$f" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 \
        -print_final_stats=1 "$corpus" >"$work/$name.log" 2>&1); then
    echo "fuzz: $name FAILED; log tail:" >&2
    tail -40 "$work/$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$work/$name.log" | tail -2 >&2 || true
  fi
done
exit $status
