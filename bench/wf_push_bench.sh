#!/usr/bin/env bash
# Benchmark: `n8n-fleet wf push FILE --all --json --concurrency N` onto a fake fleet of SERVERS
# n8n instances (n8n-fleet-fake-fleet: one 127.0.0.1 port each, every workflow answer held back
# LATENCY_MS, API-key auth or, with AUTH=token-exchange, exchanged tokens).
#  - Create rounds, one per N in CONCURRENCY_LIST: each on a fresh fake fleet (no workflows) and
#    a fresh copy of a template home, so every server answers "created" (per server: list the
#    workflows once, POST).
#  - Then, on the last round's home and fleet: an update round (the file edited: every result
#    "updated", GET + PUT per server) and an unchanged round (the same file again: every result
#    "unchanged", GET only, and the fleet received no PUT or POST).
# Figures per round: wall clock, pushes/s, ratio to N=1 (in pushes/s, so per server even when
# SERVERS_N1 makes the N=1 round smaller), CPU, peak RSS (GNU time), peak threads (sampled from
# /proc every 50 ms), fake-fleet requests per push. Every round is checked: exit 0,
# summary.total == servers, failed == 0, every action as expected, and the fleet holds exactly one
# workflow of that name per server (its "stats" line, asked for with SIGUSR1).
#
# Usage: bench/wf_push_bench.sh   (env: SERVERS=500 LATENCY_MS=100 CONCURRENCY_LIST="1 8 32"
#        SERVERS_N1=$SERVERS AUTH=api-key|token-exchange BUILD_DIR=build FORCE_BUILD=1)
# Only 127.0.0.1 is used; every wait is bounded; what it starts it stops. The summary is printed
# and written to bench/results/wf-push-<date>.txt (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${BUILD_DIR:-build}"
[[ $build == /* ]] || build="$root/$build"
servers="${SERVERS:-500}"
latency_ms="${LATENCY_MS:-100}"
concurrency_list="${CONCURRENCY_LIST:-1 8 32}"
servers_n1="${SERVERS_N1:-$servers}"
auth="${AUTH:-api-key}"
push_deadline_s=900
bin="$build/n8n-fleet"
fake_bin="$build/n8n-fleet-fake-fleet"
# n8n API keys are JWTs (`apikey add` checks the shape); the fake fleet compares the bytes only.
api_key=$(python3 -c 'import base64, json
b = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
print(b({"alg": "HS256", "typ": "JWT"}) + "." + b({"sub": "bench", "iss": "n8n", "aud": "public-api"}) + ".c2lnbmF0dXJl")')
wf_name="bench-wf-push"

die() {
  echo "wf-push-bench: FAILED: $*" >&2
  exit 1
}
log() { echo "wf-push-bench: $*" >&2; }

[[ $auth == api-key || $auth == token-exchange ]] || die "AUTH must be api-key or token-exchange"
((servers_n1 >= 1 && servers_n1 <= servers)) || die "SERVERS_N1 must be within 1..SERVERS"
if [[ -n "${FORCE_BUILD:-}" || ! -x "$bin" || ! -x "$fake_bin" ]]; then
  bash scripts/build.sh "$build"
fi
for tool in jq python3 /usr/bin/time pgrep; do command -v "$tool" >/dev/null || die "needs $tool"; done
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/wf-push-bench.XXXXXX)
fake_pid=""
fake_out=""
stop_fleet() {
  if [[ -n $fake_pid ]]; then
    kill -TERM "$fake_pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$fake_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$fake_pid" 2>/dev/null && kill -KILL "$fake_pid" 2>/dev/null
    wait "$fake_pid" 2>/dev/null || true
  fi
  fake_pid=""
}
trap 'stop_fleet; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
cli() {  # HOME_DIR ARGS...: n8n-fleet on that home, bounded
  local home=$1
  shift
  N8N_FLEET_HOME="$home" timeout 300 "$bin" "$@"
}

# SERVERS consecutive free ports below the ephemeral range, so every fleet started here has the
# same URLs and one template home serves every round.
base_port=$(python3 - "$servers" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(50):
    base = random.randint(10000, 32000 - n)
    ok = True
    for port in range(base, base + n):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(base)
        break
else:
    raise SystemExit("no %d free consecutive ports in 10000-32000" % n)
EOF
)

# Starts a fake fleet with no workflows ($1: label); waits (60 s) until it is ready.
start_fleet() {
  fake_out="$work/fleet-$1.out"
  local trust=()
  [[ $auth == token-exchange ]] && trust=(--trust "$work/trust.json" --expect-own-audience)
  "$fake_bin" --count "$servers" --base-port "$base_port" --latency-ms "$latency_ms" \
    --api-key "$api_key" --csv "$work/fleet.csv" "${trust[@]}" >"$fake_out" 2>"$work/fleet-$1.err" &
  fake_pid=$!
  for _ in $(seq 600); do
    grep -q '^ready' "$fake_out" 2>/dev/null && return 0
    kill -0 "$fake_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/fleet-$1.err" >&2
  die "the fake fleet did not start"
}

# The fleet's counters now, as JSON: asks for a "stats" line with SIGUSR1 (waits up to 10 s).
fleet_stats() {
  local before after i
  before=$(grep -c '^stats ' "$fake_out" || true)
  kill -USR1 "$fake_pid"
  for ((i = 0; i < 200; i++)); do
    after=$(grep -c '^stats ' "$fake_out" || true)
    if ((after > before)) && [[ $(tail -c 1 "$fake_out" | od -An -c | tr -d ' ') == '\n' ]]; then
      grep '^stats ' "$fake_out" | tail -n 1 | cut -c 7-
      return 0
    fi
    sleep 0.05
  done
  die "the fake fleet printed no statistics after SIGUSR1"
}

# Counter $3 of fleet_stats JSON $2 minus that of $1.
stat_delta() { jq -n --argjson a "$1" --argjson b "$2" --arg f "$3" '$b[$f] - $a[$f]'; }

# A template home holding the first $2 servers of the fleet (started), with their credentials.
make_template() {
  local home=$1 count=$2
  cp -a "$work/keys-home" "$home"
  head -n $((count + 1)) "$work/fleet.csv" >"$work/servers-$count.csv"
  cli "$home" server import "$work/servers-$count.csv" >/dev/null
  if [[ $auth == api-key ]]; then
    # No import column carries a key: one key, linked to each server (one command each).
    echo "$api_key" | cli "$home" apikey add - --name bench >/dev/null
    local i
    for ((i = 0; i < count; i++)); do
      cli "$home" server link bench "$(printf 'fleet-%05d' "$i")" >/dev/null
    done
  fi
}

# The workflow file: Schedule Trigger -> Set; $2 is the Set node's value (the edit).
write_workflow() {
  cat >"$1" <<EOF
{
  "name": "$wf_name",
  "nodes": [
    {"name": "Every hour", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2,
     "position": [0, 0], "parameters": {"rule": {"interval": [{"field": "hours"}]}}},
    {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [220, 0],
     "parameters": {"assignments": {"assignments": [
       {"id": "a1", "name": "release", "value": "$2", "type": "string"}]}, "options": {}}}
  ],
  "connections": {"Every hour": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
  "settings": {"executionOrder": "v1", "timezone": "UTC"}
}
EOF
}

# One round: `wf push FILE --all --json --concurrency CONC` on HOME with COUNT servers, every
# result expected to be WANT. Prints a summary line and sets round_rate (pushes/s).
summary="$work/summary.txt"
round_rate=""
base_rate=""
push_round() {
  local label=$1 home=$2 conc=$3 file=$4 want=$5 count=$6
  local before after start_ms end_ms rc=0 tpid
  before=$(fleet_stats)
  start_ms=$(now_ms)
  N8N_FLEET_HOME="$home" /usr/bin/time -v timeout "$push_deadline_s" "$bin" wf push "$file" --all \
    --json --concurrency "$conc" >"$work/push-$label.json" 2>"$work/time-$label.txt" &
  tpid=$!
  # Peak threads of the n8n-fleet process (time -> timeout -> n8n-fleet), sampled.
  local threads=0 cli_pid="" t
  while kill -0 "$tpid" 2>/dev/null; do
    if [[ -z $cli_pid ]]; then
      local middle
      middle=$(pgrep -P "$tpid" | head -n 1 || true)
      [[ -n $middle ]] && cli_pid=$(pgrep -P "$middle" | head -n 1 || true)
    fi
    if [[ -n $cli_pid ]]; then
      t=$(awk '/^Threads:/ {print $2}' "/proc/$cli_pid/status" 2>/dev/null || true)
      [[ -n $t ]] && ((t > threads)) && threads=$t
    fi
    sleep 0.05
  done
  wait "$tpid" || rc=$?
  end_ms=$(now_ms)
  after=$(fleet_stats)

  local wall rate rss cpu json="$work/push-$label.json" ok=yes problems=""
  wall=$(awk -v a="$start_ms" -v b="$end_ms" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
  rate=$(awk -v n="$count" -v s="$wall" 'BEGIN { printf "%.1f", n / s }')
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time-$label.txt")
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$work/time-$label.txt")
  local total failed wanted names_wf names_inst
  total=$(jq -r '.summary.total' "$json" 2>/dev/null || echo "?")
  failed=$(jq -r '.summary.failed' "$json" 2>/dev/null || echo "?")
  wanted=$(jq -r --arg a "$want" '[.results[] | select(.action == $a and .ok)] | length' "$json" \
    2>/dev/null || echo "?")
  names_wf=$(jq -r --arg n "$wf_name" '.workflow_names[$n].workflows // 0' <<<"$after")
  names_inst=$(jq -r --arg n "$wf_name" '.workflow_names[$n].instances // 0' <<<"$after")
  local posts puts gets lists requests
  posts=$(stat_delta "$before" "$after" workflow_posts)
  puts=$(stat_delta "$before" "$after" workflow_puts)
  gets=$(stat_delta "$before" "$after" workflow_gets)
  lists=$(stat_delta "$before" "$after" workflow_lists)
  requests=$(stat_delta "$before" "$after" requests)
  [[ $rc == 0 ]] || problems+=" exit $rc;"
  [[ $total == "$count" ]] || problems+=" summary.total $total (want $count);"
  [[ $failed == 0 ]] || problems+=" failed $failed;"
  [[ $wanted == "$count" ]] || problems+=" $wanted '$want' results (want $count);"
  # Exactly one workflow of that name per server: none missing, no duplicates anywhere.
  [[ $names_wf == "$count" && $names_inst == "$count" ]] ||
    problems+=" fleet holds $names_wf '$wf_name' workflows on $names_inst instances (want $count on $count);"
  case $want in
    created) [[ $posts == "$count" && $puts == 0 ]] || problems+=" $posts POST, $puts PUT (want $count, 0);" ;;
    updated) [[ $posts == 0 && $puts == "$count" ]] || problems+=" $posts POST, $puts PUT (want 0, $count);" ;;
    unchanged) [[ $posts == 0 && $puts == 0 ]] || problems+=" $posts POST, $puts PUT (want none);" ;;
  esac
  if [[ -n $problems ]]; then
    ok=NO
    log "$label:$problems"
    jq -r '.results[] | select(.ok | not) | "  \(.server): \(.error)"' "$json" 2>/dev/null |
      head -n 5 >&2 || true
  fi
  round_rate=$rate
  local ratio="-"
  [[ -n $base_rate ]] && ratio=$(awk -v a="$rate" -v b="$base_rate" 'BEGIN { printf "%.1f", a / b }')
  local per_push
  per_push=$(awk -v r="$requests" -v n="$count" \
    'BEGIN { printf "%.2f", r / n }')
  printf '%-10s %-5s %-7s %-8s %-9s %-6s %-6s %-8s %-8s %-26s %-4s\n' "$label" "$conc" "$count" \
    "$wall" "$rate" "$ratio" "$cpu" "$rss" "$threads" \
    "$per_push (L$lists G$gets P$posts U$puts)" "$ok" | tee -a "$summary" >&2
}

# ---- credentials shared by every home, then the first fleet (its CSV), then the templates
unset N8N_FLEET_CONFIG N8N_FLEET_MASTER_KEY N8N_FLEET_DB
cli "$work/keys-home" db init >/dev/null
if [[ $auth == token-exchange ]]; then
  cli "$work/keys-home" key generate --alg ES256 >/dev/null
  cli "$work/keys-home" key env --format json >"$work/trust.json"
fi
write_workflow "$work/workflow.json" "v1"
write_workflow "$work/workflow-edited.json" "v2"

{
  echo "wf push benchmark $(date -u +%FT%TZ) on $(nproc) cores ($(uname -r)); build: ${build#"$root"/}"
  echo "fake fleet: $servers instances on 127.0.0.1 ports $base_port-$((base_port + servers - 1)), ${latency_ms} ms per workflow answer, auth $auth; one workflow file ($wf_name)"
  [[ $servers_n1 != "$servers" ]] &&
    echo "NOTE: the N=1 round pushes to $servers_n1 servers only; ratios compare pushes/s (per server)"
  printf '%-10s %-5s %-7s %-8s %-9s %-6s %-6s %-8s %-8s %-26s %-4s\n' round conc servers wall_s \
    pushes/s ratio cpu_s rss_mb threads "req/push (List Get Post pUt)" ok
} >"$summary"

template_setup=""
last_home=""
last_conc=""
round=0
for conc in $concurrency_list; do
  round=$((round + 1))
  start_fleet "c$conc"
  count=$servers
  [[ $conc == 1 ]] && count=$servers_n1
  if [[ ! -d $work/template-$count ]]; then
    setup_start=$(now_ms)
    make_template "$work/template-$count" "$count"
    template_setup+=" $count servers in $(( ($(now_ms) - setup_start) / 1000 )) s;"
  fi
  home="$work/home-c$conc"
  rm -rf "$home"
  cp -a "$work/template-$count" "$home"
  log "== create round, concurrency $conc, $count servers"
  push_round "create" "$home" "$conc" "$work/workflow.json" created "$count"
  [[ $conc == 1 ]] && base_rate=$round_rate
  last_home=$home
  last_conc=$conc
  last_count=$count
  # The last fleet stays up for the update and unchanged rounds.
  [[ $round == $(wc -w <<<"$concurrency_list") ]] || stop_fleet
done

log "== update round, concurrency $last_conc"
push_round "update" "$last_home" "$last_conc" "$work/workflow-edited.json" updated "$last_count"
log "== unchanged round, concurrency $last_conc"
push_round "unchanged" "$last_home" "$last_conc" "$work/workflow-edited.json" unchanged "$last_count"
stop_fleet
{
  links=""
  [[ $auth == api-key ]] && links=" + one 'server link' per server"
  echo "setup, not timed above (server import$links):$template_setup"
  echo "ratio: pushes/s over the N=1 create round's; req/push: fake-fleet requests per push (token exchanges included); threads: peak of the n8n-fleet process"
  echo "fake fleet at exit (last fleet): $(grep '^requests' "$fake_out" || echo '(no statistics)')"
} >>"$summary"

mkdir -p bench/results
out="bench/results/wf-push-$(date -u +%F).txt"
cp "$summary" "$out"
echo
cat "$summary"
echo "(written to $out)"
