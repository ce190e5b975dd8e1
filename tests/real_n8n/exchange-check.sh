#!/usr/bin/env bash
# exchange-check.sh - proves (and documents) the token-exchange contract against a real n8n 2.40.7.
#
# Usage: tests/real_n8n/exchange-check.sh [--keep]     (--keep: leave the instance folder for inspection)
# Exit 0 only if every check below holds. Reference: /work/shared/n8n-reference.md section 1.
#
# 1. openssl makes an RSA-2048 key pair; the instance trusts the public key as
#    N8N_TOKEN_EXCHANGE_TRUSTED_KEYS='[{"type":"static","kid":"k1","algorithms":["RS256"],"key":"<PEM>",
#    "issuer":"https://fleet.test","allowedRoles":["global:admin"]}]' with N8N_TOKEN_EXCHANGE_ENABLED=true
#    (start.sh adds N8N_ENV_FEAT_TOKEN_EXCHANGE=true and the test-only licence preload for feat:tokenExchange).
# 2. A subject JWT (RS256, header kid k1) signed with node's crypto, claims: iss, sub, aud, iat, exp (+300 s),
#    jti, email usage-tracker@fleet.test, email_verified true, role global:admin.
# 3. POST /rest/auth/oauth/token (form: grant_type=urn:ietf:params:oauth:grant-type:token-exchange,
#    subject_token, subject_token_type=urn:ietf:params:oauth:token-type:jwt) -> 200
#    {"access_token","token_type":"Bearer","expires_in","issued_token_type"}.
# 4. Authorization: Bearer <access_token> -> 200 on GET /api/v1/workflows and on GET /api/v1/insights/summary.
# 5. Contract edges: the same JWT again -> 400 invalid_grant (jti replay); the Bearer token on the internal
#    /rest API -> 401; a wrong grant_type -> 400 unsupported_grant_type.
# N8N_FLEET_DEBUG_EXCHANGE=1 is set, so n8n.log shows the hidden reason of each failed exchange.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

