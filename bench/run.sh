#!/usr/bin/env bash
# Runs the runtime benchmarks and prints each target as a ratio against the
# baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
out=$(mktemp)
./build/bench/bench_runtime --benchmark_format=json --benchmark_min_time=0.5 "$@" > "$out"
python3 - "$out" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
def rate(name):
    b = runs.get(name)
    return b["items_per_second"] if b else None
ev = rate("BM_WorldEvents/1000000")
fy, raw = rate("BM_FiberYieldRoundTrip"), rate("BM_RawContextRoundTrip")
print(f"scheduler events/s            {ev/1e6:8.2f} M   (target >= 5 M: {'ok' if ev >= 5e6 else 'MISSED'})")
if fy and raw:
    ratio = raw / fy
    print(f"fiber round trip              {1e9/fy:8.1f} ns")
    print(f"raw Boost.Context round trip  {1e9/raw:8.1f} ns")
    print(f"fiber / raw                   {ratio:8.2f} x (target <= 2: {'ok' if ratio <= 2 else 'MISSED'})")
for name, label in [("BM_SimNetworkMessages", "sim network messages/s"),
                    ("BM_SimDiskOps", "sim disk ops/s")]:
    r = rate(name)
    if r: print(f"{label:30s}{r/1e6:8.2f} M")
PY
rm -f "$out"
