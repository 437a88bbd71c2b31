#!/usr/bin/env bash
# Checks manifest/manifest.schema.json with Ajv (an independent JSON Schema
# 2020-12 validator): the committed examples and what the C writer
# (sw_manifest_to_json, via test_manifest --emit) produces must validate, and
# broken manifests must not (tests/manifest_schema_check.mjs).
# Needs node and the repo's npm dev dependencies (npm ci at the repo root).
set -euo pipefail
src=${SMOLWEB_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
build=${SMOLWEB_BUILD:-$PWD}
if ! command -v node >/dev/null; then
  echo "test_manifest_schema: node is not installed" >&2
  exit 1
fi
if [ ! -d "$src/node_modules/ajv" ]; then
  echo "test_manifest_schema: $src/node_modules/ajv is missing: run npm ci first (in $src)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SMOLWEB_SRC=$src "$build/test_manifest" --emit "$tmp"
node "$src/tests/manifest_schema_check.mjs" "$src"/manifest/examples/*.json "$tmp"/*.json
