// Replication state invariants over synthetic replica.* traces: a correct
// replication passes (including a follower that cuts an uncommitted tail
// and fetches it again), and each anomaly is found in a trace that has it.
#include <gtest/gtest.h>

#include "checkers/replication_invariants.h"

namespace castle::checkers {
namespace {

class Trace {
 public:
  Trace& ev(const std::string& node, const std::string& kind, std::vector<TraceField> f) {
    if (kind != "node.crash") {
      f.emplace_back("topic", "t");
      f.emplace_back("partition", 0);
    }
    events_.push_back({node, static_cast<std::int64_t>(events_.size()), kind, std::move(f)});
    return *this;
  }
  Trace& append(const std::string& node, int base, int last, int crc) {
    return ev(node, "replica.append", {{"base", base}, {"last", last}, {"crc", crc}});
  }
  Trace& hw(const std::string& node, int hw) { return ev(node, "replica.hw", {{"hw", hw}}); }
  Trace& leader(const std::string& node, int epoch, int leo) {
    return ev(node, "replica.leader", {{"epoch", epoch}, {"leo", leo}});
  }
  // node, leading epoch, asks to add broker, whose log end it knows as leo.
  Trace& expand(const std::string& node, int epoch, int broker, int leo) {
    return ev(node, "replica.isr_expand", {{"epoch", epoch}, {"broker", broker}, {"leo", leo}});
  }
  Trace& durable(const std::string& node, int end) { return ev(node, "replica.durable", {{"end", end}}); }
  Trace& ack(const std::string& node, int epoch, int base, int last) {
    return ev(node, "replica.ack", {{"epoch", epoch}, {"base", base}, {"last", last}});
  }
  Trace& registered(const std::string& node, int id) { return ev(node, "broker.registered", {{"id", id}}); }
  // node applies partition epoch pe: leader broker `leader` of `epoch`, this ISR.
  Trace& record(const std::string& node, int leader, int epoch, int pe, const std::string& isr) {
    return ev(node, "metadata.partition",
              {{"leader", leader}, {"epoch", epoch}, {"partition_epoch", pe}, {"isr", isr}});
  }

  std::vector<std::string> check(ReplicationInvariantOptions o = {}) const {
    auto inv = replication_invariants(o);
    for (const auto& e : events_) inv->observe(e);
    std::vector<std::string> types;
    for (const auto& a : inv->finish()) types.push_back(a.type);
    return types;
  }

