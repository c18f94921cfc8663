#pragma once
// Castle's Kafka admin client: topics and offsets.
//
// create_topics and delete_topics go to any broker (one broker today; with
// the controller they will go to it) and report an error per topic.
// Creation is followed by a metadata refresh until the new topics have
// leaders, so a producer or consumer of the same cluster can use them at
// once. list_offsets asks each partition's leader (earliest, latest, or the
// first offset at or after a timestamp).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "system/client/cluster.h"
#include "system/client/config.h"
#include "system/client/offsets.h"
#include "system/client/types.h"
#include "system/protocol/messages.h"

namespace castle::client {

struct NewTopic {
  std::string name;
  std::int32_t num_partitions = -1;      // -1: the broker's num.partitions
  std::int16_t replication_factor = -1;  // -1: the broker's default
  std::map<std::string, std::string> configs;
};

// One error per topic; an empty error_code is success.
using TopicErrors = std::map<std::string, std::error_code>;

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> create(Runtime& rt, ClientConfig config);

  Result<TopicErrors> create_topics(const std::vector<NewTopic>& topics,
                                    std::optional<Duration> timeout = std::nullopt);
  Result<TopicErrors> delete_topics(const std::vector<std::string>& topics,
                                    std::optional<Duration> timeout = std::nullopt);
  // Metadata of the named topics (each with its own error), fresh from a
  // broker; an empty list describes every topic.
  Result<std::vector<TopicInfo>> describe_topics(const std::vector<std::string>& topics);
  // Partition -> timestamp (offset_earliest, offset_latest, or ms).
  std::map<TopicPartition, ListedOffset> list_offsets(
      const std::map<TopicPartition, std::int64_t>& query,
      std::optional<Duration> timeout = std::nullopt);

  Cluster& cluster() { return cluster_; }

 private:
  Admin(Runtime& rt, ClientConfig config) : rt_(rt), cluster_(rt, std::move(config)) {}
  Instant deadline(std::optional<Duration> timeout);
  Result<protocol::Response> call_any(const protocol::Request& req, Instant until);
  void await_leaders(const std::vector<std::string>& topics, Instant deadline);

  Runtime& rt_;
  Cluster cluster_;
};

}  // namespace castle::client
