# Sourced by dev.sh, test.sh and bench.sh: starts the Worker under `wrangler dev` (real
# workerd with local D1 and Durable Objects) against a given state directory.
#   start_server PORT STATE_DIR ADMIN_KEY LOG_FILE [WRANGLER_ARGS...]  -> sets SERVER_PID, waits until ready
#   stop_server

start_server() {
  local port=$1 state=$2 admin_key=$3 log=$4
  shift 4  # further arguments go to wrangler dev (e.g. --var FAULT_INJECTION:enabled)
  mkdir -p "$state"
  (cd "$ROOT" && wrangler d1 migrations apply DB --local --persist-to "$state" >>"$log" 2>&1)
  # Own session, so stop_server can end wrangler and every workerd it started.
  # The devtools inspector gets a port of its own too (OMNIEDGE_INSPECTOR_PORT, default
  # 9229), so servers on other ports can run beside this one.
  # OMNIEDGE_DEVTOOLS=off serves it with no devtools session at all (the benchmark's
  # server, see scripts/serve-without-devtools.mjs).
  local serve=(wrangler dev --ip 127.0.0.1 --inspector-port "${OMNIEDGE_INSPECTOR_PORT:-9229}" --show-interactive-dev-session=false)
  if [[ "${OMNIEDGE_DEVTOOLS:-on}" == off ]]; then
    serve=(node scripts/serve-without-devtools.mjs)
  fi
  (cd "$ROOT" && exec setsid "${serve[@]}" --port "$port" --persist-to "$state" \
      --var "ADMIN_API_KEY:$admin_key" "$@" >>"$log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 180); do
    if curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "wrangler dev exited; its log:" >&2; tail -50 "$log" >&2; return 1
    fi
    sleep 1
  done
  echo "wrangler dev did not become ready; its log:" >&2; tail -50 "$log" >&2
  return 1
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]]; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
