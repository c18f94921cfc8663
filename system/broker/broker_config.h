#pragma once
// Broker configuration, with Kafka's property names and defaults. One
// broker serves every partition it hosts as leader (replication comes with
// its own issue); the storage properties are the partition log's.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "system/runtime/net.h"
#include "system/broker/cluster_config.h"
#include "system/runtime/result.h"
#include "system/storage/log_config.h"

namespace castle::broker {

struct BrokerConfig {
  std::int32_t node_id = 1;                      // node.id (broker.id accepted too)
  Address listen{"127.0.0.1", 9092};             // listeners=PLAINTEXT://host:port
  Address advertised{"127.0.0.1", 9092};         // advertised.listeners (default: listen)
  std::string log_dir = "kafka-logs";            // log.dirs (one directory)
  std::string cluster_id = "castle-cluster";     // cluster.id
  std::int32_t num_partitions = 1;               // num.partitions
  std::int16_t default_replication_factor = 1;   // default.replication.factor
  bool auto_create_topics = true;                // auto.create.topics.enable
  bool delete_topic_enable = true;               // delete.topic.enable
  std::int32_t socket_request_max_bytes = 104857600;  // socket.request.max.bytes
  std::int32_t queued_max_requests = 500;        // queued.max.requests (per connection here)
  std::int32_t message_max_bytes = 1048588;      // message.max.bytes
  std::int32_t min_insync_replicas = 1;          // min.insync.replicas
  std::int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  std::int64_t connections_max_idle_ms = 600000;      // connections.max.idle.ms
  storage::LogConfig log;                        // log.segment.bytes, log.flush.*, ...
  ClusterConfig cluster;                         // process.roles, controller.quorum.voters, ...
  // Planted bugs (simulation only; `castle bugs` lists them). Empty for real.
  std::set<std::string> bugs;
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool bug(const char* name) const { return !bugs.empty() && bugs.count(name) != 0; }
};

struct PropertyError {
  std::string property;  // the offending name ("" for a malformed line)
  std::string message;
};

// Parses Java-properties text: `name=value` or `name: value` lines, `#` and
// `!` comments, blank lines. A line without a separator is an error naming
// its line number.
Result<std::map<std::string, std::string>> parse_properties(std::string_view text,
                                                            PropertyError* error);

// Applies Kafka-named properties onto a config. An unknown name, or a value
// that does not parse or is out of range, is an error naming the property.
bool apply_broker_properties(const std::map<std::string, std::string>& props,
                             BrokerConfig* config, PropertyError* error);

// Kafka properties that mean nothing to a Castle broker (thread counts,
// ZooKeeper settings, the KRaft settings Castle does not have, ...): accepted, and reported as
// ignored so that Kafka's stock server.properties still starts a broker.
bool is_ignored_broker_property(const std::string& name);

// (name, value) of every broker property as configured, sorted by name: what
// DescribeConfigs answers for the broker resource.
std::vector<std::pair<std::string, std::string>> describe_broker_config(const BrokerConfig& c);

}  // namespace castle::broker
