#!/usr/bin/env bash
# webhook.sh - produces N billable (production, mode "webhook") executions on a running test instance.
#
# Usage: tests/real_n8n/webhook.sh --dir DIR --count N [--path bill]
#   DIR is an instance folder started by start.sh (reads DIR/instance.env).
# Creates ONCE (found again by its name "n8n-fleet webhook PATH") a workflow through the public API with a
# single Webhook trigger node (n8n-nodes-base.webhook, typeVersion 2,
# {"path":PATH,"httpMethod":"GET","responseMode":"onReceived"}, a fixed webhookId derived from PATH),
# activates it (POST /api/v1/workflows/{id}/activate; no-op if already active), then calls
# GET /webhook/PATH N times and fails unless every call answers 200 (a 404 "not registered" right after
# activation is retried for up to 60 s: activation is asynchronous in n8n 2.40.7 and a 404 runs nothing).
# After Insights flush (1 s) + compaction (1 min, as start.sh configures) the day's Insights `total`
# grows by N (reference section 4.7). Prints "workflow=<id> path=<PATH> calls=<N> ok" on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir="" count="" path="bill"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?}"; shift 2 ;;
    --count) count="${2:?}"; shift 2 ;;
    --path) path="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $1" ;;
  esac
done
[ -n "$dir" ] && [ -n "$count" ] || rn_die "usage: webhook.sh --dir DIR --count N [--path bill]"
[[ "$count" =~ ^[0-9]+$ ]] || rn_die "--count must be a non-negative integer"
[[ "$path" =~ ^[A-Za-z0-9._-]+$ ]] || rn_die "--path must match [A-Za-z0-9._-]+"
rn_use_cache
rn_load_instance "$dir"
name="n8n-fleet webhook $path"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

# ---- find or create the workflow ----
rn_api GET "/api/v1/workflows?limit=250" >"$tmp/list"
[ "$RN_STATUS" = 200 ] || rn_die "GET /api/v1/workflows: $RN_STATUS $(head -c 300 "$tmp/list")"
id="$(rn_json "(j.data.find(w => w.name === $(rn_node -e 'console.log(JSON.stringify(process.argv[1]))' "$name")) || {}).id" <"$tmp/list" || true)"
if [ -z "$id" ]; then
  body="$(rn_node -e '
    const path = process.argv[1], name = process.argv[2];
    const h = require("crypto").createHash("md5").update("n8n-fleet-webhook:" + path).digest("hex");
    const webhookId = `${h.slice(0,8)}-${h.slice(8,12)}-4${h.slice(13,16)}-8${h.slice(17,20)}-${h.slice(20,32)}`;
    console.log(JSON.stringify({
      name,
      nodes: [{
        id: webhookId, name: "Webhook", type: "n8n-nodes-base.webhook", typeVersion: 2,
        position: [0, 0], webhookId,
        parameters: { path, httpMethod: "GET", responseMode: "onReceived" },
      }],
      connections: {},
      settings: { executionOrder: "v1" },
    }));' "$path" "$name")"
  rn_api POST /api/v1/workflows "$body" >"$tmp/created"
  [ "$RN_STATUS" = 200 ] || rn_die "POST /api/v1/workflows: $RN_STATUS $(head -c 300 "$tmp/created")"
  id="$(rn_json 'j.id' <"$tmp/created")"
  rn_log "created workflow $id ($name)"
fi

rn_api POST "/api/v1/workflows/$id/activate" >"$tmp/act"
[ "$RN_STATUS" = 200 ] || rn_die "activate $id: $RN_STATUS $(head -c 300 "$tmp/act")"
[ "$(rn_json 'j.active' <"$tmp/act")" = true ] || rn_die "workflow $id not active after activate: $(head -c 300 "$tmp/act")"

# ---- call the webhook N times ----
# n8n 2.40.7 publishes activations through an asynchronous outbox (N8N_USE_WORKFLOW_PUBLICATION_SERVICE,
# default on): /activate answers before the webhook is live. Until then GET /webhook/PATH answers 404
# "not registered", which n8n raises BEFORE creating any execution, so retrying a 404 adds nothing to
# Insights. Bounded to 60 s (start.sh sets the outbox poll interval to 1 s; n8n's default is 15 s).
t0="$(rn_now)"
reg_deadline=$(( $(date +%s) + 60 ))
waited_404=0
for i in $(seq 1 "$count"); do
  while :; do
    code="$(rn_curl -o "$tmp/resp" -w '%{http_code}' "$N8N_URL/webhook/$path")" || code=000
    if [ "$code" = 404 ] && grep -q 'not registered' "$tmp/resp" && [ "$(date +%s)" -lt "$reg_deadline" ]; then
      waited_404=$((waited_404 + 1)); sleep 0.25; continue
    fi
    break
  done
  [ "$code" = 200 ] || rn_die "call $i/$count: GET /webhook/$path answered $code: $(head -c 300 "$tmp/resp")"
done
[ "$waited_404" = 0 ] || rn_log "webhook became live after $waited_404 x 404 (activation is asynchronous)"
rn_log "$count webhook calls answered 200 in $(rn_elapsed "$t0")s"
echo "workflow=$id path=$path calls=$count ok"