 private:
  std::vector<TraceEvent> events_;
};

// s0 leads epoch 1 and commits [0..2] and [3..4] with s1 following.
Trace healthy() {
  Trace t;
  t.leader("s0", 1, 0).append("s0", 0, 2, 11).append("s0", 3, 4, 12);
  t.append("s1", 0, 2, 11).append("s1", 3, 4, 12).hw("s0", 5).hw("s1", 5);
  return t;
}

using Types = std::vector<std::string>;

TEST(ReplicationInvariants, HealthyReplicationPasses) {
  EXPECT_EQ(healthy().check(), Types{});
  // s1 took over with everything committed; s0 had an uncommitted tail
  // [5..6], cuts it when following, and fetches s1's batch instead.
  Trace t = healthy();
  t.append("s0", 5, 6, 99).leader("s1", 2, 5).append("s1", 5, 6, 13).hw("s1", 7);
  t.ev("s0", "replica.truncate", {{"offset", 5}}).append("s0", 5, 6, 13).hw("s0", 7);
  EXPECT_EQ(t.check(), Types{});
}

TEST(ReplicationInvariants, ADifferentBatchBelowTheHighWatermarkIsDivergence) {
  Trace t;
  t.leader("s0", 1, 0).append("s0", 0, 2, 11).append("s1", 0, 2, 77).hw("s0", 3).hw("s1", 3);
  EXPECT_EQ(t.check(), Types{"replica-divergence"});
  EXPECT_EQ(t.check({.committed_may_be_lost = false, .corruption_injected = true}), Types{});
  // Other batch boundaries over the same offsets diverge too.
  Trace u;
  u.append("s0", 0, 2, 11).append("s1", 0, 1, 11).append("s1", 2, 2, 11).hw("s0", 3).hw("s1", 3);
  EXPECT_EQ(u.check(), (Types{"replica-divergence", "replica-divergence"}));  // one per batch
}

TEST(ReplicationInvariants, TwoLeadersOfOneEpochIsSplitBrain) {
  Trace t = healthy();
  t.leader("s1", 1, 5);
  EXPECT_EQ(t.check(), Types{"partition-split-brain"});
}

TEST(ReplicationInvariants, HighWatermarkGoesBackOnlyAcrossACrash) {
  Trace t = healthy();
  t.hw("s0", 3);
  EXPECT_EQ(t.check(), Types{"hw-went-back"});
  Trace u = healthy();
  u.ev("s0", "node.crash", {}).ev("s0", "replica.open", {{"leo", 5}}).hw("s0", 3);
  EXPECT_EQ(u.check(), Types{});
}

// A leader's log reopened without a crash (offline for damage, say) below
// its high watermark lost what it committed: its own kind, for the
// durability contract to judge (cluster-swarm-disk: a bit flip cut the only
// replica). What it then leads from is the reopened end; its watermark
// still never goes back within the opening.
TEST(ReplicationInvariants, AReopenBelowTheHighWatermarkIsItsOwnLoss) {
  Trace t = healthy();
  t.ev("s0", "replica.open", {{"leo", 3}}).hw("s0", 3).hw("s0", 4);
  EXPECT_EQ(t.check(), Types{"reopen-below-hw"});
  Trace u = healthy();
  u.ev("s0", "replica.open", {{"leo", 3}}).hw("s0", 4).hw("s0", 3);
  EXPECT_EQ(u.check(), (Types{"reopen-below-hw", "hw-went-back"}));
  Trace v = healthy();
  v.ev("s0", "replica.open", {{"leo", 5}}).hw("s0", 5);
  EXPECT_EQ(v.check(), Types{});
}

// A follower salvaged below its high watermark starts again from the
// log's own; elected next (uncleanly: what it lost is the contract's
// business, leader-missing-committed), it leads from there, and its high
// watermark goes back only against that (cluster-swarm-disk 1044).
TEST(ReplicationInvariants, AFollowerReopenedBelowItsHighWatermarkLeadsFromTheReopenedOne) {
  ReplicationInvariantOptions lossy;
  lossy.committed_may_be_lost = true;
  Trace t = healthy();
  t.ev("s1", "replica.open", {{"leo", 3}, {"hw", 3}}).leader("s1", 2, 3).hw("s1", 4);
  EXPECT_EQ(t.check(lossy), Types{});
  Trace u = healthy();
  u.ev("s1", "replica.open", {{"leo", 3}, {"hw", 3}}).leader("s1", 2, 3).hw("s1", 4).hw("s1", 3);
  EXPECT_EQ(u.check(lossy), Types{"hw-went-back"});
}

// A leader that applies another broker's election resigns then, before the
// new leader's replica.leader: its damaged log, salvaged once its image no
// longer counts on it, is a follower's cut (cluster-swarm-disk seed 33).
// An election of itself, or an older one replayed, leaves it leading.
TEST(ReplicationInvariants, ALeaderAppliesItsDepositionBeforeTheNewLeaderTakesUp) {
  auto deposed = [](int leader, int epoch) {
    Trace t;
    t.registered("s0", 0).registered("s1", 1);
    t.leader("s0", 1, 0).append("s0", 0, 2, 11).append("s1", 0, 2, 11).hw("s0", 3).hw("s1", 3);
    t.record("s0", leader, epoch, 2, "1").ev("s0", "replica.open", {{"leo", 1}});
    return t.check();
  };
  EXPECT_EQ(deposed(1, 2), Types{});
  EXPECT_EQ(deposed(0, 1), Types{"reopen-below-hw"});
  EXPECT_EQ(deposed(1, 0), Types{"reopen-below-hw"});
}

TEST(ReplicationInvariants, AFollowersHighWatermarkMayGoBackALeadersMayNot) {
  // s1 follows: it copies what its leader says, and a new leader may know less.
  Trace t = healthy();
  t.hw("s1", 4);
  EXPECT_EQ(t.check(), Types{});
  // Once s1 leads, its own high watermark is the partition's.
  Trace u = healthy();
  u.leader("s1", 2, 5).hw("s1", 6).hw("s1", 5);
  EXPECT_EQ(u.check(), Types{"hw-went-back"});
  // s0 was deposed by s1's election: from then on it is a follower.
  Trace v = healthy();
  v.leader("s1", 2, 5).hw("s0", 4);
  EXPECT_EQ(v.check(), Types{});
}

// A broker whose image lags leads an epoch already superseded for a
// moment (cluster-swarm seed 99205): the newer leader stays the leader,
// and the lagging one's high watermark, a follower's, may go back. The
// newer leader's may not.
TEST(ReplicationInvariants, AStaleLeadershipDoesNotMakeItsBrokerTheLeader) {
  Trace t = healthy();
  t.leader("s1", 3, 5).leader("s0", 2, 5).hw("s0", 4);
  EXPECT_EQ(t.check(), Types{});
  Trace u = healthy();
  u.leader("s1", 3, 5).leader("s0", 2, 5).hw("s1", 6).hw("s1", 5);
  EXPECT_EQ(u.check(), Types{"hw-went-back"});
}

// A follower that truncated below its high watermark (what it had
// committed was lost: the loss checks judge that) leads later from the
// watermark its log allows (cluster-swarm seed 66128). A leader cutting
// below its own high watermark is still caught.
TEST(ReplicationInvariants, AFollowersTruncationLowersTheHighWatermarkItLeadsFrom) {
  Trace t = healthy();
  t.leader("s2", 2, 0).ev("s0", "replica.truncate", {{"offset", 0}}).leader("s0", 3, 0).hw("s0", 1);
  EXPECT_EQ(t.check({.committed_may_be_lost = true}), Types{});
  Trace u = healthy();
  u.ev("s0", "replica.truncate", {{"offset", 3}}).hw("s0", 3);
  EXPECT_EQ(u.check({.committed_may_be_lost = true}), Types{"hw-went-back"});
}

TEST(ReplicationInvariants, CommittedRecordsGoneFromEveryReplicaAfterCrashesAreWitnessed) {
  // s1 lost its unsynced tail in a crash: s0 still holds everything.
  Trace t = healthy();
  t.ev("s1", "node.crash", {}).ev("s1", "replica.open", {{"leo", 3}});
  EXPECT_EQ(t.check(), Types{});
  // Then s0 too: no copy of [3..4] is left below the high watermark 5.
  t.ev("s0", "node.crash", {}).ev("s0", "replica.open", {{"leo", 3}});
  EXPECT_EQ(t.check(), Types{"committed-lost-in-crashes"});
  // A truncation is no crash: it is not evidence of a loss.
  Trace u = healthy();
  u.ev("s1", "replica.truncate", {{"offset", 3}}).ev("s0", "replica.truncate", {{"offset", 3}});
  EXPECT_EQ(u.check(), Types{});
}

TEST(ReplicationInvariants, ALeaderWithoutTheCommittedRecordsIsCaught) {
  Trace t = healthy();
  t.leader("s2", 2, 3);
  EXPECT_EQ(t.check(), Types{"leader-missing-committed"});
  EXPECT_EQ(t.check({.committed_may_be_lost = true}), Types{});
}

TEST(ReplicationInvariants, AStaleEpochTakenUpOnMetadataReplayNeedsOnlyWhatWasCommittedBeforeIt) {
  // s1 leads epoch 3 and commits [5..6]; s2, cut off, replays the metadata
  // log afterwards and leads epoch 2 for a moment with the log of then.
  Trace t = healthy();
  t.leader("s1", 3, 5).append("s1", 5, 6, 13).hw("s1", 7).leader("s2", 2, 5);
  EXPECT_EQ(t.check(), Types{});
  // Missing what was committed before epoch 3 began is still caught.
  Trace u = healthy();
  u.leader("s1", 3, 5).append("s1", 5, 6, 13).hw("s1", 7).leader("s2", 2, 4);
  EXPECT_EQ(u.check(), Types{"leader-missing-committed"});
}

// Brokers 0, 1, 2 on s0, s1, s2; s0 leads epoch 1 with ISR {0,1} and
// commits [0..4] (healthy()); s2 has only [0..2] and is outside the ISR.
Trace with_lagging_s2() {
  Trace t;
  t.registered("s0", 0).registered("s1", 1).registered("s2", 2);
  t.record("s0", 0, 1, 0, "0,1,2").record("s0", 0, 1, 1, "0,1");
  t.leader("s0", 1, 0).append("s0", 0, 2, 11).append("s0", 3, 4, 12);
  t.append("s1", 0, 2, 11).append("s1", 3, 4, 12).append("s2", 0, 2, 11).hw("s0", 5).hw("s1", 5);
  return t;
}

TEST(ReplicationInvariants, AnIsrExpansionAddsOnlyAMemberHoldingEverythingCommitted) {
  // s2 catches up, then the leader adds it back: fine, and every other
  // node applying the same record later is not checked again.
  Trace ok = with_lagging_s2();
  ok.append("s2", 3, 4, 12).record("s0", 0, 1, 2, "0,1,2").record("s1", 0, 1, 2, "0,1,2");
  EXPECT_EQ(ok.check(), Types{});
  // Added while it still lacks [3..4], committed: caught, once.
  Trace early = with_lagging_s2();
  early.record("s0", 0, 1, 2, "0,1,2").record("s1", 0, 1, 2, "0,1,2");
  EXPECT_EQ(early.check(), Types{"isr-member-missing-committed"});
  EXPECT_EQ(early.check({.committed_may_be_lost = true}), Types{});
  // A node that crashed during the epoch may have lost a tail it had when
  // the leader looked: not checked.
  Trace crashed = with_lagging_s2();
  crashed.ev("s2", "node.crash", {}).record("s0", 0, 1, 2, "0,1,2");
  EXPECT_EQ(crashed.check(), Types{});
  // An election names a new ISR (a new epoch): leader-missing-committed's
  // to judge, not this invariant's.
  Trace elected = with_lagging_s2();
  elected.record("s0", 1, 2, 2, "1,2");
  EXPECT_EQ(elected.check(), Types{});
}

// A crash may bring back what a truncation cut without making the cut
// durable (cluster-swarm seed 87102): the log end the replica reopens with
// counts, though the batches it got back are not known here.
TEST(ReplicationInvariants, AReopenedLogEndCountsForAnAddedMember) {
  // s2's crash comes before epoch 2, in which s0 adds it back.
  for (const bool crash : {true, false}) {
    Trace t = with_lagging_s2();
    t.append("s2", 3, 4, 12).ev("s2", "replica.truncate", {{"offset", 3}});
    if (crash) t.ev("s2", "node.crash", {}).ev("s2", "replica.open", {{"leo", 5}});
    t.record("s0", 0, 2, 2, "0,1").leader("s0", 2, 5).record("s0", 0, 2, 3, "0,1,2");
    EXPECT_EQ(t.check(), crash ? Types{} : Types{"isr-member-missing-committed"}) << crash;
  }
}

TEST(ReplicationInvariants, AnIsrExpansionIsAskedForOnlyOnceTheMemberReachedTheCommittedOffset) {
  // The leader asks once s2's fetches reached 5, the committed offset.
  Trace ok = with_lagging_s2();
  ok.expand("s0", 1, 2, 5);
  EXPECT_EQ(ok.check(), Types{});
  // Asked at 3, below it: caught at the asking, though s2 then fetches
  // [3..4] before the change commits (the commit-time check sees nothing).
  Trace early = with_lagging_s2();
  early.expand("s0", 1, 2, 3).append("s2", 3, 4, 12).record("s0", 0, 1, 2, "0,1,2");
  EXPECT_EQ(early.check(), Types{"isr-expand-missing-committed"});
  EXPECT_EQ(early.check({.committed_may_be_lost = true}), Types{});
  // A leader whose node crashed during its epoch may act on a superseded
  // epoch with a shorter log: not checked.
  Trace restarted = with_lagging_s2();
  restarted.ev("s0", "node.crash", {}).expand("s0", 1, 2, 3);
  EXPECT_EQ(restarted.check(), Types{});
  // A stale leader needs only what was committed before the next epoch.
  Trace stale = with_lagging_s2();
  stale.record("s0", 1, 2, 2, "1,2").leader("s1", 2, 5).append("s1", 5, 6, 13).hw("s1", 7);
  stale.expand("s0", 1, 2, 5);
  EXPECT_EQ(stale.check(), Types{});
}

// The ISR invariant over metadata.broker and metadata.partition events.
class Metadata {
 public:
  Metadata& broker(const std::string& node, int id, bool alive) {
    return ev(node, "metadata.broker", {{"broker", id}, {"alive", alive}});
  }
  Metadata& isr(const std::string& node, int partition_epoch, const std::string& isr) {
    return ev(node, "metadata.partition",
              {{"topic", "t"}, {"partition", 0}, {"leader", 1}, {"epoch", 0},
               {"partition_epoch", partition_epoch}, {"isr", isr}});
  }
  Metadata& crash(const std::string& node) { return ev(node, "node.crash", {}); }

