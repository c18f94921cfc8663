#pragma once
// OffsetForLeaderEpoch (API key 23). Implemented: request and response v0-3
// (v4 is the first flexible version).
//
// Request: ReplicaId (v3+), Topics [Topic, Partitions [Partition,
// CurrentLeaderEpoch (v2+), LeaderEpoch]].
// Response: ThrottleTimeMs (v2+), Topics [Topic, Partitions [ErrorCode,
// Partition, LeaderEpoch (v1+), EndOffset]].

#include <cstdint>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct OffsetForLeaderEpochRequest {
  static constexpr ApiKey api_key = ApiKey::offset_for_leader_epoch;
  static constexpr VersionRange versions{0, 3};
  static constexpr std::int16_t first_flexible_version = 4;

  struct Partition {
    PartitionId partition{0};
    LeaderEpoch current_leader_epoch{-1};  // v2+
    LeaderEpoch leader_epoch{0};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  BrokerId replica_id{-2};  // v3+; -2: a debugging client, -1: a consumer
  std::vector<Topic> topics;
  bool operator==(const OffsetForLeaderEpochRequest&) const = default;
};

struct OffsetForLeaderEpochResponse {
  static constexpr ApiKey api_key = ApiKey::offset_for_leader_epoch;
  static constexpr VersionRange versions{0, 3};

  struct Partition {
    ErrorCode error_code = ErrorCode::NONE;
    PartitionId partition{0};
    LeaderEpoch leader_epoch{-1};  // v1+
    Offset end_offset{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string topic;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
  bool operator==(const OffsetForLeaderEpochResponse&) const = default;
};

void encode(const OffsetForLeaderEpochRequest& m, std::int16_t version, Writer& w);
void encode(const OffsetForLeaderEpochResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<OffsetForLeaderEpochRequest> decode<OffsetForLeaderEpochRequest>(Reader& r,
                                                                         std::int16_t version);
template <>
Decoded<OffsetForLeaderEpochResponse> decode<OffsetForLeaderEpochResponse>(Reader& r,
                                                                           std::int16_t version);

}  // namespace castle::protocol
