#!/usr/bin/env bash
# Installs what building and testing smolweb needs on Debian 12, as root or
# through sudo, then the npm dev dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

pkgs=(build-essential cmake clang libclang-rt-14-dev libcjson-dev libmbedtls-dev libsimde-dev python3 python3-numpy valgrind ca-certificates
      emscripten chromium curl)
# Node.js and npm: Debian's (Node 18, npm 9) unless a Node is already installed
# (e.g. NodeSource's, which bundles npm and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  # Node 24 for tests/test_llamacpp.sh only (wllama needs memory64 and JSPI)
  npm ci --prefix tests/node24 --no-audit --no-fund --loglevel=error
fi
