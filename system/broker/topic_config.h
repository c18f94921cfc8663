#pragma once
// Per-topic configuration: Kafka's topic-level names (CreateTopics configs,
// DescribeConfigs) over the broker's defaults.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "system/broker/broker_config.h"

namespace castle::broker {

using TopicOverrides = std::map<std::string, std::string>;

// Checks topic-level overrides: known names, parsable values, and values
// Castle can honour (cleanup.policy=delete only, for example). On failure
// `bad` names the property and `why` says what is wrong.
bool validate_topic_overrides(const TopicOverrides& overrides, std::string* bad, std::string* why);

// The partition log configuration for a topic: the broker's log.* settings
// with the topic's overrides applied. Overrides must have been validated.
storage::LogConfig topic_log_config(const BrokerConfig& broker, const TopicOverrides& overrides);

// The largest record batch the topic accepts (max.message.bytes, defaulting
// to the broker's message.max.bytes).
std::int32_t topic_max_message_bytes(const BrokerConfig& broker, const TopicOverrides& overrides);

// min.insync.replicas for the topic.
std::int32_t topic_log_min_insync(const BrokerConfig& broker, const TopicOverrides& overrides);

struct TopicConfigEntry {
  std::string name;
  std::string value;
  bool is_default = true;  // false: a topic override
};
// Every topic-level config with its effective value, sorted by name.
std::vector<TopicConfigEntry> describe_topic_config(const BrokerConfig& broker,
                                                    const TopicOverrides& overrides);

}  // namespace castle::broker
