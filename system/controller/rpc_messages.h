#pragma once
// The broker <-> controller RPCs as plain structs with a binary codec. They
// travel in the frames of Raft's RPC layer on the controller port
// (system/raft/rpc.h: `i32 size | i16 type | i32 correlation | body`); this
// file encodes and decodes the body only. Types 20-39 are the controller's
// (docs/cluster.md): a request has an even type, its response the next odd
// one. Bodies are big-endian with checked lengths; anything that does not
// decode (truncated, garbage, bytes left over) is an error value.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "system/controller/records.h"
#include "system/protocol/error_code.h"

namespace castle::controller {

using protocol::ErrorCode;

enum class RpcType : std::int16_t {
  broker_registration_request = 20,
  broker_registration_response = 21,
  broker_heartbeat_request = 22,
  broker_heartbeat_response = 23,
  alter_partition_request = 24,
  alter_partition_response = 25,
  create_topics_request = 26,
  create_topics_response = 27,
  delete_topics_request = 28,
  delete_topics_response = 29,
};

struct BrokerRegistrationRequest {
  static constexpr RpcType type = RpcType::broker_registration_request;
  BrokerId broker_id{0};
  IncarnationId incarnation_id;  // drawn anew at every process start
  Endpoint endpoint;
  std::optional<std::string> rack;
  // The process found its log directory marked as cleanly shut down: its
  // logs hold everything it acknowledged (KIP-966 leaves it eligible).
  bool clean_shutdown = false;
  bool operator==(const BrokerRegistrationRequest&) const = default;
};

struct BrokerRegistrationResponse {
  static constexpr RpcType type = RpcType::broker_registration_response;
  ErrorCode error = ErrorCode::NONE;
  BrokerEpoch broker_epoch{-1};
  bool operator==(const BrokerRegistrationResponse&) const = default;
};

// A partition named by topic id (Kafka's TopicIdPartition).
struct TopicIdPartition {
  TopicId topic_id;
  PartitionId partition{0};
  auto operator<=>(const TopicIdPartition&) const = default;
  bool operator==(const TopicIdPartition&) const = default;
};

struct BrokerHeartbeatRequest {
  static constexpr RpcType type = RpcType::broker_heartbeat_request;
  BrokerId broker_id{0};
  BrokerEpoch broker_epoch{-1};
  // The broker's last applied metadata log index: it is unfenced once this
  // reaches its own registration.
  std::int64_t metadata_offset = -1;
  bool want_shutdown = false;  // a controlled shutdown is under way
  // The partitions whose replica here is offline (its log failed: a batch
  // found damaged, a failed write that could not be undone), sorted. The
  // whole set every time: a partition absent from it is healthy again.
  std::vector<TopicIdPartition> offline_replicas;
  bool operator==(const BrokerHeartbeatRequest&) const = default;
};

struct BrokerHeartbeatResponse {
  static constexpr RpcType type = RpcType::broker_heartbeat_response;
  ErrorCode error = ErrorCode::NONE;
  bool is_caught_up = false;
  bool is_fenced = true;
  bool should_shutdown = false;  // leadership has moved away: stop now
  bool operator==(const BrokerHeartbeatResponse&) const = default;
};

struct AlterPartitionRequest {
  static constexpr RpcType type = RpcType::alter_partition_request;
  struct Partition {
    PartitionId partition{0};
    LeaderEpoch leader_epoch{-1};
    BrokerIds new_isr;
    PartitionEpoch partition_epoch{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    TopicId topic_id;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  BrokerId broker_id{0};  // the leader asking
  BrokerEpoch broker_epoch{-1};
  std::vector<Topic> topics;
  bool operator==(const AlterPartitionRequest&) const = default;
};

struct AlterPartitionResponse {
  static constexpr RpcType type = RpcType::alter_partition_response;
  // The partition's state after the request (on success), as the leader
  // must adopt it.
  struct Partition {
    PartitionId partition{0};
    ErrorCode error = ErrorCode::NONE;
    BrokerId leader = kNoLeader;
    LeaderEpoch leader_epoch{-1};
    BrokerIds isr;
    PartitionEpoch partition_epoch{-1};
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    TopicId topic_id;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };
  ErrorCode error = ErrorCode::NONE;  // request-level (stale broker epoch)
  std::vector<Topic> topics;
  bool operator==(const AlterPartitionResponse&) const = default;
};

struct CreateTopicsRequest {
  static constexpr RpcType type = RpcType::create_topics_request;
  struct Topic {
    std::string name;
    std::int32_t num_partitions = -1;      // -1: the controller's default
    std::int16_t replication_factor = -1;  // -1: the controller's default
    TopicConfigs configs;
    bool operator==(const Topic&) const = default;
  };
  std::vector<Topic> topics;
  bool validate_only = false;
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
  static constexpr RpcType type = RpcType::create_topics_response;
  struct Result {
    std::string name;
    TopicId topic_id;
    ErrorCode error = ErrorCode::NONE;
    std::optional<std::string> message;
    std::int32_t num_partitions = -1;
    std::int16_t replication_factor = -1;
    bool operator==(const Result&) const = default;
  };
  std::vector<Result> topics;
  bool operator==(const CreateTopicsResponse&) const = default;
};

struct DeleteTopicsRequest {
  static constexpr RpcType type = RpcType::delete_topics_request;
  std::vector<std::string> names;
  bool operator==(const DeleteTopicsRequest&) const = default;
};

struct DeleteTopicsResponse {
  static constexpr RpcType type = RpcType::delete_topics_response;
  struct Result {
    std::string name;
    TopicId topic_id;
    ErrorCode error = ErrorCode::NONE;
    bool operator==(const Result&) const = default;
  };
  std::vector<Result> topics;
  bool operator==(const DeleteTopicsResponse&) const = default;
};

// Body codecs. encode_rpc(m) writes the body of m's frame (its type is
// M::type); decode_rpc<M>(bytes) reads one back.
protocol::Bytes encode_rpc(const BrokerRegistrationRequest& m);
protocol::Bytes encode_rpc(const BrokerRegistrationResponse& m);
protocol::Bytes encode_rpc(const BrokerHeartbeatRequest& m);
protocol::Bytes encode_rpc(const BrokerHeartbeatResponse& m);
protocol::Bytes encode_rpc(const AlterPartitionRequest& m);
protocol::Bytes encode_rpc(const AlterPartitionResponse& m);
protocol::Bytes encode_rpc(const CreateTopicsRequest& m);
protocol::Bytes encode_rpc(const CreateTopicsResponse& m);
protocol::Bytes encode_rpc(const DeleteTopicsRequest& m);
protocol::Bytes encode_rpc(const DeleteTopicsResponse& m);

template <class M>
protocol::Decoded<M> decode_rpc(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<BrokerRegistrationRequest> decode_rpc<BrokerRegistrationRequest>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<BrokerRegistrationResponse> decode_rpc<BrokerRegistrationResponse>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<BrokerHeartbeatRequest> decode_rpc<BrokerHeartbeatRequest>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<BrokerHeartbeatResponse> decode_rpc<BrokerHeartbeatResponse>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<AlterPartitionRequest> decode_rpc<AlterPartitionRequest>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<AlterPartitionResponse> decode_rpc<AlterPartitionResponse>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<CreateTopicsRequest> decode_rpc<CreateTopicsRequest>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<CreateTopicsResponse> decode_rpc<CreateTopicsResponse>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<DeleteTopicsRequest> decode_rpc<DeleteTopicsRequest>(std::span<const std::uint8_t> body);
template <>
protocol::Decoded<DeleteTopicsResponse> decode_rpc<DeleteTopicsResponse>(std::span<const std::uint8_t> body);

// Whether a frame type is one of the controller's (20-39).
constexpr bool is_controller_rpc_type(std::int16_t type) { return type >= 20 && type <= 39; }

}  // namespace castle::controller
