// Partition leader-election linearizability over synthetic broker traces
// (metadata.partition, replica.leader, replica.append, replica.ack): the
// failovers a correct Kafka produces pass, including the surprising ones
// (an acks=all answered after the next election was applied, or even
// after the next leader took over), and each anomaly is found in a trace
// that has it.
#include <gtest/gtest.h>

#include "checkers/replication_invariants.h"

namespace castle::checkers {
namespace {

// Brokers s0, s1, s2 have ids 0, 1, 2.
class LeaderTrace {
 public:
  LeaderTrace& record(const std::string& node, int epoch, int leader, int partition = 0) {
    return ev(node, "metadata.partition", partition, {{"leader", leader}, {"epoch", epoch}});
  }
  // The record applied on every node, in order.
  LeaderTrace& elect(int epoch, int leader, int partition = 0) {
    for (const char* n : {"s0", "s1", "s2"}) record(n, epoch, leader, partition);
    return *this;
  }
  LeaderTrace& lead(const std::string& node, int epoch, int leo, int partition = 0) {
    const int id = node[1] - '0';
    return ev(node, "replica.leader", partition, {{"epoch", epoch}, {"leo", leo}, {"id", id}});
  }
  LeaderTrace& append(const std::string& node, int base, int last, int partition = 0) {
    return ev(node, "replica.append", partition, {{"base", base}, {"last", last}, {"crc", base}});
  }
  LeaderTrace& ack(const std::string& node, int epoch, int base, int last, int partition = 0) {
    return ev(node, "replica.ack", partition, {{"epoch", epoch}, {"base", base}, {"last", last}});
  }
  // A batch the leader appends, both followers fetch, and the leader acks.
  LeaderTrace& produce(const std::string& leader, int epoch, int base, int last, int partition = 0) {
    for (const char* n : {"s0", "s1", "s2"})
      if (n != leader) append(n, base, last, partition);
    return ack(leader, epoch, base, last, partition);
  }
  LeaderTrace& crash(const std::string& node) {
    events_.push_back({node, now(), "node.crash", {}});
    return *this;
  }

  std::vector<Anomaly> check() const {
    auto inv = partition_leader_linearizable();
    for (const auto& e : events_) inv->observe(e);
    return inv->finish();
  }
  const std::vector<TraceEvent>& events() const { return events_; }

 private:
  LeaderTrace& ev(const std::string& node, const std::string& kind, int partition,
            std::vector<TraceField> f) {
    f.emplace_back("topic", "t");
    f.emplace_back("partition", partition);
    events_.push_back({node, now(), kind, std::move(f)});
    return *this;
  }
  std::int64_t now() const { return static_cast<std::int64_t>(events_.size()); }

  std::vector<TraceEvent> events_;
};

using Types = std::vector<std::string>;

Types types(const std::vector<Anomaly>& anomalies) {
  Types out;
  for (const auto& a : anomalies) out.push_back(a.type);
  return out;
}

std::string text(const std::vector<Anomaly>& anomalies) {
  std::string s;
  for (const auto& a : anomalies) s += a.type + " " + a.key + ": " + a.description + "\n";
  return s;
}

// s0 leads epoch 1 and acks [0..2] with both followers holding it.
LeaderTrace s0_leads() {
  LeaderTrace t;
  t.elect(1, 0).lead("s0", 1, 0).append("s0", 0, 2).produce("s0", 1, 0, 2);
  return t;
}

TEST(PartitionLeaderRegister, ACleanFailoverPasses) {
  LeaderTrace t = s0_leads();
  t.record("s1", 2, 1).record("s2", 2, 1).lead("s1", 2, 3);
  t.append("s1", 3, 4).produce("s1", 2, 3, 4).record("s0", 2, 1);  // s0 applies it last
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
}

// The controller committed epoch 2 (s2 applied it) before s0, not knowing
// yet, took a produce; s1 fetched the batch as s0's follower, then applied
// the record and took up epoch 2. The append and the ack lie between the
// election's first application and s1 leading: legal.
TEST(PartitionLeaderRegister, AnAckAfterTheNextElectionWasAppliedPasses) {
  LeaderTrace t;
  t.elect(1, 0).lead("s0", 1, 0).record("s2", 2, 1);
  t.append("s0", 0, 2).append("s1", 0, 2).ack("s0", 1, 0, 2);
  t.record("s1", 2, 1).lead("s1", 2, 3).record("s0", 2, 1);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
}

// s1's fetch past the batch was sent before it took up epoch 2 but reached
// s0 after: s0's high watermark moves and the ack is traced after s1 leads.
// Legal, as the append came before s1's election.
TEST(PartitionLeaderRegister, AnAckTracedAfterTheNextLeaderTookOverPassesIfAppendedBefore) {
  LeaderTrace t;
  t.elect(1, 0).lead("s0", 1, 0).append("s0", 0, 2).append("s1", 0, 2);
  t.elect(2, 1).lead("s1", 2, 3).ack("s0", 1, 0, 2);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
}

// s0 takes and acknowledges a produce at epoch 1 after s1 leads epoch 2:
// an acks=all answered without the ISR (s1 never fetched it).
TEST(PartitionLeaderRegister, AnAckAppendedAfterTheNextLeaderTookOverIsStale) {
  LeaderTrace t = s0_leads();
  t.elect(2, 1).lead("s1", 2, 3).append("s0", 3, 4).ack("s0", 1, 3, 4);
  const auto a = t.check();
  ASSERT_EQ(types(a), Types{"stale-leader"}) << text(a);
  EXPECT_EQ(a[0].key, "t-0");
  EXPECT_TRUE(a[0].ops.empty()) << "event numbers are not history operations";
  EXPECT_NE(a[0].description.find("trace events #"), std::string::npos) << a[0].description;
}

TEST(PartitionLeaderRegister, TwoRecordsOfOneEpochNamingDifferentLeadersAreSplitBrain) {
  LeaderTrace t = s0_leads();
  t.record("s1", 2, 1).record("s2", 2, 2);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{"split-brain"}) << text(a);
}

TEST(PartitionLeaderRegister, LeadingOrAckingAtAnEpochNoRecordWroteIsAPhantom) {
  LeaderTrace t = s0_leads();
  t.lead("s2", 3, 3);  // no record of epoch 3
  auto a = t.check();
  EXPECT_EQ(types(a), Types{"phantom-leader"}) << text(a);
  // Epoch 2's record names s1: s2 leading it, or s0 acking at it, is a phantom.
  t = s0_leads();
  t.elect(2, 1).lead("s1", 2, 3).lead("s2", 2, 3).append("s0", 3, 3).ack("s0", 2, 3, 3);
  a = t.check();
  EXPECT_EQ(types(a), (Types{"phantom-leader", "phantom-leader"})) << text(a);
}

// s0 crashes, replays the metadata log (the records again) and leads
// epoch 1 once more; then a failover to s1.
TEST(PartitionLeaderRegister, ARestartReLeadingTheSameEpochPasses) {
  LeaderTrace t = s0_leads();
  t.crash("s0").record("s0", 1, 0).lead("s0", 1, 3).append("s0", 3, 4).produce("s0", 1, 3, 4);
  t.elect(2, 1).lead("s1", 2, 5).append("s1", 5, 5).produce("s1", 2, 5, 5);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
}

// A restarted s0 re-taking epoch 1 after s1 took up epoch 2 reads a
// deposed leadership.
TEST(PartitionLeaderRegister, ARestartReLeadingADeposedEpochIsStale) {
  LeaderTrace t = s0_leads();
  t.elect(2, 1).lead("s1", 2, 3).crash("s0").record("s0", 1, 0).lead("s0", 1, 3);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{"stale-leader"}) << text(a);
}

