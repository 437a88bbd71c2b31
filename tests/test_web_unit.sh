#!/usr/bin/env bash
# Node unit tests of the pure JavaScript library modules in web/src/
# (errors, device tiers, fetch with injected faults, progress, chat):
# tests/web/*.test.mjs with node:test. Needs Node 18+ and npm's node_modules
# (@huggingface/jinja). The files are listed by the shell, not found by
# `node --test DIR`, whose directory handling differs between Node 18 and 22.
set -euo pipefail
: "${SMOLWEB_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
export SMOLWEB_SRC
cd "$SMOLWEB_SRC"
[ -d node_modules/@huggingface/jinja ] || { echo "node_modules/@huggingface/jinja missing: run npm ci" >&2; exit 1; }
exec node --test tests/web/*.test.mjs
