#!/usr/bin/env bash
# Browser test of the dashboard of `n8n-fleet serve`, in a real headless Chromium (Debian's
# /usr/bin/chromium driven by playwright-core from the npm registry, pinned in package-lock.json).
#
# Seeds a home the way scripts/demo.sh does (a local fake fleet over token exchange, `server
# import`, `collect` for every day of last month) plus one unreachable server (a failed
# collection), creates an API token, starts `serve` on 127.0.0.1 and runs dashboard_test.cjs:
# the page loads with the seeded servers, the monthly chart equals the API's report and the sums
# of usage_daily read with sqlite3, the downloaded CSV is byte-identical to the API's, a wrong
# token shows the API's error. Screenshot: $N8N_FLEET_ARTEFACTS (default BUILD_DIR/test-artefacts).
#
# Usage: tests/dashboard/run.sh [BUILD_DIR]   (default build; needs n8n-fleet and
#        n8n-fleet-fake-fleet built there). Prints SKIPPED and exits 0 when npm's registry or
#        Chromium is unavailable, unless N8N_FLEET_REQUIRE_BROWSER=1 (then exits 1).
# Cache: playwright-core goes to $N8N_FLEET_PLAYWRIGHT_CACHE (default
#        ~/.cache/n8n-fleet/playwright), reused while it matches package-lock.json.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build_arg="${1:-build}"
case "$build_arg" in /*) build="$build_arg" ;; *) build="$root/$build_arg" ;; esac
bin="$build/n8n-fleet"
fake="$build/n8n-fleet-fake-fleet"
chromium="${N8N_FLEET_CHROMIUM:-/usr/bin/chromium}"
cache="${N8N_FLEET_PLAYWRIGHT_CACHE:-$HOME/.cache/n8n-fleet/playwright}"
artefacts="${N8N_FLEET_ARTEFACTS:-$build/test-artefacts}"
log() { echo "dashboard: $*" >&2; }
die() { echo "dashboard: FAILED: $*" >&2; exit 1; }
banner() {
  echo "==================================================================" >&2
  echo "  $*" >&2
  echo "==================================================================" >&2
}
skip() {
  if [ "${N8N_FLEET_REQUIRE_BROWSER:-0}" = "1" ]; then
    die "$* (N8N_FLEET_REQUIRE_BROWSER=1: not skipping)"
  fi
  banner "SKIPPED: dashboard browser test: $*"
  exit 0
}

[ -x "$bin" ] || die "no $bin: build first (scripts/build.sh $build_arg)"
[ -x "$fake" ] || die "no $fake: build the n8n-fleet-fake-fleet target"
command -v node >/dev/null || skip "node is missing (apt-get install nodejs npm)"
command -v sqlite3 >/dev/null || die "sqlite3 is missing (apt-get install sqlite3)"
[ -x "$chromium" ] || skip "$chromium is missing (apt-get install chromium)"
"$bin" serve --help >/dev/null 2>&1 || die "$bin has no serve command"

# --- playwright-core, pinned, in the cache ------------------------------------------------------
want_version="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' \
  "$here/package-lock.json")"
installed() {
  [ "$(node -p 'try { require(process.argv[1]).version } catch (e) { "" }' \
    "$cache/node_modules/playwright-core/package.json")" = "$want_version" ]
}
mkdir -p "$cache"
if ! installed; then
  command -v npm >/dev/null || skip "npm is missing (apt-get install npm)"
  exec 9>"$cache/.lock"
  flock -w 600 9 || die "timed out waiting for another install into $cache"
  if ! installed; then
    log "installing playwright-core $want_version into $cache"
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    ok=0
    for attempt in 1 2 3; do
      if (cd "$cache" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2); then
        ok=1
        break
      fi
      log "npm ci failed (attempt $attempt/3)"
      sleep $((attempt * 3))
    done
    [ "$ok" = 1 ] || skip "could not install playwright-core $want_version from the npm registry"
  fi
  exec 9>&-
fi
installed || die "playwright-core $want_version is not in $cache after installing"

# --- a seeded home ------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n-fleet-dashboard.XXXXXX")"
home="$work/home"
fleet_pid=""
serve_pid=""
cleanup() {
  local pid
  for pid in $serve_pid $fleet_pid; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in $serve_pid $fleet_pid; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fleet() { "$bin" --home "$home" "$@"; }

# Every day of last month: a complete month whatever today is.
month="$(date -u -d "$(date -u +%Y-%m-15) -1 month" +%Y-%m)"
from="$month-01"
to="$(date -u -d "$from +1 month -1 day" +%F)"
days_back=$(( ($(date -u +%s) - $(date -u -d "$from" +%s)) / 86400 + 2 ))
log "seeding: 14 fake instances, $from to $to collected (month $month)"

fleet key generate --kid dashboard-key >/dev/null
fleet key env --format json >"$work/trust.json"
"$fake" --count 14 --days-back "$days_back" --trust "$work/trust.json" --csv "$work/fleet.csv" \
  --expected "$work/expected.csv" >"$work/fleet.out" 2>"$work/fleet.err" &
fleet_pid=$!
for _ in $(seq 1 150); do grep -q ready "$work/fleet.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/fleet.out" || { cat "$work/fleet.err" >&2; die "the fake fleet did not start"; }

# One server nobody answers for (port 9 on loopback: connection refused): a failed collection.
awk -v since="$from" 'NR == 1 {print $0 ",tracking_since"; next} {print $0 "," since}
  END {print "unreachable-1,http://127.0.0.1:9,customer-unreachable,down on purpose,token-exchange," since}' \
  "$work/fleet.csv" >"$work/import.csv"
fleet server import "$work/import.csv" >"$work/import.out"
set +e
fleet collect --from "$from" --to "$to" --timeout 5 >"$work/collect.out" 2>"$work/collect.err"
collect_rc=$?
set -e
# 3 = partial: the unreachable server failed, the others were stored.
[ "$collect_rc" = 3 ] || { cat "$work/collect.err" >&2; die "collect exited $collect_rc, want 3 (partial)"; }
kill "$fleet_pid" 2>/dev/null || true
wait "$fleet_pid" 2>/dev/null || true
fleet_pid=""
token="$(fleet token create dashboard-test --json | node -p 'JSON.parse(require("fs").readFileSync(0)).token')"
[ -n "$token" ] || die "token create printed no token"

# --- serve on a free loopback port --------------------------------------------------------------
"$bin" --home "$home" serve --listen 127.0.0.1:0 --collect-at 23:59 --log-format json \
  >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.err" 2>/dev/null | head -n1 || true)"
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.err" >&2; die "serve did not report its URL"; }
log "serving at $url"

mkdir -p "$artefacts"
servers="$(tail -n +2 "$work/import.csv" | cut -d, -f1 | paste -sd, -)"
set +e
DASHBOARD_URL="$url" DASHBOARD_TOKEN="$token" DASHBOARD_DB="$home/fleet.db" \
  DASHBOARD_MONTH="$month" DASHBOARD_SERVERS="$servers" DASHBOARD_ARTEFACTS="$artefacts" \
  DASHBOARD_USER_DATA="$work/chromium-profile" CHROMIUM="$chromium" \
  PLAYWRIGHT_CORE="$cache/node_modules/playwright-core" \
  timeout 300 node "$here/dashboard_test.cjs"
rc=$?
set -e
if [ "$rc" != 0 ]; then
  log "serve log (last 30 lines):"
  tail -n 30 "$work/serve.err" >&2
  die "browser checks failed (exit $rc); artefacts in $artefacts"
fi
banner "PASSED: dashboard browser test (screenshot: $artefacts/dashboard.png)"
