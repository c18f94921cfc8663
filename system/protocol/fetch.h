#pragma once
// Fetch (API key 1). Implemented: request and response v0-11 (v12 is the
// first flexible version). Records are opaque bytes.
//
// Request: ReplicaId, MaxWaitMs, MinBytes, MaxBytes (v3+), IsolationLevel
// (v4+), SessionId (v7+), SessionEpoch (v7+), Topics [Topic, Partitions
// [Partition, CurrentLeaderEpoch (v9+), FetchOffset, LogStartOffset (v5+),
// PartitionMaxBytes]], ForgottenTopicsData (v7+) [Topic, Partitions []int32],
// RackId (v11+).
// Response: ThrottleTimeMs (v1+), ErrorCode (v7+), SessionId (v7+), Responses
// [Topic, Partitions [PartitionIndex, ErrorCode, HighWatermark,
// LastStableOffset (v4+), LogStartOffset (v5+), AbortedTransactions (v4+,
// nullable) [ProducerId, FirstOffset], PreferredReadReplica (v11+), Records
// (nullable)]].

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct FetchRequest {
  static constexpr ApiKey api_key = ApiKey::fetch;
  static constexpr VersionRange versions{0, 11};
  static constexpr std::int16_t first_flexible_version = 12;

  struct Partition {
    PartitionId partition{0};
    LeaderEpoch current_leader_epoch{-1};  // v9+
    Offset fetch_offset{0};
    Offset log_start_offset{-1};  // v5+, followers only
    std::int32_t partition_max_bytes = 0;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  struct ForgottenTopic {
    std::string topic;
    std::vector<PartitionId> partitions;
    bool operator==(const ForgottenTopic&) const = default;
  };

  BrokerId replica_id{-1};  // -1: a consumer, not a follower
  std::int32_t max_wait_ms = 0;
  std::int32_t min_bytes = 0;
  std::int32_t max_bytes = 0x7fffffff;  // v3+
  std::int8_t isolation_level = 0;      // v4+
  std::int32_t session_id = 0;          // v7+
  std::int32_t session_epoch = -1;      // v7+
  std::vector<Topic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;  // v7+
  std::string rack_id;                                // v11+
  bool operator==(const FetchRequest&) const = default;
};

struct FetchResponse {
  static constexpr ApiKey api_key = ApiKey::fetch;
  static constexpr VersionRange versions{0, 11};

  struct AbortedTransaction {
    ProducerId producer_id{0};
    Offset first_offset{0};
    bool operator==(const AbortedTransaction&) const = default;
  };
  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::NONE;
    Offset high_watermark{0};
    Offset last_stable_offset{-1};  // v4+
    Offset log_start_offset{-1};    // v5+
    std::optional<std::vector<AbortedTransaction>> aborted_transactions =
        std::vector<AbortedTransaction>{};  // v4+
    BrokerId preferred_read_replica{-1};    // v11+
    std::optional<Bytes> records;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  ErrorCode error_code = ErrorCode::NONE;  // v7+
  std::int32_t session_id = 0;             // v7+
  std::vector<Topic> topics;
  bool operator==(const FetchResponse&) const = default;
};

void encode(const FetchRequest& m, std::int16_t version, Writer& w);
void encode(const FetchResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<FetchRequest> decode<FetchRequest>(Reader& r, std::int16_t version);
template <>
Decoded<FetchResponse> decode<FetchResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
