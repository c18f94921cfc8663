#pragma once
// A replica fetcher: one fiber per (follower broker, leader broker) that
// keeps the follower's partitions of that leader up to date, as Kafka's
// ReplicaFetcherThread. Each round: one OffsetForLeaderEpoch for the
// partitions still truncating, then one Fetch (replica_id = this broker,
// each partition's current leader epoch and log end as fetch offset) for
// the partitions fetching, the answers applied to each FollowerPartition.
// A partition whose answer was a transient error waits backoff_ms; a
// transport error backs off the whole round.
//
// The fetcher shares its partitions with the broker (shared_ptr). After
// remove_partition returns, the fetcher no longer touches that partition,
// so the broker may close its log.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "system/replication/follower_state.h"
#include "system/replication/leader_endpoint.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::replication {

struct FetcherConfig {
  std::int32_t max_wait_ms = 500;                // replica.fetch.wait.max.ms
  std::int32_t min_bytes = 1;                    // replica.fetch.min.bytes
  std::int32_t max_bytes = 10 << 20;             // replica.fetch.response.max.bytes
  std::int32_t partition_max_bytes = 1 << 20;    // replica.fetch.max.bytes
  std::int64_t backoff_ms = 1000;                // replica.fetch.backoff.ms
};

struct FetcherStats {
  std::uint64_t rounds = 0;
  std::uint64_t epoch_requests = 0;
  std::uint64_t fetch_requests = 0;
  std::uint64_t transport_errors = 0;
  std::uint64_t partition_errors = 0;
};

class ReplicaFetcher {
 public:
  ReplicaFetcher(Runtime& rt, std::int32_t self_id, std::int32_t leader_id,
                 LeaderEndpoint& endpoint, FetcherConfig config = {});
  ~ReplicaFetcher();
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  void add_partition(std::shared_ptr<FollowerPartition> p);
  // From a fiber: waits while a round is applying an answer to it.
  void remove_partition(const TopicPartition& tp);
  // A partition's leader or epoch changed (on_new_leader): try it at once.
  void wake();
  std::size_t partition_count() const { return partitions_.size(); }

  // Spawns the fiber; stop() cancels it and waits for it (from a fiber).
  void start();
  void stop();
  // One round; false if there was nothing to ask (every partition waiting
  // or awaiting metadata). Public for tests that step the protocol.
  bool run_once();
  const FetcherStats& stats() const { return stats_; }

 private:
  using Snapshot = std::vector<std::shared_ptr<FollowerPartition>>;
  Snapshot ready(FollowerPhase phase) const;
  void maybe_revalidate();
  bool truncation_round(const Snapshot& parts);
  bool fetch_round(const Snapshot& parts);
  // The partition if still registered as the same object.
  bool still_ours(const std::shared_ptr<FollowerPartition>& p) const;
  void apply_action(const std::shared_ptr<FollowerPartition>& p, Result<FollowerAction> action);
  void run();
  Instant next_wakeup() const;

  Runtime& rt_;
  std::int32_t self_id_;
  std::int32_t leader_id_;
  LeaderEndpoint& endpoint_;
  FetcherConfig config_;
  std::map<TopicPartition, std::shared_ptr<FollowerPartition>> partitions_;
  std::map<TopicPartition, Instant> delayed_until_;
  std::optional<TopicPartition> applying_;
  WaitList changed_;
  WaitList applied_;
  Task task_;
  FetcherStats stats_;
};

}  // namespace castle::replication
