#pragma once
// ListOffsets for the consumer (positions from auto.offset.reset and
// seek_to_*) and the admin (list_offsets): one request per partition leader.
// Retriable failures (no leader, leader moved, connection lost) refresh the
// metadata and ask again, retry.backoff.ms apart, until the deadline.

#include <cstdint>
#include <map>
#include <system_error>

#include "system/client/cluster.h"

namespace castle::client {

// Special timestamps of a query, as Kafka's.
inline constexpr std::int64_t offset_latest = -1;
inline constexpr std::int64_t offset_earliest = -2;

struct ListedOffset {
  std::int64_t offset = -1;     // -1: no record at or after the timestamp
  std::int64_t timestamp = -1;
  std::error_code error;
};

// query: partition -> timestamp (offset_latest, offset_earliest or ms).
std::map<TopicPartition, ListedOffset> list_offsets(Cluster& cluster,
                                                    const std::map<TopicPartition, std::int64_t>& query,
                                                    Instant deadline);

}  // namespace castle::client
