#!/usr/bin/env bash
# Runs the benchmark (scripts/bench.mjs) against a server of its own, on fresh local
# state, with the test hooks the hot-sku scenarios need. By default the server has no
# devtools session, as deployed Workers have none (scripts/serve-without-devtools.mjs);
# BENCH_DEVTOOLS=on measures under `wrangler dev` as scripts/dev.sh serves it, with the
# devtools relay competing for the same cores. Every BENCH_* setting of bench.mjs applies.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/server.sh"
cd "$ROOT"

bash scripts/setup.sh
bash scripts/build.sh
PORT=${BENCH_PORT:-8797}
STATE=$(mktemp -d)
ADMIN_KEY="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export OMNIEDGE_DEVTOOLS=${BENCH_DEVTOOLS:-off}
OMNIEDGE_INSPECTOR_PORT=${OMNIEDGE_INSPECTOR_PORT:-9239}
export OMNIEDGE_INSPECTOR_PORT
trap 'stop_server; rm -rf "$STATE"' EXIT INT TERM
echo "==> starting the bench server on port $PORT (devtools session: $OMNIEDGE_DEVTOOLS; log: $STATE/log)"
start_server "$PORT" "$STATE/state" "$ADMIN_KEY" "$STATE/log" --var FAULT_INJECTION:enabled
OMNIEDGE_URL="http://127.0.0.1:$PORT" OMNIEDGE_ADMIN_KEY="$ADMIN_KEY" BENCH_SERVER="devtools session $OMNIEDGE_DEVTOOLS" \
  node scripts/bench.mjs
