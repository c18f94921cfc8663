// FollowerPartition over real logs on simulated nodes: the epoch
// truncation protocol repairs the divergent tails of KIP-101 and KIP-279,
// a follower never truncates to its local high watermark (the planted bug
// replication-truncate-to-hw does, and loses a committed record), a
// follower below the leader's log start restarts there, leader errors
// map to the follower's actions, and an append whose sync failed stops
// the follower before its next fetch could claim the records.
#include <gtest/gtest.h>

#include "tests/replication/repl_rig.h"

namespace castle::replication {
namespace {

using testing::ReplRig;
using testing::client_batch;
using testing::tp0;

void append_on_leader(ReplRig& rig, int id, const std::string& tag, Runtime& rt) {
  Bytes b = client_batch(tag);
  ASSERT_TRUE(rig.b(id).leader->append(b, rt.now()).ok());
}

// Broker 0 leads epoch 1 and writes 0..9; broker 1 copies 0..7, then leads
// epoch 2 and writes 8..12: broker 0's 8..9 diverge.
void divergent_tails(ReplRig& rig, Runtime& rt) {
  rig.make_leader(0, 1, {0, 1});
  for (int i = 0; i < 10; ++i) append_on_leader(rig, 0, "a" + std::to_string(i), rt);
  rig.make_follower(1, 0, 1);
  rig.sync_follower(1, 0, 1, 8);
  ASSERT_EQ(rig.log(1).log_end_offset(), 8);
  rig.make_leader(1, 2, {1});
  for (int i = 0; i < 5; ++i) append_on_leader(rig, 1, "b" + std::to_string(i), rt);
}

// The classic KIP-101 case: A leads epoch 1 and writes 0..9; B copied
// 0..7. A goes, B leads epoch 2 and writes 8..12. A comes back as B's
// follower: the epoch protocol cuts A at 8 and A ends with B's log.
TEST(FollowerState, Kip101DivergentTailIsTruncatedByEpoch) {
  ReplRig rig(21, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    divergent_tails(rig, rt);
    rig.make_follower(0, 1, 2);
    EXPECT_EQ(rig.b(0).follower->phase(), FollowerPhase::truncating);
    auto q = rig.b(0).follower->epoch_query();
    EXPECT_EQ(q.leader_epoch, 1);
    EXPECT_EQ(q.current_leader_epoch, 2);
    rig.sync_follower(0, 1);
    EXPECT_EQ(rig.log(0).log_end_offset(), 13);
    EXPECT_EQ(rig.batches(0), rig.batches(1));
    ASSERT_EQ(rig.log(0).epochs().size(), 2u);
    EXPECT_EQ(rig.log(0).epochs()[1].epoch, 2);
    EXPECT_EQ(rig.log(0).epochs()[1].start_offset, 8);
    EXPECT_EQ(rig.log(0).high_watermark(), rig.log(1).high_watermark());
  });
}

// A follower in step with its leader checked again (buggify's
// replication.revalidate): the epoch question finds nothing to cut, and it
// fetches on from where it was.
TEST(FollowerState, ARevalidatedFollowerInStepCutsNothingAndFetchesOn) {
  ReplRig rig(22, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1});
    for (int i = 0; i < 6; ++i) append_on_leader(rig, 0, "a" + std::to_string(i), rt);
    rig.make_follower(1, 0, 1);
    rig.sync_follower(1, 0, 1);
    ASSERT_EQ(rig.log(1).log_end_offset(), 6);
    ASSERT_EQ(rig.b(1).follower->phase(), FollowerPhase::fetching);
    ASSERT_TRUE(rig.b(1).follower->revalidate().ok());
    EXPECT_EQ(rig.b(1).follower->phase(), FollowerPhase::truncating);
    for (int i = 0; i < 2; ++i) append_on_leader(rig, 0, "b" + std::to_string(i), rt);
    rig.sync_follower(1, 0, 1);
    EXPECT_EQ(rig.log(1).log_end_offset(), 8);
    EXPECT_EQ(rig.batches(1), rig.batches(0));
    EXPECT_EQ(rig.b(1).follower->phase(), FollowerPhase::fetching);
  });
}

