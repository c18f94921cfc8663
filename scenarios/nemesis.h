#pragma once
// The nemesis: turns a scenario's faults into a concrete timeline (random
// faults are drawn from the seed before the run starts, so every run has an
// explicit timeline that shrinking can cut down) and applies it to the
// simulated world. Overlapping partitions are reference-counted per link, so
// healing one fault never heals a link another fault still cuts. At the end
// of the fault phase stop() undoes everything: links heal, crashed nodes
// restart, paused nodes resume, disks and clocks return to normal.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "scenarios/scenario.h"
#include "sim/disk.h"
#include "sim/world.h"

namespace castle::scenarios {

// The target name a fault may use for whichever node leads when it applies
// (a Raft system's leader; a Kafka cluster's leader of partition t-0).
inline constexpr const char* leader_target = "leader";
// A Kafka cluster's active controller (the metadata quorum's Raft leader).
inline constexpr const char* controller_target = "controller";

struct AppliedFault {
  std::int64_t time_ns;
  std::string description;
};

// Draws the random part of a scenario's faults into explicit specs and
// merges them with its timeline, ordered by time.
std::vector<FaultSpec> plan_faults(const Scenario& s, Rng& rng,
                                   const std::vector<std::string>& servers,
                                   const std::vector<std::string>& all_nodes);

class Nemesis {
 public:
  explicit Nemesis(sim::World& world) : world_(world) {}

  // A fault may name the target "leader", resolved when the fault applies:
  // a system whose servers elect a leader says who leads (empty: nobody,
  // and then "leader" targets no node). Without a finder it targets none.
  void set_leader_finder(std::function<std::string()> finder) {
    set_target_finder(leader_target, std::move(finder));
  }
  void set_target_finder(const std::string& target, std::function<std::string()> finder) {
    finders_[target] = std::move(finder);
  }

  // Schedules every fault that starts before stop_ms.
  void schedule(const std::vector<FaultSpec>& faults, std::int64_t stop_ms);
  // Ends the fault phase: undoes every fault still in force.
  void stop();

  bool corruption_injected() const { return corruption_injected_; }
  const std::vector<AppliedFault>& log() const { return log_; }
  // The faults as applied, with "leader"-style targets resolved to the
  // nodes they hit (the durability contract judges these).
  const std::vector<FaultSpec>& applied() const { return applied_; }

 private:
  void apply(const FaultSpec& f);
  void apply_node_fault(const FaultSpec& f, const std::vector<int>& nodes);
  void apply_disk_fault(const FaultSpec& f, int node);
  void undo_later(const FaultSpec& f, Callback undo);
  void cut(int from, int to);
  void uncut(int from, int to);
  void partition(const std::vector<int>& a, const std::vector<int>& b, bool both_ways,
                 const FaultSpec& f);
  int node_id(const std::string& name) const;
  std::vector<int> node_ids(const std::vector<std::string>& names) const;
  std::vector<std::string> resolve(const std::vector<std::string>& names) const;
  void note(const std::string& what);

  sim::World& world_;
  std::map<std::string, std::function<std::string()>> finders_;
  bool stopped_ = false;
  bool corruption_injected_ = false;
  std::map<std::pair<int, int>, int> cuts_;
  std::map<int, int> crashed_;  // node -> outstanding crash faults
  std::map<int, int> paused_;
  std::map<int, sim::DiskConfig> saved_disk_;  // node -> config before faults
  std::map<int, int> disk_faults_;
  std::vector<AppliedFault> log_;
  std::vector<FaultSpec> applied_;
};

}  // namespace castle::scenarios
