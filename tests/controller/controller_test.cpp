// The active controller's decisions, one behaviour per test: registration
// and broker epochs, heartbeats and unfencing, session expiry and leader
// election (clean, offline, unclean by controller and by topic setting),
// replicas reported offline, controlled shutdown, topic creation and deletion with Kafka's checks, and
// AlterPartition's fencing. Each runs decisions through a rig that commits
// the records into an image, and checks the image that results.

#include "system/controller/controller.h"

#include <gtest/gtest.h>

#include "system/controller/topic_creation.h"
#include "tests/controller/rig.h"

namespace castle::controller {
namespace {

using testing::ids;
using testing::incarnation;
using testing::Rig;

// The leader an election should pick when `gone` leaves a full ISR: the
// first other replica in preference order.
BrokerId next_in_preference(const PartitionState& p, BrokerId gone) {
  for (BrokerId r : p.replicas)
    if (r != gone) return r;
  return kNoLeader;
}

// ---- registration and heartbeats ----

TEST(ControllerBrokers, RegistrationIsFencedUntilCaughtUp) {
  Rig rig;
  const BrokerEpoch epoch = rig.register_broker(1);
  EXPECT_EQ(epoch, BrokerEpoch{1});
  EXPECT_TRUE(rig.image.broker(BrokerId{1})->fenced);
  // A heartbeat from behind its own registration does not unfence.
  auto d = rig.controller.heartbeat(rig.image, {BrokerId{1}, epoch, 0, false, {}}, rig.now);
  EXPECT_EQ(d.response.error, ErrorCode::NONE);
  EXPECT_TRUE(d.records.empty());
  EXPECT_FALSE(d.response.is_caught_up);
  EXPECT_TRUE(d.response.is_fenced);
  // Caught up: unfenced.
  const auto r = rig.heartbeat(1);
  EXPECT_TRUE(r.is_caught_up);
  EXPECT_FALSE(r.is_fenced);
  EXPECT_TRUE(rig.image.is_alive(BrokerId{1}));
}

TEST(ControllerBrokers, SameIncarnationRetryWritesNothing) {
  Rig rig;
  const BrokerEpoch epoch = rig.register_broker(1, 5);
  auto d = rig.controller.register_broker(
      rig.image, {BrokerId{1}, incarnation(5), Endpoint{"b1", 9001}, {}}, rig.now);
  EXPECT_EQ(d.response.error, ErrorCode::NONE);
  EXPECT_TRUE(d.records.empty());
  EXPECT_EQ(d.response.broker_epoch, epoch);
}

TEST(ControllerBrokers, NewIncarnationFencesTheOldEpochAndMovesLeadership) {
  Rig rig;
  rig.start_brokers(2);
  rig.create("t", 1, 2);
  const BrokerId leader = rig.partition("t", 0).leader;
  const int leader_raw = raw(leader);
  const BrokerEpoch old_epoch = rig.image.broker(leader)->epoch;
  const BrokerEpoch new_epoch = rig.register_broker(leader_raw, 2);
  EXPECT_GT(new_epoch, old_epoch);
  const PartitionState& p = rig.partition("t", 0);
  EXPECT_NE(p.leader, leader);
  EXPECT_EQ(p.isr.size(), 1u);
  EXPECT_FALSE(contains(p.isr, leader));
  // The old process's heartbeats are stale now.
  auto d = rig.controller.heartbeat(rig.image, {leader, old_epoch, 100, false, {}}, rig.now);
  EXPECT_EQ(d.response.error, ErrorCode::STALE_BROKER_EPOCH);
  EXPECT_TRUE(d.records.empty());
}

TEST(ControllerBrokers, BadRegistrationAndUnknownHeartbeatAreErrors) {
  Rig rig;
  auto bad = rig.controller.register_broker(rig.image, {BrokerId{1}, {}, Endpoint{"h", 0}, {}},
                                            rig.now);
  EXPECT_EQ(bad.response.error, ErrorCode::INVALID_REQUEST);
  EXPECT_TRUE(bad.records.empty());
  auto negative = rig.controller.register_broker(rig.image, {BrokerId{-3}, {}, {"h", 1}, {}}, rig.now);
  EXPECT_EQ(negative.response.error, ErrorCode::INVALID_REQUEST);
  auto unknown = rig.controller.heartbeat(rig.image, {BrokerId{4}, BrokerEpoch{1}, 1, false, {}}, rig.now);
  EXPECT_EQ(unknown.response.error, ErrorCode::BROKER_ID_NOT_REGISTERED);
}

// ---- session expiry and election ----

TEST(ControllerElection, SilentBrokerIsFencedAfterTheSessionTimeoutAndLeadershipMoves) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 1, 3);
  const PartitionState before = rig.partition("t", 0);
  const BrokerId old_leader = before.leader;
  // Everyone but the leader keeps heartbeating.
  rig.advance_ms(9000);
  for (int i = 1; i <= 3; ++i) {
    if (BrokerId{i} != old_leader) rig.heartbeat(i);
  }
  rig.tick();  // exactly the timeout: not yet
  EXPECT_EQ(rig.partition("t", 0).leader, old_leader);
  rig.advance_ms(1);
  rig.tick();
  EXPECT_TRUE(rig.image.broker(old_leader)->fenced);
  const PartitionState& after = rig.partition("t", 0);
  // The next replica in preference order that is in the ISR leads.
  EXPECT_EQ(after.leader, next_in_preference(before, old_leader));
  EXPECT_FALSE(contains(after.isr, old_leader));
  EXPECT_EQ(after.leader_epoch, next(before.leader_epoch));
  EXPECT_GT(after.partition_epoch, before.partition_epoch);
}