// A follower's truncation that meets damage on its way (locating the cut
// checks CRCs) stops the follower as damaged, for the broker to take the
// replica offline and salvage it, instead of failing the same way at every
// retry (cluster-swarm-disk 40769: it never rejoined the ISR).
TEST(FollowerState, DamageATruncationMeetsStopsTheFollowerAsDamaged) {
  ReplRig rig(23, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    divergent_tails(rig, rt);
    ASSERT_TRUE(rig.log(0).flush().ok());
    // In the first batch's CRC-covered bytes, before the cut at offset 8.
    ASSERT_TRUE(rig.b(0).node->sim_disk().flip_bit("t-0/00000000000000000000.log", 30, 1));
    rig.make_follower(0, 1, 2);
    ASSERT_EQ(rig.b(0).follower->phase(), FollowerPhase::truncating);
    auto answers = rig.b(1).service->offset_for_leader_epoch({rig.b(0).follower->epoch_query()});
    auto action = rig.b(0).follower->apply_epoch_answer(answers.at(0));
    ASSERT_TRUE(action.ok()) << action.error().message();
    EXPECT_EQ(*action, FollowerAction::failed);
    ASSERT_TRUE(rig.b(0).follower->failure());
    EXPECT_TRUE(rig.b(0).follower->failure()->damaged);
  });
}

// KIP-279: both replicas hold uncommitted divergent tails across two
// leader changes. A (epoch 1) writes m0, m1; B copied m0. B leads epoch 2
// and writes m2 at offset 1. A leads epoch 3 and writes m3 at offset 2. B
// follows A: it asks for epoch 2, A answers (1, 2); B's epoch 1 ends at 1,
// so B cuts at 1 (KIP-101's rule alone would keep m2 at offset 1).
TEST(FollowerState, Kip279DivergenceAcrossTwoLeaderChanges) {
  ReplRig rig(22, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1});
    append_on_leader(rig, 0, "m0", rt);
    rig.make_follower(1, 0, 1);
    rig.sync_follower(1, 0);
    append_on_leader(rig, 0, "m1", rt);

    rig.make_leader(1, 2, {1});
    append_on_leader(rig, 1, "m2", rt);
    rig.make_leader(0, 3, {0});
    append_on_leader(rig, 0, "m3", rt);

    rig.make_follower(1, 0, 3);
    auto a = rig.b(0).service->offset_for_leader_epoch({rig.b(1).follower->epoch_query()}).at(0);
    EXPECT_EQ(a.leader_epoch, 1);
    EXPECT_EQ(a.end_offset, 2);
    ASSERT_TRUE(rig.b(1).follower->apply_epoch_answer(a).ok());
    EXPECT_EQ(rig.log(1).log_end_offset(), 1);
    rig.sync_follower(1, 0);
    EXPECT_EQ(rig.log(1).log_end_offset(), 3);
    EXPECT_EQ(rig.batches(1), rig.batches(0));
  });
}

