#pragma once
// CreateTopics (API key 19). Implemented: request and response v0-4 (v5 is
// the first flexible version).
//
// Request: Topics [Name, NumPartitions, ReplicationFactor, Assignments
// [PartitionIndex, BrokerIds []int32], Configs [Name, Value (nullable)]],
// timeoutMs, validateOnly (v1+).
// Response: ThrottleTimeMs (v2+), Topics [Name, ErrorCode, ErrorMessage (v1+,
// nullable)].

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct CreateTopicsRequest {
  static constexpr ApiKey api_key = ApiKey::create_topics;
  static constexpr VersionRange versions{0, 4};
  static constexpr std::int16_t first_flexible_version = 5;

  struct Assignment {
    PartitionId partition_index{0};
    std::vector<BrokerId> broker_ids;
    bool operator==(const Assignment&) const = default;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool operator==(const Config&) const = default;
  };
  struct Topic {
    std::string name;
    std::int32_t num_partitions = -1;      // -1: the broker's default
    std::int16_t replication_factor = -1;  // -1: the broker's default
    std::vector<Assignment> assignments;
    std::vector<Config> configs;
    bool operator==(const Topic&) const = default;
  };

  std::vector<Topic> topics;
  std::int32_t timeout_ms = 60000;
  bool validate_only = false;  // v1+
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
  static constexpr ApiKey api_key = ApiKey::create_topics;
  static constexpr VersionRange versions{0, 4};

  struct Topic {
    std::string name;
    ErrorCode error_code = ErrorCode::NONE;
    std::optional<std::string> error_message;  // v1+
    bool operator==(const Topic&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v2+
  std::vector<Topic> topics;
  bool operator==(const CreateTopicsResponse&) const = default;
};

void encode(const CreateTopicsRequest& m, std::int16_t version, Writer& w);
void encode(const CreateTopicsResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<CreateTopicsRequest> decode<CreateTopicsRequest>(Reader& r, std::int16_t version);
template <>
Decoded<CreateTopicsResponse> decode<CreateTopicsResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
