#!/usr/bin/env bash
# Builds the Worker (Rust -> wasm32 -> functions/build) with the pinned local tools.
# Skips the build when functions/build is newer than every source it is made from.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
out=functions/build/index.js
if [[ -f "$out" && -z "$(find src functions/src schemas/openapi.json Cargo.toml Cargo.lock functions/Cargo.toml scripts/strip-wasm-names.mjs -newer "$out" -print -quit)" ]]; then
  echo "functions/build is up to date"
  exit 0
fi
cd functions
worker-build --release
node ../scripts/strip-wasm-names.mjs build/index_bg.wasm
