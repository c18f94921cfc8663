// LeaderPartition over a real storage::Log on a simulated node: the high
// watermark is the minimum log end over the ISR and respects the leader
// epoch start offset; followers leave the ISR after the lag window and
// rejoin only when caught up in the current epoch; acks=all waiters
// complete, time out or fail; stale follower epochs are fenced. Each
// planted bug of the leader side is shown to change the outcome.
#include <gtest/gtest.h>

#include "tests/replication/repl_rig.h"

namespace castle::replication {
namespace {

using testing::ReplRig;
using testing::client_batch;
using testing::tp0;

// Appends `n` one-record batches on broker id's leader.
void append_n(ReplRig& rig, int id, int n, Runtime& rt) {
  for (int i = 0; i < n; ++i) {
    Bytes b = client_batch("r" + std::to_string(i));
    ASSERT_TRUE(rig.b(id).leader->append(b, rt.now()).ok());
  }
}

// Appends `n` batches to the log as an earlier leader at `epoch` would have.
void append_in_epoch(storage::Log& log, int n, std::int32_t epoch) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(log.append_as_leader(client_batch("old"), epoch).ok());
}

TEST(LeaderState, HighWatermarkIsTheMinimumLogEndOverTheIsr) {
  ReplRig rig(1);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1, 2});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 10, rt);
    EXPECT_EQ(l.high_watermark(), 0);
    EXPECT_FALSE(l.on_follower_fetch(1, 5, rt.now()));  // 2 is still unknown
    EXPECT_EQ(l.high_watermark(), 0);
    EXPECT_TRUE(l.on_follower_fetch(2, 3, rt.now()));
    EXPECT_EQ(l.high_watermark(), 3);
    EXPECT_FALSE(l.on_follower_fetch(1, 10, rt.now())) << "2 is still at 3";
    EXPECT_TRUE(l.on_follower_fetch(2, 7, rt.now()));
    EXPECT_EQ(l.high_watermark(), 7);
    EXPECT_EQ(rig.log(0).high_watermark(), 7);
    // A follower fetching from an older position never moves it back.
    EXPECT_FALSE(l.on_follower_fetch(2, 4, rt.now()));
    EXPECT_EQ(l.high_watermark(), 7);
  });
}

// KIP-966: an ISR below min.insync.replicas commits nothing, so the
// replicas the controller dropped from it (its ELR) hold all that is
// committed. A min.insync.replicas above the replica count is capped.
TEST(LeaderState, HighWatermarkStaysWhileTheIsrIsBelowMinInsync) {
  ReplRig rig(10);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0}, LeaderConfig{30000, 2});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 3, rt);
    EXPECT_EQ(l.high_watermark(), 0);
    ASSERT_TRUE(l.on_partition_state(PartitionState{1, 1, {0, 1, 2}, {0, 1}}, rt.now()).ok());
    EXPECT_TRUE(l.on_follower_fetch(1, 3, rt.now()));
    EXPECT_EQ(l.high_watermark(), 3);
  });
  ReplRig capped(11);
  capped.open_all();
  capped.run([&](Runtime& rt) {
    capped.make_leader(0, 1, {0, 1, 2}, LeaderConfig{30000, 5});
    append_n(capped, 0, 2, rt);
    LeaderPartition& l = *capped.b(0).leader;
    EXPECT_FALSE(l.on_follower_fetch(1, 2, rt.now()));
    EXPECT_TRUE(l.on_follower_fetch(2, 2, rt.now()));
    EXPECT_EQ(l.high_watermark(), 2);
  });
}

TEST(LeaderState, PlantedBugHwIgnoresIsrCommitsOnAppend) {
  ReplRig rig(2);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1, 2}, {}, Bugs{{bug_hw_ignores_isr}});
    append_n(rig, 0, 4, rt);
    EXPECT_EQ(rig.b(0).leader->high_watermark(), 4);
  });
}

