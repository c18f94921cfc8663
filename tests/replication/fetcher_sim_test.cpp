// ReplicaFetcher fibers on simulated follower nodes, talking to a leader
// node through LocalLeaderEndpoint: produces with acks=all complete once
// both followers have the records, and the three logs end byte-identical
// with one high watermark; a follower that crashes mid-fetch (losing its
// unsynced tail) restarts, truncates by epoch and catches up, after which
// the leader would let it rejoin the ISR.
#include <gtest/gtest.h>

#include "tests/replication/repl_rig.h"

namespace castle::replication {
namespace {

using testing::ReplRig;
using testing::client_batch;

FetcherConfig quick_fetcher() {
  FetcherConfig c;
  c.max_wait_ms = 100;
  c.backoff_ms = 50;
  c.partition_max_bytes = 300;  // a few batches per fetch: many rounds
  return c;
}

// Produces `count` acks=all batches on broker 0's leader from the calling
// fiber; returns how many were acknowledged.
int produce(ReplRig& rig, Runtime& rt, int count, const std::string& tag) {
  int acked = 0;
  for (int i = 0; i < count; ++i) {
    auto leader = rig.b(0).leader;
    if (leader->check_append(-1) != ErrorCode::NONE) continue;
    Bytes b = client_batch(tag + std::to_string(i), 1 + i % 3);
    auto r = leader->append(b, rt.now());
    if (!r) continue;
    if (leader->await_ack(rt, r->last_offset, rt.now() + seconds(5)) == ErrorCode::NONE) ++acked;
  }
  return acked;
}

void expect_converged(ReplRig& rig, std::vector<int> ids) {
  const auto reference = rig.batches(ids[0]);
  for (int id : ids) {
    EXPECT_EQ(rig.batches(id), reference) << "broker " << id;
    EXPECT_EQ(rig.log(id).high_watermark(), rig.log(ids[0]).log_end_offset()) << "broker " << id;
  }
}

TEST(FetcherSim, LeaderAndTwoFollowersConverge) {
  ReplRig rig(31);
  rig.open_all();
  rig.run([&](Runtime& rt) {
    rig.make_leader(0, 1, {0, 1, 2}, LeaderConfig{30000, 2});
    rig.make_follower(1, 0, 1);
    rig.make_follower(2, 0, 1);
    rig.start_fetcher(1, 0, quick_fetcher());
    rig.start_fetcher(2, 0, quick_fetcher());
    EXPECT_EQ(produce(rig, rt, 60, "p"), 60);
    rt.sleep_for(seconds(1));  // followers learn the last high watermark
  });
  expect_converged(rig, {0, 1, 2});
  EXPECT_GT(rig.b(1).fetcher->stats().fetch_requests, 10u);
  EXPECT_EQ(rig.b(1).fetcher->stats().transport_errors, 0u);
}

TEST(FetcherSim, FollowerCrashMidFetchResumes) {
  storage::LogConfig config;
  config.segment_bytes = 2048;  // several segments, so the crash can tear more than one
  ReplRig rig(32, 3, config);
  rig.open_all();
  auto acked = std::make_shared<int>(0);
  rig.run([&](Runtime&) {
    rig.make_leader(0, 1, {0, 1}, LeaderConfig{30000, 2});
    rig.make_follower(1, 0, 1);
    rig.make_follower(2, 0, 1);
    rig.start_fetcher(1, 0, quick_fetcher());
    rig.start_fetcher(2, 0, quick_fetcher());
  });
  // The producer runs on the leader's node while the world runs on.
  rig.b(0).node->spawn("producer", [&rig, acked] { *acked = produce(rig, *rig.b(0).node, 120, "q"); });
  rig.run_for(milliseconds(300));
  const std::int64_t before_crash = rig.log(2).log_end_offset();
  EXPECT_GT(before_crash, 0);
  rig.crash(2);
  rig.run_for(milliseconds(500));
  rig.restart(2);
  rig.run([&](Runtime&) {
    rig.open_log(2);
    EXPECT_LE(rig.log(2).log_end_offset(), before_crash);
    rig.make_follower(2, 0, 1);
    rig.start_fetcher(2, 0, quick_fetcher());
  });
  rig.run_for(seconds(20));
  EXPECT_EQ(*acked, 120);
  expect_converged(rig, {0, 1, 2});
  // Caught up in the current epoch: the leader would take it back.
  EXPECT_EQ(rig.b(0).leader->isr_to_expand(rig.b(0).node->now()), (std::vector<std::int32_t>{2}));
}

}  // namespace
}  // namespace castle::replication
