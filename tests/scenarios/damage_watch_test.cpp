// DamageWatch: a partition counts as unreachable only while every member of
// its latest ISR has a damaged replica on a node whose disk was flipped.
#include <gtest/gtest.h>

#include "scenarios/damage_watch.h"

namespace castle::scenarios {
namespace {

TraceEvent isr(std::int64_t partition_epoch, const char* members, const char* elr = "",
               const char* replicas = "0,1,2") {
  return TraceEvent{"s0", 0, "metadata.partition",
                    {{"topic", "t"}, {"partition", 5}, {"partition_epoch", partition_epoch}, {"isr", members},
                     {"elr", elr}, {"replicas", replicas}}};
}

TraceEvent offline(const char* node, bool damaged) {
  return TraceEvent{node, 0, "broker.partition_offline", {{"dir", "kafka-logs/t-5"}, {"damaged", damaged}}};
}

std::vector<std::string> unreachable(const DamageWatch& w, const std::set<std::string>& flipped,
                                     bool unclean = false) {
  std::set<std::string> partitions;
  auto why = w.unavailable(flipped, unclean, &partitions);
  EXPECT_EQ(why.size(), partitions.size());
  return why;
}

TEST(DamageWatch, APartitionIsUnreachableOnlyWhileItsWholeIsrIsDamaged) {
  DamageWatch w;
  w.observe(isr(1, "0,1"));
  w.observe(offline("s0", true));
  EXPECT_TRUE(unreachable(w, {"s0", "s1"}).empty()) << "s1 is an undamaged ISR member";
  w.observe(isr(2, "0"));
  EXPECT_EQ(unreachable(w, {"s0"}), std::vector<std::string>{"t-5: every eligible replica (s0) is damaged"});
  EXPECT_TRUE(unreachable(w, {"s1"}).empty()) << "no bit flip on s0: damage it cannot explain";
  w.observe(isr(1, "0,1"));  // an older record changes nothing
  EXPECT_EQ(unreachable(w, {"s0"}).size(), 1u);
  w.observe(TraceEvent{"s0", 0, "broker.partition_online", {{"dir", "kafka-logs/t-5"}}});
  EXPECT_TRUE(unreachable(w, {"s0"}).empty()) << "salvaged";
}

// The ELR may elect too; with unclean election, any replica.
TEST(DamageWatch, EligibleReplicasAndUncleanElectionCount) {
  DamageWatch w;
  w.observe(isr(3, "", "0,1", "0,1,2"));
  w.observe(offline("s0", true));
  EXPECT_TRUE(unreachable(w, {"s0", "s1"}).empty()) << "s1 of the ELR is undamaged";
  w.observe(offline("s1", true));
  EXPECT_EQ(unreachable(w, {"s0", "s1"}), std::vector<std::string>{"t-5: every eligible replica (s0,s1) is damaged"});
  EXPECT_TRUE(unreachable(w, {"s0", "s1"}, true).empty()) << "unclean election may elect s2";
  w.observe(offline("s2", true));
  EXPECT_EQ(unreachable(w, {"s0", "s1", "s2"}, true),
            std::vector<std::string>{"t-5: every replica (s0,s1,s2) is damaged"});
}

// The metadata quorum is lost only while every voter repairs (none
// campaigns then); observers do not count.
TEST(DamageWatch, TheQuorumIsUnavailableOnlyWhileEveryVoterRepairs) {
  DamageWatch w;
  auto role = [&](const char* node, const char* r) {
    w.observe(TraceEvent{node, 0, "raft.role", {{"role", r}}});
  };
  auto repair = [&](const char* node, const char* state) {
    w.observe(TraceEvent{node, 0, "raft.repair", {{"state", state}}});
  };
  role("s0", "follower");
  role("s1", "leader");
  role("s2", "observer");
  repair("s0", "begun");
  EXPECT_EQ(w.quorum_unavailable({"s0", "s1"}), "");
  repair("s1", "begun");
  EXPECT_EQ(w.quorum_unavailable({"s0", "s1"}), "every metadata quorum voter (s0,s1) is repairing a damaged log");
  EXPECT_EQ(w.quorum_unavailable({"s0"}), "") << "no bit flip on s1";
  repair("s0", "done");
  EXPECT_EQ(w.quorum_unavailable({"s0", "s1"}), "");
}

TEST(DamageWatch, OfflineForAnotherReasonIsNotDamage) {
  DamageWatch w;
  w.observe(isr(1, "2"));
  w.observe(offline("s2", false));
  w.observe(TraceEvent{"s2", 0, "broker.partition_recovery_failed", {{"dir", "kafka-logs/t-5"}, {"damaged", false}}});
  EXPECT_TRUE(unreachable(w, {"s2"}).empty());
  w.observe(TraceEvent{"s2", 0, "broker.partition_recovery_failed", {{"dir", "kafka-logs/t-5"}, {"damaged", true}}});
  EXPECT_EQ(unreachable(w, {"s2"}).size(), 1u);
}

}  // namespace
}  // namespace castle::scenarios
