#!/usr/bin/env bash
# run.sh - the test stage against a REAL n8n: installs n8n from the npm registry (cached), creates
# two n8n-fleet homes, starts `n8n-fleet serve` for each on 127.0.0.1:0 and ONE n8n instance on
# 127.0.0.1 configured for everything, produces a known workload on it, runs the real_n8n_test
# suite (gtest, the n8n-fleet binary as a subprocess) against it, then the push phase, and stops
# everything it started (EXIT trap).
#
# Fleet side: the MAIN home (ES256 active + RS256 standby, server real-tx; its `serve` receives
# n8n's instance reports) and the JWKS home (own issuer https://jwks.fleet.test, jwks-es256 active +
# jwks-rs256 standby, server real-jwks; its `serve` publishes /.well-known/jwks.json). n8n gets
# exactly what `key env --server real-tx` prints, plus one {"type":"jwks",...} entry for the JWKS
# home's endpoint, plus exactly the env lines `server report-token real-tx` prints (instance
# reporting). Its clock runs through libfaketime (offset 0) so the push phase can advance it.
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
# Push phase (NOTES.md "Push"): the service pulls today through its API (POST /api/v1/collect), then
# n8n's clock is moved to 90 s past its next report slot (tomorrow); n8n's own timer sends the
# finished day to `serve`; the suite's RealN8nPushTest cases check it against n8n's count, the pull
# and n8n's own report table. Without libfaketime (Debian package faketime) it is SKIPPED with a
# banner (a failure with N8N_FLEET_REQUIRE_REAL_N8N=1).
#
# Workflows phase (RealN8nWorkflowTest, tests/real_n8n/workflow_test.cc): two more plain instances
# are started (in parallel), so that `wf push` reaches three n8n, the main one through token
# exchange and these two with API keys; they are stopped right after.
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
RN_SERVE_PIDS=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  for d in "$work/n8n" "$work/n8n-2" "$work/n8n-3"; do
    [ -d "$d" ] && "$here/stop.sh" --dir "$d" >/dev/null 2>&1 || true
  done
  for pid in "${RN_SERVE_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
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

port="$(rn_free_port_pair)" || { echo "run.sh: no free port" >&2; exit 1; }
n8n_url="http://127.0.0.1:$port"

# ---- the fleet side ----
# Main home: its keys (static entries) and the server real-tx whose URL the subject tokens are
# bound to; `serve` of this home is the instance-reporting receiver.
fleet_home="$work/fleet"
fleet() { "$bin" --home "$fleet_home" --no-emoji "$@" >/dev/null; }
fleet key generate --alg ES256 --kid fleet-es256 --issuer https://fleet.test
fleet key generate --alg RS256 --kid fleet-rs256
fleet server create real-tx "$n8n_url" --auth token-exchange
"$bin" --home "$fleet_home" key env --server real-tx --format json > "$work/trust.json"
# JWKS home: its own signing keys (issuer, kids) that n8n knows ONLY through the JWKS that `serve`
# of this home publishes (active ES256 + standby RS256, for rotation without downtime).
jwks_home="$work/fleet-jwks"
jwks_issuer="https://jwks.fleet.test"
jfleet() { "$bin" --home "$jwks_home" --no-emoji "$@" >/dev/null; }
jfleet key generate --alg ES256 --kid jwks-es256 --issuer "$jwks_issuer"
jfleet key generate --alg RS256 --kid jwks-rs256 --issuer "$jwks_issuer"
jfleet server create real-jwks "$n8n_url" --auth token-exchange
# The suite copies these snapshots for each test; the live homes stay with their `serve`.
cp -a "$fleet_home" "$work/fleet-base"
cp -a "$jwks_home" "$work/fleet-jwks-base"

rn_serve_start "$bin" "$jwks_home" "$work/serve-jwks.log"
jwks_url="${RN_SERVE_URL}.well-known/jwks.json"
rn_serve_start "$bin" "$fleet_home" "$work/serve-push.log"
push_url="${RN_SERVE_URL%/}"
"$bin" --home "$fleet_home" server report-token real-tx --url "$push_url" --json > "$work/report-token.json"
report_token="$(rn_json 'j.token' < "$work/report-token.json")"
api_token="$("$bin" --home "$fleet_home" token create real-n8n-suite --json | rn_json 'j.token')"

