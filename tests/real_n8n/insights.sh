#!/usr/bin/env bash
# insights.sh - prints the raw JSON of GET /api/v1/insights/summary of a running test instance.
#
# Usage: tests/real_n8n/insights.sh --dir DIR [--start ISO] [--end ISO] [--status-only]
#   Dates are URL-encoded here (n8n refuses raw ':' with 400). Without dates n8n uses the last 7 days.
#   Auth: the instance's API key (X-N8N-API-KEY, scope insights:read) from DIR/instance.env.
#   Mind the window rules (reference section 2): [D, D+1) is exact only when D+1's day is today (or the
#   end is today); for a past end day n8n widens the window by one day.
# Prints the body on stdout; exits 0 on HTTP 200, else 1 (body still printed, status on stderr).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir="" start="" end=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?}"; shift 2 ;;
    --start) start="${2:?}"; shift 2 ;;
    --end) end="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) rn_die "unknown argument: $1" ;;
  esac
done
[ -n "$dir" ] || rn_die "--dir DIR is required"
rn_load_instance "$dir"
enc() { local s="$1"; s="${s//%/%25}"; s="${s//:/%3A}"; s="${s//+/%2B}"; printf '%s' "$s"; }
query=""
[ -n "$start" ] && query="startDate=$(enc "$start")"
[ -n "$end" ] && query="${query:+$query&}endDate=$(enc "$end")"
rn_api GET "/api/v1/insights/summary${query:+?$query}"
echo
[ "$RN_STATUS" = 200 ] || { rn_log "HTTP $RN_STATUS"; exit 1; }
