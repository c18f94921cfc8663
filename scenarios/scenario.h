#pragma once
// A scenario: what to run, under which faults, for how long, and what
// verdict to expect. Scenarios are JSON files; parsing validates every field
// and names the offending one in its error, so a typo never silently turns
// into a default.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "system/runtime/time.h"

namespace castle::scenarios {

// One fault in an explicit timeline. Which fields matter depends on kind.
struct FaultSpec {
  std::int64_t at_ms = 0;
  std::string kind;
  std::int64_t duration_ms = 0;       // 0: instant (reset, bitflip, clock_jump)
  std::vector<std::string> nodes;     // targets; for split: side a
  std::vector<std::string> others;    // split: side b; oneway/clog: destinations
  std::int64_t amount = 0;            // ppm for drift, ms for jumps/latency
  double rate = 0;                    // disk_eio, disk_sync_eio
};

struct RandomFaults {
  bool enabled = false;
  std::int64_t start_ms = 1000;
  std::int64_t interval_min_ms = 500;
  std::int64_t interval_max_ms = 3000;
  std::int64_t duration_min_ms = 100;
  std::int64_t duration_max_ms = 3000;
  std::vector<std::string> kinds;  // empty: every kind
  // Where faults that hit one node (crash, pause, isolate, reset, disk and
  // clock faults) aim: node names, "leader" or "controller"; empty: any server.
  std::vector<std::string> targets;
};

// The Kafka system's workload and configuration ("kafka" section).
struct KafkaSpec {
  int partitions = 4;            // of the one topic "t"; keys are "t-0", "t-1", ...
  int acks = -1;                 // "all" (-1), "1" or "0"
  bool idempotence = true;       // enable.idempotence
  std::int64_t linger_ms = 0;    // linger.ms
  double poll_fraction = 0.4;    // of operations that are polls (the rest are sends)
  double assign_fraction = 0.02; // of operations that reassign the consumer
  // Open loop: each client sends this many records a second without
  // waiting for acknowledgements, while it polls continuously (poll_fraction
  // is then unused). 0: the closed loop, one operation every interval_ms.
  std::int64_t rate_per_s = 0;
  // Open loop: how many of the clients (the first ones) also poll; -1: all.
  int consumers = -1;
  std::map<std::string, std::string> broker;  // broker properties, Kafka's names
  // With more than one server the brokers form a cluster (KRaft combined
  // mode): s0..s<controllers-1> are broker and controller voters, the rest
  // brokers only; topic "t" has this replication factor (0: min(3, servers)).
  int controllers = 0;           // 0: min(3, servers)
  int replication_factor = 0;
  // "auto": the durability contract (README) decides which losses the
  // configuration and faults allow; "strict": no loss is allowed at all.
  std::string durability = "auto";
};

// The Raft system's shape and timing ("raft" section). The voters are the
// cluster's servers s0..; observers o0.. follow the committed log without
// voting.
struct RaftSpec {
  int observers = 0;
  std::int64_t snapshot_threshold = 1000;  // applied entries between snapshots
  std::int64_t election_timeout_min_ms = 300;
  std::int64_t election_timeout_max_ms = 600;
  std::int64_t heartbeat_ms = 50;
  // Entry bytes a leader sends per AppendEntries (at least one entry goes):
  // a small bound makes a lagging follower catch up one entry per round
  // trip, which stretches the windows in which only part of a leader's log
  // is on a majority.
  std::int64_t append_bytes_max = 256 << 10;
};

struct Scenario {
  std::string name;
  std::string purpose;
  std::string system = "logsvc";
  int servers = 3;
  int clients = 3;
  std::int64_t duration_ms = 30'000;
  std::int64_t liveness_window_ms = 30'000;
  // Workload.
  std::int64_t interval_ms = 10;
  std::int64_t timeout_ms = 1000;
  int payload_bytes = 32;
  // Network and disk.
  std::int64_t latency_min_us = 50;
  std::int64_t latency_max_us = 500;
  std::int64_t sync_latency_min_us = 200;
  std::int64_t sync_latency_max_us = 2000;
  // Faults.
  std::vector<FaultSpec> timeline;
  RandomFaults random;
  bool buggify = false;
  std::set<std::string> bugs;  // planted bugs switched on
  std::string expect = "pass";  // pass, safety or liveness
  KafkaSpec kafka;              // system == "kafka"
  RaftSpec raft;                // system == "raft"
  bool swarm = false;           // the seed also draws shape, config and fault mix (swarm.h)
};

// Every fault kind the nemesis knows.
const std::vector<std::string>& fault_kinds();

struct ParseError {
  std::string field;    // e.g. "faults.timeline[2].kind"
  std::string message;
  std::string to_string() const { return field + ": " + message; }
};

// Parses scenario JSON text. On error returns nullopt and fills *error.
std::optional<Scenario> parse_scenario(const std::string& text, ParseError* error);
std::optional<Scenario> load_scenario(const std::string& path, ParseError* error);
// Writes a scenario back as JSON (used by shrinking and tests).
std::string scenario_to_json(const Scenario& s);

}  // namespace castle::scenarios
