#pragma once
// Shared by the replication tests: a simulated world with brokers b0..bN-1
// (one node each, each with its own disk and a real storage::Log of one
// partition) and a driver node whose fibers run test steps. A step may use
// any broker's log directly (its disk operations sleep on that broker's
// clock), so a test can play leader and followers from one fiber, or start
// fetcher fibers on the follower nodes and let the world run.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/node.h"
#include "sim/world.h"
#include "system/replication/fetcher.h"
#include "system/replication/follower_state.h"
#include "system/replication/leader_service.h"
#include "system/replication/leader_state.h"
#include "system/replication/local_endpoint.h"
#include "system/storage/batch_builder.h"
#include "system/storage/log.h"
#include "tests/sim/node_rig.h"
#include "tests/storage/log_test_util.h"

namespace castle::replication::testing {

inline const TopicPartition tp0{"t", 0};

// One client batch of `count` records whose values start with `tag`.
inline Bytes client_batch(const std::string& tag, int count = 1) {
  std::vector<storage::Record> records(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string v = tag + "/" + std::to_string(i);
    records[static_cast<std::size_t>(i)].value = Bytes(v.begin(), v.end());
    records[static_cast<std::size_t>(i)].timestamp_ms = 1000;
  }
  return storage::build_batch(records);
}

// One broker of the rig: its node and what lives in its current incarnation.
struct Broker {
  sim::SimNode* node = nullptr;
  std::unique_ptr<storage::Log> log;
  std::unique_ptr<LeaderService> service;
  std::shared_ptr<LeaderPartition> leader;
  std::shared_ptr<FollowerPartition> follower;
  std::unique_ptr<LocalLeaderEndpoint> endpoint;
  std::unique_ptr<ReplicaFetcher> fetcher;
};

class ReplRig {
 public:
  explicit ReplRig(std::uint64_t seed, int brokers = 3, storage::LogConfig config = {})
      : world_(seed), config_(config) {
    driver_ = &world_.add_node("driver");
    driver_->set_main([](Runtime&) {});
    driver_->start();
    for (int i = 0; i < brokers; ++i) {
      brokers_.emplace_back();
      brokers_.back().node = &world_.add_node("b" + std::to_string(i));
      brokers_.back().node->set_main([](Runtime&) {});
      brokers_.back().node->start();
    }
  }

  sim::World& world() { return world_; }
  Broker& b(int id) { return brokers_.at(static_cast<std::size_t>(id)); }
  storage::Log& log(int id) { return *b(id).log; }
  int size() const { return static_cast<int>(brokers_.size()); }

  // Runs body as a driver fiber to its end; fails the test if it does not end.
  void run(sim::testing::Body body, Duration limit = seconds(600)) {
    ASSERT_TRUE(sim::testing::run_step(world_, *driver_, std::move(body), limit)) << "step did not end";
  }
  void run_for(Duration d) { world_.run_for(d); }

  // (Re)opens broker id's log (from a fiber).
  void open_log(int id) {
    Broker& x = b(id);
    x.log.reset();
    auto opened = storage::Log::open(*x.node, "t-0", config_);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    x.log = std::move(*opened);
    x.service = std::make_unique<LeaderService>(*x.node);
  }
  void open_all() {
    run([&](Runtime&) {
      for (int i = 0; i < size(); ++i) open_log(i);
    });
  }

  // Crashes broker id: its fibers die, unsynced data may go, and every
  // object of that incarnation is dropped. restart() brings the node back
  // (its log is reopened by open_log).
  void crash(int id) {
    Broker& x = b(id);
    x.node->crash();
    x.fetcher.reset();
    x.endpoint.reset();
    x.follower.reset();
    x.leader.reset();
    x.service.reset();
    x.log.reset();
    for (Broker& other : brokers_)
      if (other.endpoint && other.fetcher) disconnect_from(other, id);
  }
  void restart(int id) { b(id).node->start(); }

