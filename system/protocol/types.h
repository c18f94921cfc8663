#pragma once
// Strong types for the Kafka-facing identifiers the messages carry, so that
// a partition index cannot be passed where a broker id is meant. Each is an
// enum class over the wire type: brace-initialise from the raw value
// (PartitionId{3}) and read it back with raw().

#include <cstdint>
#include <type_traits>

namespace castle::protocol {

enum class ApiKey : std::int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  leave_group = 13,
  sync_group = 14,
  describe_groups = 15,
  list_groups = 16,
  sasl_handshake = 17,
  api_versions = 18,
  create_topics = 19,
  delete_topics = 20,
  init_producer_id = 22,
  offset_for_leader_epoch = 23,
  describe_configs = 32,
};

enum class BrokerId : std::int32_t {};
enum class PartitionId : std::int32_t {};
enum class LeaderEpoch : std::int32_t {};
enum class Offset : std::int64_t {};  // a Kafka-facing partition offset
enum class ProducerId : std::int64_t {};
enum class ProducerEpoch : std::int16_t {};

template <class E>
constexpr std::underlying_type_t<E> raw(E e) {
  return static_cast<std::underlying_type_t<E>>(e);
}

// The versions of a message the codec implements (and the broker
// advertises). All are below the message's first flexible version.
struct VersionRange {
  std::int16_t min = 0;
  std::int16_t max = 0;
  constexpr bool contains(std::int16_t v) const { return v >= min && v <= max; }
};

}  // namespace castle::protocol