TEST(LeaderState, HighWatermarkWaitsForTheLeaderEpochStartOffset) {
  ReplRig rig(3);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    // The log holds 10 records of epoch 1 that nobody committed yet.
    append_in_epoch(rig.log(0), 10, 1);
    ASSERT_TRUE(rig.log(0).set_high_watermark(2).ok());
    rig.make_leader(0, 2, {0, 1, 2});
    LeaderPartition& l = *rig.b(0).leader;
    EXPECT_EQ(l.epoch_start_offset(), 10);
    ASSERT_EQ(rig.log(0).epochs().back().epoch, 2);
    l.on_follower_fetch(1, 6, rt.now());
    l.on_follower_fetch(2, 7, rt.now());
    EXPECT_EQ(l.high_watermark(), 2) << "min over the ISR is 6, below the epoch start 10";
    l.on_follower_fetch(1, 10, rt.now());
    l.on_follower_fetch(2, 10, rt.now());
    EXPECT_EQ(l.high_watermark(), 10);
    append_n(rig, 0, 1, rt);
    l.on_follower_fetch(1, 11, rt.now());
    EXPECT_EQ(l.high_watermark(), 10);
    l.on_follower_fetch(2, 11, rt.now());
    EXPECT_EQ(l.high_watermark(), 11);
  });
}

TEST(LeaderState, IsrShrinksAfterTheLagWindow) {
  ReplRig rig(4);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1, 2}, LeaderConfig{30000, 1});
    LeaderPartition& l = *rig.b(0).leader;
    // The leader's clock, which ran become_leader (nodes' clocks differ).
    const Instant t0 = rig.b(0).node->now();
    append_n(rig, 0, 3, rt);
    // Broker 1 keeps fetching the leader's end; broker 2 fetches once, behind.
    l.on_follower_fetch(2, 1, t0);
    for (int s = 1; s <= 40; ++s) {
      append_n(rig, 0, 1, rt);
      l.on_follower_fetch(1, l.log_end_offset(), t0 + seconds(s));
    }
    EXPECT_TRUE(l.isr_to_shrink(t0 + seconds(29)).empty());
    EXPECT_EQ(l.isr_to_shrink(t0 + seconds(31)), (std::vector<std::int32_t>{2}));
    // While a change is in flight, no other is proposed; the maximal ISR
    // (2 still in) holds the high watermark.
    l.begin_isr_change({0, 1});
    EXPECT_TRUE(l.isr_to_shrink(t0 + seconds(31)).empty());
    EXPECT_EQ(l.high_watermark(), 1);
    ASSERT_TRUE(l.on_partition_state(PartitionState{1, 1, {0, 1, 2}, {0, 1}}, t0 + seconds(41)).ok());
    EXPECT_EQ(l.high_watermark(), l.log_end_offset()) << "the ISR is 0 and 1, both at the end";
  });
}

TEST(LeaderState, FollowerBehindButFetchingTheLeadersPreviousEndStaysInSync) {
  ReplRig rig(5);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{30000, 1});
    LeaderPartition& l = *rig.b(0).leader;
    const Instant t0 = rt.now();
    // Each fetch reaches the end the leader had at the previous fetch, but
    // the leader appends in between: Kafka's rule keeps it caught up.
    std::int64_t previous_end = 0;
    for (int s = 0; s <= 60; ++s) {
      l.on_follower_fetch(1, previous_end, t0 + seconds(s));
      previous_end = l.log_end_offset();
      append_n(rig, 0, 1, rt);
    }
    EXPECT_TRUE(l.isr_to_shrink(t0 + seconds(61)).empty());
  });
}

TEST(LeaderState, IsrExpandsOnlyWhenCaughtUpInTheCurrentEpoch) {
  for (const bool bug : {false, true}) {
    ReplRig rig(6);
    rig.open_all();
    rig.run([&](Runtime& rt) {
      append_in_epoch(rig.log(0), 10, 1);
      ASSERT_TRUE(rig.log(0).set_high_watermark(5).ok());
      Bugs bugs;
      if (bug) bugs.names.insert(bug_isr_expand_early);
      rig.make_leader(0, 2, {0, 1}, {}, bugs);
      LeaderPartition& l = *rig.b(0).leader;
      l.on_follower_fetch(2, 6, rt.now());  // at or past the HW, before the epoch start
      if (bug) {
        EXPECT_EQ(l.isr_to_expand(rt.now()), (std::vector<std::int32_t>{2}));
        return;
      }
      EXPECT_TRUE(l.isr_to_expand(rt.now()).empty());
      l.on_follower_fetch(2, 10, rt.now());
      EXPECT_EQ(l.isr_to_expand(rt.now()), (std::vector<std::int32_t>{2}));
      l.begin_isr_change({0, 1, 2});
      EXPECT_EQ(l.maximal_isr(), (std::vector<std::int32_t>{0, 1, 2}));
      // Broker 1 lags: the maximal ISR counts the newcomer already.
      l.on_follower_fetch(1, 10, rt.now());
      EXPECT_EQ(l.high_watermark(), 10);
    });
  }
}

