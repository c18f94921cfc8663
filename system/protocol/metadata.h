#pragma once
// Metadata (API key 3). Implemented: request and response v0-8 (v9 is the
// first flexible version).
//
// Request: Topics [Name] (nullable v1+: null = all topics; in v0 an empty
// array means all topics), AllowAutoTopicCreation (v4+),
// IncludeClusterAuthorizedOperations (v8-10), IncludeTopicAuthorizedOperations
// (v8+).
// Response: ThrottleTimeMs (v3+); Brokers [NodeId, Host, Port, Rack (v1+,
// nullable)]; ClusterId (v2+, nullable); ControllerId (v1+); Topics
// [ErrorCode, Name, IsInternal (v1+), Partitions [ErrorCode, PartitionIndex,
// LeaderId, LeaderEpoch (v7+), ReplicaNodes, IsrNodes, OfflineReplicas (v5+)],
// TopicAuthorizedOperations (v8+)]; ClusterAuthorizedOperations (v8-10).

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

// Kafka's "authorized operations not requested" marker.
inline constexpr std::int32_t authorized_operations_unknown =
    std::numeric_limits<std::int32_t>::min();

struct MetadataRequest {
  static constexpr ApiKey api_key = ApiKey::metadata;
  static constexpr VersionRange versions{0, 8};
  static constexpr std::int16_t first_flexible_version = 9;

  // nullopt = all topics (v1+). Written as an empty array in v0, where that
  // is how "all topics" is spelled.
  std::optional<std::vector<std::string>> topics = std::vector<std::string>{};
  bool allow_auto_topic_creation = true;                // v4+
  bool include_cluster_authorized_operations = false;  // v8
  bool include_topic_authorized_operations = false;    // v8+
  bool operator==(const MetadataRequest&) const = default;
};

struct MetadataResponse {
  static constexpr ApiKey api_key = ApiKey::metadata;
  static constexpr VersionRange versions{0, 8};

  struct Broker {
    BrokerId node_id{0};
    std::string host;
    std::int32_t port = 0;
    std::optional<std::string> rack;  // v1+
    bool operator==(const Broker&) const = default;
  };
  struct Partition {
    ErrorCode error_code = ErrorCode::NONE;
    PartitionId partition_index{0};
    BrokerId leader_id{0};
    LeaderEpoch leader_epoch{-1};  // v7+
    std::vector<BrokerId> replica_nodes;
    std::vector<BrokerId> isr_nodes;
    std::vector<BrokerId> offline_replicas;  // v5+
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    ErrorCode error_code = ErrorCode::NONE;
    std::string name;
    bool is_internal = false;  // v1+
    std::vector<Partition> partitions;
    std::int32_t topic_authorized_operations = authorized_operations_unknown;  // v8+
    bool operator==(const Topic&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v3+
  std::vector<Broker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  BrokerId controller_id{-1};             // v1+
  std::vector<Topic> topics;
  std::int32_t cluster_authorized_operations = authorized_operations_unknown;  // v8
  bool operator==(const MetadataResponse&) const = default;
};

void encode(const MetadataRequest& m, std::int16_t version, Writer& w);
void encode(const MetadataResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<MetadataRequest> decode<MetadataRequest>(Reader& r, std::int16_t version);
template <>
Decoded<MetadataResponse> decode<MetadataResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
