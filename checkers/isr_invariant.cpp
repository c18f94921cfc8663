// The ISR invariant of the metadata: every ISR the controller commits names
// only alive brokers (registered, unfenced, not in controlled shutdown), as
// the image applying it saw them. The controller removes a broker from
// every ISR in the same decision that fences it or begins its shutdown
// (the broker record first, then the partition changes), elects only alive
// brokers, and refuses AlterPartition members that are not alive (Kafka's
// KIP-841). Checked at each metadata.partition event against the
// metadata.broker events the same node applied before it, so a broker
// record and the partition changes after it in one decision are seen in
// their order; partitions a decision leaves alone are not traced and not
// checked, which is right because their ISRs were checked when they last
// changed and the decision that fenced a member changed them.
#include <map>
#include <set>
#include <tuple>

#include "checkers/replication_invariants.h"
#include "checkers/trace_keys.h"

namespace castle::checkers {

namespace {

class IsrMembersAlive : public TraceInvariant {
 public:
  std::string name() const override { return "isr-members-alive"; }

  void observe(const TraceEvent& e) override {
    if (e.kind == "node.crash") {
      // The restarted node rebuilds its image from its disk, tracing every
      // record (or the snapshot) again.
      alive_.erase(e.node);
    } else if (e.kind == "metadata.broker") {
      const TraceValue* a = e.find("alive");
      alive_[e.node][e.int_field("broker")] = a != nullptr && std::get_if<bool>(a) && *std::get_if<bool>(a);
    } else if (e.kind == "metadata.partition" && e.find("isr") != nullptr && !from_snapshot(e)) {
      // A snapshot may be taken between a decision's broker record and its
      // partition changes; its states were checked when they were applied.
      check(e);
    }
  }

  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  void check(const TraceEvent& e) {
    const std::string key = e.str_field("topic") + "-" + std::to_string(e.int_field("partition"));
    const auto& alive = alive_[e.node];
    for (std::int64_t id : parse_id_list(e.str_field("isr"))) {
      auto it = alive.find(id);
      if (it != alive.end() && it->second) continue;
      // Every node applies the same record: report it once.
      const auto at = std::make_tuple(key, e.int_field("epoch"), e.int_field("partition_epoch"), id);
      if (!reported_.insert(at).second) continue;
      anomalies_.push_back(
          {"isr-member-not-alive", key,
           "node " + e.node + " applied ISR {" + e.str_field("isr") + "} at leader epoch " +
               std::to_string(e.int_field("epoch")) + ", partition epoch " +
               std::to_string(e.int_field("partition_epoch")) + " (event at " +
               std::to_string(e.time_ns) + " ns) naming broker " + std::to_string(id) + ", which " +
               (it == alive.end() ? "it never saw registered" : "is fenced or shutting down"),
           {}});
    }
  }

  std::map<std::string, std::map<std::int64_t, bool>> alive_;  // node -> broker -> alive
  std::set<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t>> reported_;
  std::vector<Anomaly> anomalies_;
};

}  // namespace

std::unique_ptr<TraceInvariant> isr_members_alive() { return std::make_unique<IsrMembersAlive>(); }

}  // namespace castle::checkers
