#!/usr/bin/env bash
# Runs the runtime benchmarks and prints each target as a ratio against the
# baseline measured in the same run. BUILD_DIR picks the build directory
# (default build); extra arguments go to the benchmark binary.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
BUILD_DIR=$build_dir bash scripts/build.sh >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"./$build_dir/bench/bench_runtime" --benchmark_format=json --benchmark_min_time=0.5 "$@" > "$out"
python3 - "$out" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
def rate(name):
    b = runs.get(name)
    return b["items_per_second"] if b else None
ev = rate("BM_WorldEvents/1000000")
if ev:
    print(f"scheduler events/s            {ev/1e6:8.2f} M   (target >= 5 M: {'ok' if ev >= 5e6 else 'MISSED'})")
fy, raw = rate("BM_FiberYieldRoundTrip"), rate("BM_RawContextRoundTrip")
if fy and raw:
    ratio = raw / fy
    print(f"fiber round trip              {1e9/fy:8.1f} ns")
    print(f"raw Boost.Context round trip  {1e9/raw:8.1f} ns")
    print(f"fiber / raw                   {ratio:8.2f} x (target <= 2: {'ok' if ratio <= 2 else 'MISSED'})")
# Simulated I/O, with the world events each item costs for context (the
# scheduler events/s line above is the baseline for one event).
for name, label, per in [("BM_SimNetworkMessages/pingpong", "sim net messages/s pingpong", "events_per_msg"),
                         ("BM_SimNetworkMessages/stream", "sim net messages/s stream", "events_per_msg"),
                         ("BM_SimDiskOps/20000", "sim disk ops/s", "events_per_op")]:
    r = rate(name)
    if r is None:
        continue
    line = f"{label:30s}{r/1e6:8.2f} M"
    e = runs[name].get(per)
    if e is not None:
        line += f"   ({e:.2f} world events each)"
    print(line)
PY
