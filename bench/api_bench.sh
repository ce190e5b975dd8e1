#!/usr/bin/env bash
# Benchmark: the HTTP API of `n8n-fleet serve` with wrk. Seeds SERVERS x DAYS pulled usage rows
# (tools/seed_usage_main.cc, through the Store), then measures GET /api/v1/reports/monthly for a
# full past month (JSON by customer, JSON by server, CSV by customer) beside GET /healthz, the
# HTTP layer's ceiling measured in the same run; figures are requests/s, p50/p99 and their ratio
# to the ceiling, plus the service's peak RSS. One report is checked against sqlite3 first.
# Usage: bench/api_bench.sh   (env: SERVERS=10000 DAYS=365 CUSTOMERS=200 WRK_SECONDS=15
#                              CONNECTIONS=8 WRK_THREADS=2 BUILD_DIR=build FORCE_BUILD=1)
# Only 127.0.0.1 is used; every step is bounded by `timeout`; what it starts it stops. The summary
# is printed and written to bench/results/api-<date>.txt (not committed: figures go into the
# issue note).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${BUILD_DIR:-build}"
[[ $build == /* ]] || build="$root/$build"
servers="${SERVERS:-10000}"
days="${DAYS:-365}"
customers="${CUSTOMERS:-200}"
wrk_seconds="${WRK_SECONDS:-15}"
connections="${CONNECTIONS:-8}"
wrk_threads="${WRK_THREADS:-2}"
fleet_bin="$build/n8n-fleet"
seed_bin="$build/n8n-fleet-seed-usage"

if [[ -n "${FORCE_BUILD:-}" || ! -x "$fleet_bin" || ! -x "$seed_bin" ]]; then
  bash scripts/build.sh "$build"
fi
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in wrk curl jq sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

work=$(mktemp -d /tmp/api-bench.XXXXXX)
serve_pid=""
stop_serve() {
  if [[ -n "$serve_pid" ]] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid"
    for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$serve_pid" 2>/dev/null && kill -KILL "$serve_pid"
  fi
  serve_pid=""
}
trap 'stop_serve; rm -rf "$work"' EXIT

# serve collects at start-up once today's collect_at has passed: 23:59 UTC keeps it idle, unless
# the run would reach it; then wait for the next UTC day.
minute=$((10#$(date -u +%H) * 60 + 10#$(date -u +%M)))
if ((minute >= 23 * 60 + 30)); then
  wait_s=$(((24 * 60 - minute) * 60 + 30))
  echo "waiting ${wait_s}s for the next UTC day (serve would collect at start-up)" >&2
  sleep "$wait_s"
fi
collect_at="23:59"

export N8N_FLEET_HOME="$work/home"
db="$N8N_FLEET_HOME/fleet.db"
timeout 60 "$fleet_bin" db init >/dev/null
echo "== seeding $servers servers x $days days" >&2
timeout 1800 /usr/bin/time -f "%M" -o "$work/seed-rss.txt" "$seed_bin" --db "$db" \
  --servers "$servers" --days "$days" --customers "$customers" >"$work/seed.txt"
cat "$work/seed.txt" >&2
seed_line=$(cat "$work/seed.txt")
seed_mb=$(echo "scale=1; $(tail -1 "$work/seed-rss.txt") / 1024" | bc)
db_mb=$(echo "scale=0; $(stat -c %s "$db") / 1048576" | bc)
token=$(timeout 60 "$fleet_bin" token create bench --read-only --json | jq -r .token)

# A full past month inside the seeded days.
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
from="$month-01"
to=$(date -u -d "$from +1 month -1 day" +%F)

# Port 0: serve binds a free port and logs it.
"$fleet_bin" serve --listen 127.0.0.1:0 --collect-at "$collect_at" --log-format json \
  >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
url=""
for _ in $(seq 300); do
  url=$(jq -r 'select(.msg == "serving" or .message == "serving") | .url // empty' \
    "$work/serve.err" 2>/dev/null | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $url ]] || { echo "serve did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }
url=${url%/}
echo "serving at $url (pid $serve_pid), month $month" >&2

# Correctness first: the report's totals against SQL over the same rows.
report="$url/api/v1/reports/monthly?month=$month"
timeout 120 curl -sf -H "Authorization: Bearer $token" "$report&by=customer" >"$work/report.json"
got_total=$(jq '.totals.total' "$work/report.json")
got_failed=$(jq '.totals.failed' "$work/report.json")
got_rows=$(jq '.rows | length' "$work/report.json")
want=$(sqlite3 "$db" "SELECT SUM(total) || ' ' || SUM(failed) || ' ' || COUNT(DISTINCT customer)
  FROM usage_daily WHERE source = 'pull' AND day BETWEEN '$from' AND '$to'")
read -r want_total want_failed want_rows <<<"$want"
if [[ "$got_total $got_failed $got_rows" != "$want_total $want_failed $want_rows" ]]; then
  echo "WRONG report: got total/failed/groups $got_total $got_failed $got_rows," \
    "sqlite3 says $want" >&2
  exit 1
fi
timeout 120 curl -sf -H "Authorization: Bearer $token" -H "Accept: text/csv" \
  "$report&by=server" >"$work/report.csv"
csv_total=$(awk -F, 'NR > 1 { s += $4 } END { print s }' "$work/report.csv")
csv_lines=$(($(wc -l <"$work/report.csv") - 1))
if [[ "$csv_total $csv_lines" != "$want_total $servers" ]]; then
  echo "WRONG CSV by server: total $csv_total over $csv_lines lines, want $want_total over $servers" >&2
  exit 1
fi
echo "report checked: total $got_total, failed $got_failed, $got_rows customers, $csv_lines servers" >&2

# ms of a wrk latency line ("99%   12.34ms"), whatever unit wrk chose.
ms() {
  awk -v p="$1" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
    printf "%.2f", v }' "$2"
}
summary="$work/summary.txt"
{
  echo "API benchmark $(date -u +%FT%TZ) on $(nproc) cores ($(uname -r)); build: ${build#"$root"/}"
  echo "seed: $seed_line peak_rss_mb=$seed_mb; database ${db_mb} MB"
  echo "wrk -t$wrk_threads -c$connections -d${wrk_seconds}s --latency --timeout 30s; month $month ($from..$to); serve and wrk share the machine"
  printf '%-22s %-10s %-9s %-9s %-9s %-9s %-7s\n' endpoint req_per_s p50_ms p99_ms ratio non2xx errors
} >"$summary"

baseline=""
run() {  # name path [extra wrk args...]
  local name=$1 path=$2
  shift 2
  echo "== wrk $name" >&2
  timeout $((wrk_seconds + 60)) wrk -t"$wrk_threads" -c"$connections" -d"${wrk_seconds}s" \
    --latency --timeout 30s -H "Authorization: Bearer $token" "$@" "$url$path" \
    >"$work/wrk-$name.txt"
  local rps p50 p99 non2xx errors ratio
  rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-$name.txt")
  p50=$(ms 50% "$work/wrk-$name.txt")
  p99=$(ms 99% "$work/wrk-$name.txt")
  non2xx=$(awk '/Non-2xx/ { print $4 }' "$work/wrk-$name.txt")
  errors=$(awk '/Socket errors/ { print $4 $6 $8 $10 }' "$work/wrk-$name.txt")
  [[ -n $baseline ]] || baseline=$rps
  ratio=$(awk -v a="$rps" -v b="$baseline" 'BEGIN { printf "%.4f", a / b }')
  printf '%-22s %-10s %-9s %-9s %-9s %-9s %-7s\n' "$name" "$rps" "$p50" "$p99" "$ratio" \
    "${non2xx:-0}" "${errors:-none}" | tee -a "$summary" >&2
}
run healthz /healthz
run monthly-customer "/api/v1/reports/monthly?month=$month&by=customer"
run monthly-server "/api/v1/reports/monthly?month=$month&by=server"
run monthly-customer-csv "/api/v1/reports/monthly?month=$month&by=customer" -H "Accept: text/csv"

rss_mb=$(echo "scale=1; $(awk '/VmHWM/ { print $2 }' "/proc/$serve_pid/status") / 1024" | bc)
stop_serve
echo "serve peak RSS (VmHWM): ${rss_mb} MB" >>"$summary"

mkdir -p bench/results
out="bench/results/api-$(date -u +%F).txt"
cp "$summary" "$out"
echo
cat "$summary"
echo "(written to $out)"