TEST(ControllerElection, LastIsrMemberMovesToTheElrWithNoLeaderAndReturnsAsLeader) {
  Rig rig;
  rig.start_brokers(2);
  rig.create("t", 1, 1);
  const BrokerId only = rig.partition("t", 0).leader;
  const int other = raw(only) == 1 ? 2 : 1;
  rig.advance_ms(9001);
  rig.heartbeat(other);
  rig.tick();
  EXPECT_EQ(rig.partition("t", 0).leader, kNoLeader);
  EXPECT_EQ(rig.partition("t", 0).isr, BrokerIds{});
  EXPECT_EQ(rig.partition("t", 0).elr, BrokerIds{only});
  // It comes back (same process, caught up): unfenced and leading again.
  const auto r = rig.heartbeat(raw(only));
  EXPECT_FALSE(r.is_fenced);
  EXPECT_EQ(rig.partition("t", 0).leader, only);
  EXPECT_EQ(rig.partition("t", 0).leader_epoch, LeaderEpoch{2});
}

// Partition with replicas [a, b] whose ISR has shrunk to [a] (b fell behind),
// then a is fenced: the clean answer is offline.
struct OutOfSync {
  Rig rig;
  BrokerId in_sync{0};
  BrokerId behind{0};
  explicit OutOfSync(ControllerConfig config, TopicConfigs topic_configs = {})
      : rig(std::move(config)) {
    rig.start_brokers(2);
    rig.create("t", 1, 2, std::move(topic_configs));
    const PartitionState p = rig.partition("t", 0);
    in_sync = p.leader;
    behind = p.replicas[0] == in_sync ? p.replicas[1] : p.replicas[0];
    auto d = rig.controller.alter_partition(
        rig.image, {in_sync, rig.image.broker(in_sync)->epoch,
                    {{rig.image.topic("t")->id,
                      {{PartitionId{0}, p.leader_epoch, BrokerIds{in_sync}, p.partition_epoch}}}}});
    CASTLE_ASSERT(d.response.topics[0].partitions[0].error == ErrorCode::NONE, "shrink failed");
    rig.commit(d.records);
    rig.advance_ms(9001);
    rig.heartbeat(raw(behind));
    rig.tick();
  }
};

// Buggify's leadership move (a preferred-replica election's kind): the
// next alive ISR member after the leader in replica order leads, at the
// next leader epoch; a partition whose ISR is its leader alone cannot move.
TEST(ControllerElection, ALeadershipMovesToTheNextAliveIsrMember) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 1, 3);
  const PartitionState before = rig.partition("t", 0);
  rig.commit(rig.controller.move_a_leader(rig.image, 7));
  const PartitionState& after = rig.partition("t", 0);
  EXPECT_EQ(after.leader, next_in_preference(before, before.leader));
  EXPECT_EQ(after.leader_epoch, next(before.leader_epoch));
  EXPECT_EQ(after.isr, before.isr);
  OutOfSync alone({});
  alone.rig.heartbeat(raw(alone.in_sync));  // back, the ISR of one
  ASSERT_EQ(alone.rig.partition("t", 0).isr, BrokerIds{alone.in_sync});
  EXPECT_TRUE(alone.rig.controller.move_a_leader(alone.rig.image, 7).empty());
}

TEST(ControllerElection, NoAliveIsrMemberMeansOfflineWhenUncleanIsOff) {
  OutOfSync s({});
  const PartitionState& p = s.rig.partition("t", 0);
  EXPECT_EQ(p.leader, kNoLeader);
  EXPECT_EQ(p.isr, BrokerIds{});
  EXPECT_EQ(p.elr, BrokerIds{s.in_sync});
}

TEST(ControllerElection, UncleanElectionPicksAnAliveReplicaAndResetsTheIsr) {
  ControllerConfig config;
  config.unclean_leader_election_enable = true;
  OutOfSync s(config);
  const PartitionState& p = s.rig.partition("t", 0);
  EXPECT_EQ(p.leader, s.behind);
  EXPECT_EQ(p.isr, BrokerIds{s.behind});
}

