#!/usr/bin/env bash
# stop.sh - stops the n8n instance started by start.sh from DIR. Idempotent (exit 0 if nothing runs).
#
# Usage: tests/real_n8n/stop.sh --dir DIR [--grace SECONDS]
# Sends SIGTERM to n8n's process group (n8n and its task-runner children; start.sh runs n8n under
# setsid), waits up to --grace seconds (default 20; start.sh sets N8N_GRACEFUL_SHUTDOWN_TIMEOUT=10),
# then SIGKILLs the group. Only signals the pid in DIR/pid, and only if that process still runs
# n8n from this harness (guards against pid reuse). Removes DIR/pid. Leaves DIR's data in place.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir="" grace=20
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
    --grace) grace="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $1" ;;
  esac
done
[ -n "$dir" ] || rn_die "--dir DIR is required"
pidfile="$dir/pid"
[ -f "$pidfile" ] || { rn_log "no $pidfile: nothing to stop"; exit 0; }
pid="$(cat "$pidfile")"
[[ "$pid" =~ ^[0-9]+$ ]] || { rm -f "$pidfile"; rn_log "bad pid file removed"; exit 0; }

ours() { [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'n8n'; }
if ! kill -0 "$pid" 2>/dev/null || ! ours; then
  rn_log "pid $pid is not running (or is not n8n): nothing to stop"
  rm -f "$pidfile"; exit 0
fi

# Signal the group when n8n leads it (start.sh uses setsid), else the process alone.
target="$pid"
[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && target="-$pid"
t0="$(rn_now)"
kill -TERM -- "$target" 2>/dev/null || true
deadline=$(( $(date +%s) + grace ))
while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
  rn_log "pid $pid still alive after ${grace}s: SIGKILL"
  kill -KILL -- "$target" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
# Leftover children of the group (task runners) get SIGKILL too.
[ "$target" != "$pid" ] && kill -KILL -- "$target" 2>/dev/null || true
kill -0 "$pid" 2>/dev/null && rn_die "pid $pid survived SIGKILL"
rm -f "$pidfile"
rn_log "stopped pid $pid in $(rn_elapsed "$t0")s"