  // Makes `leader` lead at epoch with the given ISR (all brokers replicas).
  void make_leader(int leader, std::int32_t epoch, std::vector<std::int32_t> isr,
                   LeaderConfig config = {}, Bugs bugs = {}) {
    Broker& x = b(leader);
    PartitionState s{epoch, 0, replica_ids(), std::move(isr)};
    auto p = LeaderPartition::become_leader(*x.node, *x.log, leader, s, config, std::move(bugs));
    ASSERT_TRUE(p.ok()) << p.error().message();
    x.leader = std::move(*p);
    x.follower.reset();
    x.service->add(tp0, x.leader);
  }
  void make_follower(int id, int leader, std::int32_t epoch, Bugs bugs = {}) {
    Broker& x = b(id);
    auto f = FollowerPartition::become_follower(*x.log, tp0, leader, epoch, std::move(bugs));
    ASSERT_TRUE(f.ok()) << f.error().message();
    x.follower = std::move(*f);
    if (x.leader) {
      x.service->remove(tp0);
      x.leader.reset();
    }
  }

  // Starts a fetcher fiber on follower id toward leader (from a fiber).
  void start_fetcher(int id, int leader, FetcherConfig config = {}) {
    Broker& x = b(id);
    x.endpoint = std::make_unique<LocalLeaderEndpoint>(*x.node, seconds(5));
    x.endpoint->connect(*b(leader).node, *b(leader).service);
    x.fetcher = std::make_unique<ReplicaFetcher>(*x.node, id, leader, *x.endpoint, config);
    x.fetcher->add_partition(x.follower);
    fetcher_leader_[id] = leader;
    x.fetcher->start();  // a fiber of the follower's node
  }

  // Drives the follower protocol of broker id against leader's service
  // from the calling fiber, one request at a time, until the follower
  // holds the leader's whole log (or rounds_max requests went by).
  void sync_follower(int id, int leader, std::int32_t partition_max_bytes = 1 << 20,
                     std::int64_t stop_at = -1) {
    constexpr int rounds_max = 10'000;
    FollowerPartition& f = *b(id).follower;
    LeaderService& svc = *b(leader).service;
    for (int i = 0; i < rounds_max; ++i) {
      const std::int64_t end = stop_at >= 0 ? stop_at : log(leader).log_end_offset();
      if (f.phase() == FollowerPhase::truncating) {
        auto answers = svc.offset_for_leader_epoch({f.epoch_query()});
        ASSERT_TRUE(f.apply_epoch_answer(answers.at(0)).ok());
      } else if (f.phase() == FollowerPhase::fetching && log(id).log_end_offset() < end) {
        FetchQuery q;
        q.replica_id = id;
        q.partitions.push_back(f.fetch_request(partition_max_bytes));
        FetchReply r = svc.fetch(q);
        ASSERT_TRUE(f.apply_fetch(r.partitions.at(0)).ok());
      } else {
        // One more fetch at the end carries the leader's latest high watermark.
        if (stop_at < 0 && f.phase() == FollowerPhase::fetching) {
          FetchQuery q;
          q.replica_id = id;
          q.partitions.push_back(f.fetch_request(partition_max_bytes));
          ASSERT_TRUE(f.apply_fetch(svc.fetch(q).partitions.at(0)).ok());
        }
        return;
      }
    }
    FAIL() << "follower " << id << " did not catch up";
  }

  std::vector<std::int32_t> replica_ids() const {
    std::vector<std::int32_t> ids;
    for (int i = 0; i < static_cast<int>(brokers_.size()); ++i) ids.push_back(i);
    return ids;
  }

  // Every batch of broker id's log, as stored.
  std::vector<Bytes> batches(int id) {
    auto scan = storage::testing::full_scan(log(id), 1 << 20);
    EXPECT_EQ(scan.error, "");
    return scan.batches;
  }

 private:
  void disconnect_from(Broker& follower, int crashed) {
    for (const auto& [fid, lid] : fetcher_leader_)
      if (lid == crashed && &b(fid) == &follower) follower.endpoint->disconnect();
  }

  sim::World world_;
  storage::LogConfig config_;
  sim::SimNode* driver_ = nullptr;
  std::vector<Broker> brokers_;
  std::map<int, int> fetcher_leader_;
};

}  // namespace castle::replication::testing
