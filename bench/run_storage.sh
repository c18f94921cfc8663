#!/usr/bin/env bash
# Builds and runs the storage benchmark on the real disk and prints its
# table: each row is the log beside a plain pwrite/pread loop of the same
# bytes measured in the same run, as a ratio (target >= 0.80 for appends
# without a per-batch flush and for reads), the ceiling a plain loop that
# also checks every batch's CRC-32C reaches, then recovery time per GiB.
# The machine should be otherwise idle (the table prints the load average).
# BUILD_DIR picks the build directory (default build); extra arguments go to
# bench_storage (--dir DIR, --append-mib N, --read-mib N, --repeats N,
# --only WORD to run the rows whose label contains WORD).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  BUILD_DIR=$build_dir bash scripts/build.sh >/dev/null
fi
cmake --build "$build_dir" --target bench_storage -j "${JOBS:-2}" >/dev/null
"./$build_dir/bench/bench_storage" "$@"
