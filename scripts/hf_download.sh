#!/usr/bin/env bash
# Downloads a model from the Hugging Face Hub into a folder smolweb-chunk reads:
#   bash scripts/hf_download.sh OWNER/NAME DEST
# Files: config.json, tokenizer.json, tokenizer_config.json and the weights
# (model.safetensors, or model.safetensors.index.json and its shards).
# Env: HF_ENDPOINT (default https://huggingface.co), HF_REVISION (default main).
# Downloads into DEST.part (an interrupted file resumes from where it stopped
# on the next run) and renames it to DEST only when every file is there, so
# DEST is always complete. Offline, it fails with a message saying so.
# (scripts/main.sh runs it for MODEL=hf:OWNER/NAME.)
set -euo pipefail
repo=${1:?usage: hf_download.sh OWNER/NAME DEST}
dest=${2:?usage: hf_download.sh OWNER/NAME DEST}
endpoint=${HF_ENDPOINT:-https://huggingface.co}
rev=${HF_REVISION:-main}
fallback="To convert a model you already have, pass its folder or .gguf file: MODEL=/path/to/model bash scripts/main.sh"

if [[ ! $repo =~ ^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
  echo "hf_download: '$repo' is not a Hub repository name (OWNER/NAME, e.g. HuggingFaceTB/SmolLM2-135M-Instruct)" >&2
  exit 2
fi
if [ -d "$dest" ]; then
  echo "hf_download: $dest is already there (delete it to download again)" >&2
  exit 0
fi
command -v curl >/dev/null || { echo "hf_download: curl is not installed (apt-get install curl). $fallback" >&2; exit 1; }

part=$dest.part
mkdir -p "$part"

# get FILE: $part/FILE, resuming $part/FILE.part; exit status 0, or a message and exit
get() {
  local f=$1 url="$endpoint/$repo/resolve/$rev/$1" code rc=0
  [ -f "$part/$f" ] && return 0
  echo "hf_download: $url" >&2
  code=$(curl -L --fail-with-body -s --connect-timeout 15 --retry 3 --retry-delay 2 -C - \
    -w '%{http_code}' -o "$part/$f.part" "$url") || rc=$?
  if [ $rc -eq 0 ]; then
    mv "$part/$f.part" "$part/$f"
    return 0
  fi
  case $rc in
  5 | 6 | 7 | 28 | 35 | 56)
    echo "hf_download: cannot reach $endpoint (curl error $rc): this machine looks offline or the Hub is unreachable." >&2
    echo "  $fallback" >&2
    exit 1 ;;
  esac
  rm -f "$part/$f.part" # an error page, not the file
  if [ "$code" = 404 ] && [ "${2:-}" = optional ]; then return 1; fi
  case $code in
  401 | 403) echo "hf_download: $url: HTTP $code (a gated or private repository needs an access token; download it yourself). $fallback" >&2 ;;
  404) echo "hf_download: $url: HTTP 404 (check the repository name and HF_REVISION). $fallback" >&2 ;;
  *) echo "hf_download: $url: failed (curl error $rc, HTTP $code). $fallback" >&2 ;;
  esac
  exit 1
}

get config.json
get tokenizer.json
get tokenizer_config.json
if ! get model.safetensors optional; then
  # a sharded checkpoint: the index names the shards
  get model.safetensors.index.json
  shards=$(node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).weight_map || {};
    const s = [...new Set(Object.values(m))];
    if (!s.length || s.some((f) => !/^[A-Za-z0-9._-]+\.safetensors$/.test(f))) process.exit(1);
    console.log(s.join("\n"));' "$part/model.safetensors.index.json") ||
    { echo "hf_download: $part/model.safetensors.index.json: no usable weight_map" >&2; exit 1; }
  for s in $shards; do get "$s"; done
fi
mv "$part" "$dest"
echo "hf_download: $repo is in $dest ($(du -sh "$dest" | cut -f1))" >&2
