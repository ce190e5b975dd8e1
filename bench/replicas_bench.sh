#!/usr/bin/env bash
# Benchmark: collection rate with 1, 2 and 3 `n8n-fleet serve` replicas over one PostgreSQL,
# beside one serve on SQLite. One fake fleet (SERVERS instances answering after LATENCY_MS, token
# exchange on, DAYS days of figures each) serves every round. The servers, the signing key and an
# API token are set up once in a template database; each round gets a fresh copy (CREATE DATABASE
# ... TEMPLATE), starts N replicas (CONCURRENCY requests in flight each, default lease and poll
# settings, collect_at 23:59 so none starts the daily run by itself), triggers one backfill run
# with POST /api/v1/collect on the first replica and times it until the run is closed (GET
# /api/v1/runs every 0.2 s). Figures: server-days/s, the ratio to 1 replica, each replica's
# share of the servers, CPU seconds and peak RSS (VmHWM). Every round is checked: status
# succeeded, SERVERS x DAYS rows stored once, their sum equal to the fleet's.
#
# Usage: bench/replicas_bench.sh   (env: SERVERS=2000 LATENCY_MS=100 DAYS=7 CONCURRENCY=16
#        REPLICAS="1 2 3" SQLITE=1 BUILD_DIR=build FORCE_BUILD=1; N8N_FLEET_TEST_POSTGRES=URL
#        to use a running PostgreSQL instead of a throwaway one)
# Only 127.0.0.1 is used; every wait is bounded; what it starts it stops. The summary is printed
# and written to bench/results/replicas-<date>.txt (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
rep_root=$PWD
build="${BUILD_DIR:-build}"
[[ $build == /* ]] || build="$rep_root/$build"
rep_build=$build
rep_tag=replicas-bench
# shellcheck source=tests/replicas/lib.sh
source tests/replicas/lib.sh

servers="${SERVERS:-2000}"
latency_ms="${LATENCY_MS:-100}"
days="${DAYS:-7}"
concurrency="${CONCURRENCY:-16}"
rounds="${REPLICAS:-1 2 3}"
with_sqlite="${SQLITE:-1}"
run_deadline_s=900
bin="$build/n8n-fleet"

if [[ -n "${FORCE_BUILD:-}" || ! -x "$bin" || ! -x "$build/n8n-fleet-fake-fleet" ]]; then
  bash scripts/build.sh "$build"
fi
for tool in psql python3 curl jq sqlite3; do
  command -v "$tool" >/dev/null || rep_die "needs $tool"
done

rep_work=$(mktemp -d /tmp/replicas-bench.XXXXXX)
trap 'rep_cleanup; rm -rf "$rep_work"' EXIT
trap 'exit 130' INT TERM

# collect_at 23:59 must stay ahead of the clock for the whole benchmark, and no run may cross
# midnight: start early enough in the UTC day.
rep_avoid_midnight 900
collect_at="23:59"

# ---- the template database and the SQLite home, one fleet trusting both signing keys
unset N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY
pg_home="$rep_work/home-pg"
sqlite_home="$rep_work/home-sqlite"
rep_fresh_database "fleet_bench_template_$$"
template_db="fleet_bench_template_$$"
template_url=$rep_db_url
pg() { N8N_FLEET_HOME="$pg_home" N8N_FLEET_DB="$template_url" timeout 300 "$bin" "$@"; }
lite() { N8N_FLEET_HOME="$sqlite_home" N8N_FLEET_DB="$sqlite_home/fleet.db" timeout 300 "$bin" "$@"; }
for fleet in pg lite; do
  $fleet db init >/dev/null
  $fleet key generate --alg ES256 >/dev/null
  $fleet key env --format json >"$rep_work/trust-$fleet.json"
done
python3 - "$rep_work/trust-pg.json" "$rep_work/trust-lite.json" >"$rep_work/trust.json" <<'EOF'
import json, sys
keys = []
for path in sys.argv[1:]:
    keys += json.loads(json.load(open(path))["N8N_TOKEN_EXCHANGE_TRUSTED_KEYS"])
print(json.dumps(keys))
EOF
rep_fleet_start --count "$servers" --days-back "$days" --latency-ms "$latency_ms" \
  --trust "$rep_work/trust.json" --expect-own-audience --csv "$rep_work/fleet.csv" \
  --expected "$rep_work/expected.csv"
today=$(date -u +%F)
since=$(date -u -d "$today -$days days" +%F)
awk -v since="$since" 'NR == 1 { print $0 ",tracking_since"; next } { print $0 "," since }' \
  "$rep_work/fleet.csv" >"$rep_work/tracked.csv"
want_rows=$((servers * days))
want_sum=$(awk -F, -v from="$since" -v to="$(date -u -d "$today -1 day" +%F)" \
  'NR > 1 && $2 >= from && $2 <= to { s += $3 } END { print s }' "$rep_work/expected.csv")
for fleet in pg lite; do
  $fleet server import "$rep_work/tracked.csv" >/dev/null
  $fleet token create bench --json | jq -r .token >"$rep_work/token-$fleet"
done
rep_log "fleet: $servers instances, ${latency_ms} ms latency, $days days each ($want_rows server-days, sum $want_sum)"

cat >"$rep_work/config.toml" <<EOF
collect_at = "$collect_at"
concurrency = $concurrency
shutdown_grace_seconds = 2
EOF

cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# One round: replicas 0..$1-1 already started on $2 (label); triggers, times and checks the run.
# Prints "label N seconds rate shares cpu rss ok".
measure() {
  local n=$1 label=$2 token=$3 i
  for ((i = 0; i < n; i++)); do rep_serve_wait "$i"; done
  local url=${rep_serve_urls[0]} start_ms end_ms run status answer
  start_ms=$(rep_now_ms)
  answer=$(timeout 60 curl -sS -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"backfill":true}' "$url/api/v1/collect")
  run=$(jq -r '.run // empty' <<<"$answer")
  [[ -n $run ]] || rep_die "$label: POST /api/v1/collect answered $answer"
  status=running
  for ((i = 0; i < run_deadline_s * 5; i++)); do
    # The list (not runs/ID, which carries every attempt).
    status=$(timeout 30 curl -sS -H "Authorization: Bearer $token" "$url/api/v1/runs?limit=5" |
      jq -r --argjson id "$run" '.runs[] | select(.id == $id) | .status')
    [[ $status == running ]] || break
    sleep 0.2
  done
  end_ms=$(rep_now_ms)
  [[ $status != running ]] || rep_die "$label: run $run still running after ${run_deadline_s} s"
  local cpu="" rss=""
  for ((i = 0; i < n; i++)); do
    cpu+="${cpu:+/}$(cpu_of "${rep_serve_pids[i]}")"
    rss+="${rss:+/}$(rep_peak_rss_mb "${rep_serve_pids[i]}")"
  done
  echo "$run $status $start_ms $end_ms $cpu $rss"
}

summary="$rep_work/summary.txt"
{
  echo "replicas benchmark $(date -u +%FT%TZ) on $(nproc) cores ($(uname -r)); build: ${build#"$rep_root"/}"
  echo "fake fleet: $servers instances on 127.0.0.1, ${latency_ms} ms per Insights/exchange answer, token exchange on; $days days per server = $want_rows server-days per run (backfill via POST /api/v1/collect)"
  echo "per replica: concurrency $concurrency, default lease (300 s) and poll (2 s); PostgreSQL 15 (fsync off), replicas, fleet and database share the machine"
  printf '%-12s %-4s %-8s %-10s %-7s %-16s %-16s %-16s %-5s\n' backend N wall_s sdays_per_s ratio servers_each cpu_s_each peak_rss_mb ok
} >"$summary"

base_rate=""
check_and_report() {  # label N "run status start_ms end_ms cpu rss" (from measure)
  local label=$1 n=$2 rows dupes sum shares run status start_ms end_ms cpu rss
  read -r run status start_ms end_ms cpu rss <<<"$3"
  local seconds rate ratio ok
  seconds=$(awk -v a="$start_ms" -v b="$end_ms" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
  if [[ $label == sqlite ]]; then
    local db="$sqlite_home/fleet.db"
    rows=$(sqlite3 "$db" "SELECT count(*) FROM usage_daily WHERE run_id = $run")
    dupes=$(sqlite3 "$db" "SELECT count(*) FROM (SELECT 1 FROM usage_daily GROUP BY server_name, day HAVING count(*) > 1)")
    sum=$(sqlite3 "$db" "SELECT coalesce(sum(total), 0) FROM usage_daily")
    shares=$servers
  else
    rows=$(rep_psql "$rep_db_url" -c "SELECT count(*) FROM usage_daily WHERE run_id = $run")
    dupes=$(rep_psql "$rep_db_url" -c "SELECT count(*) FROM (SELECT 1 FROM usage_daily GROUP BY server_name, day HAVING count(*) > 1) d")
    sum=$(rep_psql "$rep_db_url" -c "SELECT coalesce(sum(total), 0) FROM usage_daily")
    shares=$(rep_psql "$rep_db_url" -c "SELECT string_agg(c::text, '/' ORDER BY c DESC) FROM
      (SELECT count(*) c FROM work_units WHERE run_id = $run GROUP BY lease_owner) u")
  fi
  rate=$(awk -v r="$rows" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')
  ok=yes
  if [[ $status != succeeded || $rows != "$want_rows" || $dupes != 0 || $sum != "$want_sum" ]]; then
    ok=NO
    rep_log "$label N=$n: status $status, rows $rows (want $want_rows), duplicates $dupes, sum $sum (want $want_sum)"
  fi
  if [[ $label == postgresql && $n == 1 && $ok == yes ]]; then base_rate=$rate; fi
  ratio="-"
  if [[ $label == postgresql && -n $base_rate ]]; then
    ratio=$(awk -v a="$rate" -v b="$base_rate" 'BEGIN { printf "%.2f", a / b }')
  fi
  printf '%-12s %-4s %-8s %-10s %-7s %-16s %-16s %-16s %-5s\n' "$label" "$n" "$seconds" "$rate" \
    "$ratio" "$shares" "$cpu" "$rss" "$ok" | tee -a "$summary" >&2
}

for n in $rounds; do
  rep_log "== $n replica(s) over PostgreSQL"
  rep_fresh_database "fleet_bench_${n}_$$"
  rep_psql "$rep_pg_admin" -c "DROP DATABASE \"fleet_bench_${n}_$$\"" \
    -c "CREATE DATABASE \"fleet_bench_${n}_$$\" TEMPLATE \"$template_db\"" >/dev/null
  export N8N_FLEET_HOME="$pg_home" N8N_FLEET_DB="$rep_db_url"
  for ((i = 0; i < n; i++)); do rep_serve_start "$i" "$rep_work/config.toml"; done
  line=$(measure "$n" "pg-$n" "$(cat "$rep_work/token-pg")")
  rep_serve_stop_all
  rep_serve_urls=()
  check_and_report postgresql "$n" "$line"
  rep_psql "$rep_pg_admin" -c "DROP DATABASE IF EXISTS \"fleet_bench_${n}_$$\" WITH (FORCE)" >/dev/null
done

if [[ $with_sqlite == 1 ]]; then
  rep_log "== one serve over SQLite"
  export N8N_FLEET_HOME="$sqlite_home" N8N_FLEET_DB="$sqlite_home/fleet.db"
  rep_serve_start 0 "$rep_work/config.toml"
  line=$(measure 1 sqlite "$(cat "$rep_work/token-lite")")
  rep_serve_stop_all
  check_and_report sqlite 1 "$line"
fi
rep_fleet_stop
echo "fake fleet: $(grep '^requests' "$rep_work/fleet.out" || echo '(no statistics)')" >>"$summary"
echo "servers_each: work units finished per replica (the lease owners); cpu_s_each/peak_rss_mb: per replica (VmHWM)" >>"$summary"

mkdir -p bench/results
out="bench/results/replicas-$(date -u +%F).txt"
cp "$summary" "$out"
echo
cat "$summary"
echo "(written to $out)"
