#pragma once
// min.insync.replicas as Kafka applies it to a partition: at least 1, and
// at most the partition's replica count, so that a topic asking for more
// copies than it has can still commit with all of them. The leader's high
// watermark and acks=all (replication/) and the controller's eligible
// leader replicas (controller/) must agree on it, so both use this.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace castle::replication {

inline std::size_t effective_min_insync(std::int64_t min_insync, std::size_t replicas) {
  const auto asked = static_cast<std::size_t>(std::max<std::int64_t>(min_insync, 1));
  return std::clamp<std::size_t>(asked, 1, std::max<std::size_t>(replicas, 1));
}

}  // namespace castle::replication
