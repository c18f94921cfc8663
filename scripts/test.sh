#!/usr/bin/env bash
# Builds everything and runs the whole test suite with ctest.
#   scripts/test.sh              the normal build
#   scripts/test.sh --sanitize   the ASan+UBSan build
#   scripts/test.sh -L sim       extra arguments go to ctest (one area, say)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_args=()
if [ "${1:-}" = "--sanitize" ]; then build_args=(--sanitize); shift; fi
build_dir=$(bash scripts/build.sh "${build_args[@]}" | tail -n 1)
cd "$build_dir"
ctest --output-on-failure -j "${JOBS:-2}" --timeout 900 "$@"
