#!/usr/bin/env bash
# Soak: `n8n-fleet serve` (SQLite) against a fake fleet of INSTANCES n8n instances through DAYS
# simulated days, FAULT_RATE of the Insights requests failing (a 500, a connection closed
# unanswered, or no answer until the request times out), then checks that every (server, day)
# is stored exactly once with the fleet's figure, and reports serve's memory and descriptors.
#
# Time: serve, the fake fleet and every CLI call run under libfaketime (Debian `faketime`), all
# reading ONE offset file ("+SECONDS": fake = real + offset), with DONT_FAKE_MONOTONIC=1 so
# timeouts, leases' renewals and polls stay real. Simulated day k (k = 0 .. DAYS-1, day 0 =
# START_DAY) is entered by moving the offset to day k 00:05:10 (collect_at is 00:05) and sending
# SIGHUP to serve: it reloads its configuration and calls Scheduler::Reconfigure, which wakes the
# scheduler's wait (a condition variable: libfaketime turns its fake deadline into a real one
# when the wait starts, so moving the offset does not end it and it would sleep a real day, or
# until the 60 s heartbeat), and the scheduler starts day k's daily run. libfaketime re-reads the
# offset file up to 2 s after a change (FAKETIME_CACHE_DURATION=1), so the script waits 2.2 s
# before the SIGHUP, and sends it again every 5 s until the daily run shows up. The script
# waits (bounded) through the API (GET /api/v1/runs) for that run, then for the retry runs of
# its failures (retry_base_seconds RETRY_BASE, doubling up to RETRY_MAX, in real seconds), and
# goes on. The fleet's instances see the same "today" (time() is faked) and serve every day
# since START_DAY - DAYS_BACK. Faults stop for the last CLEAN_DAYS days (--faults-until), so the
# last runs' backfill must have caught every day the faults made fail.
#
# Prints a line every REPORT_EVERY simulated days (runs, servers ok/failed, rows, serve's RSS and
# open descriptors) and a final summary: simulated days, runs (daily, retries), faults injected
# (the fleet's own count, by kind), rows checked, lost / duplicated / wrong / unexpected (every
# (server, day) in [START_DAY - DAYS_BACK, last day - 1] against the fleet's --expected figures,
# tests/soak/check.py), gaps the API reports, RSS start / after the first day / end / peak
# (VmRSS, RssAnon, VmHWM from /proc; "end" is after the last day, before the checks, whose
# GET /api/v1/usage of every row is reported apart), descriptors start / after the first day /
# end. Exits 1 when a day is lost, duplicated, wrong or unexpected, a gap remains, a run could
# not be waited for, or serve did not stop cleanly on SIGTERM.
#
# Usage: tests/soak/run.sh [BUILD_DIR]   (default build; needs n8n-fleet and n8n-fleet-fake-fleet
#        there, libfaketime, python3, curl, jq)
#   env INSTANCES=1000 DAYS=60 FAULT_RATE=0.05 FAULT_SEED=1 DAYS_BACK=7 CLEAN_DAYS=2
#       START_DAY=2030-01-07 CONCURRENCY=64 REQUEST_TIMEOUT=2 RETRY_BASE=2 RETRY_MAX=8
#       CLAIM_SERVERS=INSTANCES (one claim per run: each claimed batch waits for its slowest server,
#       a hung request, so serve's default of 2 x CONCURRENCY makes a simulated day ~8x longer)
#       (RETRY_BASE=RETRY_MAX=86400: no same-day retries, the next daily run's backfill catches
#       every failure) DAY_DEADLINE=600 (seconds per simulated day) REPORT_EVERY=10 SOAK_KEEP=1
#   The default run takes about 12 minutes on 2 cores; short mode (about 35 s):
#   INSTANCES=100 DAYS=5 tests/soak/run.sh build
# Only 127.0.0.1. Every wait is bounded; everything started is stopped on exit. The scratch
# directory is removed on success and kept (path printed) on failure or with SOAK_KEEP=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rep_root="$(cd "$here/../.." && pwd)"
build_arg="${1:-build}"
case "$build_arg" in /*) rep_build="$build_arg" ;; *) rep_build="$rep_root/$build_arg" ;; esac
rep_tag=soak
# shellcheck source=tests/replicas/lib.sh
source "$rep_root/tests/replicas/lib.sh"

count="${INSTANCES:-1000}"
days="${DAYS:-60}"
fault_rate="${FAULT_RATE:-0.05}"
fault_seed="${FAULT_SEED:-1}"
days_back="${DAYS_BACK:-7}"
clean_days="${CLEAN_DAYS:-2}"
start_day="${START_DAY:-2030-01-07}"
concurrency="${CONCURRENCY:-64}"
request_timeout="${REQUEST_TIMEOUT:-2}"
claim_servers="${CLAIM_SERVERS:-$count}"
retry_base="${RETRY_BASE:-2}"
retry_max="${RETRY_MAX:-8}"
day_deadline="${DAY_DEADLINE:-600}"
report_every="${REPORT_EVERY:-10}"
bin="$rep_build/n8n-fleet"
fake_bin="$rep_build/n8n-fleet-fake-fleet"
check="$here/check.py"

[[ -x $bin ]] || rep_die "no $bin: build first (scripts/build.sh $build_arg)"
[[ -x $fake_bin ]] || rep_die "no n8n-fleet-fake-fleet in $rep_build"
for tool in python3 curl jq; do
  command -v "$tool" >/dev/null || rep_die "needs $tool (apt-get install $tool)"
done
((days >= 2 && clean_days >= 1 && clean_days < days)) ||
  rep_die "DAYS must be >= 2 and CLEAN_DAYS within 1..DAYS-1 (faults must clear before the end)"
"$fake_bin" --help 2>/dev/null | grep -q -- --fault-rate ||
  rep_die "$fake_bin has no --fault-rate: rebuild it"

# libfaketime's multi-threaded preload (as tests/real_n8n/lib.sh rn_faketime_lib finds it).
ft_lib=""
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
  [[ -f $f ]] && { ft_lib=$f; break; }
done
[[ -n $ft_lib ]] || rep_die "libfaketime is missing: apt-get install faketime"

rep_work=$(mktemp -d /tmp/soak-test.XXXXXX)
clock_file="$rep_work/clock-offset"
ft=(env "LD_PRELOAD=$ft_lib" "FAKETIME_TIMESTAMP_FILE=$clock_file" FAKETIME_CACHE_DURATION=1
  NO_FAKE_STAT=1 DONT_FAKE_MONOTONIC=1)
passed=0
finish() {
  rep_cleanup
  if ((passed)) && [[ -z ${SOAK_KEEP:-} ]]; then
    rm -rf "$rep_work"
  else
    echo "$rep_tag: logs kept in $rep_work" >&2
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM

day_unix() { date -u -d "$1" +%s; }
day_add() { date -u -d "$1 + $2 days" +%F; }
# Simulated time: fake = real + offset, for every process started with "${ft[@]}". Waits until
# the preloads' cache has expired (FAKETIME_CACHE_DURATION=1: libfaketime re-reads the file once
# the whole seconds since its last read exceed 1, so up to 2 s after a change) and checks the new
# time with a faked `date`.
set_clock() {
  local target=$1 offset seen
  offset=$((target - $(date -u +%s)))
  printf '%+d\n' "$offset" >"$clock_file.tmp"
  mv "$clock_file.tmp" "$clock_file"
  sleep 2.2
  seen=$("${ft[@]}" date -u +%s)
  ((seen >= target && seen < target + 120)) ||
    rep_die "libfaketime does not follow $clock_file: wanted $(date -u -d "@$target" +%FT%TZ), got $(date -u -d "@$seen" +%FT%TZ)"
}
fake_now() { "${ft[@]}" date -u +%FT%TZ; }

api() { curl --noproxy '*' -sS --fail --max-time 60 -H "Authorization: Bearer $token" "$serve_url$1"; }
# Serve's resident set now and at its peak (MB), and its open descriptors.
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$serve_pid/status"; }
hwm_mb() { awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$serve_pid/status"; }
anon_mb() { awk '/^RssAnon/ { printf "%.1f", $2 / 1024 }' "/proc/$serve_pid/status"; }
fds() { find "/proc/$serve_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rows() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True, timeout=30); print(c.execute('SELECT count(*) FROM usage_daily').fetchone()[0])" "$db"; }

# Fetches the runs (newest first) into $rep_work/runs.json.
fetch_runs() { api "/api/v1/runs?limit=1000" >"$rep_work/runs.json.tmp" && mv "$rep_work/runs.json.tmp" "$rep_work/runs.json"; }
max_run_id() { jq '[.runs[].id] | max // 0' "$rep_work/runs.json"; }

# Waits for simulated day $1's daily run (the first "[schedule]" run with an id > $2) to finish,
# then for the retries of its failures: until the newest run finished with no failure, or no
# new run started within min(RETRY_MAX, 30) + 5 s of the last one finishing (none with
# RETRY_BASE >= 86400): the rest is left to the next daily run's backfill, which supersedes
# pending retries. Fails after DAY_DEADLINE seconds.
quiet_wait=$((retry_base >= 86400 ? 2 : (retry_max < 30 ? retry_max : 30) + 5))
wait_day() {
  local day=$1 after=$2 deadline=$((SECONDS + day_deadline)) daily="" quiet_since=-1 quiet_run=0
  local state newest status failed started rehup_at=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    fetch_runs || { sleep 0.5; continue; }
    if [[ -z $daily ]]; then
      daily=$(jq -r --argjson after "$after" \
        '[.runs[] | select(.id > $after and (.description | contains("[schedule]")))] | min_by(.id) | .id // empty' \
        "$rep_work/runs.json")
      if [[ -z $daily ]]; then
        # A SIGHUP taken before serve saw the new time woke the scheduler for nothing: again.
        if ((SECONDS >= rehup_at)); then
          kill -HUP "$serve_pid"
          rehup_at=$((SECONDS + 5)) rehups=$((rehups + 1))
        fi
        sleep 0.3
        continue
      fi
      started=$(jq -r --argjson id "$daily" '.runs[] | select(.id == $id) | .started_at' "$rep_work/runs.json")
      [[ $started == "$day"T* ]] || rep_die "day $day: the daily run $daily started at $started"
    fi
    # The newest run since the daily one: "running", or finished with N failed servers.
    state=$(jq -r --argjson from "$daily" \
      '[.runs[] | select(.id >= $from)] | max_by(.id) | "\(.id) \(.status) \(.servers_failed)"' \
      "$rep_work/runs.json")
    read -r newest status failed <<<"$state"
    if [[ $status == running ]]; then
      quiet_since=-1
    elif ((failed == 0)); then
      return 0
    elif ((quiet_since < 0 || newest != quiet_run)); then
      quiet_since=$SECONDS quiet_run=$newest
    elif ((SECONDS - quiet_since > quiet_wait)); then
      return 0
    fi
    sleep 0.3
  done
  rep_die "day $day: its runs did not finish within ${day_deadline}s (serve log: $rep_work/serve-0.err)"
}

# The fleet's counters (SIGUSR1 prints a "stats {JSON}" line).
fleet_stats() {
  local before
  before=$(grep -c '^stats ' "$rep_work/fleet.out" || true)
  kill -USR1 "$rep_fleet_pid"
  for _ in $(seq 100); do
    (($(grep -c '^stats ' "$rep_work/fleet.out" || true) > before)) && break
    sleep 0.1
  done
  grep '^stats ' "$rep_work/fleet.out" | tail -1 | cut -d' ' -f2-
}

first_day=$(day_add "$start_day" "-$days_back")
last_sim_day=$(day_add "$start_day" $((days - 1)))
last_day=$(day_add "$last_sim_day" -1)  # the last day the last daily run collects
faults_until=$(day_add "$start_day" $((days - clean_days)))
t0=$SECONDS
rep_log "$count instances, $days simulated days from $start_day (figures from $first_day), fault rate $fault_rate (seed $fault_seed) until $faults_until; work in $rep_work"

# Every (server, day) the fleet serves up to $last_day, from a throwaway fleet of the same size.
ulimit -n "$(ulimit -Hn)"
timeout 120 "$fake_bin" --count "$count" --today "$last_day" \
  --days-back $((days_back + days - 2)) --expected "$rep_work/expected.csv" \
  >"$rep_work/expected.out" 2>"$rep_work/expected.err" &
expected_pid=$!
for _ in $(seq 600); do
  grep -q '^ready' "$rep_work/expected.out" 2>/dev/null && break
  kill -0 "$expected_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^ready' "$rep_work/expected.out" || rep_die "the fleet did not write its figures: $(cat "$rep_work/expected.err")"
rep_stop_pid "$expected_pid" 30

# Day 0, 00:01: before collect_at, so serve starts without collecting.
set_clock $(($(day_unix "$start_day") + 60))
export N8N_FLEET_HOME="$rep_work/home"
unset N8N_FLEET_DB N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY
db="$N8N_FLEET_HOME/fleet.db"
timeout 60 "${ft[@]}" "$bin" db init >/dev/null
timeout 60 "${ft[@]}" "$bin" key generate --alg ES256 >/dev/null
timeout 60 "${ft[@]}" "$bin" key env --format json >"$rep_work/trust.json"

"${ft[@]}" "$fake_bin" --count "$count" --days-back "$days_back" --trust "$rep_work/trust.json" \
  --expect-own-audience --csv "$rep_work/fleet.csv" --fault-rate "$fault_rate" \
  --fault-seed "$fault_seed" --faults-until "$faults_until" \
  >"$rep_work/fleet.out" 2>"$rep_work/fleet.err" &
rep_fleet_pid=$!
for _ in $(seq 600); do
  grep -q '^ready' "$rep_work/fleet.out" 2>/dev/null && break
  kill -0 "$rep_fleet_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^ready' "$rep_work/fleet.out" || rep_die "the fake fleet did not start: $(cat "$rep_work/fleet.err")"
fleet_today=$(sed -n 's/.*, today \([0-9-]*\),.*/\1/p' "$rep_work/fleet.err")
[[ $fleet_today == "$start_day" ]] || rep_die "the fake fleet's today is $fleet_today, not $start_day: is time() faked?"
awk -v since="$first_day" 'NR == 1 { print $0 ",tracking_since"; next } { print $0 "," since }' \
  "$rep_work/fleet.csv" >"$rep_work/tracked.csv"
