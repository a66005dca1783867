#!/usr/bin/env bash
# Installs what building and running omniedge needs, at pinned versions, skipping
# whatever is already present: the wasm32 target, worker-build, wasm-bindgen-cli and
# the npm tools (wrangler, esbuild, wasm-opt, playwright-core) and Debian's chromium for
# the browser tests. Safe to run again and again.
set -euo pipefail
source "$(dirname "$0")/env.sh"

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in functions/Cargo.toml

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo clippy --version >/dev/null 2>&1; then
  step "adding clippy"
  rustup component add clippy
fi

if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  step "installing worker-build $WORKER_BUILD_VERSION (about 5 minutes on 2 cores)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes on 2 cores)"
  # Not --locked: its lockfile pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# npm's own node_modules/.package-lock.json is never byte-equal to package-lock.json (it
# leaves out the root entry), so the lockfile an install was made from is kept beside it.
if ! cmp -s "$ROOT/package-lock.json" "$ROOT/node_modules/.omniedge-installed-lock.json" 2>/dev/null; then
  step "installing the npm tools from package-lock.json"
  (cd "$ROOT" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.omniedge-installed-lock.json)
fi

if [[ ! -x /usr/bin/chromium ]]; then
  step "installing Debian's chromium (the browser tests drive it headless)"
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
