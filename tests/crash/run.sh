#!/usr/bin/env bash
# Crash safety on SQLite: `collect --backfill` killed with SIGKILL at random moments, RUNS times.
#
# Starts a fake fleet (n8n-fleet-fake-fleet: CRASH_SERVERS instances answering after
# CRASH_LATENCY_MS, token exchange on) and registers it in a SQLite home, tracked for the last
# CRASH_DAYS days. Measures how long one full `collect --backfill` takes (T), then RUNS times:
# starts `collect --backfill` (odd runs on the freshly imported database, even runs on the
# complete database of the run before, which re-collects the last days: upserts), SIGKILLs it
# after a random delay in 0..T, notes whether a transaction was being written (frames after the
# WAL's last commit), then runs `collect --backfill` to completion and checks:
#   PRAGMA integrity_check = ok; every (server, day) of the tracked range stored exactly once
#   with the fleet's figures (tests/crash/check.py, against the fleet's --expected CSV).
# Prints a summary (runs; kills by moment: before the run existed, before any day was stored,
# mid-run, after the last day; kills that tore a transaction (mid-write); rows checked, lost,
# duplicated, wrong) and exits 1 if anything was lost, duplicated, wrong or not ok.
#
# Usage: tests/crash/run.sh [BUILD_DIR]   (default build; needs n8n-fleet and
#        n8n-fleet-fake-fleet there, python3 and sqlite3)
#        env RUNS=100 CRASH_SERVERS=200 CRASH_DAYS=6 CRASH_LATENCY_MS=20 CRASH_CONCURRENCY=64
#            CRASH_SEED=<random> CRASH_KEEP=1 (keep the scratch directory)
# Only 127.0.0.1. Every wait is bounded; everything started is stopped on exit. The scratch
# directory is removed on success and kept (path printed) on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rep_root="$(cd "$here/../.." && pwd)"
build_arg="${1:-build}"
case "$build_arg" in /*) rep_build="$build_arg" ;; *) rep_build="$rep_root/$build_arg" ;; esac
rep_tag=crash
# shellcheck source=tests/replicas/lib.sh
source "$rep_root/tests/replicas/lib.sh"

runs="${RUNS:-100}"
count="${CRASH_SERVERS:-200}"
days="${CRASH_DAYS:-6}"
latency_ms="${CRASH_LATENCY_MS:-20}"
concurrency="${CRASH_CONCURRENCY:-64}"
seed="${CRASH_SEED:-$RANDOM}"
bin="$rep_build/n8n-fleet"
check="$here/check.py"

[[ -x $bin ]] || rep_die "no $bin: build first (scripts/build.sh $build_arg)"
[[ -x $rep_build/n8n-fleet-fake-fleet ]] || rep_die "no n8n-fleet-fake-fleet in $rep_build"
for tool in python3 sqlite3; do
  command -v "$tool" >/dev/null || rep_die "needs $tool (apt-get install $tool)"
done

rep_work=$(mktemp -d /tmp/crash-test.XXXXXX)
passed=0
collect_pid=""
finish() {
  if [[ -n $collect_pid ]]; then kill -KILL "$collect_pid" 2>/dev/null || true; fi
  rep_cleanup
  if ((passed)) && [[ -z ${CRASH_KEEP:-} ]]; then
    rm -rf "$rep_work"
  else
    echo "$rep_tag: logs kept in $rep_work" >&2
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM
RANDOM=$seed

home="$rep_work/home"
db="$home/fleet.db"
export N8N_FLEET_HOME="$home"
unset N8N_FLEET_DB N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY

# Each iteration is a few seconds; never straddle midnight (the fleet's "today" would lag).
rep_avoid_midnight 900
t0=$(rep_now_ms)

timeout 60 "$bin" db init >/dev/null
timeout 60 "$bin" key generate --alg ES256 >/dev/null
timeout 60 "$bin" key env --format json >"$rep_work/trust.json"
rep_fleet_start --count "$count" --days-back "$((days + 2))" --latency-ms "$latency_ms" \
  --trust "$rep_work/trust.json" --expect-own-audience --csv "$rep_work/fleet.csv" \
  --expected "$rep_work/expected.csv"
today=$(sed -n 's/.*, today \([0-9-]*\),.*/\1/p' "$rep_work/fleet.err")
[[ $today == "$(date -u +%F)" ]] || rep_die "the fake fleet's today ($today) is not today (UTC)"
since=$(date -u -d "$today -$days days" +%F)
yesterday=$(date -u -d "$today -1 day" +%F)
awk -v since="$since" 'NR == 1 { print $0 ",tracking_since"; next } { print $0 "," since }' \
  "$rep_work/fleet.csv" >"$rep_work/tracked.csv"
timeout 120 "$bin" server import "$rep_work/tracked.csv" >/dev/null
cp -a "$home" "$rep_work/template"

collect() {
  timeout 300 "$bin" collect --backfill --json --concurrency "$concurrency"
}

