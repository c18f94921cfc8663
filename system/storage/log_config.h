#pragma once
// Partition log configuration, with Kafka's property names and defaults.

#include <cstdint>
#include <map>
#include <string>

#include "system/runtime/result.h"

namespace castle::storage {

struct LogConfig {
  std::int64_t segment_bytes = 1LL << 30;                 // log.segment.bytes
  std::int64_t roll_ms = 7LL * 24 * 3600 * 1000;          // log.roll.ms
  std::int64_t retention_ms = 7LL * 24 * 3600 * 1000;     // log.retention.ms (-1: forever)
  std::int64_t retention_bytes = -1;                      // log.retention.bytes (-1: unbounded)
  std::int64_t index_interval_bytes = 4096;               // log.index.interval.bytes
  std::int64_t segment_index_bytes = 10LL << 20;          // log.index.size.max.bytes
  std::int64_t flush_interval_messages = INT64_MAX;       // log.flush.interval.messages
  std::int64_t flush_interval_ms = INT64_MAX;             // log.flush.interval.ms
};

// Applies Kafka-named properties onto a config. An unknown name or a value
// that is not a valid number in range is an error naming the property.
struct ConfigError {
  std::string property;
  std::string message;
};
bool apply_log_properties(const std::map<std::string, std::string>& props, LogConfig* config,
                          ConfigError* error);

// The storage properties this module understands (for `castle broker` to
// tell them from unknown ones).
bool is_log_property(const std::string& name);

}  // namespace castle::storage