t_all="$(rn_now)"
rn_use_cache
command -v openssl >/dev/null || rn_die "openssl is required"
dir="$(mktemp -d /tmp/n8n-fleet-exchange.XXXXXX)"
cleanup() {
  local rc=$?
  "$RN_HERE/stop.sh" --dir "$dir" >&2 || true
  if [ "$keep" = 1 ] || [ "$rc" != 0 ]; then rn_log "instance folder kept: $dir"; else rm -rf "$dir"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok  : $*"; }

# ---- 1. keys and instance ----
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/priv.pem" 2>/dev/null
openssl pkey -in "$dir/priv.pem" -pubout -out "$dir/pub.pem"
issuer="https://fleet.test"
trusted="$(rn_node -e '
  const fs = require("fs");
  console.log(JSON.stringify([{ type: "static", kid: "k1", algorithms: ["RS256"],
    key: fs.readFileSync(process.argv[1], "utf8"), issuer: process.argv[2], allowedRoles: ["global:admin"] }]));
' "$dir/pub.pem" "$issuer")"

t="$(rn_now)"
N8N_FLEET_DEBUG_EXCHANGE=1 "$RN_HERE/start.sh" --dir "$dir" \
  --env N8N_TOKEN_EXCHANGE_ENABLED=true \
  --env "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS=$trusted" >/dev/null
t_start="$(rn_elapsed "$t")"
rn_load_instance "$dir"

# ---- 2. subject JWT ----
mint() { # mint -> a fresh RS256 subject JWT on stdout
  rn_node -e '
    const crypto = require("crypto"), fs = require("fs");
    const b64 = (o) => Buffer.from(typeof o === "string" ? o : JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", kid: "k1" };
    const claims = { iss: process.argv[2], sub: "usage-tracker", aud: "n8n-fleet", iat: now, exp: now + 300,
      jti: crypto.randomUUID(), email: "usage-tracker@fleet.test", email_verified: true, role: "global:admin" };
    const input = b64(header) + "." + b64(claims);
    const sig = crypto.sign("sha256", Buffer.from(input), fs.readFileSync(process.argv[1], "utf8"));
    process.stdout.write(input + "." + sig.toString("base64url"));
  ' "$dir/priv.pem" "$issuer"
}
exchange() { # exchange JWT [GRANT_TYPE] -> body in $dir/ex.json, status echoed
  rn_curl -o "$dir/ex.json" -w '%{http_code}' -X POST "$N8N_URL/rest/auth/oauth/token" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode "grant_type=${2:-urn:ietf:params:oauth:grant-type:token-exchange}" \
    --data-urlencode "subject_token=$1" \
    --data-urlencode "subject_token_type=urn:ietf:params:oauth:token-type:jwt" || echo 000
}
jwt="$(mint)"

# ---- 3. the exchange ----
t="$(rn_now)"
code="$(exchange "$jwt")"
t_exchange="$(rn_elapsed "$t")"
[ "$code" = 200 ] || fail "exchange answered $code: $(cat "$dir/ex.json") (reason in $dir/n8n.log, grep license-preload)"
access="$(rn_json 'j.access_token' <"$dir/ex.json")" || fail "no access_token in $(cat "$dir/ex.json")"
summary="$(rn_json '({token_type: j.token_type, expires_in: j.expires_in, issued_token_type: j.issued_token_type})' <"$dir/ex.json")"
[ "$(rn_json 'j.token_type' <"$dir/ex.json")" = Bearer ] || fail "token_type is not Bearer: $summary"
pass "POST /rest/auth/oauth/token -> 200 $summary (${t_exchange}s)"

# ---- 4. the access token on the public API ----
bearer_get() { rn_curl -o "$dir/get.json" -w '%{http_code}' -H "Authorization: Bearer $access" "$N8N_URL$1" || echo 000; }
code="$(bearer_get '/api/v1/workflows?limit=5')"
[ "$code" = 200 ] || fail "Bearer GET /api/v1/workflows -> $code: $(head -c 300 "$dir/get.json")"
rn_json 'Array.isArray(j.data) ? 1 : undefined' <"$dir/get.json" >/dev/null || fail "no data array: $(head -c 300 "$dir/get.json")"
pass "Bearer GET /api/v1/workflows -> 200"
today="$(date -u +%Y-%m-%dT00:00:00.000Z)"; tomorrow="$(date -u -d "${today%%T*} + 1 day" +%Y-%m-%dT00:00:00.000Z)"
code="$(bearer_get "/api/v1/insights/summary?startDate=${today//:/%3A}&endDate=${tomorrow//:/%3A}")"
[ "$code" = 200 ] || fail "Bearer GET /api/v1/insights/summary -> $code: $(head -c 300 "$dir/get.json")"
pass "Bearer GET /api/v1/insights/summary -> 200 (admin subject holds insights:read): $(cat "$dir/get.json")"

# ---- 5. contract edges ----
code="$(exchange "$jwt")"
err="$(rn_json 'j.error' <"$dir/ex.json" 2>/dev/null || true)"
[ "$code" = 400 ] && [ "$err" = invalid_grant ] || fail "replayed jti: want 400 invalid_grant, got $code $(cat "$dir/ex.json")"
pass "same JWT again -> 400 invalid_grant (jti single use)"
code="$(bearer_get /rest/workflows)"
[ "$code" = 401 ] || fail "Bearer on /rest/workflows: want 401, got $code"
pass "Bearer on internal /rest/workflows -> 401"
code="$(exchange "$(mint)" "authorization_code")"
err="$(rn_json 'j.error' <"$dir/ex.json" 2>/dev/null || true)"
[ "$code" = 400 ] && [ "$err" = unsupported_grant_type ] || fail "wrong grant_type: want 400 unsupported_grant_type, got $code $(cat "$dir/ex.json")"
pass "wrong grant_type -> 400 unsupported_grant_type"
reasons="$(grep -o 'token exchange failed: reason=[a-z_]*' "$dir/n8n.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';' || true)"
echo "hidden failure reasons logged by the preload: ${reasons:-none}"

echo "timings (s) : start+bootstrap=$t_start first-exchange=$t_exchange total=$(rn_elapsed "$t_all")"
echo "EXCHANGE CHECK PASS"
