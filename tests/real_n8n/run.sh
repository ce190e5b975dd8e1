#!/usr/bin/env bash
# run.sh - the test stage against a REAL n8n: installs n8n from the npm registry (cached), creates
# an n8n-fleet home with two signing keys (ES256 active, RS256 standby), starts one n8n instance on
# 127.0.0.1 configured with exactly what `n8n-fleet key env --server real-tx` prints (sourced as a
# shell env file, as is), runs the real_n8n_test suite (gtest, the n8n-fleet binary as a
# subprocess) against it, and stops it again.
#
# Usage: tests/real_n8n/run.sh BUILD_DIR
# If n8n cannot be installed (npm registry unreachable), it prints SKIPPED with the reason in a
# banner and exits 0, unless N8N_FLEET_REQUIRE_REAL_N8N=1, which makes that a failure. It never
# reports success for tests it did not run: the gtest suite itself fails when its instance is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
build="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
bin="$build/n8n-fleet"
work="$(mktemp -d "${TMPDIR:-/tmp}/n8n-fleet-real.XXXXXX")"
cleanup() { "$here/stop.sh" --dir "$work/n8n" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

if ! install_log="$("$here/install.sh" 2>&1)"; then
  printf '\n%s\n' "################################################################"
  echo "# SKIPPED: real-n8n tests NOT RUN: n8n could not be installed from the npm registry."
  echo "# Reason (last lines of install.sh):"
  printf '%s\n' "$install_log" | tail -n 5 | sed 's/^/#   /'
  printf '%s\n\n' "################################################################"
  [ "${N8N_FLEET_REQUIRE_REAL_N8N:-0}" = 1 ] && exit 1
  exit 0
fi
[ -x "$build/tests/real_n8n_test" ] || { echo "run.sh: $build/tests/real_n8n_test is not built" >&2; exit 1; }

port=""
for _ in $(seq 1 200); do
  p=$((10000 + RANDOM % 21000))
  if rn_port_free "$p" && rn_port_free $((p + 1000)); then port="$p"; break; fi
done
[ -n "$port" ] || { echo "run.sh: no free port" >&2; exit 1; }

# The fleet side: keys, and the server entry whose URL the subject tokens are bound to.
fleet_home="$work/fleet"
fleet() { "$bin" --home "$fleet_home" --no-emoji "$@" >/dev/null; }
fleet key generate --alg ES256 --kid fleet-es256 --issuer https://fleet.test
fleet key generate --alg RS256 --kid fleet-rs256
fleet server create real-tx "http://127.0.0.1:$port" --auth token-exchange
"$bin" --home "$fleet_home" key env --server real-tx > "$work/trust.env"
set -a
# shellcheck disable=SC1091
. "$work/trust.env"
set +a
trust_args=(--env "N8N_ENV_FEAT_TOKEN_EXCHANGE=$N8N_ENV_FEAT_TOKEN_EXCHANGE"
  --env "N8N_TOKEN_EXCHANGE_ENABLED=$N8N_TOKEN_EXCHANGE_ENABLED"
  --env "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS=$N8N_TOKEN_EXCHANGE_TRUSTED_KEYS")

if ! "$here/start.sh" --dir "$work/n8n" --port "$port" "${trust_args[@]}" >"$work/start.log" 2>&1; then
  echo "run.sh: could not start n8n:" >&2
  tail -n 40 "$work/start.log" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1091
. "$work/n8n/instance.env"
set +a
export N8N_FLEET_BIN="$bin"
export N8N_REAL_URL="$N8N_URL" N8N_REAL_API_KEY="$N8N_API_KEY" N8N_REAL_FLEET_HOME="$fleet_home"
status=0
"$build/tests/real_n8n_test" || status=$?
if [ $status -ne 0 ]; then
  echo "real-n8n tests failed; last n8n log lines:" >&2
  tail -n 30 "$work/n8n/n8n.log" >&2 || true
fi
exit $status
