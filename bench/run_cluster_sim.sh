#!/usr/bin/env bash
# The cluster simulation benchmark (issue #6): the standard scenario (three
# brokers, 6 partitions, RF 3, min.insync.replicas 2, two acks=all
# producers sending 1,000 records a second each open loop, one consumer, 60
# simulated seconds of random faults) and its variants with 5
# and 9 brokers and with 60 and 600 partitions, each over a few seeds run
# one at a time (-j 1: one core). Prints simulated seconds per wall second,
# events per second, and each variant's ratio against the standard one
# measured in the same run. SEEDS (default 1..5) and BUILD_DIR may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
seeds=${SEEDS:-1..5}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then BUILD_DIR=$build_dir bash scripts/build.sh >/dev/null; fi
cmake --build "$build_dir" --target castle -j "${JOBS:-2}" >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"./$build_dir/castle" sweep bench/scenarios/cluster-*.json --seeds "$seeds" -j 1 --no-progress >"$out" || true
python3 - "$out" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0].startswith("bench-cluster-"):
        rows[f[0][len("bench-cluster-"):]] = (f[2], f[3], float(f[-2]), float(f[-1]))
base = rows.get("standard")
print(f"{'variant':16s} {'seeds':>5s} {'pass':>5s} {'sim-s/wall-s':>13s} {'events/s':>10s} {'vs standard':>12s}")
for name in ["standard", "brokers-5", "brokers-9", "partitions-60", "partitions-600"]:
    if name not in rows: continue
    seeds, passed, ratio, ev = rows[name]
    rel = f"{ratio / base[2]:.2f}x" if base else "-"
    print(f"{name:16s} {seeds:>5s} {passed:>5s} {ratio:13.1f} {ev:10.0f} {rel:>12s}")
if base:
    print(f"target: standard >= 700 simulated seconds per wall second: {'ok' if base[2] >= 700 else 'MISSED'}")
PY
