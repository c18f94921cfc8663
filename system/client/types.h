#pragma once
// The values the client hands to and gets from its users.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "system/protocol/codec.h"

namespace castle::client {

using Bytes = std::vector<std::uint8_t>;

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

struct Header {
  std::string key;
  std::optional<Bytes> value;
};

struct ProducerRecord {
  std::string topic;
  std::optional<std::int32_t> partition;  // unset: chosen by the partitioner
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<Header> headers;
  std::optional<std::int64_t> timestamp_ms;  // unset: the producer's wall clock
};

// The outcome of one send. With an error, offset is -1. An acks=0 send
// reports success once written to the connection, with offset -1.
struct DeliveryReport {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;
  std::error_code error;
  bool ok() const { return !error; }
};

struct ConsumerRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<Header> headers;
  std::int64_t timestamp_ms = 0;
};

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace castle::client