TEST(ControllerElection, TopicSettingOverridesTheControllersUncleanSetting) {
  OutOfSync on_by_topic({}, {{"unclean.leader.election.enable", "true"}});
  EXPECT_EQ(on_by_topic.rig.partition("t", 0).leader, on_by_topic.behind);
  ControllerConfig config;
  config.unclean_leader_election_enable = true;
  OutOfSync off_by_topic(config, {{"unclean.leader.election.enable", "false"}});
  EXPECT_EQ(off_by_topic.rig.partition("t", 0).leader, kNoLeader);
}

// ---- eligible leader replicas (KIP-966) ----

// Three brokers, RF 3, min.insync.replicas 2; the leader has shrunk the ISR
// to itself, dropping `first` (the ISR kept 2: not eligible) and then
// `second` (the ISR fell below 2: eligible).
struct Shrunk {
  Rig rig;
  BrokerId leader{0}, first{0}, second{0};
  explicit Shrunk(bool unclean = false) : rig(config(unclean)) {
    rig.start_brokers(3);
    rig.create("t", 1, 3);
    const PartitionState p = rig.partition("t", 0);
    leader = p.leader;
    BrokerIds others;
    for (BrokerId r : p.replicas)
      if (r != leader) others.push_back(r);
    first = others[0];
    second = others[1];
    CASTLE_ASSERT(rig.alter_isr("t", 0, BrokerIds{leader, second}) == ErrorCode::NONE, "shrink");
    CASTLE_ASSERT(rig.alter_isr("t", 0, BrokerIds{leader}) == ErrorCode::NONE, "shrink");
  }
  static ControllerConfig config(bool unclean) {
    ControllerConfig c;
    c.min_insync_replicas = 2;
    c.unclean_leader_election_enable = unclean;
    return c;
  }
  // Every broker but `silent` heartbeats past the session timeout.
  void fence(BrokerId silent) {
    rig.advance_ms(9001);
    for (int i = 1; i <= 3; ++i)
      if (BrokerId{i} != silent) rig.heartbeat(i);
    rig.tick();
  }
};

TEST(ControllerElr, ReplicasDroppedBelowMinIsrStayEligibleAndOneLeadsWhenTheIsrIsGone) {
  Shrunk s;
  EXPECT_EQ(s.rig.partition("t", 0).elr, BrokerIds{s.second});
  s.fence(s.leader);
  const PartitionState& p = s.rig.partition("t", 0);
  // Not `first`: it left while the ISR could still commit without it.
  EXPECT_EQ(p.leader, s.second);
  EXPECT_EQ(p.isr, BrokerIds{s.second});
  EXPECT_EQ(p.elr, BrokerIds{s.leader});
  // The ISR back at min.insync.replicas empties the ELR.
  EXPECT_EQ(s.rig.alter_isr("t", 0, BrokerIds{s.second, s.first}), ErrorCode::NONE);
  EXPECT_EQ(s.rig.partition("t", 0).elr, BrokerIds{});
}

TEST(ControllerElr, UncleanRestartLeavesTheElrButACleanOneStays) {
  Shrunk unclean;
  unclean.fence(unclean.leader);
  unclean.rig.register_broker(raw(unclean.leader), 2, /*clean=*/false);
  EXPECT_EQ(unclean.rig.partition("t", 0).elr, BrokerIds{});
  Shrunk clean;
  clean.fence(clean.leader);
  clean.rig.register_broker(raw(clean.leader), 2, /*clean=*/true);
  EXPECT_EQ(clean.rig.partition("t", 0).elr, BrokerIds{clean.leader});
}

TEST(ControllerElr, TheLastIsrMemberBackFromAnUncleanRestartDoesNotLeadWhereAnotherIsEligible) {
  // The leader, alone in the ISR, crashes and comes back at once (no
  // session timeout): it is not re-elected with a log the crash shortened.
  Shrunk s;
  s.rig.register_broker(raw(s.leader), 2, /*clean=*/false);
  s.rig.heartbeat(raw(s.leader));
  const PartitionState& p = s.rig.partition("t", 0);
  EXPECT_EQ(p.leader, s.second);
  EXPECT_FALSE(contains(p.isr, s.leader));
  EXPECT_FALSE(contains(p.elr, s.leader));
}

TEST(ControllerElr, TheOnlyEligibleReplicaStaysEligibleAfterAnUncleanRestart) {
  Rig rig;
  rig.start_brokers(2);
  rig.create("t", 1, 1);
  const BrokerId only = rig.partition("t", 0).leader;
  rig.register_broker(raw(only), 2, /*clean=*/false);
  EXPECT_EQ(rig.partition("t", 0).elr, BrokerIds{only});
  rig.heartbeat(raw(only));
  EXPECT_EQ(rig.partition("t", 0).leader, only);
}