// The iterative case: the leader answers an epoch the follower never had,
// so the follower cuts to the end of its own earlier epoch and asks again.
TEST(FollowerState, AnswerWithAnEpochTheFollowerLacksTakesTwoSteps) {
  ReplRig rig(23, 2);
  rig.open_all();
  rig.run([&](Runtime&) {
    // Follower: epoch 1 at 0..4, epoch 3 at 5..7. Leader: epoch 1 at
    // 0..3, epoch 2 at 4..9, and now leads epoch 4.
    // Same epoch, same offset, same record: both copied epoch 1 from its leader.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(rig.log(1).append_as_leader(client_batch("e1"), 1).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(rig.log(1).append_as_leader(client_batch("f3"), 3).ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(rig.log(0).append_as_leader(client_batch("e1"), 1).ok());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(rig.log(0).append_as_leader(client_batch("l2"), 2).ok());
    rig.make_leader(0, 4, {0});
    rig.make_follower(1, 0, 4);
    FollowerPartition& f = *rig.b(1).follower;
    auto a = rig.b(0).service->offset_for_leader_epoch({f.epoch_query()}).at(0);
    EXPECT_EQ(a.leader_epoch, 2);
    ASSERT_TRUE(f.apply_epoch_answer(a).ok());
    EXPECT_EQ(rig.log(1).log_end_offset(), 5);
    EXPECT_EQ(f.phase(), FollowerPhase::truncating);
    a = rig.b(0).service->offset_for_leader_epoch({f.epoch_query()}).at(0);
    EXPECT_EQ(a.leader_epoch, 1);
    EXPECT_EQ(a.end_offset, 4);
    ASSERT_TRUE(f.apply_epoch_answer(a).ok());
    EXPECT_EQ(rig.log(1).log_end_offset(), 4);
    EXPECT_EQ(f.phase(), FollowerPhase::fetching);
    rig.sync_follower(1, 0);
    EXPECT_EQ(rig.batches(1), rig.batches(0));
  });
}

// A follower whose high watermark lags its log end keeps its tail when it
// becomes a follower again (the leader has it: it is committed); the
// planted bug truncates to the high watermark and loses a committed record.
TEST(FollowerState, NeverTruncatesToTheLocalHighWatermark) {
  for (const bool bug : {false, true}) {
    ReplRig rig(24, 2);
    rig.open_all();
    rig.run([&](Runtime& rt) {
      rig.make_leader(0, 1, {0, 1});
      for (int i = 0; i < 8; ++i) append_on_leader(rig, 0, "a", rt);
      rig.make_follower(1, 0, 1);
      rig.sync_follower(1, 0, 1, 8);
      // The leader learns B is at 8 only now; B still thinks the HW is 7.
      rig.b(0).leader->on_follower_fetch(1, 8, rt.now());
      ASSERT_EQ(rig.b(0).leader->high_watermark(), 8);
      ASSERT_EQ(rig.log(1).high_watermark(), 7);
      Bugs bugs;
      if (bug) bugs.names.insert(bug_truncate_to_hw);
      rig.make_follower(1, 0, 1, bugs);
      // Were the leader to go now, B (in the ISR) would be elected.
      if (bug) {
        EXPECT_EQ(rig.log(1).log_end_offset(), 7) << "the bug cut the committed offset 7";
        return;
      }
      EXPECT_EQ(rig.log(1).log_end_offset(), 8);
      rig.sync_follower(1, 0);
      EXPECT_EQ(rig.batches(1), rig.batches(0));
    });
  }
}

TEST(FollowerState, FollowerBelowTheLeadersLogStartRestartsThere) {
  ReplRig rig(25, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0});
    for (int i = 0; i < 10; ++i) append_on_leader(rig, 0, "a", rt);
    ASSERT_TRUE(rig.log(0).delete_records_before(6).ok());
    rig.make_follower(1, 0, 1);
    EXPECT_EQ(rig.b(1).follower->phase(), FollowerPhase::fetching) << "an empty log cannot diverge";
    rig.sync_follower(1, 0);
    EXPECT_EQ(rig.log(1).log_start_offset(), 6);
    EXPECT_EQ(rig.log(1).log_end_offset(), 10);
    EXPECT_EQ(rig.log(1).high_watermark(), 10);
  });
}

