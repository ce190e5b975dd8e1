#!/usr/bin/env bash
# start.sh - starts ONE real n8n instance on 127.0.0.1 for tests and bootstraps it (owner + API key).
#
# Usage: tests/real_n8n/start.sh --dir DIR [--port P] [--env KEY=VALUE]... [--timeout SECONDS]
#   --dir DIR      instance folder (created). Holds home/ (N8N_USER_FOLDER, sqlite DB), n8n.log, pid,
#                  cookies.txt and instance.env.
#   --port P       HTTP port; default: a random free port in 10000..30999 whose P+1000 is free too
#                  (listening ports stay below the ephemeral range 32768-60999).
#   --env K=V      extra environment for n8n (repeatable), e.g.
#                  --env N8N_TOKEN_EXCHANGE_ENABLED=true --env N8N_TOKEN_EXCHANGE_TRUSTED_KEYS='[...]'
#   --timeout S    readiness timeout (default 180 s).
# Environment: N8N_FLEET_DEBUG_EXCHANGE=1 makes the licence preload log hidden token-exchange failure reasons.
#
# What it does: install.sh (cached), then runs `n8n start` in its own process group (setsid) with
# Node 24 first on PATH, N8N_PORT=P, N8N_RUNNERS_BROKER_PORT=P+1000, telemetry/version checks/templates off,
# N8N_SECURE_COOKIE=false, N8N_ENV_FEAT_TOKEN_EXCHANGE=true, the test-only licence preload
# (license-preload.cjs via NODE_OPTIONS), Insights flush 1 s / compaction 1 min, workflow publication
# outbox polled every 1 s (activation is asynchronous in 2.40.7; default 15 s). Waits until
# GET /rest/settings answers JSON, then: POST /rest/owner/setup (or, when DIR was used before, logs in with
# the saved owner), POST /rest/login (cookie jar DIR/cookies.txt, fixed browser-id header), and
# POST /rest/api-keys with every scope GET /rest/api-keys/scopes offers the owner (workflow:*,
# execution:*, insights:read, ...). Writes DIR/instance.env (KEY=VALUE lines, sourceable):
#   N8N_URL N8N_PORT N8N_API_KEY N8N_OWNER_EMAIL N8N_OWNER_PASSWORD N8N_COOKIE_FILE N8N_BROWSER_ID
#   N8N_PID N8N_DIR N8N_LOG N8N_RUNNERS_BROKER_PORT N8N_STARTUP_SECONDS
# On any failure the n8n it started is stopped again and the last log lines are shown. Exit 0 = ready.
# Stop with stop.sh --dir DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir="" port="" timeout=180
extra_env=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --env) [[ "${2:-}" == *=* ]] || rn_die "--env needs KEY=VALUE"; extra_env+=("$2"); shift 2 ;;
    --timeout) timeout="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $1 (see --help)" ;;
  esac
done
[ -n "$dir" ] || rn_die "--dir DIR is required"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
t0="$(rn_now)"

if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
  rn_die "an instance is already running from $dir (pid $(cat "$dir/pid")); stop it first: stop.sh --dir $dir"
fi

rn_use_cache

# ---- port ----
if [ -n "$port" ]; then
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 31767 ] || rn_die "--port must be 1024..31767 (P+1000 must stay below 32768)"
  rn_port_free "$port" || rn_die "port $port is in use"
  rn_port_free $((port + 1000)) || rn_die "port $((port + 1000)) (task runner broker = port+1000) is in use"
else
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % 21000))
    if rn_port_free "$p" && rn_port_free $((p + 1000)); then port="$p"; break; fi
  done
  [ -n "$port" ] || rn_die "found no free port pair (P, P+1000) in 10000..31999"
fi
broker_port=$((port + 1000))
url="http://127.0.0.1:$port"

