#!/usr/bin/env bash
# Simulator speed per library scenario: simulated seconds per wall second
# and events per second, over SEEDS seeds each (default 20), one process at
# a time so the numbers are per core. Uses castle sweep's table.
#   bench/run_scenarios.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-20}
build_dir=$(bash scripts/build.sh | tail -n 1)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build_dir/castle" sweep scenarios/*.json --seeds "1..$seeds" -j 1 --no-progress
