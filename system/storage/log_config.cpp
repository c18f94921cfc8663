#include "system/storage/log_config.h"

#include <charconv>
#include <limits>

namespace castle::storage {

namespace {

// How one property lands in the config: the field, the unit multiplier to
// milliseconds (1 for non-time properties), and the smallest value allowed.
// A value of -1 is accepted where Kafka gives it the meaning "unbounded".
struct PropertySpec {
  const char* name;
  std::int64_t LogConfig::*field;
  std::int64_t unit;
  std::int64_t min;
  bool minus_one_unbounded;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

constexpr std::int64_t ms_per_minute = 60 * 1000;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
// Positions in a segment and its index are 32-bit, as in Kafka.
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
// The smallest segment that holds a batch header.
constexpr std::int64_t segment_bytes_min = 14;

// Order matters: Kafka lets the finer unit win (log.retention.ms over
// .minutes over .hours), so finer names are applied last.
const PropertySpec specs[] = {
    {"log.segment.bytes", &LogConfig::segment_bytes, 1, segment_bytes_min, false, int32_max},
    {"log.roll.hours", &LogConfig::roll_ms, ms_per_hour, 1, false},
    {"log.roll.ms", &LogConfig::roll_ms, 1, 1, false},
    {"log.retention.hours", &LogConfig::retention_ms, ms_per_hour, 0, true},
    {"log.retention.minutes", &LogConfig::retention_ms, ms_per_minute, 0, true},
    {"log.retention.ms", &LogConfig::retention_ms, 1, 0, true},
    {"log.retention.bytes", &LogConfig::retention_bytes, 1, 0, true},
    {"log.index.interval.bytes", &LogConfig::index_interval_bytes, 1, 0, false, int32_max},
    {"log.index.size.max.bytes", &LogConfig::segment_index_bytes, 1, 8, false, int32_max},
    {"log.flush.interval.messages", &LogConfig::flush_interval_messages, 1, 1, false},
    {"log.flush.interval.ms", &LogConfig::flush_interval_ms, 1, 0, false},
};

bool fail(ConfigError* error, const std::string& property, std::string message) {
  if (error) *error = ConfigError{property, std::move(message)};
  return false;
}

bool apply_one(const PropertySpec& spec, const std::string& text, LogConfig* config,
               ConfigError* error) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    return fail(error, spec.name, "'" + text + "' is not an integer");
  if (v == -1 && spec.minus_one_unbounded) {
    config->*spec.field = -1;
    return true;
  }
  if (v < spec.min || v > spec.max)
    return fail(error, spec.name,
                std::to_string(v) + " is out of range [" + std::to_string(spec.min) + ", " +
                    std::to_string(spec.max) + "]" +
                    (spec.minus_one_unbounded ? " (or -1 for unbounded)" : ""));
  if (v > std::numeric_limits<std::int64_t>::max() / spec.unit)
    return fail(error, spec.name, std::to_string(v) + " is too large");
  config->*spec.field = v * spec.unit;
  return true;
}

}  // namespace

// Applies all-or-nothing: on an error the config is left as it was.
bool apply_log_properties(const std::map<std::string, std::string>& props, LogConfig* config,
                          ConfigError* error) {
  CASTLE_ASSERT(config != nullptr, "apply_log_properties needs a config");
  for (const auto& [name, value] : props) {
    if (!is_log_property(name)) return fail(error, name, "unknown log property");
  }
  LogConfig next = *config;
  for (const PropertySpec& spec : specs) {
    auto it = props.find(spec.name);
    if (it == props.end()) continue;
    if (!apply_one(spec, it->second, &next, error)) return false;
  }
  *config = next;
  return true;
}

bool is_log_property(const std::string& name) {
  for (const PropertySpec& spec : specs) {
    if (name == spec.name) return true;
  }
  return false;
}

}  // namespace castle::storage