// ISR {0, 2} asks to add broker 1 at offset 5; the answer never comes (the
// controller appended it, then lost its leadership: it may still commit).
// Kept, the addition goes on counting, so the high watermark cannot pass
// what broker 1 has; dropped (the old abort), it could, and the addition
// committing later would put broker 1 in the ISR without those records.
TEST(LeaderState, AnIsrChangeOfUnknownOutcomeKeepsCountingUntilTheMetadataSays) {
  ReplRig rig(12);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 2});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 5, rt);
    l.on_follower_fetch(2, 5, rt.now());
    l.on_follower_fetch(1, 5, rt.now());
    ASSERT_EQ(l.isr_to_expand(rt.now()), (std::vector<std::int32_t>{1}));
    l.begin_isr_change({0, 1, 2});
    EXPECT_FALSE(l.isr_change_to_resend()) << "in flight, not yet to resend";
    l.keep_isr_change(/*resend=*/true);
    ASSERT_TRUE(l.isr_change_in_flight());
    EXPECT_EQ(l.isr_change_to_resend(), (std::vector<std::int32_t>{0, 1, 2}));
    append_n(rig, 0, 3, rt);
    l.on_follower_fetch(2, 8, rt.now());
    EXPECT_EQ(l.high_watermark(), 5) << "broker 1 still counts";
    // The metadata says it committed: the ISR is {0, 1, 2}, nothing in flight.
    PartitionState committed;
    committed.leader_epoch = 1;
    committed.partition_epoch = l.partition_epoch() + 1;
    committed.replicas = l.replicas();
    committed.isr = {0, 1, 2};
    ASSERT_TRUE(l.on_partition_state(committed, rt.now()).ok());
    EXPECT_FALSE(l.isr_change_in_flight());
    EXPECT_FALSE(l.isr_change_to_resend());
    // Keeping a change the metadata already settled changes nothing.
    l.keep_isr_change(true);
    EXPECT_FALSE(l.isr_change_in_flight());
  });
}

// The controller takes broker 1 out of the ISR (its replica went offline
// and comes back salvaged, cut short, without a restart): the log end its
// last fetch reported no longer counts, so it is not added back on it,
// only on a fetch after the change (cluster-swarm-disk 9462).
TEST(LeaderState, AMemberTheControllerRemovedRejoinsOnlyOnAFetchAfterwards) {
  ReplRig rig(14);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1, 2});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 5, rt);
    l.on_follower_fetch(1, 5, rt.now());
    l.on_follower_fetch(2, 5, rt.now());
    ASSERT_EQ(l.high_watermark(), 5);
    PartitionState removed;
    removed.leader_epoch = 1;
    removed.partition_epoch = l.partition_epoch() + 1;
    removed.replicas = l.replicas();
    removed.isr = {0, 2};
    ASSERT_TRUE(l.on_partition_state(removed, rt.now()).ok());
    EXPECT_TRUE(l.isr_to_expand(rt.now()).empty()) << "re-added on a fetch from before its removal";
    l.on_follower_fetch(1, 0, rt.now());  // its log now: empty
    EXPECT_TRUE(l.isr_to_expand(rt.now()).empty());
    l.on_follower_fetch(1, 5, rt.now());
    EXPECT_EQ(l.isr_to_expand(rt.now()), (std::vector<std::int32_t>{1}));
  });
}

