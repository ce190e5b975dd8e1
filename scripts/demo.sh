#!/usr/bin/env bash
# The main job on the embedded SQLite default: sets up, builds, then registers a server and an
# API key in a fresh demo home and lists them. Idempotent. Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
bin="$PWD/build/n8n-fleet"
home="${N8N_FLEET_DEMO_HOME:-$PWD/build/demo-home}"
rm -rf "$home"
fleet() { echo "\$ n8n-fleet $*" >&2; "$bin" --home "$home" "$@"; }

# An n8n API key has the shape of a JWT; this one is made up for the demo.
b64() { openssl base64 -A 2>/dev/null | tr '+/' '-_' | tr -d '=' || base64 -w0 | tr '+/' '-_' | tr -d '='; }
demo_key="$(printf '{"alg":"HS256","typ":"JWT"}' | b64).$(printf '{"sub":"demo","iss":"n8n","aud":"public-api","iat":%s}' "$(date +%s)" | b64).ZGVtby1zaWduYXR1cmU"

fleet db init
fleet server create "acme-prod" "https://n8n.acme.example" --customer acme --description "Acme production"
fleet server create "globex 🚀" "http://127.0.0.1:5678" --customer globex
echo "$demo_key" | fleet apikey add - --name acme-key --server acme-prod
fleet server list
fleet apikey list
fleet server keys acme-prod
fleet db status
