#pragma once
// The values replication exchanges between a follower and its leader, per
// partition: the OffsetForLeaderEpoch question and answer, and the
// follower's Fetch with its reply. They mirror the Kafka messages
// (system/protocol/fetch.h, offset_for_leader_epoch.h) cut down to one
// partition each, so the broker can translate them to and from the wire
// and tests can serve them in process.

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "system/protocol/error_code.h"

namespace castle::replication {

using ErrorCode = protocol::ErrorCode;
using Bytes = std::vector<std::uint8_t>;

// Kafka's "no epoch" and "no offset" markers (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET).
inline constexpr std::int32_t epoch_undefined = -1;
inline constexpr std::int64_t offset_undefined = -1;
// A follower's log end offset before it has fetched in this leader epoch.
inline constexpr std::int64_t offset_unknown = -1;

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};
std::string to_string(const TopicPartition& tp);

// OffsetForLeaderEpoch for one partition: where did `leader_epoch` end on
// the leader? current_leader_epoch fences a follower of an older leader.
struct EpochQuery {
  TopicPartition tp;
  std::int32_t current_leader_epoch = epoch_undefined;
  std::int32_t leader_epoch = epoch_undefined;
};

struct EpochAnswer {
  TopicPartition tp;
  ErrorCode error = ErrorCode::NONE;
  std::int32_t leader_epoch = epoch_undefined;  // largest epoch <= the one asked
  std::int64_t end_offset = offset_undefined;   // where it ended on the leader
};

struct PartitionFetch {
  TopicPartition tp;
  std::int32_t current_leader_epoch = epoch_undefined;
  std::int64_t fetch_offset = 0;       // the follower's log end offset
  std::int64_t log_start_offset = -1;  // the follower's log start
  std::int32_t partition_max_bytes = 1 << 20;
};

// A follower's Fetch (replica_id >= 0) for its partitions of one leader.
struct FetchQuery {
  std::int32_t replica_id = -1;
  std::int32_t max_wait_ms = 0;
  std::int32_t min_bytes = 0;
  std::int32_t max_bytes = 0x7fffffff;
  std::vector<PartitionFetch> partitions;
};

struct PartitionData {
  TopicPartition tp;
  ErrorCode error = ErrorCode::NONE;
  std::int64_t high_watermark = offset_undefined;
  std::int64_t log_start_offset = offset_undefined;
  Bytes records;  // whole batches, as stored on the leader
  // The leader's own business, never sent: its read found a batch failing
  // its CRC (error is KAFKA_STORAGE_ERROR), so its replica is damaged.
  bool log_damaged = false;
};

struct FetchReply {
  ErrorCode error = ErrorCode::NONE;  // the whole request failed
  std::vector<PartitionData> partitions;
};

}  // namespace castle::replication
