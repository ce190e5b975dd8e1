#!/usr/bin/env bash
# Configures and builds n8n-fleet. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# The binary lands at BUILD_DIR/n8n-fleet (default build/n8n-fleet).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