# Checks the database after a completed run; $1 names the moment for messages.
rows_checked=0 lost=0 duplicated=0 wrong=0 unexpected=0 not_ok=0
verify() {
  local what=$1 integrity result
  integrity=$(timeout 120 sqlite3 "$db" 'PRAGMA integrity_check')
  if [[ $integrity != ok ]]; then
    not_ok=$((not_ok + 1))
    rep_log "$what: integrity_check: $integrity"
  fi
  result=$(timeout 120 python3 "$check" rows "$db" "$rep_work/expected.csv" "$since" "$yesterday")
  read -r c l d w u < <(python3 -c 'import json,sys; r=json.loads(sys.argv[1]);
print(r["checked"], r["lost"], r["duplicated"], r["wrong"], r["unexpected"])' "$result")
  rows_checked=$((rows_checked + c)) lost=$((lost + l)) duplicated=$((duplicated + d))
  wrong=$((wrong + w)) unexpected=$((unexpected + u))
  if ((l + d + w + u)); then rep_log "$what: $result"; fi
}

# How long one backfill takes (warm): on the freshly imported database (every day of every
# server) and on a complete one (the last days again). The first run's result is checked too.
timed_collect() {
  local start
  start=$(rep_now_ms)
  collect >"$rep_work/timed.json" || rep_die "collect failed: $(cat "$rep_work/timed.json")"
  echo $(($(rep_now_ms) - start))
}
timed_collect >/dev/null
verify "first run"
rm -rf "$home" && cp -a "$rep_work/template" "$home"
fresh_ms=$(timed_collect)
full_ms=$(timed_collect)
rep_log "$count servers x $days days: a backfill takes $fresh_ms ms on a fresh database," \
  "$full_ms ms on a complete one; $runs runs, seed $seed"

last_run() { sqlite3 "$db" 'SELECT coalesce(max(id), 0) FROM runs'; }

kills=0 torn=0 before_run=0 before_rows=0 partly=0 all_rows=0 missed=0 failed_runs=0
for ((run = 1; run <= runs; run++)); do
  if ((run % 2 == 1)); then
    rm -rf "$home"
    cp -a "$rep_work/template" "$home"
    typical_ms=$fresh_ms
  else
    typical_ms=$full_ms
  fi
  previous=$(last_run)
  delay_ms=$(((RANDOM * 32768 + RANDOM) % (typical_ms + 1)))
  "$bin" collect --backfill --json --concurrency "$concurrency" \
    >"$rep_work/killed.json" 2>"$rep_work/killed.err" &
  collect_pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -KILL "$collect_pid" 2>/dev/null || true
  rc=0
  wait "$collect_pid" 2>/dev/null || rc=$?
  collect_pid=""
  if ((rc == 137)); then
    kills=$((kills + 1))
    # Before anything opens the database again (that recovers the WAL).
    state=$(python3 "$check" wal "$db-wal")
    [[ $state == idle ]] || torn=$((torn + 1))
    killed=$(last_run)
    if ((killed == previous)); then
      state+=", before its run was created"
      before_run=$((before_run + 1))
    else
      read -r settled total < <(sqlite3 -separator ' ' "$db" \
        "SELECT sum(state <> 'pending'), count(*) FROM work_items WHERE run_id = $killed")
      state+=", $settled/$total days settled"
      if ((settled == 0)); then
        before_rows=$((before_rows + 1))
      elif ((settled < total)); then
        partly=$((partly + 1))
      else
        all_rows=$((all_rows + 1))
      fi
    fi
  else
    state="missed (exit $rc)"
    missed=$((missed + 1))
  fi
  if ! collect >"$rep_work/after.json" 2>"$rep_work/after.err"; then
    failed_runs=$((failed_runs + 1))
    rep_log "run $run: the collect after the kill failed: $(cat "$rep_work/after.json" "$rep_work/after.err")"
  fi
  verify "run $run (killed after $delay_ms ms: $state)"
  [[ -z ${CRASH_VERBOSE:-} ]] || rep_log "run $run: killed after $delay_ms ms: $state"
  if ((run % 10 == 0)); then
    rep_log "$run/$runs: kills $kills (mid-run $partly, torn transactions $torn), rows checked" \
      "$rows_checked, lost $lost, duplicated $duplicated, wrong $wrong"
  fi
done

elapsed_s=$((($(rep_now_ms) - t0) / 1000))
echo "crash: $runs runs of collect --backfill, $count servers x $days days (a run takes $fresh_ms ms fresh, $full_ms ms complete), seed $seed"
echo "crash: kills $kills: before the run was created $before_run, before any day was stored $before_rows, mid-run with days partly stored $partly, after every day was stored $all_rows; mid-write (a transaction torn in the WAL) $torn; missed (run already over) $missed"
echo "crash: rows checked $rows_checked: lost $lost, duplicated $duplicated, wrong $wrong, unexpected $unexpected"
echo "crash: integrity_check not ok: $not_ok; collect after a kill failed: $failed_runs; $elapsed_s s"
if ((lost + duplicated + wrong + unexpected + not_ok + failed_runs)); then
  rep_die "data lost, duplicated, wrong or corrupt after a kill -9"
fi
((kills > 0)) || rep_die "no run was killed: the delays missed every run"
passed=1