timeout 300 "${ft[@]}" "$bin" server import "$rep_work/tracked.csv" >/dev/null
token=$(timeout 60 "${ft[@]}" "$bin" token create soak --json | jq -r .token)

cat >"$rep_work/config.toml" <<EOF
collect_at = "00:05"
concurrency = $concurrency
claim_servers = $claim_servers
request_timeout_seconds = $request_timeout
retry_base_seconds = $retry_base
retry_max_seconds = $retry_max
shutdown_grace_seconds = 5
poll_seconds = 1
log_format = "json"
EOF
"${ft[@]}" "$bin" serve --config "$rep_work/config.toml" --listen 127.0.0.1:0 --log-format json \
  >"$rep_work/serve-0.out" 2>"$rep_work/serve-0.err" &
serve_pid=$!
rep_serve_pids[0]=$serve_pid
rep_serve_wait 0
serve_url=${rep_serve_urls[0]}
sleep 1
api /api/v1/runs >/dev/null || rep_die "the API does not answer with the token"
[[ $(jq '.runs | length' <<<"$(api /api/v1/runs)") == 0 ]] || rep_die "serve collected before collect_at"
rss_start=$(rss_mb) anon_start=$(anon_mb) fds_start=$(fds)
rep_log "serve pid $serve_pid at $serve_url: RSS ${rss_start} MB, $fds_start fds; setup took $((SECONDS - t0)) s"