TEST(FollowerState, LeaderErrorsMapToActions) {
  ReplRig rig(26, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 2, {0, 1});
    append_on_leader(rig, 0, "a", rt);
    rig.make_follower(1, 0, 1);  // an epoch older than the leader's
    FollowerPartition& f = *rig.b(1).follower;
    ASSERT_EQ(f.phase(), FollowerPhase::fetching);
    FetchQuery q;
    q.replica_id = 1;
    q.partitions.push_back(f.fetch_request(1 << 20));
    PartitionData d = rig.b(0).service->fetch(q).partitions.at(0);
    EXPECT_EQ(d.error, ErrorCode::FENCED_LEADER_EPOCH);
    EXPECT_EQ(*f.apply_fetch(d), FollowerAction::await_metadata);
    EXPECT_EQ(f.phase(), FollowerPhase::awaiting_metadata);
    ASSERT_TRUE(f.on_new_leader(0, 3).ok());
    q.partitions[0] = f.fetch_request(1 << 20);
    d = rig.b(0).service->fetch(q).partitions.at(0);
    EXPECT_EQ(d.error, ErrorCode::UNKNOWN_LEADER_EPOCH);
    EXPECT_EQ(*f.apply_fetch(d), FollowerAction::backoff);
    // Records that do not start at the log end send the follower back to
    // the epoch protocol.
    PartitionData odd;
    odd.tp = tp0;
    odd.high_watermark = 0;
    odd.records = testing::client_batch("x");
    storage::set_base_offset(odd.records, 5);
    EXPECT_EQ(*f.apply_fetch(odd), FollowerAction::backoff);
    EXPECT_EQ(rig.log(1).log_end_offset(), 0);
  });
}


// Every write synced (log.flush.interval.messages=1) and the follower's
// syncs failing as Linux's do: the batch is written, its sync fails and
// the disk gives it up. A fetch from the log end would now tell the leader
// it is here, so the follower must stop and say why; the planted bug
// replication-follower-keeps-failed-append fetches on from 1.
void fail_follower_syncs(ReplRig& rig, int id) {
  sim::DiskConfig c = rig.b(id).node->sim_disk().config();
  c.sync_eio_rate = 1.0;
  c.sync_eio_loses_writes = true;
  rig.b(id).node->sim_disk().set_config(c);
}

PartitionData fetch_once(ReplRig& rig, FollowerPartition& f) {
  FetchQuery q;
  q.replica_id = 1;
  q.partitions.push_back(f.fetch_request(1 << 20));
  return rig.b(0).service->fetch(q).partitions.at(0);
}

// Broker 0 leads epoch 1 with ISR {0, 1}; broker 1 follows and copies the
// first record (and its epoch entry, whose checkpoint would otherwise be
// the first write to fail); the leader then appends a second one, the one
// the tests' faults meet.
FollowerPartition& follower_with_first_record(ReplRig& rig, Runtime& rt, Bugs bugs = {}) {
  rig.make_leader(0, 1, {0, 1});
  append_on_leader(rig, 0, "a", rt);
  rig.make_follower(1, 0, 1, std::move(bugs));
  FollowerPartition& f = *rig.b(1).follower;
  EXPECT_EQ(f.phase(), FollowerPhase::fetching);
  EXPECT_EQ(*f.apply_fetch(fetch_once(rig, f)), FollowerAction::proceed);
  EXPECT_EQ(rig.log(1).log_end_offset(), 1);
  append_on_leader(rig, 0, "b", rt);
  return f;
}

storage::LogConfig synced_every_write() {
  storage::LogConfig c;
  c.flush_interval_messages = 1;
  return c;
}

TEST(FollowerState, AFailedSyncStopsTheFollowerBeforeItClaimsTheRecords) {
  ReplRig rig(27, 2, synced_every_write());
  rig.open_all();
  rig.run([&](Runtime& rt) {
    FollowerPartition& f = follower_with_first_record(rig, rt);
    fail_follower_syncs(rig, 1);
    const PartitionData d = fetch_once(rig, f);
    ASSERT_EQ(d.error, ErrorCode::NONE);
    auto action = f.apply_fetch(d);
    ASSERT_TRUE(action.ok());
    EXPECT_EQ(*action, FollowerAction::failed);
    EXPECT_EQ(f.phase(), FollowerPhase::failed);
    ASSERT_TRUE(f.failure().has_value());
    EXPECT_EQ(f.failure()->end_before, 1);
    EXPECT_TRUE(f.failure()->sync_failed);
    // A new leader does not bring it back: only a reopened log does.
    ASSERT_TRUE(f.on_new_leader(0, 2).ok());
    EXPECT_EQ(f.phase(), FollowerPhase::failed);
  });
}

