#pragma once
// What a client knows of the cluster: its brokers, the topics it cares
// about with their partitions and leaders, and one connection per broker.
//
// Metadata comes from a Metadata request to any reachable broker (a known
// one, else a bootstrap server). It is refreshed on demand: when a topic is
// first used, when a request fails with NOT_LEADER_OR_FOLLOWER,
// UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE or a connection error
// (callers mark it stale), and after metadata.max.age.ms. Concurrent
// refreshes are serialised, and a refresh after a failed one waits
// retry.backoff.ms.
//
// Connections are opened on demand and replaced when broken, no sooner than
// reconnect.backoff.ms after the last failed attempt to the same address.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "system/client/config.h"
#include "system/client/connection.h"
#include "system/client/types.h"
#include "system/runtime/sync.h"

namespace castle::client {

struct PartitionInfo {
  std::int32_t partition = 0;
  std::int32_t leader = -1;  // broker id, -1 when there is none
  std::int32_t leader_epoch = -1;
  ErrorCode error = ErrorCode::NONE;
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> isr;
};

struct TopicInfo {
  std::string name;
  ErrorCode error = ErrorCode::NONE;
  bool is_internal = false;
  std::vector<PartitionInfo> partitions;  // sorted by partition index
};

struct BrokerInfo {
  std::int32_t node_id = -1;
  Address address;
};

class Cluster {
 public:
  Cluster(Runtime& rt, ClientConfig config);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  Runtime& rt() { return rt_; }
  const ClientConfig& config() const { return config_; }
  ConnectionOptions connection_options() const;

  // Fetches metadata for the topics of interest plus `topics` (which join
  // them). With all_topics, asks for every topic of the cluster.
  Result<void> refresh(const std::vector<std::string>& topics = {}, bool all_topics = false);
  // Refreshes if marked stale or older than metadata.max.age.ms.
  Result<void> refresh_if_stale();
  void mark_stale() { stale_ = true; }
  bool stale() const { return stale_; }

  // Waits, refreshing with retry.backoff.ms between attempts, until the
  // topic's metadata has partitions or the deadline passes. A topic the
  // broker says does not exist is an error once auto creation is off.
  Result<const TopicInfo*> wait_for_topic(const std::string& topic, Instant deadline);

  const TopicInfo* topic(const std::string& name) const;
  std::optional<std::int32_t> leader(const TopicPartition& tp) const;
  // The leader epoch the metadata gave with it (-1 if none or unknown).
  std::int32_t leader_epoch(const TopicPartition& tp) const;
  const std::map<std::int32_t, BrokerInfo>& brokers() const { return brokers_; }
  std::vector<std::string> topic_names() const;
  void forget_topic(const std::string& name);

  // A live connection to the broker, opened if needed (blocks).
  Result<std::shared_ptr<BrokerConnection>> connection(std::int32_t node_id);
  // A live connection to any broker: the known ones first, then bootstrap.
  Result<std::shared_ptr<BrokerConnection>> any_connection();
  // Closes every connection; later calls open new ones.
  void close();

 private:
  // By value: the caller's address may be a metadata entry, which a
  // refresh replaces while this fiber waits to connect.
  Result<std::shared_ptr<BrokerConnection>> connect_to(Address address);
  Result<void> refresh_once(bool all_topics);
  void apply(const protocol::MetadataResponse& m, bool all_topics);
  void keep_newer_epochs(TopicInfo& fresh, const TopicInfo& old);
  void trace_leaders(const TopicInfo& fresh, const TopicInfo& old) const;

  Runtime& rt_;
  ClientConfig config_;
  std::set<std::string> interesting_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::int32_t, BrokerInfo> brokers_;
  bool stale_ = true;
  std::optional<Instant> refreshed_at_;
  std::optional<Instant> refresh_failed_at_;
  bool refreshing_ = false;
  WaitList refresh_done_;
  std::size_t next_broker_ = 0;  // rotates the broker asked for metadata

  struct Endpoint {
    std::shared_ptr<BrokerConnection> conn;
    bool connecting = false;
    std::optional<Instant> failed_at;
    WaitList connected;
  };
  std::map<std::string, std::unique_ptr<Endpoint>> endpoints_;  // by "host:port"
};

}  // namespace castle::client