// A leadership that adopts a change its predecessor of the same epochs
// sent (ReplicaManager::take_up_what_was_left) counts the member it adds from
// its first high watermark on, as the predecessor did, and sends it again:
// with min.insync.replicas 1 the ISR {0} alone would otherwise commit the
// whole log at once, past broker 1 (cluster-swarm seed 24570).
TEST(LeaderState, AnAdoptedIsrChangeCountsFromTheStartAndIsSentAgain) {
  for (const bool adopt : {false, true}) {
    ReplRig rig(13);
    rig.open_all();
    rig.run([&](Runtime& rt) {
      append_in_epoch(rig.log(0), 4, 1);
      auto adopted = adopt ? std::optional<std::vector<std::int32_t>>({0, 1}) : std::nullopt;
      auto made = LeaderPartition::become_leader(*rig.b(0).node, rig.log(0), 0,
                                                 PartitionState{1, 0, {0, 1, 2}, {0}},
                                                 LeaderConfig{1000, 1}, {}, adopted);
      ASSERT_TRUE(made.ok()) << made.error().message();
      LeaderPartition& l = **made;
      if (!adopt) {
        EXPECT_EQ(l.high_watermark(), 4) << "the ISR of the leader alone commits its log";
        return;
      }
      EXPECT_TRUE(l.isr_change_in_flight());
      EXPECT_EQ(l.isr_change_to_resend(), (std::vector<std::int32_t>{0, 1}));
      EXPECT_EQ(l.high_watermark(), 0) << "broker 1, unknown in this leadership, holds it back";
      l.on_follower_fetch(1, 4, rt.now());
      EXPECT_EQ(l.high_watermark(), 4);
    });
  }
}

// A leader whose replica went offline keeps the role until the broker
// releases it, but commits nothing more: the tail a reopen may cut must
// not enter the high watermark (cluster-swarm seed 3367: an ISR answer
// arriving meanwhile moved it past a batch whose sync had failed). Its
// waiters fail; its proposal in flight stays for the next leadership.
TEST(LeaderState, AnOfflineLeaderCommitsNothingMoreAndFailsItsWaiters) {
  ReplRig rig(15);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{1000, 1});
    auto leader = rig.b(0).leader;
    LeaderPartition& l = *leader;
    append_n(rig, 0, 3, rt);
    auto answer = std::make_shared<std::optional<ErrorCode>>();
    rt.spawn("producer", [&rt, leader, answer] { *answer = leader->await_ack(rt, 2, rt.now() + seconds(10)); });
    rt.sleep_for(milliseconds(1));
    l.begin_isr_change({0, 1, 2});
    l.go_offline();
    EXPECT_EQ(l.proposed_isr(), (std::vector<std::int32_t>{0, 1, 2}));
    rt.sleep_for(milliseconds(1));
    EXPECT_EQ(*answer, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    EXPECT_FALSE(l.on_follower_fetch(1, 3, rt.now()));
    EXPECT_FALSE(l.on_follower_fetch(2, 3, rt.now()));
    ASSERT_TRUE(l.on_partition_state(PartitionState{1, 1, {0, 1, 2}, {0}}, rt.now()).ok());
    EXPECT_EQ(l.high_watermark(), 0);
    EXPECT_TRUE(l.is_leader()) << "the role is the broker's to release";
  });
}

// With a sync per message, the leader counts toward the high watermark
// only what it has synced: a batch whose sync failed stays out though a
// follower fetched past it, as a reopen would cut it.
TEST(LeaderState, WithEveryWriteSyncedTheLeaderCountsOnlyItsDurableEnd) {
  storage::LogConfig every;
  every.flush_interval_messages = 1;
  ReplRig rig(16, 2, every);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{1000, 1});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 2, rt);
    sim::DiskConfig c = rig.b(0).node->sim_disk().config();
    c.sync_eio_rate = 1.0;
    rig.b(0).node->sim_disk().set_config(c);
    Bytes b = client_batch("unsynced");
    EXPECT_FALSE(l.append(b, rt.now()).ok());
    ASSERT_EQ(l.log_end_offset(), 3) << "the failed append left its batch";
    EXPECT_TRUE(l.on_follower_fetch(1, 3, rt.now()));
    EXPECT_EQ(l.high_watermark(), 2);
  });
}

