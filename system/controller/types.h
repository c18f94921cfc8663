#pragma once
// The identifiers of the cluster metadata. Kafka-facing ids reuse the
// protocol's strong types; the epochs that only the controller hands out are
// strong types of their own, so that a broker epoch cannot be compared with
// a leader epoch by accident.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/types.h"

namespace castle::controller {

using protocol::BrokerId;
using protocol::LeaderEpoch;
using protocol::PartitionId;
using protocol::raw;

// A broker's epoch is the metadata log index of its registration record: a
// restarted broker registers again and gets a larger one.
enum class BrokerEpoch : std::int64_t {};
// Bumped by every change of a partition's leader, ISR or replicas; what
// AlterPartition compares against (Kafka's partition epoch).
enum class PartitionEpoch : std::int32_t {};

inline constexpr BrokerId kNoLeader{-1};

inline LeaderEpoch next(LeaderEpoch e) { return LeaderEpoch{raw(e) + 1}; }
inline PartitionEpoch next(PartitionEpoch e) { return PartitionEpoch{raw(e) + 1}; }

// Kafka's 16-byte UUID, used for topic ids and broker incarnation ids.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};
  bool is_zero() const { return *this == Uuid{}; }
  auto operator<=>(const Uuid&) const = default;
  bool operator==(const Uuid&) const = default;
};
using TopicId = Uuid;
using IncarnationId = Uuid;

// Lower-case hex, 32 characters (for messages and test output).
std::string to_string(const Uuid& id);

// Where clients and other brokers reach a broker.
struct Endpoint {
  std::string host;
  std::int32_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
  bool operator==(const Endpoint&) const = default;
};

using BrokerIds = std::vector<BrokerId>;

// Whether `ids` holds `id` (replica lists are short: a scan is right).
bool contains(const BrokerIds& ids, BrokerId id);

}  // namespace castle::controller
