#!/usr/bin/env bash
# Builds the Worker (Rust -> wasm32 -> functions/build) with the pinned local tools.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/functions"
worker-build --release