printf '%-10s %-5s %-5s %-7s %-10s %-6s %-7s %-6s %-7s %-4s %-5s\n' day sim_d runs retries servers_ok failed rows rss_mb anon_mb fds real_s >&2
fetch_runs
last_id=$(max_run_id)
period_first_id=$((last_id + 1))
rss_day1="" fds_day1="" rehups=0
for ((k = 0; k < days; k++)); do
  day=$(day_add "$start_day" "$k")
  set_clock $(($(day_unix "$day") + 5 * 60 + 10))
  kill -HUP "$serve_pid"
  wait_day "$day" "$last_id"
  last_id=$(max_run_id)
  if ((k == 0)); then rss_day1=$(rss_mb) anon_day1=$(anon_mb) fds_day1=$(fds); fi
  if (((k + 1) % report_every == 0 || k == days - 1)); then
    read -r runs scheduled retries ok failed running < <(python3 "$check" runs "$rep_work/runs.json" "$period_first_id")
    printf '%-10s %-5s %-5s %-7s %-10s %-6s %-7s %-6s %-7s %-4s %-5s\n' "$day" $((k + 1)) "$runs" \
      "$retries" "$ok" "$failed" "$(rows)" "$(rss_mb)" "$(anon_mb)" "$(fds)" $((SECONDS - t0)) >&2
    period_first_id=$((last_id + 1))
  fi
