#!/usr/bin/env bash
# Benchmark: `n8n-fleet collect` against a fake fleet of N n8n instances (one 127.0.0.1 port
# each, token exchange on), then the raw request ceiling of the same fake fleet with wrk.
# Usage: bench/collect_bench.sh        (env: SIZES="1000 10000", CONCURRENCIES="64 128 256",
#                                        BUILD_DIR=build, WRK_SECONDS=10, FORCE_BUILD=1)
# Only 127.0.0.1 is used. Every step is bounded by `timeout`. The summary is printed and written
# to bench/results/collect-<date>.txt (not committed: the figures go into the issue note).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build="${BUILD_DIR:-build}"
sizes="${SIZES:-1000 10000}"
concurrencies="${CONCURRENCIES:-64 128 256}"
wrk_seconds="${WRK_SECONDS:-10}"
fleet_bin="$root/$build/n8n-fleet"
fake_bin="$root/$build/n8n-fleet-fake-fleet"
api_key="bench-api-key"

if [[ -n "${FORCE_BUILD:-}" || ! -x "$fleet_bin" || ! -x "$fake_bin" ]]; then
  bash scripts/build.sh "$build"
fi
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
for tool in wrk /usr/bin/time sqlite3; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/collect-bench.XXXXXX)
fake_pid=""
stop_fake() {
  if [[ -n "$fake_pid" ]] && kill -0 "$fake_pid" 2>/dev/null; then
    kill -TERM "$fake_pid"
    for _ in $(seq 50); do kill -0 "$fake_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  fake_pid=""
}
trap 'stop_fake; rm -rf "$work"' EXIT

# CPU seconds (user+sys) a process used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
field() { grep -F "$1" "$2" | head -1 | awk -F': ' '{print $2}'; }
seconds() { awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<<"$1"; }

today=$(date -u +%F)
yesterday=$(date -u -d yesterday +%F)
summary="$work/summary.txt"
{
  echo "collect benchmark $(date -u +%FT%TZ) on $(nproc) cores ($(uname -r)); build: $build"
  echo "fake fleet and collector share the machine; token exchange (ES256) on; day $yesterday"
  printf '%-6s %-5s %-8s %-8s %-8s %-8s %-9s %-7s %-9s %-9s %-6s %-5s\n' N conc wall_s user_s sys_s rss_mb inst_per_s req_per fake_cpu mismatch failed ok
} >"$summary"

