#include "system/controller/topic_creation.h"

#include <algorithm>

namespace castle::controller {

namespace {

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// SplitMix64's finaliser: spreads nearby inputs over all 64 bits.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string metric_name(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

}  // namespace

bool is_valid_topic_name(std::string_view name, std::string* why) {
  if (name.empty()) {
    *why = "topic name is empty";
    return false;
  }
  if (name == "." || name == "..") {
    *why = "topic name cannot be '.' or '..'";
    return false;
  }
  if (name.size() > kTopicNameLengthMax) {
    *why = "topic name is longer than 249 characters";
    return false;
  }
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (!legal) {
      *why = "topic name has characters other than ASCII alphanumerics, '.', '_' and '-'";
      return false;
    }
  }
  return true;
}

bool collides_with_existing(const MetadataImage& image, std::string_view name) {
  if (name.find_first_of("._") == std::string_view::npos) return false;
  const std::string mine = metric_name(name);
  for (const auto& [other, id] : image.topic_ids_by_name()) {
    if (other != name && metric_name(other) == mine) return true;
  }
  return false;
}

TopicId derive_topic_id(std::string_view name, std::int64_t log_index, std::uint64_t salt) {
  const std::uint64_t hi = mix(fnv1a(name) ^ mix(static_cast<std::uint64_t>(log_index)));
  const std::uint64_t lo = mix(hi ^ mix(salt + 1));
  TopicId id;
  for (int i = 0; i < 8; ++i) {
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    id.bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  if (id.is_zero()) id.bytes[15] = 1;  // the zero id means "no topic" in Kafka
  return id;
}

std::vector<BrokerIds> assign_replicas(std::string_view name, const BrokerIds& brokers,
                                       std::int32_t partitions, std::int16_t replication_factor) {
  CASTLE_ASSERT(!brokers.empty(), "assignment needs brokers");
  CASTLE_ASSERT(replication_factor >= 1 &&
                    static_cast<std::size_t>(replication_factor) <= brokers.size(),
                "replication factor was validated against the alive brokers");
  const std::size_t n = brokers.size();
  const std::size_t start = fnv1a(name) % n;
  std::vector<BrokerIds> out(static_cast<std::size_t>(partitions));
  for (std::size_t p = 0; p < out.size(); ++p) {
    for (std::size_t r = 0; r < static_cast<std::size_t>(replication_factor); ++r) {
      out[p].push_back(brokers[(start + p + r) % n]);
    }
  }
  return out;
}

}  // namespace castle::controller
