#!/usr/bin/env bash
# run.sh - the test stage against a REAL n8n: installs n8n from the npm registry (cached), creates
# an n8n-fleet home with two signing keys (ES256 active, RS256 standby), starts one n8n instance on
# 127.0.0.1 configured with exactly what `n8n-fleet key env --server real-tx` prints (sourced as a
# shell env file, as is), produces a known workload on it, runs the real_n8n_test suite (gtest, the
# n8n-fleet binary as a subprocess) against it, and stops it again.
#
# The workload, before the suite: RN_MANUAL_RUNS (3) manual/editor runs (manual.sh, each verified as
# mode "manual" on the public API: n8n must NOT count them) and then RN_WEBHOOK_RUNS (7) production
# webhook executions (webhook.sh: n8n counts them). Then ONE bounded wait (<= 150 s, polling
# insights.sh) until the instance's Insights compaction (every minute, start.sh) shows today's total;
# it must be exactly RN_WEBHOOK_RUNS, else run.sh fails with diagnostics (Insights summary, the
# executions n8n recorded, n8n log). The suite gets N8N_REAL_EXPECTED_TODAY_TOTAL (= webhook runs),
# N8N_REAL_MANUAL_RUNS and N8N_REAL_DAY (the UTC day of the workload). Within 7 minutes of midnight
# UTC it first waits for the new day, so the workload, the wait and the suite share one UTC day.
#
# Usage: tests/real_n8n/run.sh BUILD_DIR
# If n8n cannot be installed (npm registry unreachable), it prints SKIPPED with the reason in a
# banner and exits 0, unless N8N_FLEET_REQUIRE_REAL_N8N=1, which makes that a failure. It never
# reports success for tests it did not run: the gtest suite itself fails when its instance is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
build="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
bin="$build/n8n-fleet"
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n-fleet-real.XXXXXX")"
cleanup() { "$here/stop.sh" --dir "$work/n8n" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

if ! install_log="$("$here/install.sh" 2>&1)"; then
  printf '\n%s\n' "################################################################"
  echo "# SKIPPED: real-n8n tests NOT RUN: n8n could not be installed from the npm registry."
  echo "# Reason (last lines of install.sh):"
  printf '%s\n' "$install_log" | tail -n 5 | sed 's/^/#   /'
  printf '%s\n\n' "################################################################"
  [ "${N8N_FLEET_REQUIRE_REAL_N8N:-0}" = 1 ] && exit 1
  exit 0
fi
[ -x "$build/tests/real_n8n_test" ] || { echo "run.sh: $build/tests/real_n8n_test is not built" >&2; exit 1; }

manual_runs="${RN_MANUAL_RUNS:-3}"
webhook_runs="${RN_WEBHOOK_RUNS:-7}"
t_all="$(rn_now)"
# One UTC day for everything: today's figure, the server's tracking start and the suite's "today".
secs_left=$(( 86400 - $(date -u +%s) % 86400 ))
if [ "$secs_left" -lt 420 ]; then
  echo "run.sh: ${secs_left}s to midnight UTC: waiting for the new day so the run stays within one day" >&2
  sleep $((secs_left + 5))
fi

port=""
for _ in $(seq 1 200); do
  p=$((10000 + RANDOM % 21000))
  if rn_port_free "$p" && rn_port_free $((p + 1000)); then port="$p"; break; fi
done
[ -n "$port" ] || { echo "run.sh: no free port" >&2; exit 1; }

# The fleet side: keys, and the server entry whose URL the subject tokens are bound to.
fleet_home="$work/fleet"
fleet() { "$bin" --home "$fleet_home" --no-emoji "$@" >/dev/null; }
fleet key generate --alg ES256 --kid fleet-es256 --issuer https://fleet.test
fleet key generate --alg RS256 --kid fleet-rs256
fleet server create real-tx "http://127.0.0.1:$port" --auth token-exchange
"$bin" --home "$fleet_home" key env --server real-tx > "$work/trust.env"
set -a
# shellcheck disable=SC1091
. "$work/trust.env"
set +a
trust_args=(--env "N8N_ENV_FEAT_TOKEN_EXCHANGE=$N8N_ENV_FEAT_TOKEN_EXCHANGE"
  --env "N8N_TOKEN_EXCHANGE_ENABLED=$N8N_TOKEN_EXCHANGE_ENABLED"
  --env "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS=$N8N_TOKEN_EXCHANGE_TRUSTED_KEYS")

if ! "$here/start.sh" --dir "$work/n8n" --port "$port" "${trust_args[@]}" >"$work/start.log" 2>&1; then
  echo "run.sh: could not start n8n:" >&2
  tail -n 40 "$work/start.log" >&2
  exit 1
fi
t_start="$(rn_elapsed "$t_all")"
set -a
# shellcheck disable=SC1091
. "$work/n8n/instance.env"
set +a

# ---- the workload: manual runs (must not count), then production webhook executions (must) ----
day="$(date -u +%Y-%m-%d)"
start_iso="${day}T00:00:00.000Z"
# [today, tomorrow): n8n widens it to [today, day after tomorrow), whose future part is empty (NOTES.md 5).
end_iso="$(date -u -d "$day + 1 day" +%Y-%m-%dT00:00:00.000Z)"
diagnose() {
  echo "---- Insights summary [$start_iso, $end_iso):" >&2
  "$here/insights.sh" --dir "$work/n8n" --start "$start_iso" --end "$end_iso" >&2 2>&1 || true
  echo "---- executions n8n recorded (id mode status startedAt):" >&2
  rn_api GET "/api/v1/executions?limit=100" \
    | rn_json 'j.data.map(e => [e.id, e.mode, e.status, e.startedAt].join(" ")).join("\n")' >&2 2>&1 || true
  echo >&2
  echo "---- last n8n log lines:" >&2
  tail -n 30 "$work/n8n/n8n.log" >&2 || true
}
t="$(rn_now)"
"$here/manual.sh" --dir "$work/n8n" --count "$manual_runs" >"$work/manual.out" 2>"$work/manual.log" \
  || { cat "$work/manual.log" >&2; diagnose; echo "run.sh: manual runs failed" >&2; exit 1; }
t_manual="$(rn_elapsed "$t")"
t="$(rn_now)"
"$here/webhook.sh" --dir "$work/n8n" --count "$webhook_runs" >"$work/webhook.out" 2>"$work/webhook.log" \
  || { cat "$work/webhook.log" >&2; diagnose; echo "run.sh: webhook executions failed" >&2; exit 1; }
t_hooks="$(rn_elapsed "$t")"

# ---- one bounded wait for n8n's Insights flush (1 s) + compaction (every minute) ----
t="$(rn_now)"
deadline=$(( $(date +%s) + 150 ))
total="" summary=""
while :; do
  if summary="$("$here/insights.sh" --dir "$work/n8n" --start "$start_iso" --end "$end_iso" 2>/dev/null)"; then
    total="$(printf '%s' "$summary" | rn_json 'j.total.value' 2>/dev/null || true)"
    # Manual runs went first: were n8n to count them, they would be compacted no later than the webhooks.
    [ "${total:-0}" -ge "$webhook_runs" ] && break   # a partial figure (split flush) keeps polling
  fi
  [ "$(date +%s)" -lt "$deadline" ] || break
  sleep 2
done
t_wait="$(rn_elapsed "$t")"
echo "run.sh: workload on $day: $manual_runs manual runs ($(cat "$work/manual.out")) + $webhook_runs webhook executions; Insights today after ${t_wait}s: ${summary:-<none>}" >&2
if [ "${total:-}" != "$webhook_runs" ]; then
  if [ "${total:-0}" -lt "$webhook_runs" ] 2>/dev/null; then
    echo "run.sh: FAILED: Insights total for $day is '${total:-none}' after ${t_wait}s, want $webhook_runs (compaction did not count the webhook executions in time)" >&2
  else
    echo "run.sh: FAILED: Insights total for $day is $total, want exactly $webhook_runs: n8n counted something besides the $webhook_runs webhook executions (the $manual_runs manual runs?) - a deviation from n8n-reference.md section 2" >&2
  fi
  diagnose
  exit 1
fi

export N8N_FLEET_BIN="$bin"
export N8N_REAL_URL="$N8N_URL" N8N_REAL_API_KEY="$N8N_API_KEY" N8N_REAL_FLEET_HOME="$fleet_home"
export N8N_REAL_EXPECTED_TODAY_TOTAL="$webhook_runs" N8N_REAL_MANUAL_RUNS="$manual_runs" N8N_REAL_DAY="$day"
t="$(rn_now)"
status=0
"$build/tests/real_n8n_test" || status=$?
t_suite="$(rn_elapsed "$t")"
echo "run.sh: timings (s): start+bootstrap=$t_start manual=$t_manual webhooks=$t_hooks insights-wait=$t_wait suite=$t_suite total=$(rn_elapsed "$t_all")" >&2
if [ $status -ne 0 ]; then
  echo "real-n8n tests failed; last n8n log lines:" >&2
  tail -n 30 "$work/n8n/n8n.log" >&2 || true
fi
exit $status