// ---- offline replicas ----

// The leader reports its replica offline (its log failed): leadership moves
// to the next ISR member in replica order, the broker leaves the ISR and is
// not put in the ELR (it cannot stand in for anyone), in records committed
// with the heartbeat; the same report again writes nothing.
TEST(ControllerOffline, AnOfflineLeaderLeavesTheIsrAndLeadershipMoves) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 2, 3);
  const PartitionState before = rig.partition("t", 0);
  const BrokerId damaged = before.leader;
  const PartitionState other_before = rig.partition("t", 1);
  rig.heartbeat(raw(damaged), false, {rig.ref("t", 0)});
  const PartitionState& after = rig.partition("t", 0);
  EXPECT_EQ(after.leader, next_in_preference(before, damaged));
  EXPECT_EQ(after.leader_epoch, next(before.leader_epoch));
  EXPECT_FALSE(contains(after.isr, damaged));
  EXPECT_FALSE(contains(after.elr, damaged));
  EXPECT_EQ(after.isr.size(), 2u);
  EXPECT_EQ(rig.partition("t", 1), other_before);  // not reported: untouched
  const std::size_t records = rig.log.size();
  rig.heartbeat(raw(damaged), false, {rig.ref("t", 0)});
  EXPECT_EQ(rig.log.size(), records);
}

// An offline follower leaves the ISR (and, below min.insync.replicas, the
// ELR it would otherwise join) without a change of leader.
TEST(ControllerOffline, AnOfflineFollowerLeavesTheIsrAndTheElr) {
  ControllerConfig config;
  config.min_insync_replicas = 3;
  Rig rig(config);
  rig.start_brokers(3);
  rig.create("t", 1, 3);
  const PartitionState before = rig.partition("t", 0);
  const BrokerId follower = before.replicas[0] == before.leader ? before.replicas[1] : before.replicas[0];
  rig.heartbeat(raw(follower), false, {rig.ref("t", 0)});
  const PartitionState& after = rig.partition("t", 0);
  EXPECT_EQ(after.leader, before.leader);
  EXPECT_EQ(after.leader_epoch, before.leader_epoch);
  EXPECT_FALSE(contains(after.isr, follower));
  EXPECT_FALSE(contains(after.elr, follower));
}

// The leader adds the replica back only after a heartbeat stops reporting
// it offline: until then AlterPartition calls it ineligible.
TEST(ControllerOffline, AnOfflineReplicaRejoinsTheIsrOnlyOnceReportedHealthy) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 1, 3);
  const BrokerId damaged = rig.partition("t", 0).leader;
  rig.heartbeat(raw(damaged), false, {rig.ref("t", 0)});
  BrokerIds back = rig.partition("t", 0).isr;
  back.push_back(damaged);
  EXPECT_EQ(rig.alter_isr("t", 0, back), ErrorCode::INELIGIBLE_REPLICA);
  rig.heartbeat(raw(damaged));
  EXPECT_EQ(rig.alter_isr("t", 0, back), ErrorCode::NONE);
  EXPECT_TRUE(contains(rig.partition("t", 0).isr, damaged));
}

// A new controller, or a new process of the broker, knows nothing of what
// was offline until the broker's heartbeats say so again.
TEST(ControllerOffline, ANewControllerOrIncarnationForgetsTheReports) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 1, 3);
  const BrokerId damaged = rig.partition("t", 0).leader;
  rig.heartbeat(raw(damaged), false, {rig.ref("t", 0)});
  BrokerIds back = rig.partition("t", 0).isr;
  back.push_back(damaged);
  rig.controller.becoming_leader(rig.image, rig.now);
  EXPECT_EQ(rig.alter_isr("t", 0, back), ErrorCode::NONE);
  EXPECT_EQ(rig.alter_isr("t", 0, rig.partition("t", 0).isr), ErrorCode::NONE);
  rig.heartbeat(raw(damaged), false, {rig.ref("t", 0)});
  const BrokerIds without = rig.partition("t", 0).isr;
  back = without;
  back.push_back(damaged);
  rig.register_broker(raw(damaged), 2, /*clean=*/true);
  rig.heartbeat(raw(damaged));
  EXPECT_EQ(rig.alter_isr("t", 0, back), ErrorCode::NONE);
}

// The only eligible replica stays the leader though offline: removing it
// would leave no replica known to hold the committed records, so the
// partition waits for its log to come back (Kafka keeps the last ISR member).
TEST(ControllerOffline, TheOnlyEligibleReplicaStaysThoughOffline) {
  Rig rig;
  rig.start_brokers(2);
  rig.create("t", 1, 1);
  const PartitionState before = rig.partition("t", 0);
  const std::size_t records = rig.log.size();
  rig.heartbeat(raw(before.leader), false, {rig.ref("t", 0)});
  EXPECT_EQ(rig.log.size(), records);
  EXPECT_EQ(rig.partition("t", 0), before);
}

