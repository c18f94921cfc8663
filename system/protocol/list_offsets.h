#pragma once
// ListOffsets (API key 2). Implemented: request and response v0-5 (v6 is the
// first flexible version).
//
// Request: ReplicaId, IsolationLevel (v2+), Topics [Name, Partitions
// [PartitionIndex, CurrentLeaderEpoch (v4+), Timestamp, MaxNumOffsets (v0
// only)]].
// Response: ThrottleTimeMs (v2+), Topics [Name, Partitions [PartitionIndex,
// ErrorCode, OldStyleOffsets (v0 only, []int64), Timestamp (v1+), Offset
// (v1+), LeaderEpoch (v4+)]].

#include <cstdint>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

// The special timestamps of a ListOffsets query.
inline constexpr std::int64_t list_offsets_latest_timestamp = -1;
inline constexpr std::int64_t list_offsets_earliest_timestamp = -2;

struct ListOffsetsRequest {
  static constexpr ApiKey api_key = ApiKey::list_offsets;
  static constexpr VersionRange versions{0, 5};
  static constexpr std::int16_t first_flexible_version = 6;

  struct Partition {
    PartitionId partition_index{0};
    LeaderEpoch current_leader_epoch{-1};  // v4+
    std::int64_t timestamp = 0;
    std::int32_t max_num_offsets = 1;  // v0 only
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  BrokerId replica_id{-1};
  std::int8_t isolation_level = 0;  // v2+
  std::vector<Topic> topics;
  bool operator==(const ListOffsetsRequest&) const = default;
};

struct ListOffsetsResponse {
  static constexpr ApiKey api_key = ApiKey::list_offsets;
  static constexpr VersionRange versions{0, 5};

  struct Partition {
    PartitionId partition_index{0};
    ErrorCode error_code = ErrorCode::NONE;
    std::vector<Offset> old_style_offsets;  // v0 only
    std::int64_t timestamp = -1;            // v1+
    Offset offset{-1};                      // v1+
    LeaderEpoch leader_epoch{-1};           // v4+
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
  bool operator==(const ListOffsetsResponse&) const = default;
};

void encode(const ListOffsetsRequest& m, std::int16_t version, Writer& w);
void encode(const ListOffsetsResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<ListOffsetsRequest> decode<ListOffsetsRequest>(Reader& r, std::int16_t version);
template <>
Decoded<ListOffsetsResponse> decode<ListOffsetsResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
