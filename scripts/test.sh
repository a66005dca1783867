#!/usr/bin/env bash
# Runs every test: clippy (warnings are errors), the domain's unit tests and the crash
# simulation, the worker's unit tests (its pure functions, such as the error-to-problem
# mapping) (native), the wasm parity tests (the domain compiled to wasm32, run by
# wasm-bindgen-test-runner under Node), the OpenAPI document's self-check, then the
# end-to-end tests against the Worker in workerd (wrangler dev, fresh local D1 and
# Durable Objects).
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/scripts/server.sh"
cd "$ROOT"

bash scripts/setup.sh

echo "==> lints (clippy, warnings are errors)"
cargo clippy -p omniedge --all-targets -- -D warnings
cargo clippy -p omniedge-functions --target wasm32-unknown-unknown -- -D warnings

echo "==> unit tests and the crash simulation (native, ${SIMULATION_SEEDS:=10000} seeds)"
SIMULATION_SEEDS=$SIMULATION_SEEDS cargo test -p omniedge

echo "==> the worker's unit tests (native)"
cargo test -p omniedge-functions

echo "==> wasm parity tests (wasm32 under Node)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p omniedge --target wasm32-unknown-unknown --test wasm_parity

echo "==> OpenAPI document self-check"
node tests/e2e/contract.mjs

echo "==> building the worker"
bash scripts/build.sh

echo "==> end-to-end tests (workerd)"
if ! compgen -G "tests/e2e/*.test.mjs" >/dev/null; then
  echo "no end-to-end tests found in tests/e2e" >&2
  exit 1
fi
PORT=${OMNIEDGE_TEST_PORT:-8799}
STATE=$(mktemp -d /tmp/omniedge-test.XXXXXX)
LOG="$STATE/wrangler.log"
ADMIN_KEY="test-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
# Shopper sessions are signed with the current key; the previous one is still accepted
# (the tests sign a token with it themselves, as a rotation leaves them).
SIGNING_KEY="test-2:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
PREVIOUS_SIGNING_KEY="test-1:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
# Cart reminders: steps after seconds, a test VAPID key pair and link key, plain http to
# the reminder suite's stand-ins on the next ports (push service, email API, storefront page).
PUSH_PORT=$((PORT + 1)); EMAIL_API_PORT=$((PORT + 2)); STOREFRONT_PORT=$((PORT + 3))
EMAIL_API_TOKEN="test-email-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
VAPID_PRIVATE_KEY=$(node -e 'console.log(require("crypto").generateKeyPairSync("ec",{namedCurve:"P-256"}).privateKey.export({format:"jwk"}).d)')
REMINDER_VARS=(--var "REMINDER_SEQUENCE:push@3s,email@3s" --var REMINDER_INSECURE_LOOPBACK:allowed
  --var REMINDER_RETRY_BASE:1s --var REMINDER_MAX_ATTEMPTS:3
  --var "REMINDER_PUBLIC_URL:http://127.0.0.1:$PORT" --var "REMINDER_CART_URL:http://127.0.0.1:$STOREFRONT_PORT/cart/{cart_id}"
  --var "REMINDER_LINK_KEY:test-1:$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" --var "VAPID_PRIVATE_KEY:$VAPID_PRIVATE_KEY"
  --var "EMAIL_API_URL:http://127.0.0.1:$EMAIL_API_PORT/emails" --var "EMAIL_API_TOKEN:$EMAIL_API_TOKEN")
# Returns: goodwill for a goods-not-as-described return is a gift handed over in store
# (the returns suite creates the SKU); defective ones keep the default coupon.
RETURN_VARS=(--var "GOODWILL_REASONS:defective,not_as_described" --var "GOODWILL_OFFER:coupon:10:90,not_as_described=gift:GW-GIFT-SOCKS")
trap 'stop_server; rm -rf "$STATE"' EXIT
start_server "$PORT" "$STATE/state" "$ADMIN_KEY" "$LOG" --var FAULT_INJECTION:enabled --var PLACEMENT_HOLD_SECONDS:3 \
  --var "SHOPPER_SIGNING_KEY:$SIGNING_KEY" --var "SHOPPER_SIGNING_KEY_PREVIOUS:$PREVIOUS_SIGNING_KEY" "${REMINDER_VARS[@]}" "${RETURN_VARS[@]}"
OMNIEDGE_URL="http://127.0.0.1:$PORT" OMNIEDGE_ADMIN_KEY="$ADMIN_KEY" OMNIEDGE_PREVIOUS_SIGNING_KEY="$PREVIOUS_SIGNING_KEY" \
  OMNIEDGE_PUSH_PORT="$PUSH_PORT" OMNIEDGE_EMAIL_API_PORT="$EMAIL_API_PORT" OMNIEDGE_EMAIL_API_TOKEN="$EMAIL_API_TOKEN" \
  OMNIEDGE_STOREFRONT_PORT="$STOREFRONT_PORT" \
  node --test --test-concurrency=1 tests/e2e/
