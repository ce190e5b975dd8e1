#!/usr/bin/env bash
# Installs the Debian 12 packages n8n-fleet needs to build, test and run. Idempotent.
# Usage: scripts/setup.sh [--test]   (--test adds what only the tests need)
set -euo pipefail
packages=(build-essential cmake pkg-config libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libssl-dev libcurl4-openssl-dev libexpected-dev libfmt-dev libsodium-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libtomlplusplus-dev curl ca-certificates
  libpqxx-dev libpq-dev postgresql)
# npm (the dashboard's Chart.js, bundled at build time; n8n and Playwright for the tests): Debian's,
# unless a Node.js with its own npm is present.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
if [ "${1:-}" = "--test" ]; then
  packages+=(clang-format sqlite3 openssl iproute2 python3-jsonschema
    chromium wrk faketime clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The dashboard's charting library, pinned in web/package-lock.json (embedded by the build).
bash "$(dirname "$0")/../web/fetch.sh"
