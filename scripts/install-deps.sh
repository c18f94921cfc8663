#!/usr/bin/env bash
# Installs the Debian packages Castle builds and tests with, and kafkajs (npm)
# for its interop test. Safe to run again: it asks only for what is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-context-dev libboost-dev
  librange-v3-dev nlohmann-json3-dev librapidcheck-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  graphviz   # dot renders the run reports' pictures
  chromium   # tests/reports/chromium_test.sh opens a report headless
  clang-14 libclang-rt-14-dev
  librdkafka-dev kcat python3-confluent-kafka python3-kafka
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js runs kafkajs for the interop tests. A machine may have its own
# (nodesource's nodejs bundles npm); otherwise Debian's nodejs and npm.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# kafkajs, the one client not packaged by Debian, from the npm registry at
# the version its lockfile pins, next to the script that drives it.
kafkajs_dir="$(dirname "$0")/../tests/interop/kafkajs"
if [ ! -d "$kafkajs_dir/node_modules/kafkajs" ]; then
  echo "install-deps: installing kafkajs (npm ci in tests/interop/kafkajs)"
  (cd "$kafkajs_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
