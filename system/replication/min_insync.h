#pragma once
// min.insync.replicas as the commit rule applies it to a partition: at
// least 1, and at most the partition's replica count, so that a topic
// asking for more copies than it has still commits (acks=1 writes) with
// all of them; acks=all produces are refused with NOT_ENOUGH_REPLICAS
// there, as in Kafka, by the uncapped value. The leader's high watermark
// (replication/) and the controller's eligible leader replicas
// (controller/) must agree on it, so both use this.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace castle::replication {

inline std::size_t effective_min_insync(std::int64_t min_insync, std::size_t replicas) {
  const auto asked = static_cast<std::size_t>(std::max<std::int64_t>(min_insync, 1));
  return std::clamp<std::size_t>(asked, 1, std::max<std::size_t>(replicas, 1));
}

}  // namespace castle::replication