// With unclean election on, the only eligible replica reported offline
// gives way to a live replica with its log: it leads, uncleanly, and the
// ISR restarts from it (without it, the partition would wait for a log
// that may never come back, with a replica able to serve beside it).
TEST(ControllerOffline, WithUncleanElectionTheOfflineLastEligibleGivesWay) {
  ControllerConfig config;
  config.unclean_leader_election_enable = true;
  Rig rig(config);
  rig.start_brokers(2);
  rig.create("t", 1, 2);
  const PartitionState before = rig.partition("t", 0);
  const BrokerId other = before.replicas[0] == before.leader ? before.replicas[1] : before.replicas[0];
  ASSERT_EQ(rig.alter_isr("t", 0, BrokerIds{before.leader}), ErrorCode::NONE);
  rig.heartbeat(raw(before.leader), false, {rig.ref("t", 0)});
  const PartitionState& p = rig.partition("t", 0);
  EXPECT_EQ(p.leader, other);
  EXPECT_EQ(p.isr, BrokerIds{other});
  EXPECT_GT(raw(p.leader_epoch), raw(before.leader_epoch));
}

// With no eligible replica left alive, an unclean election must not pick
// a replica its broker reports offline: the leader that reported its log
// failed would otherwise be elected again, on the damaged log.
TEST(ControllerOffline, AnUncleanElectionPassesOverOfflineReplicas) {
  Shrunk s(/*unclean=*/true);
  s.fence(s.second);  // the ELR's only member is gone
  ASSERT_EQ(s.rig.partition("t", 0).leader, s.leader);
  s.rig.heartbeat(raw(s.leader), false, {s.rig.ref("t", 0)});
  const PartitionState& p = s.rig.partition("t", 0);
  EXPECT_EQ(p.leader, s.first);
  EXPECT_EQ(p.isr, BrokerIds{s.first});
  // Reported offline, it is not picked by a later repair either.
  s.rig.tick();
  EXPECT_EQ(s.rig.partition("t", 0).leader, s.first);
}

TEST(ControllerElection, BecomingLeaderGivesEveryoneAFreshLease) {
  Rig rig;
  rig.start_brokers(2);
  rig.advance_ms(60'000);  // long silence under the previous leader
  rig.controller.becoming_leader(rig.image, rig.now);
  rig.tick();
  EXPECT_TRUE(rig.image.is_alive(BrokerId{1}));
  EXPECT_TRUE(rig.image.is_alive(BrokerId{2}));
  EXPECT_EQ(rig.controller.lease_expiry(BrokerId{1}), rig.now + milliseconds(9000));
  rig.advance_ms(9001);
  rig.tick();
  EXPECT_FALSE(rig.image.is_alive(BrokerId{1}));
}

// ---- controlled shutdown ----

TEST(ControllerShutdown, LeadershipMovesAwayBeforeTheBrokerMayStop) {
  Rig rig;
  rig.start_brokers(3);
  rig.create("t", 3, 2);
  rig.create("solo", 1, 1);
  const BrokerId solo_leader = rig.partition("solo", 0).leader;
  const int leaving = raw(solo_leader);
  ASSERT_FALSE(rig.image.partitions_led_by(solo_leader).empty());
  const auto r = rig.heartbeat(leaving, true);
  EXPECT_TRUE(r.should_shutdown);
  EXPECT_TRUE(rig.image.broker(solo_leader)->in_controlled_shutdown);
  EXPECT_TRUE(rig.image.partitions_led_by(solo_leader).empty());
  for (int p = 0; p < 3; ++p) {
    const PartitionState& s = rig.partition("t", p);
    EXPECT_FALSE(contains(s.isr, solo_leader)) << p;
    EXPECT_TRUE(rig.image.is_alive(s.leader)) << p;
  }
  // Where it was the only ISR member it stays eligible, with no leader.
  EXPECT_EQ(rig.partition("solo", 0).leader, kNoLeader);
  EXPECT_EQ(rig.partition("solo", 0).elr, BrokerIds{solo_leader});
  // It is never elected again, even by a tick.
  rig.tick();
  EXPECT_EQ(rig.partition("solo", 0).leader, kNoLeader);
  EXPECT_TRUE(rig.heartbeat(leaving, true).should_shutdown);
}

// ---- topics ----

TEST(ControllerTopics, AssignmentSpreadsLeadersAndIsDeterministic) {
  Rig a;
  Rig b;
  a.start_brokers(3);
  b.start_brokers(3);
  const auto ra = a.create("orders", 6, 2);
  const auto rb = b.create("orders", 6, 2);
  EXPECT_EQ(ra.error, ErrorCode::NONE);
  EXPECT_EQ(ra.num_partitions, 6);
  EXPECT_EQ(ra.replication_factor, 2);
  EXPECT_FALSE(ra.topic_id.is_zero());
  EXPECT_EQ(ra.topic_id, rb.topic_id);
  EXPECT_EQ(a.log, b.log);
  std::map<BrokerId, int> led;
  for (int p = 0; p < 6; ++p) {
    const PartitionState& s = a.partition("orders", p);
    EXPECT_EQ(s.replicas.size(), 2u);
    EXPECT_NE(s.replicas[0], s.replicas[1]);
    EXPECT_EQ(s.isr, s.replicas);
    EXPECT_EQ(s.leader, s.replicas[0]);
    ++led[s.leader];
  }
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(led[BrokerId{i}], 2) << i;
}

TEST(ControllerTopics, KafkasNameRules) {
  Rig rig;
  rig.start_brokers(1);
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a b", "\xc3\xa4", "x/y", std::string(250, 'a')}) {
    EXPECT_EQ(rig.create(bad, 1, 1).error, ErrorCode::INVALID_TOPIC_EXCEPTION) << bad;
  }
  EXPECT_EQ(rig.create(std::string(249, 'a'), 1, 1).error, ErrorCode::NONE);
  EXPECT_EQ(rig.create("a.b-C_9", 1, 1).error, ErrorCode::NONE);
  // '.' and '_' collide in metric names.
  EXPECT_EQ(rig.create("a_b-C_9", 1, 1).error, ErrorCode::INVALID_TOPIC_EXCEPTION);
  EXPECT_EQ(rig.create("a.b-C_9", 1, 1).error, ErrorCode::TOPIC_ALREADY_EXISTS);
}

