#!/usr/bin/env bash
# Builds castle and bench_kafka, starts `castle broker` on a free loopback
# port with its log in a fresh temporary directory, and runs the librdkafka
# benchmark against it and, in the same run, against librdkafka's mock
# cluster. Prints the table with castle/mock ratios and the issue's targets.
# BUILD_DIR picks the build directory (default build); extra arguments go to
# bench_kafka (--count N, --partitions N, --latency-count N).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  BUILD_DIR=$build_dir bash scripts/build.sh >/dev/null
fi
cmake --build "$build_dir" --target castle bench_kafka -j "${JOBS:-2}" >/dev/null

work=$(mktemp -d /tmp/castle-bench-kafka-XXXXXX)
broker_pid=
cleanup() {
  if [ -n "$broker_pid" ]; then kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/server.properties" <<PROPS
node.id=1
listeners=PLAINTEXT://127.0.0.1:0
log.dirs=$work/logs
auto.create.topics.enable=true
PROPS
mkfifo "$work/out"
"./$build_dir/castle" broker --config "$work/server.properties" >"$work/out" 2>"$work/broker.log" &
broker_pid=$!
exec 3<"$work/out"
# The broker's first line says where it listens; give it 30 s to recover and bind.
if ! IFS= read -r -t 30 line <&3 || [[ "$line" != "listening on "* ]]; then
  echo "run_kafka: castle broker did not start:" >&2
  cat "$work/broker.log" >&2
  exit 1
fi
address=${line#listening on }
"./$build_dir/bench/bench_kafka" --castle "$address" "$@"
