#!/usr/bin/env bash
# Configures and builds Castle. BUILD_DIR and extra CMake flags may be given:
#   scripts/build.sh                 release-with-debug-info build in build/
#   scripts/build.sh --sanitize      ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-asan
  cmake_flags=(-DCMAKE_BUILD_TYPE=Debug -DCASTLE_SANITIZE=ON -DCASTLE_BENCH=OFF)
  shift
fi
build_dir=${BUILD_DIR:-$build_dir}
jobs=${JOBS:-2}

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" "${cmake_flags[@]}" "$@" >/dev/null
fi
cmake --build "$build_dir" -j "$jobs"
echo "$build_dir"
