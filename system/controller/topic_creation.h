#pragma once
// The pure parts of creating a topic: Kafka's name rules, a topic id derived
// deterministically from the name and the log position, and round-robin
// replica assignment over the alive brokers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "system/controller/image.h"

namespace castle::controller {

inline constexpr std::size_t kTopicNameLengthMax = 249;

// Kafka's rule: 1-249 characters of [a-zA-Z0-9._-], and not "." or "..".
// On failure `why` says what is wrong.
bool is_valid_topic_name(std::string_view name, std::string* why);

// Kafka refuses a name that differs from an existing one only by '.'
// versus '_' (both become '_' in metric names).
bool collides_with_existing(const MetadataImage& image, std::string_view name);

// A non-zero id from the name and the log position the topic is created at;
// `salt` is bumped by the caller until the id is unused.
TopicId derive_topic_id(std::string_view name, std::int64_t log_index, std::uint64_t salt);

// Replicas of each partition: partition p gets brokers[(start + p + r) % n]
// for r in [0, replication_factor), where start comes from the name, so that
// leaders spread over brokers and topics do not all start at the same one.
std::vector<BrokerIds> assign_replicas(std::string_view name, const BrokerIds& brokers,
                                       std::int32_t partitions, std::int16_t replication_factor);

}  // namespace castle::controller
