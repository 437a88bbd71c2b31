#!/usr/bin/env bash
# web/src/cache.js (Cache API) in headless Chromium, plus device.js and
# chat.js where they need a browser (page, module worker, import map):
# tests/browser/cache_test.mjs lists the checks. Needs /usr/bin/chromium (or
# $CHROMIUM) and npm's node_modules (playwright-core, @huggingface/jinja).
set -euo pipefail
: "${SMOLWEB_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
export SMOLWEB_SRC
cd "$SMOLWEB_SRC"
exec node tests/browser/cache_test.mjs
