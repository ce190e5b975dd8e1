#!/usr/bin/env bash
# Three `n8n-fleet serve` replicas over one PostgreSQL share one daily run, and one of them is
# killed (kill -9) while it holds leases.
#
# Starts a PostgreSQL (scripts/postgres.sh; or a fresh database in the server
# N8N_FLEET_TEST_POSTGRES names), a fake fleet of 300 instances answering after 150 ms (token
# exchange on, a request log), registers them (`server import`, tracked for the last 7 days), then
# three replicas (lease_seconds 5, poll_seconds 1, concurrency 8, collect_at 00:00 so each tries
# today's run at start-up). Once the run is under way and a replica holds pending leases, that
# replica is killed; the survivors must finish the run. Checks (tests/replicas/check.py): one
# daily run, succeeded, 300 servers attempted; every (server, day) stored exactly once and equal
# to the fleet's figures; the killed replica's pending units were claimed again and finished by
# the survivors, who fetched those servers only after its lease expired; every other server was
# read exactly as one collection reads it (no window fetched twice while a lease ran).
#
# Usage: tests/replicas/run.sh [BUILD_DIR]   (default build; needs n8n-fleet and
#        n8n-fleet-fake-fleet there; env REPLICAS_SERVERS=300 REPLICAS_LATENCY_MS=150)
# Only 127.0.0.1. Every wait is bounded; everything started is stopped on exit. The scratch
# directory is removed on success (unless REPLICAS_KEEP=1) and kept (path printed) on failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rep_root="$(cd "$here/../.." && pwd)"
build_arg="${1:-build}"
case "$build_arg" in /*) rep_build="$build_arg" ;; *) rep_build="$rep_root/$build_arg" ;; esac
rep_tag=replicas
# shellcheck source=tests/replicas/lib.sh
source "$here/lib.sh"

count="${REPLICAS_SERVERS:-300}"
latency_ms="${REPLICAS_LATENCY_MS:-150}"
days=7
replicas=3
close_deadline_s=120
bin="$rep_build/n8n-fleet"

[[ -x $bin ]] || rep_die "no $bin: build first (scripts/build.sh $build_arg)"
[[ -x $rep_build/n8n-fleet-fake-fleet ]] || rep_die "no n8n-fleet-fake-fleet in $rep_build"
for tool in psql python3; do
  command -v "$tool" >/dev/null || rep_die "needs $tool (apt-get install postgresql python3)"
done

rep_work=$(mktemp -d /tmp/replicas-test.XXXXXX)
passed=0
finish() {
  rep_cleanup
  if ((passed)) && [[ -z ${REPLICAS_KEEP:-} ]]; then
    rm -rf "$rep_work"
  else
    echo "$rep_tag: logs kept in $rep_work" >&2
  fi
}
trap finish EXIT
trap 'exit 130' INT TERM

# The run takes well under a minute; the whole test a few.
rep_avoid_midnight 600
t0=$(rep_now_ms)

rep_fresh_database "fleet_replicas_$$"
export N8N_FLEET_HOME="$rep_work/home" N8N_FLEET_DB="$rep_db_url"
unset N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY
timeout 60 "$bin" db init >/dev/null
timeout 60 "$bin" key generate --alg ES256 >/dev/null
timeout 60 "$bin" key env --format json >"$rep_work/trust.json"

rep_fleet_start --count "$count" --days-back "$days" --latency-ms "$latency_ms" \
  --trust "$rep_work/trust.json" --expect-own-audience --csv "$rep_work/fleet.csv" \
  --expected "$rep_work/expected.csv" --request-log "$rep_work/requests.log"
today=$(sed -n 's/.*, today \([0-9-]*\),.*/\1/p' "$rep_work/fleet.err")
[[ $today == "$(date -u +%F)" ]] || rep_die "the fake fleet's today ($today) is not today (UTC)"
since=$(date -u -d "$today -$days days" +%F)
awk -v since="$since" 'NR == 1 { print $0 ",tracking_since"; next } { print $0 "," since }' \
  "$rep_work/fleet.csv" >"$rep_work/tracked.csv"
timeout 120 "$bin" server import "$rep_work/tracked.csv" >/dev/null

cat >"$rep_work/config.toml" <<EOF
collect_at = "00:00"
concurrency = 8
lease_seconds = 5
poll_seconds = 1
shutdown_grace_seconds = 2
EOF
for ((i = 0; i < replicas; i++)); do rep_serve_start "$i" "$rep_work/config.toml"; done
for ((i = 0; i < replicas; i++)); do rep_serve_wait "$i"; done
rep_log "$replicas replicas serving (pids ${rep_serve_pids[*]}), $count instances, ${latency_ms} ms latency, $days days each, database $(rep_url_with_db "$N8N_FLEET_DB" "fleet_replicas_$$")"

sql() { rep_psql "$N8N_FLEET_DB" -c "$1"; }

# ---- the daily run, under way, with a replica holding leases
run=""
for ((n = 0; n < 300; n++)); do
  run=$(sql "SELECT run_id FROM schedule_slots WHERE slot = 'daily:$today'")
  [[ -n $run ]] && break
  sleep 0.1
