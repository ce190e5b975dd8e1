#!/usr/bin/env bash
# Sets up, builds and runs every test: formatting, the unit and end-to-end suites (-Werror),
# the same suites under AddressSanitizer + UndefinedBehaviorSanitizer, and the tests against a
# real n8n installed from the npm registry. Idempotent. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
start=$(date +%s)

echo "== clang-format"
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find src tests -name '*.cc' -o -name '*.h')
clang-format --dry-run --Werror $files
echo "clang-format: clean"

echo "== build (-Werror) and tests"
bash scripts/build.sh build -DN8N_FLEET_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300

echo "== build with ASan+UBSan and tests"
BUILD_TYPE=Debug bash scripts/build.sh build-asan -DN8N_FLEET_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 600

echo "== the dashboard in a real headless Chromium"
bash tests/dashboard/run.sh build

echo "== tests against a real n8n"
bash tests/real_n8n/run.sh build

echo "== three replicas over one PostgreSQL"; bash tests/replicas/run.sh build

echo "all tests passed in $(( $(date +%s) - start )) s"
