#!/usr/bin/env bash
# manual.sh - produces N MANUAL (editor, mode "manual") executions on a running test instance: runs
# that n8n's Insights must NOT count (reference section 2: only production modes count).
#
# Usage: tests/real_n8n/manual.sh --dir DIR --count N
#   DIR is an instance folder started by start.sh (reads DIR/instance.env).
# Creates ONCE (found again by its name "n8n-fleet manual") a workflow through the public API:
# Manual Trigger (n8n-nodes-base.manualTrigger) -> No Operation (n8n-nodes-base.noOp), never activated.
# Then runs it N times the way the editor's "Execute workflow" button does: POST /rest/workflows/{id}/run
# {"triggerToStartFrom":{"name":"Manual Trigger"}} on the internal REST API, as the owner (cookie jar
# DIR/cookies.txt + the browser-id header start.sh used; logs in again with the saved owner when the
# cookie is rejected). n8n 2.40.7 (workflows.controller.js runManually -> executeManually) answers
# {"data":{"executionId":"..."}} once the run is started. Each run is then VERIFIED on the public API:
# GET /api/v1/executions/{id} must show mode "manual" and a finished status (success), polled for up
# to 60 s per run. Fails unless all N runs really executed.
# Prints "workflow=<id> manual=<N> executions=<id,id,...> ok" on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir="" count=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?}"; shift 2 ;;
    --count) count="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $1" ;;
  esac
done
[ -n "$dir" ] && [ -n "$count" ] || rn_die "usage: manual.sh --dir DIR --count N"
[[ "$count" =~ ^[0-9]+$ ]] || rn_die "--count must be a non-negative integer"
rn_use_cache
rn_load_instance "$dir"
name="n8n-fleet manual"
trigger="Manual Trigger"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# rest METHOD PATH [JSON]: internal REST API as the owner; body to $tmp/body, status echoed.
rest() {
  local args=(-X "$1" -b "$N8N_COOKIE_FILE" -c "$N8N_COOKIE_FILE" -H "browser-id: $N8N_BROWSER_ID"
              -H 'Accept: application/json' -o "$tmp/body" -w '%{http_code}')
  [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  rn_curl "${args[@]}" "$N8N_URL$2" || echo 000
}
login() {
  local body code
  body="$(rn_node -e 'console.log(JSON.stringify({emailOrLdapLoginId:process.argv[1],password:process.argv[2]}))' \
          "$N8N_OWNER_EMAIL" "$N8N_OWNER_PASSWORD")"
  code="$(rest POST /rest/login "$body")"
  [ "$code" = 200 ] || rn_die "login as $N8N_OWNER_EMAIL failed: $code $(head -c 300 "$tmp/body")"
}

# ---- find or create the workflow (public API) ----
rn_api GET "/api/v1/workflows?limit=250" >"$tmp/list"
[ "$RN_STATUS" = 200 ] || rn_die "GET /api/v1/workflows: $RN_STATUS $(head -c 300 "$tmp/list")"
id="$(rn_json "(j.data.find(w => w.name === $(rn_node -e 'console.log(JSON.stringify(process.argv[1]))' "$name")) || {}).id" <"$tmp/list" || true)"
if [ -z "$id" ]; then
  body="$(rn_node -e '
    const [name, trigger] = process.argv.slice(1);
    console.log(JSON.stringify({
      name,
      nodes: [
        { id: "5f1c3a52-7a0e-4c1e-9b1e-000000000001", name: trigger, type: "n8n-nodes-base.manualTrigger",
          typeVersion: 1, position: [0, 0], parameters: {} },
        { id: "5f1c3a52-7a0e-4c1e-9b1e-000000000002", name: "No Operation", type: "n8n-nodes-base.noOp",
          typeVersion: 1, position: [220, 0], parameters: {} },
      ],
      connections: { [trigger]: { main: [[{ node: "No Operation", type: "main", index: 0 }]] } },
      settings: { executionOrder: "v1" },
    }));' "$name" "$trigger")"
  rn_api POST /api/v1/workflows "$body" >"$tmp/created"
  [ "$RN_STATUS" = 200 ] || rn_die "POST /api/v1/workflows: $RN_STATUS $(head -c 300 "$tmp/created")"
  id="$(rn_json 'j.id' <"$tmp/created")"
  rn_log "created workflow $id ($name)"
fi

# ---- run it manually N times, as the editor does ----
run_body="$(rn_node -e 'console.log(JSON.stringify({triggerToStartFrom:{name:process.argv[1]}}))' "$trigger")"
t0="$(rn_now)"
ids=()
for i in $(seq 1 "$count"); do
  code="$(rest POST "/rest/workflows/$id/run" "$run_body")"
  if [ "$code" = 401 ]; then login; code="$(rest POST "/rest/workflows/$id/run" "$run_body")"; fi
  [ "$code" = 200 ] || rn_die "run $i/$count: POST /rest/workflows/$id/run answered $code: $(head -c 300 "$tmp/body")"
  exec_id="$(rn_json 'j.data && j.data.executionId' <"$tmp/body")" \
    || rn_die "run $i/$count: no data.executionId in $(head -c 300 "$tmp/body")"
  ids+=("$exec_id")
done

# ---- verify every run on the public API: mode manual, finished successfully ----
for exec_id in "${ids[@]}"; do
  deadline=$(( $(date +%s) + 60 ))
  while :; do
    rn_api GET "/api/v1/executions/$exec_id" >"$tmp/exec"
    if [ "$RN_STATUS" = 200 ]; then
      mode="$(rn_json 'j.mode' <"$tmp/exec" || true)"
      status="$(rn_json 'j.status' <"$tmp/exec" || true)"
      [ "$mode" = manual ] || rn_die "execution $exec_id has mode '$mode', want manual: $(head -c 300 "$tmp/exec")"
      case "$status" in
        success) break ;;
        error|crashed|canceled) rn_die "manual execution $exec_id ended with status $status: $(head -c 300 "$tmp/exec")" ;;
      esac
    fi
    [ "$(date +%s)" -lt "$deadline" ] \
      || rn_die "execution $exec_id not finished after 60 s (last: $RN_STATUS $(head -c 300 "$tmp/exec"))"
    sleep 0.3
  done
done
joined="$(IFS=,; echo "${ids[*]}")"
rn_log "$count manual runs executed and verified (mode manual, status success) in $(rn_elapsed "$t0")s: $joined"
echo "workflow=$id manual=$count executions=$joined ok"