TEST(ControllerTopics, PartitionsReplicationAndConfigsAreChecked) {
  ControllerConfig config;
  config.num_partitions = 3;
  config.default_replication_factor = 2;
  config.validate_topic_configs = [](const TopicConfigs& c, std::string* bad, std::string* why) {
    if (c.count("bogus") == 0) return true;
    *bad = "bogus";
    *why = "unknown";
    return false;
  };
  Rig rig(config);
  rig.start_brokers(2);
  EXPECT_EQ(rig.create("zero", 0, 1).error, ErrorCode::INVALID_PARTITIONS);
  EXPECT_EQ(rig.create("many", 10001, 1).error, ErrorCode::INVALID_PARTITIONS);
  EXPECT_EQ(rig.create("rf0", 1, 0).error, ErrorCode::INVALID_REPLICATION_FACTOR);
  const auto rf3 = rig.create("rf3", 1, 3);
  EXPECT_EQ(rf3.error, ErrorCode::INVALID_REPLICATION_FACTOR);
  EXPECT_TRUE(rf3.message.has_value());
  EXPECT_EQ(rig.create("cfg", 1, 1, {{"bogus", "1"}}).error, ErrorCode::INVALID_CONFIG);
  EXPECT_EQ(rig.create("cfg", 1, 1, {{"unclean.leader.election.enable", "yes"}}).error,
            ErrorCode::INVALID_CONFIG);
  EXPECT_TRUE(rig.image.topics().empty());
  const auto d = rig.create("defaults", -1, -1);
  EXPECT_EQ(d.error, ErrorCode::NONE);
  EXPECT_EQ(d.num_partitions, 3);
  EXPECT_EQ(rig.partition("defaults", 2).replicas.size(), 2u);
}

TEST(ControllerTopics, ReplicationFactorCountsOnlyAliveBrokers) {
  Rig rig;
  rig.start_brokers(2);
  rig.heartbeat(2, true);  // broker 2 is shutting down
  EXPECT_EQ(rig.create("t", 1, 2).error, ErrorCode::INVALID_REPLICATION_FACTOR);
  EXPECT_EQ(rig.create("t", 1, 1).error, ErrorCode::NONE);
  EXPECT_EQ(rig.partition("t", 0).replicas, ids({1}));
}

TEST(ControllerTopics, DuplicatesInOneRequestAndValidateOnly) {
  Rig rig;
  rig.start_brokers(1);
  auto dup = rig.controller.create_topics(rig.image, {{{"x", 1, 1, {}}, {"x", 1, 1, {}}}, false});
  ASSERT_EQ(dup.response.topics.size(), 2u);
  EXPECT_EQ(dup.response.topics[0].error, ErrorCode::INVALID_REQUEST);
  EXPECT_EQ(dup.response.topics[1].error, ErrorCode::INVALID_REQUEST);
  EXPECT_TRUE(dup.records.empty());
  auto check = rig.controller.create_topics(rig.image, {{{"y", 2, 1, {}}}, true});
  EXPECT_EQ(check.response.topics[0].error, ErrorCode::NONE);
  EXPECT_TRUE(check.records.empty());
}

