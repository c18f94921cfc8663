#pragma once
// Runs one scenario with one seed in the simulator and judges it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "checkers/log_checks.h"
#include "scenarios/nemesis.h"
#include "scenarios/scenario.h"
#include "sim/world.h"

namespace castle::scenarios {

enum class Verdict { pass, safety, liveness };
const char* to_string(Verdict v);
int exit_code(Verdict v);  // 0, 1, 3

struct RunOptions {
  std::uint64_t seed = 1;
  bool record_steps = false;  // for --check-determinism
  bool keep_trace = false;    // keep trace events as JSON lines
  // The caller exits as soon as the run returns (a sweep's forked child):
  // the world is left to the OS instead of torn down node by node.
  bool leave_world = false;
};

// Owns the simulated world of one run and, when the options say so,
// leaves it undestroyed: tearing down every node's fibers, connections and
// disks costs a sweep about 2% of its time (the library's scenarios, 20
// seeds each), for memory the process is about to give back whole.
class RunWorld {
 public:
  explicit RunWorld(const RunOptions& options)
      : world_(std::make_unique<sim::World>(options.seed)), leave_(options.leave_world) {}
  RunWorld(const RunWorld&) = delete;
  RunWorld& operator=(const RunWorld&) = delete;
  ~RunWorld() {
    if (leave_) (void)world_.release();
  }
  sim::World& operator*() { return *world_; }

 private:
  std::unique_ptr<sim::World> world_;
  bool leave_;
};

struct RunStats {
  std::int64_t sends = 0;
  std::int64_t acked = 0;
  std::int64_t failed = 0;
  std::int64_t unknown = 0;
  std::int64_t server_restarts = 0;
};

struct RunResult {
  Verdict verdict = Verdict::pass;
  std::uint64_t seed = 0;
  std::uint64_t trace_hash = 0;
  std::int64_t sim_time_ns = 0;
  std::uint64_t events = 0;
  RunStats stats;
  history::History history;
  checkers::CheckResult check;            // anomalies that fail the run
  std::vector<checkers::Anomaly> allowed;  // reported, but the durability contract allows them
  // Acknowledged values never read while the final read did not complete:
  // unavailable or lost, nobody can tell; the run fails for liveness.
  std::vector<checkers::Anomaly> unverified;
  std::string contract;                    // the contract applied, in one line
  std::string swarm;                       // what a swarm run drew (empty otherwise)
  std::string liveness_failure;
  // A final read that could not finish, excused: the partitions it could
  // not reach have only damaged replicas to elect (scenarios/damage_watch.h).
  std::string liveness_excused;
  std::vector<AppliedFault> faults;
  std::vector<FaultSpec> planned_faults;
  std::map<std::string, bool> buggify_points;  // reached in this run: armed or not
  std::map<std::string, std::uint64_t> buggify_fired;  // the armed ones: how often they fired
  std::vector<sim::Step> steps;
  std::vector<std::string> trace_lines;
};

// Checks that every node a fault names exists in the scenario's cluster.
bool validate_targets(const Scenario& s, ParseError* error);

RunResult run_scenario(const Scenario& s, const RunOptions& options);

// The node names of a scenario's cluster (servers: a Raft cluster's voters s0.., then its
// observers o0..).
std::vector<std::string> server_names(const Scenario& s);
std::vector<std::string> client_names(const Scenario& s);

}  // namespace castle::scenarios