// A follower that stopped fetching is not taken back on the log end it
// last reported, though that reaches a high watermark held back below
// min.insync.replicas: it would be shrunk out again one lag time on.
TEST(LeaderState, AFollowerThatStoppedFetchingIsNotTakenBack) {
  ReplRig rig(8);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0}, LeaderConfig{1000, 2});
    LeaderPartition& l = *rig.b(0).leader;
    const Instant t0 = rt.now();
    l.on_follower_fetch(1, 0, t0);  // caught up, then silent
    append_n(rig, 0, 3, rt);        // the ISR of one cannot commit them
    EXPECT_EQ(l.high_watermark(), 0);
    EXPECT_EQ(l.isr_to_expand(t0 + milliseconds(500)), (std::vector<std::int32_t>{1}));
    EXPECT_TRUE(l.isr_to_expand(t0 + milliseconds(1500)).empty());
    l.on_follower_fetch(1, 3, t0 + milliseconds(1600));  // fetching again
    EXPECT_EQ(l.isr_to_expand(t0 + milliseconds(1600)), (std::vector<std::int32_t>{1}));
  });
}

TEST(LeaderState, AcksAllWaitsForTheHighWatermark) {
  ReplRig rig(7);
  rig.open_all();
  auto result = std::make_shared<std::optional<ErrorCode>>();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{30000, 2});
    LeaderPartition& l = *rig.b(0).leader;
    ASSERT_EQ(l.check_append(-1), ErrorCode::NONE);
    Bytes b = client_batch("x", 3);
    auto appended = l.append(b, rt.now());
    ASSERT_TRUE(appended.ok());
    EXPECT_EQ(appended->last_offset, 2);
    auto leader = rig.b(0).leader;
    rt.spawn("producer", [&rt, leader, result, last = appended->last_offset] {
      *result = leader->await_ack(rt, last, rt.now() + seconds(10));
    });
    rt.sleep_for(milliseconds(100));
    l.on_follower_fetch(1, 2, rt.now());
    rt.sleep_for(milliseconds(100));
    EXPECT_FALSE(result->has_value()) << "offset 2 is not below the high watermark 2";
    l.on_follower_fetch(1, 3, rt.now());
    rt.sleep_for(milliseconds(1));
    EXPECT_EQ(*result, ErrorCode::NONE);
    EXPECT_EQ(l.ack_waiters().size(), 0u);
  });
}

TEST(LeaderState, AcksAllTimesOutFailsOnLeadershipLossAndOnTooSmallIsr) {
  ReplRig rig(8);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{30000, 2});
    LeaderPartition& l = *rig.b(0).leader;
    append_n(rig, 0, 1, rt);
    EXPECT_EQ(l.await_ack(rt, 0, rt.now() + seconds(1)), ErrorCode::REQUEST_TIMED_OUT);

    auto leader = rig.b(0).leader;
    auto lost = std::make_shared<std::optional<ErrorCode>>();
    rt.spawn("producer", [&rt, leader, lost] { *lost = leader->await_ack(rt, 0, rt.now() + seconds(10)); });
    rt.sleep_for(milliseconds(10));
    // The ISR drops to the leader alone while the produce waits. Below
    // min.insync.replicas nothing commits (KIP-966): the high watermark
    // stays, and the produce waits for the ISR to grow back.
    ASSERT_TRUE(l.on_partition_state(PartitionState{1, 1, {0, 1, 2}, {0}}, rt.now()).ok());
    rt.sleep_for(milliseconds(1));
    EXPECT_EQ(l.high_watermark(), 0);
    EXPECT_FALSE(lost->has_value());
    EXPECT_EQ(l.check_append(-1), ErrorCode::NOT_ENOUGH_REPLICAS);
    EXPECT_EQ(l.check_append(1), ErrorCode::NONE);

    ASSERT_TRUE(l.on_partition_state(PartitionState{1, 2, {0, 1, 2}, {0, 1}}, rt.now()).ok());
    append_n(rig, 0, 1, rt);
    auto resigned = std::make_shared<std::optional<ErrorCode>>();
    rt.spawn("producer", [&rt, leader, resigned] {
      *resigned = leader->await_ack(rt, 1, rt.now() + seconds(10));
    });
    rt.sleep_for(milliseconds(10));
    l.resign();
    rt.sleep_for(milliseconds(1));
    EXPECT_EQ(*resigned, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    EXPECT_EQ(*lost, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    EXPECT_EQ(l.check_append(1), ErrorCode::NOT_LEADER_OR_FOLLOWER);
  });
}