# ---- launch ----
mkdir -p "$dir/home"
preload="$RN_HERE/license-preload.cjs"
rn_log "starting n8n $("$RN_NODE_BIN" "$RN_N8N_BIN" --version 2>/dev/null | tail -n1) on $url (broker $broker_port), dir $dir"
: >"$dir/n8n.log"
launch_env=(
  PATH="$(dirname "$RN_NODE_BIN"):$PATH"
  N8N_FLEET_N8N_DIR="$RN_N8N_DIR"
  NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $preload"
  N8N_USER_FOLDER="$dir/home"
  N8N_LISTEN_ADDRESS=127.0.0.1
  N8N_HOST=127.0.0.1
  N8N_PORT="$port"
  N8N_PROTOCOL=http
  WEBHOOK_URL="$url/"
  N8N_RUNNERS_BROKER_PORT="$broker_port"
  N8N_RUNNERS_BROKER_LISTEN_ADDRESS=127.0.0.1
  N8N_DIAGNOSTICS_ENABLED=false
  N8N_VERSION_NOTIFICATIONS_ENABLED=false
  N8N_TEMPLATES_ENABLED=false
  N8N_PERSONALIZATION_ENABLED=false
  N8N_HIRING_BANNER_ENABLED=false
  EXTERNAL_FRONTEND_HOOKS_URLS=
  N8N_DIAGNOSTICS_CONFIG_FRONTEND=
  N8N_DIAGNOSTICS_CONFIG_BACKEND=
  N8N_SECURE_COOKIE=false
  N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS=true
  N8N_GRACEFUL_SHUTDOWN_TIMEOUT=10
  N8N_ENV_FEAT_TOKEN_EXCHANGE=true
  N8N_INSIGHTS_FLUSH_INTERVAL_SECONDS=1
  N8N_INSIGHTS_COMPACTION_INTERVAL_MINUTES=1
  N8N_WORKFLOW_PUBLICATION_OUTBOX_POLL_INTERVAL_MS=1000
  "${extra_env[@]}"
)
# setsid: n8n leads its own process group (task runner children included), so stop.sh can signal
# the whole group and our callers' traps/terminals do not reach it. No job control here, so setsid
# does not fork and $! is n8n's pid.
(cd "$dir" && exec env "${launch_env[@]}" setsid "$RN_NODE_BIN" "$RN_N8N_BIN" start) \
  </dev/null >>"$dir/n8n.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/pid"

