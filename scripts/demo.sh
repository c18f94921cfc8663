#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a fault-injection
# simulation of the proof service. Prints the verdict and where the report is.
#   scripts/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
echo "== castle sim scenarios/logsvc-faults.json --seed $seed --out out/demo"
./build/castle sim scenarios/logsvc-faults.json --seed "$seed" --out out/demo
