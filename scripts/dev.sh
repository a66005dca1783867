#!/usr/bin/env bash
# Runs the API locally with demo data at http://127.0.0.1:8787: installs what is missing,
# builds the worker, applies the D1 migrations to local state (.wrangler/state), serves it
# with `wrangler dev` and loads the demo retailer. Ctrl-C stops it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/server.sh"
cd "$ROOT"

bash scripts/setup.sh
if [[ ! -f .dev.vars ]]; then
  echo "ADMIN_API_KEY=dev-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > .dev.vars
  echo "==> wrote .dev.vars with a fresh bootstrap admin key"
fi
if ! grep -q '^SHOPPER_SIGNING_KEY=' .dev.vars; then
  echo "SHOPPER_SIGNING_KEY=dev-1:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >> .dev.vars
  echo "==> added a shopper-session signing key to .dev.vars"
fi
if ! grep -q '^REMINDER_LINK_KEY=' .dev.vars; then
  echo "REMINDER_LINK_KEY=dev-1:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >> .dev.vars
  echo "VAPID_PRIVATE_KEY=$(node -e 'console.log(require("crypto").generateKeyPairSync("ec",{namedCurve:"P-256"}).privateKey.export({format:"jwk"}).d)')" >> .dev.vars
  echo "==> added a reminder link key and a VAPID key pair to .dev.vars"
fi
ADMIN_KEY=$(sed -n 's/^ADMIN_API_KEY=//p' .dev.vars)
bash scripts/build.sh

PORT=${PORT:-8787}
mkdir -p .wrangler
trap stop_server EXIT INT TERM
echo "==> starting wrangler dev on http://127.0.0.1:$PORT (log: .wrangler/dev.log)"
# OMNIEDGE_TEST_HOOKS=1 also serves the test hooks (bulk holds for the hot-sku benchmark)
# and fault injection: never in production.
extra=()
if [[ "${OMNIEDGE_TEST_HOOKS:-}" == 1 ]]; then extra=(--var FAULT_INJECTION:enabled); fi
# REMINDER_SEQUENCE=email@10s scripts/dev.sh: reminders after seconds, email through the
# send_email binding (which wrangler dev logs instead of sending).
if [[ -n "${REMINDER_SEQUENCE:-}" ]]; then extra+=(--var "REMINDER_SEQUENCE:$REMINDER_SEQUENCE" --var EMAIL_TRANSPORT:send_email); fi
start_server "$PORT" .wrangler/state "$ADMIN_KEY" .wrangler/dev.log "${extra[@]}"
OMNIEDGE_URL="http://127.0.0.1:$PORT" OMNIEDGE_ADMIN_KEY="$ADMIN_KEY" node scripts/demo-data.mjs
cat <<INFO

omniedge is running at http://127.0.0.1:$PORT with demo data.
  admin key:  $ADMIN_KEY   (from .dev.vars)
  try:        curl -H "Authorization: Bearer $ADMIN_KEY" "http://127.0.0.1:$PORT/v1/stock/TRAIL-BLK-42?near=52.3731,4.8922"
Ctrl-C stops it.
INFO
wait "$SERVER_PID"