done

# Every run is over; the last daily run found nothing failing.
rss_end=$(rss_mb) anon_end=$(anon_mb) hwm=$(hwm_mb) fds_end=$(fds)
fetch_runs
read -r runs scheduled retries ok failed running < <(python3 "$check" runs "$rep_work/runs.json" 1)
((running == 0)) || rep_die "$running runs still running at the end"
last_daily=$(jq -c '[.runs[] | select(.description | contains("[schedule]"))] | max_by(.id)' "$rep_work/runs.json")
stats=$(fleet_stats)
check_json=$(python3 "$check" rows "$db" "$rep_work/expected.csv" "$first_day" "$last_day")
gaps=$(api "/api/v1/gaps?from=$first_day&to=$last_day" | jq .count)
api "/api/v1/usage?from=$first_day&to=$last_day" >"$rep_work/usage.json"
api_rows=$(jq '.usage | length' "$rep_work/usage.json")
api_distinct=$(jq '[.usage[] | "\(.server) \(.day)"] | unique | length' "$rep_work/usage.json")
rss_api=$(rss_mb) hwm_api=$(hwm_mb)

# SIGTERM: serve must stop by itself within its grace period.
kill -TERM "$serve_pid"
serve_rc=""
for _ in $(seq 300); do
  if ! kill -0 "$serve_pid" 2>/dev/null; then
    set +e; wait "$serve_pid"; serve_rc=$?; set -e
    break
  fi
  sleep 0.1
