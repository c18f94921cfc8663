#include "system/replication/ack_waiters.h"

#include <algorithm>

#include "system/runtime/assert.h"

namespace castle::replication {

std::optional<ErrorCode> decide_ack(const AckState& s, std::int64_t last_offset, Instant deadline,
                                    Instant now) {
  CASTLE_ASSERT(last_offset >= 0, "an acks=all waiter needs the offset of an appended record");
  if (!s.leader) return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  const std::int64_t committed = s.ack_on_append ? s.log_end_offset : s.high_watermark;
  if (committed > last_offset) {
    // Kafka's checkEnoughReplicasReachOffset: replicated, but to too few.
    if (s.isr_size < static_cast<std::size_t>(std::max(s.min_insync_replicas, 1)))
      return ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND;
    return ErrorCode::NONE;
  }
  if (now >= deadline) return ErrorCode::REQUEST_TIMED_OUT;
  return std::nullopt;
}

std::optional<AckWaiters::Id> AckWaiters::add(std::int64_t last_offset, Instant deadline) {
  if (waiters_.size() >= waiters_max) return std::nullopt;
  const Id id = next_id_++;
  waiters_.emplace(id, Waiter{last_offset, deadline, std::nullopt});
  return id;
}

std::size_t AckWaiters::update(const AckState& s, Instant now) {
  std::size_t decided = 0;
  for (auto& [id, w] : waiters_) {
    if (w.result) continue;
    w.result = decide_ack(s, w.last_offset, w.deadline, now);
    if (w.result) ++decided;
  }
  return decided;
}

std::optional<ErrorCode> AckWaiters::result(Id id) const {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return std::nullopt;
  return it->second.result;
}

void AckWaiters::forget(Id id) { waiters_.erase(id); }

std::size_t AckWaiters::undecided() const {
  std::size_t n = 0;
  for (const auto& [id, w] : waiters_) n += w.result ? 0 : 1;
  return n;
}

}  // namespace castle::replication