done
[[ -n $run ]] || rep_die "no replica created today's daily run within 30 s"
victim="" victim_index=""
for ((n = 0; n < 600; n++)); do
  line=$(sql "SELECT (SELECT count(*) FROM work_units WHERE run_id = $run AND state <> 'pending'),
      (SELECT lease_owner || ' ' || count(*) FROM work_units
       WHERE run_id = $run AND state = 'pending' AND lease_owner IS NOT NULL
         AND lease_until > extract(epoch FROM now())::bigint + 1
       GROUP BY lease_owner ORDER BY count(*) DESC, lease_owner LIMIT 1)")
  finished=${line%%|*}
  read -r owner held <<<"${line#*|}"
  # Mid-run: a fifth of the servers finished, the chosen replica holding several.
  if ((finished >= count / 5)) && [[ -n $owner ]] && ((held >= 3)); then
    pid=$(awk -F: '{ print $(NF - 1) }' <<<"$owner")
    for i in "${!rep_serve_pids[@]}"; do
      if [[ ${rep_serve_pids[i]} == "$pid" ]]; then victim=$owner victim_index=$i; fi
    done
    [[ -n $victim ]] || rep_die "lease owner $owner is none of the replicas (${rep_serve_pids[*]})"
    break
  fi
  [[ $(sql "SELECT status FROM runs WHERE id = $run") == running ]] ||
    rep_die "run $run closed before a replica could be killed mid-run (make the fleet slower)"
  sleep 0.1
done
[[ -n $victim ]] || rep_die "no replica held leases mid-run within 60 s"

kill_ms=$(rep_now_ms)
kill -KILL "${rep_serve_pids[victim_index]}"
wait "${rep_serve_pids[victim_index]}" 2>/dev/null || true
rep_serve_pids[victim_index]=""
sql "SELECT s.name, w.lease_until FROM work_units w JOIN servers s ON s.id = w.server_id
     WHERE w.run_id = $run AND w.lease_owner = '$victim' AND w.state = 'pending'
     ORDER BY s.name" >"$rep_work/held.txt"
rep_log "killed replica $victim_index ($victim) with $(wc -l <"$rep_work/held.txt") pending leases, $finished units finished"

# ---- the survivors close the run
status=running
for ((n = 0; n < close_deadline_s * 10; n++)); do
  status=$(sql "SELECT status FROM runs WHERE id = $run")
  [[ $status == running ]] || break
  sleep 0.1
done
closed_ms=$(rep_now_ms)
[[ $status != running ]] || {
  sql "SELECT state, lease_owner, claims, count(*) FROM work_units WHERE run_id = $run
       GROUP BY 1, 2, 3" >&2
  rep_die "run $run still running ${close_deadline_s} s after the kill"
}

# Every survivor has decided about today's daily run (a busy runner retries after a minute): a
# second daily run would show up now.
for i in "${!rep_serve_pids[@]}"; do
  [[ -n ${rep_serve_pids[i]} ]] || continue
  for ((n = 0; n < 900; n++)); do
    grep -qE '"msg":"daily collection (started|already started by another service)"' \
      "$rep_work/serve-$i.err" && break
    sleep 0.1
  done
  grep -qE '"msg":"daily collection (started|already started by another service)"' \
    "$rep_work/serve-$i.err" || rep_die "replica $i never decided about today's daily run"
done
rep_serve_stop_all
rep_fleet_stop

sql "SELECT id, status, servers_attempted, servers_succeeded, servers_failed, days_stored,
       started_at, coalesce(finished_at, 0), description FROM runs ORDER BY id" >"$rep_work/runs.txt"
sql "SELECT slot, run_id FROM schedule_slots ORDER BY slot" >"$rep_work/slots.txt"
sql "SELECT s.name, w.state, coalesce(w.lease_owner, ''), w.claims FROM work_units w
     JOIN servers s ON s.id = w.server_id WHERE w.run_id = $run ORDER BY s.name" >"$rep_work/units.txt"
sql "SELECT server_name, day, total, failed, time_saved_minutes, coalesce(run_id, 0), source
     FROM usage_daily ORDER BY server_name, day" >"$rep_work/usage.txt"
sql "SELECT server_name, day, count(*) FROM usage_daily GROUP BY 1, 2 HAVING count(*) > 1" \
  >"$rep_work/dupes.txt"

check=(python3 "$here/check.py" --work "$rep_work" --run "$run" --today "$today" --days "$days"
  --count "$count" --victim "$victim" --kill-ms "$kill_ms" --closed-ms "$closed_ms")
printf '%q ' "${check[@]}" >"$rep_work/check.cmd"  # to run the checks again by hand
"${check[@]}" || rep_die "see the checks above"
rep_log "fake fleet: $(grep '^requests' "$rep_work/fleet.out" || echo '(no statistics)')"
rep_log "passed in $((($(rep_now_ms) - t0) / 1000)) s"
passed=1
