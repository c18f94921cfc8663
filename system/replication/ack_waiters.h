#pragma once
// acks=all waiters of one partition leader: each produce that asked for
// acks=all registers the last offset of its batches and a deadline, and is
// decided by a pure rule over the leader's state (decide_ack). The registry
// holds no runtime: the leader re-decides its waiters whenever the high
// watermark, the ISR or the leadership changes, and a fiber that waits for
// one of them sleeps on the leader's wait list (LeaderPartition::await_ack).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "system/replication/types.h"
#include "system/runtime/time.h"

namespace castle::replication {

// What decides an acks=all produce.
struct AckState {
  bool leader = true;                // still the leader of the epoch the produce went to
  std::int64_t high_watermark = 0;
  std::int64_t log_end_offset = 0;   // the leader's own (for the planted bug only)
  std::size_t isr_size = 1;          // the committed ISR, leader included
  std::int32_t min_insync_replicas = 1;
  bool ack_on_append = false;        // planted bug replication-ack-before-isr
};

// The outcome of an acks=all produce whose batches end at last_offset, or
// nullopt while it must wait: NONE once the high watermark passed it with
// the ISR at least min.insync.replicas; NOT_ENOUGH_REPLICAS_AFTER_APPEND if
// it passed while the ISR was too small; REQUEST_TIMED_OUT at the deadline;
// NOT_LEADER_OR_FOLLOWER once leadership is lost.
std::optional<ErrorCode> decide_ack(const AckState& s, std::int64_t last_offset, Instant deadline,
                                    Instant now);

class AckWaiters {
 public:
  using Id = std::uint64_t;
  // A bound on produces waiting at once on one partition; beyond it a
  // produce is refused rather than queued without limit.
  static constexpr std::size_t waiters_max = 1 << 16;

  // nullopt when waiters_max are already waiting.
  std::optional<Id> add(std::int64_t last_offset, Instant deadline);
  // Decides every undecided waiter; returns how many were decided now.
  std::size_t update(const AckState& s, Instant now);
  // The decision for id, nullopt while undecided (or unknown).
  std::optional<ErrorCode> result(Id id) const;
  void forget(Id id);
  std::size_t size() const { return waiters_.size(); }
  std::size_t undecided() const;

 private:
  struct Waiter {
    std::int64_t last_offset = 0;
    Instant deadline{};
    std::optional<ErrorCode> result;
  };
  std::map<Id, Waiter> waiters_;
  Id next_id_ = 1;
};

}  // namespace castle::replication
