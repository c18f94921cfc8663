#!/usr/bin/env bash
# Installs the Debian packages Castle builds and tests with. Safe to run again:
# it asks apt only for what is missing.
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

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
