#include "system/broker/topic_config.h"

#include <charconv>
#include <limits>
#include <string_view>

namespace castle::broker {

namespace {

enum class Kind { integer, boolean, only };  // only: a single value Castle honours

struct TopicProperty {
  const char* name;
  Kind kind;
  std::int64_t min = 0;          // integers: the smallest valid value
  const char* only_value = "";   // Kind::only: the one accepted value
};

// Kafka's topic-level configs. Those about compaction, throttling and
// down-conversion are accepted so that tools which set them keep working;
// they change nothing here (no compaction, no replication throttles yet).
constexpr TopicProperty topic_properties[] = {
    {"cleanup.policy", Kind::only, 0, "delete"},
    {"compression.type", Kind::only, 0, "producer"},
    {"delete.retention.ms", Kind::integer, 0},
    {"file.delete.delay.ms", Kind::integer, 0},
    {"flush.messages", Kind::integer, 1},
    {"flush.ms", Kind::integer, 0},
    {"index.interval.bytes", Kind::integer, 0},
    {"max.compaction.lag.ms", Kind::integer, 1},
    {"max.message.bytes", Kind::integer, 0},
    {"message.downconversion.enable", Kind::boolean},
    {"message.timestamp.difference.max.ms", Kind::integer, 0},
    {"message.timestamp.type", Kind::only, 0, "CreateTime"},
    {"min.cleanable.dirty.ratio", Kind::only, 0, "0.5"},
    {"min.compaction.lag.ms", Kind::integer, 0},
    {"min.insync.replicas", Kind::integer, 1},
    {"preallocate", Kind::boolean},
    {"retention.bytes", Kind::integer, -1},
    {"retention.ms", Kind::integer, -1},
    {"segment.bytes", Kind::integer, 14},
    {"segment.index.bytes", Kind::integer, 4},
    {"segment.jitter.ms", Kind::integer, 0},
    {"segment.ms", Kind::integer, 1},
    {"unclean.leader.election.enable", Kind::boolean},
};

const TopicProperty* find_property(const std::string& name) {
  for (const auto& p : topic_properties)
    if (name == p.name) return &p;
  return nullptr;
}

bool parse_i64(std::string_view text, std::int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

std::int64_t override_or(const TopicOverrides& o, const char* name, std::int64_t fallback) {
  auto it = o.find(name);
  std::int64_t v = 0;
  if (it == o.end() || !parse_i64(it->second, &v)) return fallback;
  return v;
}

// Effective value of a topic config when the topic does not override it.
std::string default_value(const BrokerConfig& b, const std::string& name) {
  const auto& l = b.log;
  auto num = [](std::int64_t v) { return std::to_string(v); };
  auto max_as_never = [](std::int64_t v) {
    return v == std::numeric_limits<std::int64_t>::max() ? std::string("9223372036854775807")
                                                         : std::to_string(v);
  };
  if (name == "cleanup.policy") return "delete";
  if (name == "compression.type") return "producer";
  if (name == "delete.retention.ms") return "86400000";
  if (name == "file.delete.delay.ms") return "60000";
  if (name == "flush.messages") return max_as_never(l.flush_interval_messages);
  if (name == "flush.ms") return max_as_never(l.flush_interval_ms);
  if (name == "index.interval.bytes") return num(l.index_interval_bytes);
  if (name == "max.compaction.lag.ms") return "9223372036854775807";
  if (name == "max.message.bytes") return num(b.message_max_bytes);
  if (name == "message.downconversion.enable") return "true";
  if (name == "message.timestamp.difference.max.ms") return "9223372036854775807";
  if (name == "message.timestamp.type") return "CreateTime";
  if (name == "min.cleanable.dirty.ratio") return "0.5";
  if (name == "min.compaction.lag.ms") return "0";
  if (name == "min.insync.replicas") return num(b.min_insync_replicas);
  if (name == "preallocate") return "false";
  if (name == "retention.bytes") return num(l.retention_bytes);
  if (name == "retention.ms") return num(l.retention_ms);
  if (name == "segment.bytes") return num(l.segment_bytes);
  if (name == "segment.index.bytes") return num(l.segment_index_bytes);
  if (name == "segment.jitter.ms") return "0";
  if (name == "segment.ms") return num(l.roll_ms);
  if (name == "unclean.leader.election.enable") return "false";
  return "";
}

}  // namespace

bool validate_topic_overrides(const TopicOverrides& overrides, std::string* bad, std::string* why) {
  for (const auto& [name, value] : overrides) {
    *bad = name;
    const TopicProperty* p = find_property(name);
    if (p == nullptr) {
      *why = "unknown topic config";
      return false;
    }
    std::int64_t v = 0;
    switch (p->kind) {
      case Kind::integer:
        if (!parse_i64(value, &v) || v < p->min) {
          *why = "must be an integer >= " + std::to_string(p->min) + ", got '" + value + "'";
          return false;
        }
        break;
      case Kind::boolean:
        if (value != "true" && value != "false") {
          *why = "must be true or false, got '" + value + "'";
          return false;
        }
        break;
      case Kind::only:
        if (value != p->only_value) {
          *why = std::string("Castle supports only '") + p->only_value + "', got '" + value + "'";
          return false;
        }
        break;
    }
  }
  return true;
}

storage::LogConfig topic_log_config(const BrokerConfig& broker, const TopicOverrides& o) {
  storage::LogConfig c = broker.log;
  c.segment_bytes = override_or(o, "segment.bytes", c.segment_bytes);
  c.roll_ms = override_or(o, "segment.ms", c.roll_ms);
  c.retention_ms = override_or(o, "retention.ms", c.retention_ms);
  c.retention_bytes = override_or(o, "retention.bytes", c.retention_bytes);
  c.index_interval_bytes = override_or(o, "index.interval.bytes", c.index_interval_bytes);
  c.segment_index_bytes = override_or(o, "segment.index.bytes", c.segment_index_bytes);
  c.flush_interval_messages = override_or(o, "flush.messages", c.flush_interval_messages);
  c.flush_interval_ms = override_or(o, "flush.ms", c.flush_interval_ms);
  return c;
}

std::int32_t topic_max_message_bytes(const BrokerConfig& broker, const TopicOverrides& o) {
  const std::int64_t v = override_or(o, "max.message.bytes", broker.message_max_bytes);
  return static_cast<std::int32_t>(std::min<std::int64_t>(v, std::numeric_limits<std::int32_t>::max()));
}

std::int32_t topic_log_min_insync(const BrokerConfig& broker, const TopicOverrides& o) {
  return static_cast<std::int32_t>(override_or(o, "min.insync.replicas", broker.min_insync_replicas));
}

std::vector<TopicConfigEntry> describe_topic_config(const BrokerConfig& broker,
                                                    const TopicOverrides& overrides) {
  std::vector<TopicConfigEntry> out;
  for (const auto& p : topic_properties) {
    auto it = overrides.find(p.name);
    if (it != overrides.end()) {
      out.push_back({p.name, it->second, false});
    } else {
      out.push_back({p.name, default_value(broker, p.name), true});
    }
  }
  return out;
}

}  // namespace castle::broker