for n in $sizes; do
  echo "== $n instances" >&2
  home="$work/home-$n"
  export N8N_FLEET_HOME="$home"
  timeout 60 "$fleet_bin" key generate --alg ES256 >/dev/null
  timeout 60 "$fleet_bin" key env --format json >"$work/trust.json"
  "$fake_bin" --count "$n" --trust "$work/trust.json" --expect-own-audience \
    --api-key "$api_key" --csv "$work/fleet-$n.csv" --expected "$work/expected-$n.csv" \
    >"$work/fake-$n.out" 2>"$work/fake-$n.err" &
  fake_pid=$!
  for _ in $(seq 600); do grep -q '^ready' "$work/fake-$n.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/fake-$n.out" || { cat "$work/fake-$n.err" >&2; exit 1; }
  import_start=$(date +%s.%N)
  timeout 300 "$fleet_bin" server import "$work/fleet-$n.csv" >/dev/null
  import_s=$(echo "$(date +%s.%N) - $import_start" | bc)
  echo "import of $n servers: ${import_s}s" >&2
  cp -a "$home" "$work/template-$n"
  awk -F, -v d="$yesterday" 'NR > 1 && $2 == d { print $1 "," $3 "," $4 }' \
    "$work/expected-$n.csv" | sort >"$work/want-$n.txt"

  best_wall=""; best_line=""
  for c in $concurrencies; do
    rm -rf "$home"; cp -a "$work/template-$n" "$home"
    fake_before=$(cpu_of "$fake_pid")
    set +e
    timeout 300 /usr/bin/time -v "$fleet_bin" collect --day yesterday --json --concurrency "$c" \
      >"$work/collect-$n-$c.json" 2>"$work/time-$n-$c.txt"
    rc=$?
    set -e
    fake_cpu=$(echo "$(cpu_of "$fake_pid") - $fake_before" | bc)
    wall=$(seconds "$(field 'Elapsed (wall clock)' "$work/time-$n-$c.txt")")
    user=$(field 'User time' "$work/time-$n-$c.txt")
    sys=$(field 'System time' "$work/time-$n-$c.txt")
    rss_mb=$(echo "scale=1; $(field 'Maximum resident set size' "$work/time-$n-$c.txt") / 1024" | bc)
    failed=$(jq -r '.failed // "?"' "$work/collect-$n-$c.json" 2>/dev/null || echo "?")
    requests=$(jq -r '.requests // 0' "$work/collect-$n-$c.json" 2>/dev/null || echo 0)
    timeout 120 "$fleet_bin" usage show --format csv --from "$yesterday" --to "$yesterday" |
      awk -F, 'NR > 1 { print $2 "," $4 "," $5 }' | sort >"$work/got-$n-$c.txt"
    # Rows missing, extra or different, per (server, day).
    mismatch=$(comm -3 "$work/want-$n.txt" "$work/got-$n-$c.txt" | awk -F, '{print $1}' | sort -u | wc -l)
    inst=$(echo "scale=0; $n / $wall" | bc)
    req_per=$(echo "scale=2; $requests / $n" | bc)
    ok=$([[ $rc == 0 && $mismatch == 0 && $failed == 0 ]] && echo yes || echo NO)
    line=$(printf '%-6s %-5s %-8s %-8s %-8s %-8s %-9s %-7s %-9s %-9s %-6s %-5s' \
      "$n" "$c" "$wall" "$user" "$sys" "$rss_mb" "$inst" "$req_per" "$fake_cpu" "$mismatch" "$failed" "$ok")
    echo "$line" | tee -a "$summary" >&2
    if [[ $ok == yes ]] && { [[ -z $best_wall ]] || (($(echo "$wall < $best_wall" | bc))); }; then
      best_wall=$wall; best_line="$n $c $inst $req_per"
    fi
  done

  # The ceiling: wrk on one instance's summary with valid encoded dates and the API key.
  port=$(awk -F, 'NR == 2 { sub(".*:", "", $2); print $2 }' "$work/fleet-$n.csv")
  url="http://127.0.0.1:$port/api/v1/insights/summary?startDate=${yesterday}T00%3A00%3A00.000Z&endDate=${today}T00%3A00%3A00.000Z"
  timeout $((wrk_seconds + 30)) wrk -t2 -c64 -d"${wrk_seconds}s" -H "X-N8N-API-KEY: $api_key" "$url" \
    >"$work/wrk-$n.txt"
  wrk_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$n.txt")
  non2xx=$(awk '/Non-2xx/ {print $4}' "$work/wrk-$n.txt")
  # A second ceiling: one new TCP connection per request, as a collector needs per instance.
  timeout $((wrk_seconds + 30)) wrk -t2 -c64 -d"${wrk_seconds}s" -H "X-N8N-API-KEY: $api_key" \
    -H "Connection: close" "$url" >"$work/wrk-close-$n.txt"
  wrk_close_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-close-$n.txt")
  stop_fake
  fake_stats=$(grep '^requests' "$work/fake-$n.out" || true)
  {
    echo "N=$n: import ${import_s}s; wrk -t2 -c64 -d${wrk_seconds}s ceiling ${wrk_rps} req/s keep-alive (non-2xx: ${non2xx:-0}), ${wrk_close_rps} req/s with a new connection per request"
    if [[ -n $best_line ]]; then
      read -r _ bc binst breq <<<"$best_line"
      ratio=$(echo "scale=3; $binst * $breq / $wrk_rps" | bc)
      ratio_close=$(echo "scale=3; $binst * $breq / $wrk_close_rps" | bc)
      echo "N=$n: best concurrency $bc: ${best_wall}s wall, $binst instances/s x $breq req = ratio $ratio of the keep-alive ceiling, $ratio_close of the new-connection ceiling"
    else
      echo "N=$n: no run verified"
    fi
    echo "N=$n: fake fleet: $fake_stats"
  } | tee -a "$summary" >&2
done

mkdir -p bench/results
out="bench/results/collect-$(date -u +%F).txt"
cp "$summary" "$out"
echo
cat "$summary"
echo "(written to $out)"
