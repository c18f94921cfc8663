#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a fault-injection
# simulation of a Kafka broker and its clients under every fault kind.
# Prints the verdict and where the report is (open index.html in a browser).
#   scripts/demo.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
echo "== castle sim scenarios/kafka-everything.json --seed $seed --out out/demo"
status=0
./build/castle sim scenarios/kafka-everything.json --seed "$seed" --out out/demo || status=$?
echo "report: $(pwd)/out/demo/index.html"
exit "$status"