TEST(ControllerTopics, DeleteRemovesAndARecreatedTopicGetsANewId) {
  Rig rig;
  rig.start_brokers(1);
  const TopicId first = rig.create("t", 1, 1).topic_id;
  auto d = rig.controller.delete_topics(rig.image, {{"t", "missing"}});
  ASSERT_EQ(d.response.topics.size(), 2u);
  EXPECT_EQ(d.response.topics[0].error, ErrorCode::NONE);
  EXPECT_EQ(d.response.topics[0].topic_id, first);
  EXPECT_EQ(d.response.topics[1].error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  rig.commit(d.records);
  EXPECT_EQ(rig.image.topic("t"), nullptr);
  const TopicId second = rig.create("t", 1, 1).topic_id;
  EXPECT_NE(second, first);
}

TEST(ControllerTopics, TopicIdsAreDerivedNotRandom) {
  EXPECT_EQ(derive_topic_id("a", 7, 0), derive_topic_id("a", 7, 0));
  EXPECT_NE(derive_topic_id("a", 7, 0), derive_topic_id("a", 8, 0));
  EXPECT_NE(derive_topic_id("a", 7, 0), derive_topic_id("b", 7, 0));
  EXPECT_NE(derive_topic_id("a", 7, 0), derive_topic_id("a", 7, 1));
}

// ---- AlterPartition ----

struct AlterRig {
  Rig rig;
  TopicId topic;
  BrokerId leader{0};
  AlterRig() {
    rig.start_brokers(3);
    rig.create("t", 1, 3);
    topic = rig.image.topic("t")->id;
    leader = rig.partition("t", 0).leader;
  }
  // The leader asks for `isr` with the current epochs unless told otherwise.
  AlterPartitionResponse::Partition ask(BrokerIds isr, int leader_epoch_delta = 0,
                                        int partition_epoch_delta = 0, bool commit = true) {
    const PartitionState& p = rig.partition("t", 0);
    auto d = rig.controller.alter_partition(
        rig.image, {leader, rig.image.broker(leader)->epoch,
                    {{topic,
                      {{PartitionId{0}, LeaderEpoch{raw(p.leader_epoch) + leader_epoch_delta},
                        std::move(isr),
                        PartitionEpoch{raw(p.partition_epoch) + partition_epoch_delta}}}}}});
    EXPECT_EQ(d.response.error, ErrorCode::NONE);
    if (d.response.topics[0].partitions[0].error != ErrorCode::NONE) {
      EXPECT_TRUE(d.records.empty());
    }
    if (commit) rig.commit(d.records);
    return d.response.topics[0].partitions[0];
  }
  BrokerIds others() const {
    BrokerIds out;
    for (BrokerId r : rig.partition("t", 0).replicas) {
      if (r != leader) out.push_back(r);
    }
    return out;
  }
};

TEST(ControllerAlterPartition, ShrinkAndExpandBumpThePartitionEpoch) {
  AlterRig a;
  const BrokerIds o = a.others();
  const auto shrunk = a.ask({a.leader, o[0]});
  EXPECT_EQ(shrunk.error, ErrorCode::NONE);
  EXPECT_EQ(shrunk.isr, (BrokerIds{a.leader, o[0]}));
  EXPECT_EQ(shrunk.partition_epoch, PartitionEpoch{1});
  EXPECT_EQ(shrunk.leader_epoch, LeaderEpoch{0});
  EXPECT_EQ(a.rig.partition("t", 0).isr, shrunk.isr);
  const auto expanded = a.ask({a.leader, o[0], o[1]});
  EXPECT_EQ(expanded.error, ErrorCode::NONE);
  EXPECT_EQ(expanded.partition_epoch, PartitionEpoch{2});
  // The same ISR again is no change and no record.
  const std::size_t log_size = a.rig.log.size();
  EXPECT_EQ(a.ask({a.leader, o[0], o[1]}).error, ErrorCode::NONE);
  EXPECT_EQ(a.rig.log.size(), log_size);
}

TEST(ControllerAlterPartition, StaleEpochsAreFenced) {
  AlterRig a;
  const BrokerIds o = a.others();
  a.ask({a.leader, o[0]});
  EXPECT_EQ(a.ask({a.leader}, 0, -1).error, ErrorCode::INVALID_UPDATE_VERSION);
  EXPECT_EQ(a.ask({a.leader}, 0, +1).error, ErrorCode::INVALID_UPDATE_VERSION);
  EXPECT_EQ(a.ask({a.leader}, -1, 0).error, ErrorCode::FENCED_LEADER_EPOCH);
  EXPECT_EQ(a.ask({a.leader}, +1, 0).error, ErrorCode::UNKNOWN_LEADER_EPOCH);
  EXPECT_EQ(a.rig.partition("t", 0).isr, (BrokerIds{a.leader, o[0]}));
}

TEST(ControllerAlterPartition, IsrMustBeEligibleAndKeepTheLeader) {
  AlterRig a;
  const BrokerIds o = a.others();
  a.ask({a.leader});
  EXPECT_EQ(a.ask({o[0], o[1]}).error, ErrorCode::INVALID_REQUEST);  // leader left out
  EXPECT_EQ(a.ask({a.leader, BrokerId{9}}).error, ErrorCode::INVALID_REQUEST);  // not a replica
  EXPECT_EQ(a.ask({a.leader, a.leader}).error, ErrorCode::INVALID_REQUEST);
  EXPECT_EQ(a.ask({}).error, ErrorCode::INVALID_REQUEST);
  a.rig.heartbeat(raw(o[0]), true);  // shutting down
  EXPECT_EQ(a.ask({a.leader, o[0]}).error, ErrorCode::INELIGIBLE_REPLICA);
  // o[1] falls silent and is fenced.
  a.rig.advance_ms(9001);
  a.rig.heartbeat(raw(a.leader));
  a.rig.tick();
  EXPECT_EQ(a.ask({a.leader, o[1]}).error, ErrorCode::INELIGIBLE_REPLICA);
  EXPECT_EQ(a.rig.partition("t", 0).isr, BrokerIds{a.leader});
}

TEST(ControllerAlterPartition, OnlyTheCurrentLeaderWithItsCurrentEpochMayAsk) {
  AlterRig a;
  const BrokerId follower = a.others()[0];
  const PartitionState& p = a.rig.partition("t", 0);
  auto not_leader = a.rig.controller.alter_partition(
      a.rig.image, {follower, a.rig.image.broker(follower)->epoch,
                    {{a.topic, {{PartitionId{0}, p.leader_epoch, BrokerIds{follower},
                                 p.partition_epoch}}}}});
  EXPECT_EQ(not_leader.response.topics[0].partitions[0].error, ErrorCode::NOT_LEADER_OR_FOLLOWER);
  auto stale = a.rig.controller.alter_partition(
      a.rig.image, {a.leader, BrokerEpoch{raw(a.rig.image.broker(a.leader)->epoch) - 1}, {}});
  EXPECT_EQ(stale.response.error, ErrorCode::STALE_BROKER_EPOCH);
  TopicId unknown;
  unknown.bytes[0] = 0x55;
  auto missing = a.rig.controller.alter_partition(
      a.rig.image, {a.leader, a.rig.image.broker(a.leader)->epoch,
                    {{unknown, {{PartitionId{0}, {}, {}, {}}}},
                     {a.topic, {{PartitionId{7}, {}, {}, {}}}}}});
  EXPECT_EQ(missing.response.topics[0].partitions[0].error, ErrorCode::UNKNOWN_TOPIC_ID);
  EXPECT_EQ(missing.response.topics[1].partitions[0].error, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
}

// ---- planted bugs: each one changes a decision ----

TEST(ControllerPlantedBugs, EveryBugIsListed) {
  std::set<std::string> names;
  for (const auto& [name, purpose] : planted_bugs()) names.insert(name);
  EXPECT_TRUE(names.count("controller-unclean-election"));
  EXPECT_TRUE(names.count("controller-accept-stale-alter-partition"));
  EXPECT_TRUE(names.count("controller-isr-expand-any"));
}

TEST(ControllerPlantedBugs, UncleanElectionElectsAnOutOfSyncReplica) {
  ControllerConfig config;
  config.bugs = {"controller-unclean-election"};
  OutOfSync s(config);
  EXPECT_EQ(s.rig.partition("t", 0).leader, s.behind);  // correct: kNoLeader
}

TEST(ControllerPlantedBugs, AcceptStaleAlterPartition) {
  AlterRig a;
  a.rig.controller = Controller([] {
    ControllerConfig c;
    c.bugs = {"controller-accept-stale-alter-partition"};
    return c;
  }());
  const BrokerIds o = a.others();
  a.ask({a.leader, o[0]});
  const auto stale = a.ask({a.leader}, -1, -1);
  EXPECT_EQ(stale.error, ErrorCode::NONE);  // correct: FENCED_LEADER_EPOCH
  EXPECT_EQ(a.rig.partition("t", 0).isr, BrokerIds{a.leader});
}

TEST(ControllerPlantedBugs, IsrExpandAnyAdmitsAFencedBroker) {
  AlterRig a;
  a.rig.controller = Controller([] {
    ControllerConfig c;
    c.bugs = {"controller-isr-expand-any"};
    return c;
  }());
  const BrokerIds o = a.others();
  a.ask({a.leader});
  a.rig.heartbeat(raw(o[0]), true);
  EXPECT_EQ(a.ask({a.leader, o[0]}).error, ErrorCode::NONE);  // correct: INELIGIBLE_REPLICA
}

}  // namespace
}  // namespace castle::controller