ok=0
cleanup() {
  if [ "$ok" != 1 ]; then
    rn_log "start failed; last lines of $dir/n8n.log:"
    tail -n 40 "$dir/n8n.log" >&2 || true
    "$RN_HERE/stop.sh" --dir "$dir" >&2 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- wait for a real route (healthz answers before the REST API is up) ----
deadline=$(( $(date +%s) + timeout ))
while :; do
  kill -0 "$pid" 2>/dev/null || rn_die "n8n exited during start-up"
  body="$(RN_CURL_MAX_TIME=5 rn_curl -H 'Accept: application/json' "$url/rest/settings" 2>/dev/null || true)"
  if [ "${body:0:1}" = "{" ] && printf '%s' "$body" | rn_json 'j.data && typeof j.data === "object" ? 1 : undefined' >/dev/null 2>&1; then break; fi
  [ "$(date +%s)" -lt "$deadline" ] || rn_die "n8n not ready after ${timeout}s"
  sleep 0.5
done
t_ready="$(rn_elapsed "$t0")"
rn_log "ready after ${t_ready}s; bootstrapping owner and API key"

# ---- owner ----
cookie="$dir/cookies.txt"
browser_id="n8n-fleet-tests"
email="owner@fleet.test"
password="Fleet-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-A1"
if [ -f "$dir/instance.env" ]; then   # a restart: reuse the saved owner
  saved_email="$(sed -n 's/^N8N_OWNER_EMAIL=//p' "$dir/instance.env")"
  saved_password="$(sed -n 's/^N8N_OWNER_PASSWORD=//p' "$dir/instance.env")"
  [ -n "$saved_email" ] && email="$saved_email"
  [ -n "$saved_password" ] && password="$saved_password"
fi
rest() { # rest METHOD PATH [JSON] -> body on stdout, status in $dir/.status
  local args=(-X "$1" -b "$cookie" -c "$cookie" -H "browser-id: $browser_id" -H 'Accept: application/json'
              -o "$dir/.body" -w '%{http_code}')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  rn_curl "${args[@]}" "$url$2" >"$dir/.status" || echo 000 >"$dir/.status"
  cat "$dir/.body"
}
rm -f "$cookie"
setup_body="$(rn_node -e 'console.log(JSON.stringify({email:process.argv[1],password:process.argv[2],firstName:"Fleet",lastName:"Owner"}))' "$email" "$password")"
out="$(rest POST /rest/owner/setup "$setup_body")"
status="$(cat "$dir/.status")"
if [ "$status" = 200 ]; then
  rn_log "owner $email created"
else
  rn_log "owner setup answered $status (${out:0:200}); trying to log in as the saved owner"
fi
login_body="$(rn_node -e 'console.log(JSON.stringify({emailOrLdapLoginId:process.argv[1],password:process.argv[2]}))' "$email" "$password")"
out="$(rest POST /rest/login "$login_body")"
[ "$(cat "$dir/.status")" = 200 ] || rn_die "login as $email failed: $(cat "$dir/.status") ${out:0:300}"

# ---- API key with every scope the owner may grant ----
out="$(rest GET /rest/api-keys/scopes)"
[ "$(cat "$dir/.status")" = 200 ] || rn_die "GET /rest/api-keys/scopes failed: $(cat "$dir/.status") ${out:0:300}"
scopes="$(printf '%s' "$out" | rn_json 'j.data')"
for s in workflow:create workflow:read workflow:activate execution:read insights:read; do
  printf '%s' "$scopes" | grep -q "\"$s\"" || rn_die "scope $s not offered by this n8n: $scopes"
done
key_body="$(rn_node -e 'console.log(JSON.stringify({label:"n8n-fleet tests "+Date.now(),expiresAt:null,scopes:JSON.parse(process.argv[1])}))' "$scopes")"
out="$(rest POST /rest/api-keys "$key_body")"
[ "$(cat "$dir/.status")" = 200 ] || rn_die "POST /rest/api-keys failed: $(cat "$dir/.status") ${out:0:300}"
api_key="$(printf '%s' "$out" | rn_json 'j.data.rawApiKey')" || rn_die "no data.rawApiKey in ${out:0:300}"
rm -f "$dir/.body" "$dir/.status"

# Sanity: the key works on the public API.
code="$(rn_curl -o /dev/null -w '%{http_code}' -H "X-N8N-API-KEY: $api_key" "$url/api/v1/workflows?limit=1")" || code=000
[ "$code" = 200 ] || rn_die "the new API key got $code on GET /api/v1/workflows"

total="$(rn_elapsed "$t0")"
umask 077
cat >"$dir/instance.env.tmp" <<EOF
N8N_URL=$url
N8N_PORT=$port
N8N_API_KEY=$api_key
N8N_OWNER_EMAIL=$email
N8N_OWNER_PASSWORD=$password
N8N_COOKIE_FILE=$cookie
N8N_BROWSER_ID=$browser_id
N8N_PID=$pid
N8N_DIR=$dir
N8N_LOG=$dir/n8n.log
N8N_RUNNERS_BROKER_PORT=$broker_port
N8N_STARTUP_SECONDS=$t_ready
EOF
mv "$dir/instance.env.tmp" "$dir/instance.env"
ok=1
rss_kb="$(awk '/VmRSS/{print $2}' "/proc/$pid/status" 2>/dev/null || echo '?')"
rn_log "instance up: $url pid $pid (ready ${t_ready}s, bootstrapped ${total}s, main RSS ${rss_kb} kB); env in $dir/instance.env"
echo "$dir/instance.env"