  std::vector<std::string> check() const {
    auto inv = isr_members_alive();
    for (const auto& e : events_) inv->observe(e);
    std::vector<std::string> types;
    for (const auto& a : inv->finish()) types.push_back(a.type);
    return types;
  }

 private:
  Metadata& ev(const std::string& node, const std::string& kind, std::vector<TraceField> f) {
    events_.push_back({node, static_cast<std::int64_t>(events_.size()), kind, std::move(f)});
    return *this;
  }
  std::vector<TraceEvent> events_;
};

// Brokers 1..3 registered and unfenced on s0 and s1; the ISR is all three.
Metadata three_alive() {
  Metadata m;
  for (const std::string node : {"s0", "s1"}) {
    for (int id = 1; id <= 3; ++id) m.broker(node, id, false).broker(node, id, true);
    m.isr(node, 0, "1,2,3");
  }
  return m;
}

// Brokers 0 and 1 on s0 and s1, ISR {0,1} in epoch 1 led by s0; both
// append [0..2], only the leader has synced it yet.
Trace both_appended() {
  Trace t;
  t.registered("s0", 0).registered("s1", 1).record("s0", 0, 1, 1, "0,1").leader("s0", 1, 0);
  t.append("s0", 0, 2, 11).durable("s0", 3).append("s1", 0, 2, 11);
  return t;
}

TEST(ReplicationInvariants, WithEveryWriteSyncedAnAckNeedsEveryIsrMemberSynced) {
  const ReplicationInvariantOptions synced{.every_write_synced = true};
  Trace ok = both_appended();
  ok.durable("s1", 3).hw("s0", 3).ack("s0", 1, 0, 2);
  EXPECT_EQ(ok.check(synced), Types{});
  // s1 counted for [0..2] it never synced (its flush failed, say).
  Trace unsynced = both_appended();
  unsynced.hw("s0", 3).ack("s0", 1, 0, 2);
  EXPECT_EQ(unsynced.check(synced), Types{"acked-not-durable"});
  EXPECT_EQ(unsynced.check(), Types{}) << "not checked unless every write is synced";
  // A cut takes the synced end down with it.
  Trace cut = both_appended();
  cut.durable("s1", 3).ev("s1", "replica.truncate", {{"offset", 1}}).append("s1", 1, 2, 11);
  cut.hw("s0", 3).ack("s0", 1, 0, 2);
  EXPECT_EQ(cut.check(synced), Types{"acked-not-durable"});
  // A member whose log came back shorter than it had synced (disk damage)
  // may still be counted on its last fetch in this epoch: not checked.
  Trace damaged = both_appended();
  damaged.durable("s1", 3).ev("s1", "replica.open", {{"leo", 1}, {"hw", 0}}).ack("s0", 1, 0, 2);
  EXPECT_EQ(damaged.check(synced), Types{});
  // An ack of an epoch other than the committed ISR's is not checked
  // against that ISR.
  Trace other_epoch = both_appended();
  other_epoch.record("s1", 1, 2, 2, "1").ack("s0", 1, 0, 2);
  EXPECT_EQ(other_epoch.check(synced), Types{});
}

TEST(IsrMembersAlive, FencingAndTheIsrChangeAfterItPass) {
  Metadata m = three_alive();
  // The controller's decision: fence 3, then drop it from the ISR; later
  // 3 is back, unfenced, and the leader adds it again.
  for (const std::string node : {"s0", "s1"})
    m.broker(node, 3, false).isr(node, 1, "1,2").broker(node, 3, true).isr(node, 2, "1,2,3");
  EXPECT_EQ(m.check(), Types{});
  // A restarted node forgets its image and replays it in log order.
  m.crash("s1").broker("s1", 1, true).broker("s1", 2, true).isr("s1", 1, "1,2");
  EXPECT_EQ(m.check(), Types{});
}

TEST(IsrMembersAlive, AFencedMemberIsCaughtOnce) {
  // AlterPartition put fenced 3 back into the ISR: every node applies it,
  // one anomaly.
  Metadata m = three_alive();
  for (const std::string node : {"s0", "s1"})
    m.broker(node, 3, false).isr(node, 1, "1,2").isr(node, 2, "1,2,3");
  EXPECT_EQ(m.check(), Types{"isr-member-not-alive"});
}

TEST(IsrMembersAlive, AMemberNeverRegisteredIsCaught) {
  Metadata m = three_alive();
  m.isr("s0", 1, "1,4");
  EXPECT_EQ(m.check(), Types{"isr-member-not-alive"});
  // After a crash the node's old image counts for nothing: each of the
  // three members is unknown to the image being rebuilt.
  Metadata n = three_alive();
  n.crash("s0").isr("s0", 0, "1,2,3");
  EXPECT_EQ(n.check(), (Types{"isr-member-not-alive", "isr-member-not-alive", "isr-member-not-alive"}));
}

// The client-leader invariant over metadata.partition (what nodes applied)
// and client.leader (what a client took up) events.
class ClientView {
 public:
  ClientView& elected(const std::string& node, int epoch, int leader) {
    return ev(node, "metadata.partition",
              {{"topic", "t"}, {"partition", 0}, {"leader", leader}, {"epoch", epoch},
               {"partition_epoch", epoch}, {"isr", std::to_string(leader)}});
  }
  ClientView& took(const std::string& client, int epoch, int leader, int previous) {
    return ev(client, "client.leader",
              {{"topic", "t"}, {"partition", 0}, {"epoch", epoch}, {"leader", leader},
               {"previous_epoch", previous}});
  }