done
rep_serve_pids[0]=""
[[ -n $serve_rc ]] || { kill -KILL "$serve_pid" 2>/dev/null || true; serve_rc="did not stop within 30 s"; }
rep_fleet_stop

jget() { jq -r "$1" <<<"$2"; }
lost=$(jget .lost "$check_json") duplicated=$(jget .duplicated "$check_json")
wrong=$(jget .wrong "$check_json") unexpected=$(jget .unexpected "$check_json")
cat >&2 <<EOF

soak summary ($(date -u +%FT%TZ), real $((SECONDS - t0)) s, $(nproc) cores; build $build_arg)
  instances            $count (token exchange), concurrency $concurrency, claim_servers $claim_servers, request timeout ${request_timeout}s
  simulated days       $days ($start_day .. $last_sim_day), one SIGHUP per day ($rehups repeated); collected $first_day .. $last_day
  runs                 $runs: $scheduled daily, $retries retries; server-runs ok $ok, failed $failed
  last daily run       $(jget '"\(.id) \(.status), \(.servers_attempted) servers, \(.servers_failed) failed, \(.days_stored) days stored"' "$last_daily")
  faults injected      $(jget '"\(.faults) of \(.requests) requests (all routes): \(.fault_errors) x 500, \(.fault_closes) closed, \(.fault_hangs) hung"' "$stats") (rate $fault_rate, seed $fault_seed, none from $faults_until)
  rows checked         $(jget .checked "$check_json") (server, day) pairs; rows stored $(jget .stored "$check_json"); API usage rows $api_rows ($api_distinct distinct)
  lost                 $lost
  duplicated           $duplicated
  wrong                $wrong
  unexpected           $unexpected
  gaps (API)           $gaps
  serve RSS (MB)       start $rss_start, after day 1 $rss_day1, end $rss_end, peak (VmHWM) $hwm
  serve RssAnon (MB)   start $anon_start, after day 1 $anon_day1, end $anon_end
  after GET usage      RSS $rss_api MB, peak $hwm_api MB (one answer of all $api_rows rows)
  serve fds            start $fds_start, after day 1 $fds_day1, end $fds_end
  serve on SIGTERM     exit $serve_rc
EOF
examples=$(jget '.examples | join("; ")' "$check_json")
[[ -z $examples ]] || rep_log "examples: $examples"
if [[ $lost == 0 && $duplicated == 0 && $wrong == 0 && $unexpected == 0 && $gaps == 0 &&
  $api_rows == "$api_distinct" && $api_rows == $(jget .checked "$check_json") &&
  $(jget .servers_failed "$last_daily") == 0 && $serve_rc == 0 ]]; then
  passed=1
  rep_log "PASSED"
else
  rep_die "every (server, day) must be stored once with the fleet's figure, and serve stop cleanly"
fi
