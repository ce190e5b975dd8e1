#!/usr/bin/env bash
# Builds the libFuzzer targets (BUILD_DIR build-fuzz: clang, every library under ASan + UBSan) and
# runs each for a bounded time on a COPY of its seed corpus (fuzz/corpus/<target>/) in a temporary
# directory: generated inputs never land in the repository. Exits non-zero if any target crashes
# (sanitizer report, failed check, timeout, out-of-memory), printing the crashing input and the
# command that reproduces it; prints executions, exec/s and coverage per target.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 20 s; every target in
# fuzz/corpus). Env: FUZZ_BUILD_DIR (build-fuzz), FUZZ_JOBS (build jobs, 2), FUZZ_KEEP=1 keeps the
# work directory of a passing run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
dir="${FUZZ_BUILD_DIR:-build-fuzz}"

CC=clang CXX=clang++ cmake -S . -B "$dir" -DN8N_FLEET_FUZZ=ON -DN8N_FLEET_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$dir" -j"${FUZZ_JOBS:-2}" --target "${build_targets[@]}"

# The longest input worth trying, per target: a command line is short, a SQLite file is pages.
max_len() {
  case "$1" in
    n8n_deploy_import) echo 65536 ;;
    workflow_diff) echo 16384 ;;
    cli_args) echo 1024 ;;
    *) echo 8192 ;;
  esac
}

work=$(mktemp -d /tmp/fleet-fuzz.XXXXXX)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
summary=()
for t in "${targets[@]}"; do
  bin="$dir/fuzz/$t"
  out="$work/$t"
  mkdir -p "$out/corpus" "$out/tmp"
  cp fuzz/corpus/"$t"/* "$out/corpus/"
  seeds=$(find fuzz/corpus/"$t" -type f | wc -l)
  echo "== fuzz $t: ${seconds}s from $seeds seeds"
  status=0
  TMPDIR="$out/tmp" "$bin" "$out/corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -artifact_prefix="$out/" -print_final_stats=1 \
    >"$out/log" 2>&1 || status=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/p' \
    <<<"$done_line")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$out/log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$out/log")
  line="$t: ${execs:-?} runs, ${rate:-?} exec/s, ${cov:-no coverage line}"
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    line="$line  FAILED (exit $status)"
    grep -E 'ERROR: |runtime error|fuzz check failed|SUMMARY' "$out/log" | head -5 >&2 || true
    for artifact in "$out"/crash-* "$out"/timeout-* "$out"/oom-* "$out"/leak-*; do
      [ -e "$artifact" ] || continue
      echo "  crashing input: $artifact" >&2
      echo "  reproduce: $bin $artifact" >&2
    done
    echo "  full log: $out/log" >&2
  fi
  summary+=("$line")
done

echo "== fuzz summary (${seconds}s per target)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}; inputs and logs kept in $work (add a crash to" \
    "fuzz/corpus/<target>/regression-* with a unit test once fixed)" >&2
  exit 1
fi
if [ "${FUZZ_KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
echo "fuzz: no crash in ${#targets[@]} targets"
