#!/usr/bin/env bash
# Builds the request-decoder fuzzer with clang in its own build folder and
# runs it for a bounded time. CI can call this after the main suite:
#   bash tests/run_fuzzer.sh [seconds]   (default 20)
# Exits non-zero if the fuzzer finds a crash; the reproducer is left in
# build-fuzz/ as crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
cxx="${FUZZ_CXX:-clang++-14}"
if ! command -v "$cxx" >/dev/null; then
  echo "run_fuzzer: $cxx not found (scripts/install-deps.sh installs clang-14)" >&2
  exit 2
fi
CXX="$cxx" cmake -S . -B "$build_dir" -G Ninja -DCASTLE_FUZZ=ON -DCASTLE_BENCH=OFF >/dev/null
ninja -C "$build_dir" request_fuzzer
cd "$build_dir"
./fuzz/request_fuzzer -max_total_time="$seconds" -runs=50000000 -rss_limit_mb=1024 -max_len=4096