TEST(FollowerState, PlantedKeepFailedAppendFetchesPastWhatTheDiskGaveUp) {
  ReplRig rig(28, 2, synced_every_write());
  rig.open_all();
  rig.run([&](Runtime& rt) {
    FollowerPartition& f = follower_with_first_record(rig, rt, Bugs{{bug_follower_keeps_failed_append}});
    fail_follower_syncs(rig, 1);
    EXPECT_FALSE(f.apply_fetch(fetch_once(rig, f)).ok());
    EXPECT_EQ(f.phase(), FollowerPhase::fetching);
    EXPECT_EQ(f.fetch_request(1 << 20).fetch_offset, 2) << "claims the given-up record";
  });
}

// A failure that is not a sync (the disk full once the batch is written):
// the batch is cut back, so the next fetch asks for it again and the
// follower goes on.
TEST(FollowerState, AFailedAppendWithoutAFailedSyncIsCutBackAndRetried) {
  ReplRig rig(29, 2, synced_every_write());
  rig.open_all();
  rig.run([&](Runtime& rt) {
    FollowerPartition& f = follower_with_first_record(rig, rt);
    // Room for the batch, not for the recovery-point checkpoint after it.
    const PartitionData d = fetch_once(rig, f);
    sim::DiskConfig c = rig.b(1).node->sim_disk().config();
    const std::uint64_t capacity = c.capacity_bytes;
    c.capacity_bytes = rig.b(1).node->sim_disk().used_bytes() + d.records.size();
    rig.b(1).node->sim_disk().set_config(c);
    EXPECT_FALSE(f.apply_fetch(d).ok());
    EXPECT_EQ(f.phase(), FollowerPhase::fetching);
    EXPECT_EQ(rig.log(1).log_end_offset(), 1) << "the written batch is cut back";
    c.capacity_bytes = capacity;
    rig.b(1).node->sim_disk().set_config(c);
    EXPECT_EQ(*f.apply_fetch(fetch_once(rig, f)), FollowerAction::proceed);
    EXPECT_EQ(rig.log(1).log_end_offset(), 2);
  });
}

// Broker 1 led epoch 1 without writing in it; broker 0 then led epoch 2.
// As 0's follower, broker 1's truncation cuts its only epoch (it holds no
// record) and the checkpoint write after it fails. The retry must fetch:
// with no epoch left to ask about, the leader's answer is undefined and a
// follower that kept asking never caught up (cluster-swarm seed 149919).
TEST(FollowerState, ATruncationThatCutTheOnlyEpochAndFailedStillFetches) {
  ReplRig rig(30, 2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(1, 1, {1});
    rig.make_leader(0, 2, {0, 1});
    append_on_leader(rig, 0, "a", rt);
    rig.make_follower(1, 0, 2);
    FollowerPartition& f = *rig.b(1).follower;
    ASSERT_EQ(f.phase(), FollowerPhase::truncating);
    sim::DiskConfig c = rig.b(1).node->sim_disk().config();
    c.write_eio_rate = 1.0;
    c.eio_only_in_path = "leader-epoch-checkpoint";
    rig.b(1).node->sim_disk().set_config(c);
    const EpochAnswer a = rig.b(0).service->offset_for_leader_epoch({f.epoch_query()}).at(0);
    EXPECT_FALSE(f.apply_epoch_answer(a).ok()) << "the checkpoint write fails";
    EXPECT_TRUE(rig.log(1).epochs().empty());
    c.write_eio_rate = 0;
    rig.b(1).node->sim_disk().set_config(c);
    rig.sync_follower(1, 0);
    EXPECT_EQ(f.phase(), FollowerPhase::fetching);
    EXPECT_EQ(rig.log(1).log_end_offset(), 1);
    EXPECT_EQ(rig.batches(1), rig.batches(0));
  });
}

}  // namespace
}  // namespace castle::replication