// s0's replica comes back from offline while s0's metadata still says
// epoch 1 (s1 took up epoch 2 meanwhile): taking epoch 1 up again in the
// same incarnation is a lagging broker's take-up, no read; an acks=all it
// answered there would still be one, and stale.
TEST(PartitionLeaderRegister, TakingAnEpochUpAgainWithoutARestartIsNoRead) {
  LeaderTrace t = s0_leads();
  t.elect(2, 1).lead("s1", 2, 3).lead("s0", 1, 3);
  auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
  t.append("s0", 3, 3).ack("s0", 1, 3, 3);
  a = t.check();
  EXPECT_EQ(types(a), Types{"stale-leader"}) << text(a);
}

// An election applied but never taken up may not have happened: s0 going
// on at epoch 1 is no anomaly while nobody leads epoch 2.
TEST(PartitionLeaderRegister, AnElectionNobodyTookUpIsOfUnknownOutcome) {
  LeaderTrace t = s0_leads();
  t.elect(2, 1).append("s0", 3, 4).produce("s0", 1, 3, 4);
  const auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
}

// Partition 1 stays with s0 at epoch 1 while partition 0 moves to s1 at
// epoch 2, and partition 1's epoch 2 later names s2.
TEST(PartitionLeaderRegister, PartitionsAreIndependentRegisters) {
  LeaderTrace t = s0_leads();
  t.elect(1, 0, 1).lead("s0", 1, 0, 1);
  t.elect(2, 1).lead("s1", 2, 3);
  t.append("s0", 0, 0, 1).produce("s0", 1, 0, 0, 1);  // partition 1: not stale
  t.elect(2, 2, 1).lead("s2", 2, 1, 1);                // not split brain with partition 0
  auto a = t.check();
  EXPECT_EQ(types(a), Types{}) << text(a);
  // The same acks at epoch 1 on partition 0 would be stale.
  t.append("s0", 3, 3).ack("s0", 1, 3, 3);
  a = t.check();
  ASSERT_EQ(types(a), Types{"stale-leader"}) << text(a);
  EXPECT_EQ(a[0].key, "t-0");
}

TEST(PartitionLeaderRegister, AddReplicationInvariantsAddsBoth) {
  LeaderTrace t = s0_leads();
  t.lead("s1", 1, 3);  // a second leader of epoch 1
  InvariantSet set;
  add_replication_invariants(set);
  for (const auto& e : t.events()) set.observe(e);
  CheckResult r;
  set.finish(r);
  EXPECT_EQ(r.counts.count("partition-split-brain"), 1u) << text(r.anomalies);
  EXPECT_EQ(r.counts.count("phantom-leader"), 1u) << text(r.anomalies);
}

}  // namespace
}  // namespace castle::checkers
