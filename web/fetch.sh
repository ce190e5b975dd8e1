#!/usr/bin/env bash
# Installs the dashboard's one npm dependency (Chart.js, pinned with its integrity hash in
# package-lock.json) into web/node_modules, where the build embeds it into the binary
# (cmake/EmbedAssets.cmake). Needs npm and the npm registry once; the built binary needs neither.
# Idempotent: an install matching the lock file is kept. Usage: web/fetch.sh
set -euo pipefail
cd "$(dirname "$0")"
want=$(node -p 'require("./package-lock.json").packages["node_modules/chart.js"].version' 2>/dev/null || true)
have=$(node -p 'require("./node_modules/chart.js/package.json").version' 2>/dev/null || true)
if [ -n "$want" ] && [ "$want" = "$have" ] && [ -f node_modules/chart.js/dist/chart.umd.js ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || {
  echo "web/fetch.sh: npm is missing; install Debian's npm (apt-get install nodejs npm)" >&2
  exit 1
}
for attempt in 1 2 3; do
  if timeout 300 npm ci --no-audit --no-fund --loglevel=error >&2; then
    echo "web/fetch.sh: chart.js $(node -p 'require("./node_modules/chart.js/package.json").version') installed in web/node_modules" >&2
    exit 0
  fi
  echo "web/fetch.sh: npm ci failed (attempt $attempt/3)" >&2
  sleep $((attempt * 5))
done
echo "web/fetch.sh: could not install the pinned Chart.js from the npm registry" >&2
exit 1