# n8n trusts: the main home's static entries (as `key env` prints them) + the JWKS home's endpoint.
trusted_keys="$(rn_json 'j.N8N_TOKEN_EXCHANGE_TRUSTED_KEYS' < "$work/trust.json" | rn_node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    const keys = JSON.parse(s);
    keys.push({type: "jwks", url: process.argv[1], issuer: process.argv[2],
               allowedRoles: ["global:admin"], expectedAudience: process.argv[3]});
    process.stdout.write(JSON.stringify(keys));
  });' "$jwks_url" "$jwks_issuer" "$n8n_url")"
n8n_env=(--env "N8N_ENV_FEAT_TOKEN_EXCHANGE=$(rn_json 'j.N8N_ENV_FEAT_TOKEN_EXCHANGE' < "$work/trust.json")"
  --env "N8N_TOKEN_EXCHANGE_ENABLED=$(rn_json 'j.N8N_TOKEN_EXCHANGE_ENABLED' < "$work/trust.json")"
  --env "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS=$trusted_keys")
# Push: n8n's instance-reporting module, configured with exactly the env `server report-token` printed.
while IFS= read -r kv || [ -n "$kv" ]; do n8n_env+=(--env "$kv"); done < <(rn_json \
  'Object.entries(j.env).map(([k, v]) => k + "=" + v).join("\n")' < "$work/report-token.json")
# n8n's clock runs through libfaketime (offset 0 until the push phase moves it to the next report
# slot; NOTES.md "Push"). Without libfaketime the push phase is skipped with a banner.
faketime_file="$work/n8n-clock-offset"
echo "+0" > "$faketime_file"
if faketime_lib="$(rn_faketime_lib)"; then
  n8n_env+=(--env "LD_PRELOAD=$faketime_lib" --env "FAKETIME_TIMESTAMP_FILE=$faketime_file"
    --env FAKETIME_CACHE_DURATION=1 --env NO_FAKE_STAT=1)
else
  faketime_lib=""
fi

if ! "$here/start.sh" --dir "$work/n8n" --port "$port" "${n8n_env[@]}" >"$work/start.log" 2>&1; then
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
export N8N_REAL_URL="$N8N_URL" N8N_REAL_API_KEY="$N8N_API_KEY" N8N_REAL_FLEET_HOME="$work/fleet-base"
export N8N_REAL_EXPECTED_TODAY_TOTAL="$webhook_runs" N8N_REAL_MANUAL_RUNS="$manual_runs" N8N_REAL_DAY="$day"
export N8N_REAL_JWKS_HOME="$work/fleet-jwks-base" N8N_REAL_JWKS_LOG="$work/serve-jwks.log"
export N8N_REAL_PUSH_URL="$push_url" N8N_REAL_API_TOKEN="$api_token" N8N_REAL_REPORT_TOKEN="$report_token"
export N8N_REAL_PUSH_HOME="$fleet_home" N8N_REAL_N8N_DB="$work/n8n/home/.n8n/database.sqlite"
status=0
t="$(rn_now)"
"$build/tests/real_n8n_test" --gtest_filter='-RealN8nPushTest.*:RealN8nWorkflowTest.*' || status=$?
t_suite="$(rn_elapsed "$t")"

# ---- workflows (`wf`): two more plain instances, so that a fleet push reaches three n8n that each
# give their own ids; the main one is reached through token exchange, these two with API keys ----
t="$(rn_now)"
wf_urls="" wf_keys="" wf_ports="" wf_start_pids=()
for n in 2 3; do
  p="$(rn_free_port_pair)" || { echo "run.sh: no free port" >&2; exit 1; }
  case " $wf_ports " in *" $p "*) p="$(rn_free_port_pair)" ;; esac
  wf_ports="$wf_ports $p"
  "$here/start.sh" --dir "$work/n8n-$n" --port "$p" >"$work/start-$n.log" 2>&1 &
  wf_start_pids+=($!)
done
for i in 0 1; do
  n=$((i + 2))
  if ! wait "${wf_start_pids[$i]}"; then
    echo "run.sh: could not start the extra n8n #$n:" >&2
    tail -n 40 "$work/start-$n.log" >&2
    exit 1
  fi
  wf_urls="$wf_urls $(. "$work/n8n-$n/instance.env"; echo "$N8N_URL")"
  wf_keys="$wf_keys $(. "$work/n8n-$n/instance.env"; echo "$N8N_API_KEY")"
done
N8N_REAL_WF_URLS="$wf_urls" N8N_REAL_WF_KEYS="$wf_keys" \
  "$build/tests/real_n8n_test" --gtest_filter='RealN8nWorkflowTest.*' || status=$?
for n in 2 3; do "$here/stop.sh" --dir "$work/n8n-$n" >/dev/null 2>&1 || true; done
t_wf="$(rn_elapsed "$t")"

