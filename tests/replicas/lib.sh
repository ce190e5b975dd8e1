# shellcheck shell=bash disable=SC2034,SC2154
# Shared by tests/replicas/run.sh and bench/replicas_bench.sh (sourced, not run): a PostgreSQL
# (scripts/postgres.sh, or the server N8N_FLEET_TEST_POSTGRES names) with a fresh database per
# use, the fake fleet (n8n-fleet-fake-fleet) and `n8n-fleet serve` replicas on 127.0.0.1, each
# started in the background and stopped by rep_cleanup (call it from the caller's EXIT trap).
#
# The caller sets: rep_root (the repository), rep_build (the build directory), rep_work (a
# scratch directory, removed by nobody here) and rep_tag (a short name for messages).

rep_serve_pids=()   # by replica index
rep_serve_urls=()   # "http://127.0.0.1:PORT" by replica index
rep_fleet_pid=""
rep_pg_dir=""       # our own PostgreSQL's directory, when we started one
rep_pg_admin=""     # a URL to create databases through
rep_databases=()    # databases we created in someone else's PostgreSQL (dropped at cleanup)
rep_db_url=""       # set by rep_fresh_database

rep_log() { echo "$rep_tag: $*" >&2; }
rep_die() {
  echo "$rep_tag: FAILED: $*" >&2
  exit 1
}

# Milliseconds since the epoch.
rep_now_ms() { date +%s%3N; }

# A free TCP port on 127.0.0.1 below the ephemeral range (which starts at 32768 here).
rep_free_port() {
  python3 - <<'EOF'
import random, socket
for _ in range(200):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port in 20000-32000")
EOF
}

# URL with its database replaced by $2 (query and credentials kept).
rep_url_with_db() {
  python3 - "$1" "$2" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + sys.argv[2], u.query, u.fragment)))
EOF
}

