// Leadership as clients see it. Metadata is eventually consistent in Kafka
// (a broker behind on the metadata log names a leader already replaced),
// so what a client is told is not a linearizable read of the partition's
// (leader epoch, leader) register (partition_leader_register.cpp says why
// it is left out there). Two things about it do hold, and are checked at
// each client.leader event (a client took up a partition's leader):
//
//   client-phantom-leader   the client holds (epoch, leader) that no node
//                           applied a committed partition record for: a
//                           broker answered Metadata with a leader nobody
//                           elected. Sound because a broker only tells
//                           what its image applied, and applying traces
//                           metadata.partition before the answer leaves.
//   client-epoch-regressed  the client went back to an older leader epoch
//                           of the partition. Kafka's clients keep the
//                           newer view when a lagging broker describes an
//                           older epoch (KIP-320), or they would fetch from
//                           a deposed leader.
//
// The event names the epoch the client held before (previous_epoch): one
// node may run several clients (a producer and a consumer), each with its
// own metadata, so the node's events alone do not tell one client's
// regression from two clients at different epochs.
#include <map>
#include <set>

#include "checkers/replication_invariants.h"

namespace castle::checkers {

namespace {

class ClientLeaders : public TraceInvariant {
 public:
  std::string name() const override { return "client-leaders"; }

  void observe(const TraceEvent& e) override {
    if (e.kind == "metadata.partition") {
      const std::int64_t leader = e.int_field("leader", -1);
      if (leader >= 0) elected_[key_of(e)].insert({e.int_field("epoch"), leader});
    } else if (e.kind == "client.leader") {
      check(e);
    }
  }

  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  static std::string key_of(const TraceEvent& e) {
    return e.str_field("topic") + "-" + std::to_string(e.int_field("partition"));
  }

  void check(const TraceEvent& e) {
    const std::string key = key_of(e);
    const std::int64_t epoch = e.int_field("epoch", -1);
    const std::int64_t previous = e.int_field("previous_epoch", -1);
    const std::int64_t leader = e.int_field("leader", -1);
    const std::string at = " (client on " + e.node + " at " + std::to_string(e.time_ns) + " ns)";
    if (epoch < 0) return;  // a broker too old to send epochs: nothing to hold it to
    if (epoch < previous) {
      anomalies_.push_back({"client-epoch-regressed", key,
                            "leader epoch went from " + std::to_string(previous) + " to " +
                                std::to_string(epoch) + at,
                            {}});
    }
    if (leader >= 0 && elected_[key].count({epoch, leader}) == 0) {
      anomalies_.push_back({"client-phantom-leader", key,
                            "leader " + std::to_string(leader) + " at epoch " +
                                std::to_string(epoch) + " was never elected" + at,
                            {}});
    }
  }

  std::map<std::string, std::set<std::pair<std::int64_t, std::int64_t>>> elected_;  // key -> (epoch, leader)
  std::vector<Anomaly> anomalies_;
};

}  // namespace

std::unique_ptr<TraceInvariant> client_leaders_consistent() { return std::make_unique<ClientLeaders>(); }

}  // namespace castle::checkers