TEST(LeaderState, PlantedBugAckBeforeIsrCompletesOnAppend) {
  ReplRig rig(9);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{30000, 2}, Bugs{{bug_ack_before_isr}});
    append_n(rig, 0, 1, rt);
    EXPECT_EQ(rig.b(0).leader->await_ack(rt, 0, rt.now() + seconds(1)), ErrorCode::NONE);
    EXPECT_EQ(rig.b(0).leader->high_watermark(), 0);
  });
}

TEST(LeaderState, FetchWithAStaleLeaderEpochIsFenced) {
  for (const bool bug : {false, true}) {
    ReplRig rig(10);
    rig.open_all();
    rig.run([&](Runtime& rt) {
      Bugs bugs;
      if (bug) bugs.names.insert(bug_accept_stale_epoch);
      rig.make_leader(0, 3, {0, 1}, {}, bugs);
      append_n(rig, 0, 4, rt);
      LeaderPartition& l = *rig.b(0).leader;
      PartitionFetch in{tp0, 2, 4, 0, 1 << 20};
      PartitionData d = l.serve_fetch(1, in, rt.now());
      if (bug) {
        EXPECT_EQ(d.error, ErrorCode::NONE);
        EXPECT_EQ(l.high_watermark(), 4) << "the stale follower's offset counted";
        return;
      }
      EXPECT_EQ(d.error, ErrorCode::FENCED_LEADER_EPOCH);
      EXPECT_EQ(l.high_watermark(), 0);
      in.current_leader_epoch = 4;
      EXPECT_EQ(l.serve_fetch(1, in, rt.now()).error, ErrorCode::UNKNOWN_LEADER_EPOCH);
      in.current_leader_epoch = 3;
      in.fetch_offset = 9;
      EXPECT_EQ(l.serve_fetch(1, in, rt.now()).error, ErrorCode::OFFSET_OUT_OF_RANGE);
      EXPECT_EQ(l.serve_fetch(7, in, rt.now()).error, ErrorCode::NOT_LEADER_OR_FOLLOWER);
      in.fetch_offset = 1;
      d = l.serve_fetch(1, in, rt.now());
      EXPECT_EQ(d.error, ErrorCode::NONE);
      EXPECT_EQ(storage::split_batches(d.records)->size(), 3u);
      EXPECT_EQ(d.high_watermark, 1);
    });
  }
}

TEST(LeaderState, OffsetForLeaderEpochAnswersAsKafka) {
  ReplRig rig(11);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    append_in_epoch(rig.log(0), 3, 1);
    append_in_epoch(rig.log(0), 2, 3);
    rig.make_leader(0, 5, {0});
    append_n(rig, 0, 1, rt);
    LeaderPartition& l = *rig.b(0).leader;
    auto ask = [&](std::int32_t epoch) { return l.end_offset_for_epoch(EpochQuery{tp0, 5, epoch}); };
    EXPECT_EQ(ask(1).leader_epoch, 1);
    EXPECT_EQ(ask(1).end_offset, 3);
    EXPECT_EQ(ask(2).leader_epoch, 1) << "the largest epoch at or below 2";
    EXPECT_EQ(ask(2).end_offset, 3);
    EXPECT_EQ(ask(4).end_offset, 5);
    EXPECT_EQ(ask(5).end_offset, 6);
    EXPECT_EQ(ask(0).leader_epoch, 0) << "older than every epoch: ends where the first starts";
    EXPECT_EQ(ask(0).end_offset, 0);
    EXPECT_EQ(l.end_offset_for_epoch(EpochQuery{tp0, 4, 1}).error, ErrorCode::FENCED_LEADER_EPOCH);
  });
}

}  // namespace
}  // namespace castle::replication