rep_psql() {
  PGOPTIONS="-c client_min_messages=warning" timeout 120 psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

# Sets rep_db_url to a new, empty database named $1 (call it directly, not in $(...)): in the
# PostgreSQL that N8N_FLEET_TEST_POSTGRES names (dropped again at cleanup), else in a throwaway
# PostgreSQL this script starts once (scripts/postgres.sh, stopped at cleanup).
rep_fresh_database() {
  local name=$1
  if [[ -z $rep_pg_admin ]]; then
    if [[ -n ${N8N_FLEET_TEST_POSTGRES:-} ]]; then
      rep_pg_admin=$N8N_FLEET_TEST_POSTGRES
    else
      command -v /usr/lib/postgresql/15/bin/initdb >/dev/null ||
        rep_die "PostgreSQL 15 is missing: apt-get install postgresql (or set N8N_FLEET_TEST_POSTGRES)"
      rep_pg_dir=$(mktemp -d /tmp/"$rep_tag"-pg.XXXXXX)
      chmod 0755 "$rep_pg_dir"
      local port
      port=$(rep_free_port)
      rep_pg_admin=$(timeout 120 bash "$rep_root/scripts/postgres.sh" start "$rep_pg_dir" "$port" \
        2>"$rep_pg_dir/start.err") || {
        cat "$rep_pg_dir/start.err" >&2
        rep_die "scripts/postgres.sh could not start PostgreSQL on port $port"
      }
    fi
  fi
  rep_psql "$rep_pg_admin" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$name\"" >/dev/null ||
    rep_die "cannot create database $name through $(rep_url_with_db "$rep_pg_admin" postgres)"
  [[ -n $rep_pg_dir ]] || rep_databases+=("$name")
  rep_db_url=$(rep_url_with_db "$rep_pg_admin" "$name")
}

# Stops process $1: SIGTERM, up to $2 seconds (default 10), then SIGKILL. Reaps it.
rep_stop_pid() {
  local pid=$1 grace=${2:-10}
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}

# Starts the fake fleet with the given flags (add --count, --csv, ...), output to
# $rep_work/fleet.{out,err}; waits until it is ready (60 s).
rep_fleet_start() {
  ulimit -n "$(ulimit -Hn)"
  "$rep_build/n8n-fleet-fake-fleet" "$@" >"$rep_work/fleet.out" 2>"$rep_work/fleet.err" &
  rep_fleet_pid=$!
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q '^ready' "$rep_work/fleet.out" 2>/dev/null && return 0
    kill -0 "$rep_fleet_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$rep_work/fleet.err" >&2
  rep_die "the fake fleet did not start"
}

# Stops the fake fleet (SIGTERM: it writes the rest of its request log and a statistics line).
rep_fleet_stop() {
  rep_stop_pid "$rep_fleet_pid" 30
  rep_fleet_pid=""
}

# Starts replica $1: `n8n-fleet serve --config $2 --listen 127.0.0.1:0` with the exported
# N8N_FLEET_HOME / N8N_FLEET_DB, JSON logs to $rep_work/serve-$1.err. Not waited for.
rep_serve_start() {
  local i=$1 config=$2
  "$rep_build/n8n-fleet" serve --config "$config" --listen 127.0.0.1:0 --log-format json \
    >"$rep_work/serve-$i.out" 2>"$rep_work/serve-$i.err" &
  rep_serve_pids[i]=$!
}

# Waits (60 s) until replica $1 logged that it serves; sets rep_serve_urls[$1].
rep_serve_wait() {
  local i=$1 n url
  for ((n = 0; n < 600; n++)); do
    # (The file appears once the background shell has opened it.)
    url=$(sed -n 's/.*"msg":"serving".*"url":"\(http[^"]*\)".*/\1/p' "$rep_work/serve-$i.err" \
      2>/dev/null | head -1 || true)
    if [[ -n $url ]]; then
      rep_serve_urls[i]=${url%/}
      return 0
    fi
    kill -0 "${rep_serve_pids[i]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$rep_work/serve-$i.err" >&2
  rep_die "replica $i (pid ${rep_serve_pids[i]}) did not start serving"
}

rep_serve_stop_all() {
  local i
  for i in "${!rep_serve_pids[@]}"; do
    if [[ -n ${rep_serve_pids[i]} ]]; then rep_stop_pid "${rep_serve_pids[i]}" 15; fi
    rep_serve_pids[i]=""
  done
}

# Peak resident set (VmHWM) of a live process, in MB; "?" when it is gone.
rep_peak_rss_mb() {
  awk '/VmHWM/ { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) printf "?" }' \
    "/proc/$1/status" 2>/dev/null || echo "?"
}

# Everything this library started: replicas, the fake fleet, databases, our PostgreSQL.
rep_cleanup() {
  rep_serve_stop_all
  rep_fleet_stop
  if [[ -n $rep_pg_admin && ${#rep_databases[@]} -gt 0 ]]; then
    local db
    for db in "${rep_databases[@]}"; do
      rep_psql "$rep_pg_admin" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
        >/dev/null 2>&1 || true
    done
    rep_databases=()
  fi
  if [[ -n $rep_pg_dir ]]; then
    timeout 60 bash "$rep_root/scripts/postgres.sh" stop "$rep_pg_dir" >/dev/null 2>&1 || true
    rm -rf "$rep_pg_dir"
    rep_pg_dir=""
  fi
}

# Sleeps past the next UTC midnight if fewer than $1 seconds are left before it: a collection
# that crosses midnight reads other windows (the collector redoes such servers) and the fake
# fleet's "today" would lag behind the collector's.
rep_avoid_midnight() {
  local need=$1 now left
  now=$(date -u +%s)
  left=$((86400 - now % 86400))
  if ((left < need)); then
    rep_log "waiting $((left + 20)) s for the next UTC day (the run would cross midnight)"
    sleep $((left + 20))
  fi
}
