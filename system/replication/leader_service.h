#pragma once
// The leader side of replication for one broker: the partitions it leads,
// and the two requests followers send it, answered from them. The broker's
// Fetch handler (for replica_id >= 0) and OffsetForLeaderEpoch handler can
// call this directly; LocalLeaderEndpoint serves tests with it.
//
// Fetch long-polls as Kafka's DelayedFetch: it answers once min_bytes are
// ready, a partition has an error, or max_wait_ms passed, waking at every
// append and high watermark move of any partition it serves.

#include <map>
#include <memory>
#include <vector>

#include "system/replication/leader_state.h"
#include "system/replication/types.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::replication {

class LeaderService {
 public:
  explicit LeaderService(Runtime& rt) : rt_(rt) {}
  LeaderService(const LeaderService&) = delete;
  LeaderService& operator=(const LeaderService&) = delete;

  void add(const TopicPartition& tp, std::shared_ptr<LeaderPartition> p);
  // The partition is no longer led here (it resigns; waiters are failed).
  void remove(const TopicPartition& tp);
  std::shared_ptr<LeaderPartition> find(const TopicPartition& tp) const;

  std::vector<EpochAnswer> offset_for_leader_epoch(const std::vector<EpochQuery>& queries) const;
  // Blocks the calling fiber for long polling.
  FetchReply fetch(const FetchQuery& query);
  // Wakes long-polling fetches (called by partitions on appends and
  // high watermark moves, and by the broker on any change that matters).
  void notify_data() { data_arrived_.notify_all(); }
  Runtime& runtime() { return rt_; }

 private:
  FetchReply read_once(const FetchQuery& query, std::int64_t& bytes_total);

  Runtime& rt_;
  std::map<TopicPartition, std::shared_ptr<LeaderPartition>> partitions_;
  WaitList data_arrived_;
};

}  // namespace castle::replication
