#!/usr/bin/env bash
# The main job on the embedded SQLite default: sets up, builds, starts a local fake fleet (12 fake
# n8n instances on 127.0.0.1 with known daily counts, trusting this home's signing key), registers
# it, runs `collect --backfill` over token exchange, checks every stored day against the figures
# the fleet served, and prints the monthly report. Idempotent. Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh "${N8N_FLEET_BUILD_DIR:-build}"
bin="$PWD/${N8N_FLEET_BUILD_DIR:-build}/n8n-fleet"
fake="$PWD/${N8N_FLEET_BUILD_DIR:-build}/n8n-fleet-fake-fleet"
home="${N8N_FLEET_DEMO_HOME:-$PWD/build/demo-home}"
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n-fleet-demo.XXXXXX")"
fleet_pid=""
cleanup() {
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

echo "== 3. Register the fleet and collect every missing day" >&2
since=$(date -u -d "-$days days" +%F)
# Track each instance from $days days ago (an import column), so --backfill fetches those days.
awk -v since="$since" 'NR == 1 {print $0 ",tracking_since"; next} {print $0 "," since}' \
  "$work/fleet.csv" > "$work/fleet-tracked.csv"
fleet server import "$work/fleet-tracked.csv"
fleet server list --customer customer-3
fleet collect --backfill
fleet runs list --limit 1

echo "== 4. Every stored (server, day) against what the fleet served" >&2
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

echo "== 5. Billable executions per customer this month" >&2
fleet usage report --month "$(date -u -d "-1 day" +%Y-%m)"
fleet usage gaps