  std::vector<std::string> check() const {
    auto inv = client_leaders_consistent();
    for (const auto& e : events_) inv->observe(e);
    std::vector<std::string> types;
    for (const auto& a : inv->finish()) types.push_back(a.type);
    return types;
  }

 private:
  ClientView& ev(const std::string& node, const std::string& kind, std::vector<TraceField> f) {
    events_.push_back({node, static_cast<std::int64_t>(events_.size()), kind, std::move(f)});
    return *this;
  }
  std::vector<TraceEvent> events_;
};

TEST(ClientLeaders, FollowingElectionsPasses) {
  ClientView v;
  v.elected("s0", 0, 1).took("c0", 0, 1, -1).elected("s1", 0, 1);
  v.elected("s1", 1, 2).took("c0", 1, 2, 0);
  // A leaderless record names nobody; a client told so holds only the epoch.
  v.elected("s0", 2, -1).took("c1", 2, -1, -1);
  EXPECT_EQ(v.check(), Types{});
}

TEST(ClientLeaders, ALeaderNobodyElectedIsAPhantom) {
  ClientView wrong_leader;
  wrong_leader.elected("s0", 0, 1).took("c0", 0, 2, -1);
  EXPECT_EQ(wrong_leader.check(), Types{"client-phantom-leader"});
  // Told before any node applied the election: no broker could know it.
  ClientView too_early;
  too_early.took("c0", 1, 2, 0).elected("s0", 1, 2);
  EXPECT_EQ(too_early.check(), Types{"client-phantom-leader"});
}

TEST(ClientLeaders, GoingBackAnEpochIsCaughtPerClient) {
  ClientView back;
  back.elected("s0", 0, 1).elected("s0", 1, 2).took("c0", 1, 2, -1).took("c0", 0, 1, 1);
  EXPECT_EQ(back.check(), Types{"client-epoch-regressed"});
  // Two clients on one node (a producer and a consumer) at different
  // epochs are not one client going back.
  ClientView two;
  two.elected("s0", 0, 1).elected("s0", 1, 2).took("c0", 1, 2, -1).took("c0", 0, 1, -1);
  EXPECT_EQ(two.check(), Types{});
}

}  // namespace
}  // namespace castle::checkers
