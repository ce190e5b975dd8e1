#!/usr/bin/env bash
# The main job on the embedded SQLite default: sets up, builds, starts a local fake fleet (12 fake
# n8n instances on 127.0.0.1 with known daily counts, trusting this home's signing key), registers
# it, starts `n8n-fleet serve`, runs a collection through its HTTP API (token exchange with every
# instance, every missing day backfilled), checks every stored day against the figures the fleet
# served, prints the monthly report, the dashboard URL and a token, and keeps serving until
# Ctrl-C. Idempotent. Usage: scripts/demo.sh   (N8N_FLEET_DEMO_EXIT=1: stop after the checks;
# N8N_FLEET_DEMO_PORT: the port, default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh "${N8N_FLEET_BUILD_DIR:-build}"
bin="$PWD/${N8N_FLEET_BUILD_DIR:-build}/n8n-fleet"
fake="$PWD/${N8N_FLEET_BUILD_DIR:-build}/n8n-fleet-fake-fleet"
home="${N8N_FLEET_DEMO_HOME:-$PWD/build/demo-home}"
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n-fleet-demo.XXXXXX")"
fleet_pid=""
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  [ -n "$fleet_pid" ] && kill "$fleet_pid" 2>/dev/null && wait "$fleet_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$home"
fleet() { echo "\$ n8n-fleet $*" >&2; "$bin" --home "$home" "$@"; }
days=10

echo "== 1. One signing key for the whole fleet (token exchange, RFC 8693)" >&2
fleet key generate --kid demo-key
fleet key env --format json > "$work/trust.json"

echo "== 2. A local fake fleet: 12 instances trusting that key, $days days of known figures" >&2
"$fake" --count 12 --days-back "$days" --trust "$work/trust.json" --csv "$work/fleet.csv" \
  --expected "$work/expected.csv" > "$work/fleet.out" 2> "$work/fleet.err" &
fleet_pid=$!
for _ in $(seq 1 100); do grep -q ready "$work/fleet.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/fleet.out" || { cat "$work/fleet.err" >&2; exit 1; }

echo "== 3. Register the fleet" >&2
since=$(date -u -d "-$days days" +%F)
# Track each instance from $days days ago (an import column), so a backfill fetches those days.
awk -v since="$since" 'NR == 1 {print $0 ",tracking_since"; next} {print $0 "," since}' \
  "$work/fleet.csv" > "$work/fleet-tracked.csv"
fleet server import "$work/fleet-tracked.csv"
fleet server list --customer customer-3

echo "== 4. Start the service and collect every missing day through its HTTP API" >&2
port="${N8N_FLEET_DEMO_PORT:-8080}"
token=$("$bin" --home "$home" token create demo --json | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
# The daily collection runs at 01:30 UTC; this one is asked for now.
"$bin" --home "$home" serve --listen "127.0.0.1:$port" --collect-at 01:30 --log-format text \
  2> "$work/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }
api() { curl -fsS -H "Authorization: Bearer $token" "$@"; }
# The service collects at start-up when today's collection time has passed: wait for that run.
run=""
for _ in $(seq 1 600); do
  answer=$(curl -sS -o "$work/collect.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"backfill":true}' "http://127.0.0.1:$port/api/v1/collect")
  if [ "$answer" = 202 ]; then run=$(sed -n 's/.*"run": *\([0-9]*\).*/\1/p' "$work/collect.json"); break; fi
  [ "$answer" = 409 ] || { cat "$work/collect.json" >&2; exit 1; }
  sleep 0.2
done
[ -n "$run" ] || { echo "the service stayed busy" >&2; exit 1; }
echo "\$ curl -X POST /api/v1/collect -d '{\"backfill\":true}'  -> run $run" >&2
for _ in $(seq 1 600); do
  api "http://127.0.0.1:$port/api/v1/runs/$run" > "$work/run.json"
  grep -q '"status": *"running"' "$work/run.json" || break
  sleep 0.2
done
fleet runs list --limit 2

echo "== 5. Every stored (server, day) against what the fleet served" >&2
"$bin" --home "$home" usage show --format csv | tail -n +2 | cut -d, -f1,2,4 | sort > "$work/stored.txt"
yesterday=$(date -u -d "-1 day" +%F)
awk -F, -v since="$since" -v last="$yesterday" 'NR > 1 && $2 >= since && $2 <= last {print $2 "," $1 "," $3}' \
  "$work/expected.csv" | sort > "$work/want.txt"
if diff -q "$work/want.txt" "$work/stored.txt" >/dev/null; then
  echo "verified: all $(wc -l < "$work/want.txt") (server, day) figures equal what the instances counted" >&2
else
  echo "MISMATCH between stored and served figures:" >&2
  diff "$work/want.txt" "$work/stored.txt" | head -20 >&2
  exit 1
fi

echo "== 6. Billable executions per customer this month" >&2
fleet usage report --month "$(date -u -d "-1 day" +%Y-%m)"
fleet usage gaps
echo "\$ curl -H 'Accept: text/csv' /api/v1/reports/monthly" >&2
api -H 'Accept: text/csv' "http://127.0.0.1:$port/api/v1/reports/monthly?month=$(date -u -d "-1 day" +%Y-%m)" | head -5

cat >&2 <<EOT

== The service is running
  Dashboard:  http://127.0.0.1:$port/   (enter the token below once)
  API token:  $token
  Try:        curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/servers
  Metrics:    curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/metrics
  Home:       $home   (stop with Ctrl-C)
EOT
[ "${N8N_FLEET_DEMO_EXIT:-0}" = 1 ] && exit 0
wait "$serve_pid"
