#!/usr/bin/env bash
# Benchmark: the monthly report over SERVERS x DAYS pulled usage rows, on SQLite and on
# PostgreSQL. Seeds each backend with tools/seed_usage_main.cc (the same rows, through the Store),
# then times `n8n-fleet usage report --month <last full month>` by customer and by server (JSON):
# a new process per run, so nothing is served from the service's report cache (the OS page cache
# is warm after the first run; the first run is shown beside the median). Then the HTTP API's
# first (uncached) request of /api/v1/reports/monthly right after `serve` starts, and a second
# (cached) one, per restart. The two backends' reports must be identical, and their totals equal
# SQL over usage_daily.
#
# Usage: bench/report_bench.sh   (env: SERVERS=10000 DAYS=365 CUSTOMERS=200 RUNS=5 API_RUNS=3
#        BUILD_DIR=build FORCE_BUILD=1; N8N_FLEET_TEST_POSTGRES=URL to use a running PostgreSQL
#        instead of a throwaway one)
# Only 127.0.0.1 is used; every step is bounded by `timeout`; what it starts it stops. The summary
# is printed and written to bench/results/report-<date>.txt (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
rep_root=$PWD
build="${BUILD_DIR:-build}"
[[ $build == /* ]] || build="$rep_root/$build"
rep_build=$build
rep_tag=report-bench
# shellcheck source=tests/replicas/lib.sh
source tests/replicas/lib.sh

servers="${SERVERS:-10000}"
days="${DAYS:-365}"
customers="${CUSTOMERS:-200}"
runs="${RUNS:-5}"
api_runs="${API_RUNS:-3}"
bin="$build/n8n-fleet"
seed_bin="$build/n8n-fleet-seed-usage"

if [[ -n "${FORCE_BUILD:-}" || ! -x "$bin" || ! -x "$seed_bin" ]]; then
  bash scripts/build.sh "$build"
fi
for tool in psql python3 curl jq sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || rep_die "needs $tool"
done

rep_work=$(mktemp -d /tmp/report-bench.XXXXXX)
trap 'rep_cleanup; rm -rf "$rep_work"' EXIT
trap 'exit 130' INT TERM
unset N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY

# A full past month inside the seeded days (the newest seeded day is yesterday).
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
from="$month-01"
to=$(date -u -d "$from +1 month -1 day" +%F)
((days >= 62)) || rep_die "DAYS must be at least 62 so that last month is fully seeded"

sqlite_home="$rep_work/home-sqlite"
sqlite_db="$sqlite_home/fleet.db"
pg_home="$rep_work/home-pg"
rep_fresh_database "fleet_report_$$"
pg_url=$rep_db_url
# Runs the CLI on backend $1 (sqlite or postgresql).
on() {
  local backend=$1
  shift
  if [[ $backend == sqlite ]]; then
    N8N_FLEET_HOME="$sqlite_home" N8N_FLEET_DB="$sqlite_db" "$@"
  else
    N8N_FLEET_HOME="$pg_home" N8N_FLEET_DB="$pg_url" "$@"
  fi
}
location() { if [[ $1 == sqlite ]]; then echo "$sqlite_db"; else echo "$pg_url"; fi; }

summary="$rep_work/summary.txt"
{
  echo "report benchmark $(date -u +%FT%TZ) on $(nproc) cores ($(uname -r)); build: ${build#"$rep_root"/}"
  echo "$servers servers x $days days ($((servers * days)) pulled rows), $customers customers; month $month ($from..$to)"
} >"$summary"

for backend in sqlite postgresql; do
  rep_log "== seeding $backend"
  on "$backend" timeout 120 "$bin" db init >/dev/null
  on "$backend" timeout 3600 /usr/bin/time -f "%M" -o "$rep_work/seed-rss-$backend.txt" \
    "$seed_bin" --db "$(location "$backend")" --servers "$servers" --days "$days" \
    --customers "$customers" >"$rep_work/seed-$backend.txt"
  if [[ $backend == sqlite ]]; then
    size_mb=$(($(stat -c %s "$sqlite_db") / 1048576))
  else
    rep_psql "$pg_url" -c "VACUUM ANALYZE" >/dev/null
    size_mb=$(($(rep_psql "$pg_url" -c "SELECT pg_database_size(current_database())") / 1048576))
  fi
  echo "$backend: $(cat "$rep_work/seed-$backend.txt") peak_rss_mb=$(($(tail -1 "$rep_work/seed-rss-$backend.txt") / 1024)); database ${size_mb} MB" |
    tee -a "$summary" >&2
done

# ---- correctness: the same report on both backends, totals equal to SQL
for by in customer server; do
  for backend in sqlite postgresql; do
    on "$backend" timeout 600 "$bin" usage report --month "$month" --by "$by" --format csv \
      >"$rep_work/report-$by-$backend.csv"
  done
  if ! cmp -s "$rep_work/report-$by-sqlite.csv" "$rep_work/report-$by-postgresql.csv"; then
    diff "$rep_work/report-$by-sqlite.csv" "$rep_work/report-$by-postgresql.csv" | head -10 >&2
    rep_die "the monthly report by $by differs between SQLite and PostgreSQL"
  fi
done
want_sqlite=$(sqlite3 "$sqlite_db" "SELECT SUM(total) FROM usage_daily
  WHERE source = 'pull' AND day BETWEEN '$from' AND '$to'")
want_pg=$(rep_psql "$pg_url" -c "SELECT SUM(total) FROM usage_daily
  WHERE source = 'pull' AND day BETWEEN '$from' AND '$to'")
got=$(on sqlite timeout 600 "$bin" usage report --month "$month" --json | jq '.totals.total')
[[ $want_sqlite == "$want_pg" && $got == "$want_sqlite" ]] ||
  rep_die "report total $got, SQL says $want_sqlite (SQLite) and $want_pg (PostgreSQL)"
rep_log "reports checked: identical on both backends, total $got = SQL"

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(map(float, sys.argv[1:])):.0f}")' "$@"; }

# ---- the CLI: a new process per run
printf '%-11s %-26s %-9s %-10s %-8s %-8s %-10s\n' backend what first_ms median_ms min_ms max_ms rss_mb >>"$summary"
for backend in sqlite postgresql; do
  for by in customer server; do
    times=()
    rss=0
    for ((r = 0; r < runs; r++)); do
      start=$(date +%s%N)
      on "$backend" timeout 600 /usr/bin/time -f "%M" -o "$rep_work/rss.txt" \
        "$bin" usage report --month "$month" --by "$by" --json >/dev/null
      times+=($((($(date +%s%N) - start) / 1000000)))
      rss=$(tail -1 "$rep_work/rss.txt")
    done
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    printf '%-11s %-26s %-9s %-10s %-8s %-8s %-10s\n' "$backend" "cli by $by" "${times[0]}" \
      "$(median "${times[@]}")" "$(head -1 <<<"$sorted")" "$(tail -1 <<<"$sorted")" \
      "$((rss / 1024))" | tee -a "$summary" >&2
  done
done

# ---- the API: the first request after start (uncached), then the same again (cached)
# serve collects at start-up once today's collect_at has passed: 23:59 keeps it idle.
printf '%-11s %-26s %-9s %-10s %-8s %-8s %-10s\n' backend what first_ms median_ms min_ms max_ms cached_ms >>"$summary"
cat >"$rep_work/config.toml" <<EOF
collect_at = "23:59"
EOF
for backend in sqlite postgresql; do
  token=$(on "$backend" timeout 60 "$bin" token create bench --read-only --json | jq -r .token)
  declare -A first=() cached=()
  for ((r = 0; r < api_runs; r++)); do
    rep_avoid_midnight 600
    if [[ $backend == sqlite ]]; then
      export N8N_FLEET_HOME="$sqlite_home" N8N_FLEET_DB="$sqlite_db"
    else
      export N8N_FLEET_HOME="$pg_home" N8N_FLEET_DB="$pg_url"
    fi
    rep_serve_start 0 "$rep_work/config.toml"
    rep_serve_wait 0
    for by in customer server; do
      url="${rep_serve_urls[0]}/api/v1/reports/monthly?month=$month&by=$by"
      for kind in first cached; do
        ms=$(timeout 600 curl -sS -o "$rep_work/api.json" -w '%{time_total}' \
          -H "Authorization: Bearer $token" "$url" | awk '{ printf "%.0f", $1 * 1000 }')
        jq -e '.totals.total' "$rep_work/api.json" >/dev/null ||
          rep_die "$backend: $url answered $(head -c 300 "$rep_work/api.json")"
        if [[ $kind == first ]]; then first[$by]+="$ms "; else cached[$by]+="$ms "; fi
      done
    done
    rep_serve_stop_all
  done
  for by in customer server; do
    read -ra f <<<"${first[$by]}"
    read -ra c <<<"${cached[$by]}"
    sorted=$(printf '%s\n' "${f[@]}" | sort -n)
    printf '%-11s %-26s %-9s %-10s %-8s %-8s %-10s\n' "$backend" "api by $by (uncached)" "${f[0]}" \
      "$(median "${f[@]}")" "$(head -1 <<<"$sorted")" "$(tail -1 <<<"$sorted")" \
      "$(median "${c[@]}")" | tee -a "$summary" >&2
  done
  unset first cached
done
echo "first_ms: the first run (CLI) or the first request after start (API); median/min/max over $runs CLI runs or $api_runs serve starts; cached_ms: the same request again (median)" >>"$summary"

mkdir -p bench/results
out="bench/results/report-$(date -u +%F).txt"
cp "$summary" "$out"
echo
cat "$summary"
echo "(written to $out)"
