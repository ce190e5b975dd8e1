#!/usr/bin/env bash
# Installs the Debian 12 packages n8n-fleet needs to build, test and run. Idempotent.
# Usage: scripts/setup.sh [--test]   (--test adds what only the tests need)
set -euo pipefail
packages=(build-essential cmake pkg-config libcli11-dev nlohmann-json3-dev libsqlite3-dev
  libssl-dev libcurl4-openssl-dev libexpected-dev libfmt-dev libsodium-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(clang-format sqlite3 curl openssl ca-certificates iproute2)
  # npm (for n8n from the npm registry): Debian's, unless a Node.js with its own npm is present.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
