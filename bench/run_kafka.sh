#!/usr/bin/env bash
# Builds castle and bench_kafka, starts `castle broker` on a free loopback
# port and a real three-broker cluster (`castle cluster up --brokers 3`) on
# free loopback ports, each in a fresh temporary directory, and runs the
# librdkafka benchmark against both and, in the same run, against
# librdkafka's mock cluster. Prints the table with castle/mock and
# cluster/castle ratios and the issue's targets. Everything started here is
# stopped on exit, whatever the exit.
# BUILD_DIR picks the build directory (default build); extra arguments go to
# bench_kafka (--count N, --partitions N, --latency-count N). BENCH_DIR (default
# /tmp) is where the brokers keep their logs: /dev/shm takes the disk out.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  BUILD_DIR=$build_dir bash scripts/build.sh >/dev/null
fi
cmake --build "$build_dir" --target castle bench_kafka -j "${JOBS:-2}" >/dev/null

cluster_brokers=3
work=$(mktemp -d "${BENCH_DIR:-/tmp}/castle-bench-kafka-XXXXXX")
cluster_dir=$work/cluster
broker_pid=
cluster_pid=
bench_pid=

# The last lines of every log, for a run that failed: the broker's and each
# cluster node's own account of what went wrong.
print_log_tails() {
  local log
  for log in "$work/broker.log" "$work/cluster.log" "$cluster_dir"/node-*/broker.log; do
    [ -s "$log" ] || continue
    echo "---- last lines of ${log#"$work"/} ----" >&2
    tail -n 20 "$log" >&2
  done
}

cleanup() {
  local status=$?
  # Logs first: stopping the nodes appends shutdown lines. An interrupt
  # (130, 143) is no failure to explain.
  case $status in 0 | 130 | 143) ;; *) print_log_tails ;; esac
  # `castle cluster up` passes SIGTERM on to its nodes and waits for them
  # (SIGKILL after 30 s).
  local child
  for child in "$bench_pid" "$broker_pid" "$cluster_pid"; do
    if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; wait "$child" || true; fi
  done
  # Should `castle cluster up` itself have died, its nodes outlive it: stop
  # any left, by the pid each wrote, if that process still runs our config
  # (a pid alone may have been reused).
  local pidfile pid
  for pidfile in "$cluster_dir"/node-*/pid; do
    [ -f "$pidfile" ] || continue
    pid=$(<"$pidfile")
    if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null |
         grep -qF "${pidfile%/pid}/server.properties"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
# A signal becomes an ordinary exit, so the EXIT trap above does the stopping.
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The single broker. ---
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
  echo "run_kafka: castle broker did not start" >&2
  exit 1
fi
address=${line#listening on }

# --- The three-broker cluster. ---
# `castle cluster` puts node i on ports P+2(i-1) (PLAINTEXT) and the one
# after (CONTROLLER), so it needs 2N consecutive free ports. They are picked
# below the kernel's ephemeral range, where outgoing connections (the
# benchmark's own, thousands of them over a run) do not take ports from
# under it, and among ports no socket on the machine uses in any state.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
if [ "$ephemeral_low" -le $(( 10000 + 2 * cluster_brokers )) ]; then
  echo "run_kafka: the ephemeral port range starts at $ephemeral_low, leaving no room below it" >&2
  exit 1
fi
used_ports=$(ss -Htan | awk '{ n = split($4, a, ":"); print a[n] }' | sort -un)
port_base=
for _ in $(seq 50); do
  base=$(( 10000 + RANDOM % (ephemeral_low - 10000 - 2 * cluster_brokers) ))
  clash=
  for port in $(seq "$base" $(( base + 2 * cluster_brokers - 1 ))); do
    if grep -qx "$port" <<<"$used_ports"; then clash=1; break; fi
  done
  if [ -z "$clash" ]; then port_base=$base; break; fi
done
if [ -z "$port_base" ]; then
  echo "run_kafka: no $((2 * cluster_brokers)) consecutive free ports below $ephemeral_low" >&2
  exit 1
fi
# No auto-creation: a producer that raced the benchmark's CreateTopics would
# make a topic with one replica, and the rows would not measure replication.
"./$build_dir/castle" cluster up --brokers "$cluster_brokers" --dir "$cluster_dir" \
  --port-base "$port_base" --override auto.create.topics.enable=false \
  >"$work/cluster.out" 2>"$work/cluster.log" &
cluster_pid=$!
# `cluster up` prints the bootstrap list once every node accepts connections;
# it exits if a node dies, or if one does not bind within 60 s (90 s here,
# for a start-up slowed by a busy machine).
bootstrap=
for _ in $(seq 900); do
  bootstrap=$(sed -n 's/^bootstrap\.servers=//p' "$work/cluster.out")
  if [ -n "$bootstrap" ] || ! kill -0 "$cluster_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$bootstrap" ]; then
  last_port=$(( port_base + 2 * cluster_brokers - 1 ))
  echo "run_kafka: the $cluster_brokers-broker cluster did not come up (ports $port_base..$last_port)" >&2
  exit 1
fi

# bench_kafka waits until every broker has registered with the controller
# before it measures the cluster, and fails naming what it saw if not. It
# runs in the background because bash runs a trap only once the foreground
# command is done, and `wait` returns at a signal at once, exiting with
# bench_kafka's status otherwise.
"./$build_dir/bench/bench_kafka" --castle "$address" --cluster "$bootstrap" --write-dir "$work" "$@" &
bench_pid=$!
wait "$bench_pid"