# ---- push: n8n's instance-reporting module delivers today's figure to `serve` ----
# n8n reports a day once it is over, at its report slot (a random HH:MM >= 03:00 UTC it stores)
# the next day. Pull today first (the service's own collection, for the comparison), then move
# n8n's clock (libfaketime) to 90 s past tomorrow's slot: its own timer fires and it sends.
t="$(rn_now)"
t_push="" push_status=0
svc() { # svc METHOD PATH [BODY]: the service's API with the suite's token; body out, status in svc.status
  local args=(-X "$1" -H "Authorization: Bearer $api_token" -o "$work/svc.body" -w '%{http_code}')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  rn_curl "${args[@]}" "$push_url$2" >"$work/svc.status" || echo 000 >"$work/svc.status"
  cat "$work/svc.body"
}
push_rows() { svc GET "/api/v1/usage?source=push&server=real-tx&from=$1&to=$1" | rn_json 'j.usage.length'; }
if [ -z "$faketime_lib" ]; then
  printf '\n%s\n' "################################################################"
  echo "# SKIPPED: push from a real n8n NOT RUN: libfaketime (Debian package faketime) is missing."
  printf '%s\n\n' "################################################################"
  [ "${N8N_FLEET_REQUIRE_REAL_N8N:-0}" = 1 ] && push_status=1
elif ! report_time="$(rn_curl -b "$N8N_COOKIE_FILE" -H "browser-id: $N8N_BROWSER_ID" \
    "$N8N_URL/rest/module-settings" | rn_json 'j.data["instance-reporting"].reportTime')"; then
  echo "run.sh: FAILED: n8n does not say instance reporting is configured (GET /rest/module-settings):" >&2
  rn_curl -b "$N8N_COOKIE_FILE" -H "browser-id: $N8N_BROWSER_ID" "$N8N_URL/rest/module-settings" >&2 || true
  grep -i 'instance.report' "$work/n8n/n8n.log" | tail -n 5 >&2 || true
  push_status=1
else
  yesterday="$(date -u -d "$day - 1 day" +%Y-%m-%d)"
  early="$(push_rows "$yesterday")" || early="?"
  # The service's own pull of today into the live home, through its API.
  run_id="$(svc POST /api/v1/collect "{\"day\":\"$day\",\"servers\":[\"real-tx\"]}" | rn_json 'j.run')" \
    || { echo "run.sh: POST /api/v1/collect failed: $(cat "$work/svc.status") $(cat "$work/svc.body")" >&2; exit 1; }
  deadline=$(( $(date +%s) + 60 ))
  while run_state="$(svc GET "/api/v1/runs/$run_id" | rn_json 'j.status')" && [ "$run_state" = running ]; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 0.5
  done
  now_s="$(date -u +%s)"
  slot_s="$(date -u -d "$(date -u -d "$day + 1 day" +%Y-%m-%d) $report_time:00" +%s)"
  offset=$(( slot_s + 90 - now_s ))
  echo "run.sh: push: n8n's report slot is $report_time UTC; report rows for $yesterday before the move: $early; pulled today in run $run_id ($run_state); moving n8n's clock +${offset}s" >&2
  echo "+$offset" > "$faketime_file"
  deadline=$(( $(date +%s) + 90 ))
  while [ "$(push_rows "$day" 2>/dev/null || echo 0)" = 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
  t_push="$(rn_elapsed "$t")"
  echo "run.sh: push: rows for $day after ${t_push}s: $(svc GET "/api/v1/usage?source=all&server=real-tx&from=$yesterday&to=$day")" >&2
  export N8N_REAL_PULL_RUN="$run_id"
  "$build/tests/real_n8n_test" --gtest_filter='RealN8nPushTest.*' || push_status=$?
  if [ $push_status -ne 0 ]; then
    echo "---- n8n log (instance reporting):" >&2
    grep -i 'instance.report' "$work/n8n/n8n.log" | tail -n 10 >&2 || true
    echo "---- serve (receiver) log:" >&2
    tail -n 20 "$work/serve-push.log" >&2 || true
  fi
fi
[ $status -eq 0 ] && status=$push_status
echo "run.sh: timings (s): start+bootstrap=$t_start manual=$t_manual webhooks=$t_hooks insights-wait=$t_wait suite=$t_suite workflows=$t_wf push=${t_push:-skipped} total=$(rn_elapsed "$t_all")" >&2
if [ $status -ne 0 ]; then
  echo "real-n8n tests failed; last n8n log lines:" >&2
  tail -n 30 "$work/n8n/n8n.log" >&2 || true
fi
exit $status
