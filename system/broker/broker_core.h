#pragma once
// The broker's shared state, seen by the connection code and by every
// request handler. Internal to system/broker.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "system/broker/broker.h"
#include "system/broker/producer_ids.h"
#include "system/broker/topics.h"
#include "system/protocol/messages.h"
#include "system/runtime/sync.h"

namespace castle::broker {

class ClientConnection;
class ClusterNode;

struct Broker::Impl {
  Impl(Runtime& r, BrokerConfig c)
      : rt(r), config(std::move(c)), topics(rt, config),
        producer_ids(rt, join_path(config.log_dir, "castle-producer-ids")) {}

  Runtime& rt;
  BrokerConfig config;
  BrokerStats stats;
  TopicTable topics;
  ProducerIdAllocator producer_ids;
  // Fetches long-polling for data wait here; every append notifies.
  WaitList data_arrived;
  std::unique_ptr<Listener> listener;
  Address bound;
  // Weak: a connection lives as long as its fibers do.
  std::map<std::uint64_t, std::weak_ptr<ClientConnection>> connections;
  std::uint64_t next_connection_id = 1;
  Task acceptor;
  Task maintenance;
  Task recovery;
  // Cluster mode only (config.cluster.enabled()); null for a standalone broker.
  std::shared_ptr<ClusterNode> cluster;
  std::weak_ptr<Impl> self;  // for the fibers this broker spawns
  bool started = false;
  bool stopping = false;

  void accept_loop();
  void maintenance_loop();
  void recovery_loop();
};

// What a handler sees of the request it answers.
struct RequestContext {
  Broker::Impl& broker;
  const protocol::RequestHeader& header;
  // Set by a handler that must close the connection after it (Kafka closes
  // it when an acks=0 produce fails, the only way to tell that client).
  bool close_connection = false;
  std::int16_t version() const { return header.api_version; }
};

// One handler per API, each in handle_<api>.cpp with the versions it
// serves. A handler returns nullopt when no response is to be sent
// (Produce with acks=0).
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::ProduceRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::FetchRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::ListOffsetsRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::MetadataRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::ApiVersionsRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::CreateTopicsRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::DeleteTopicsRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx, protocol::InitProducerIdRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx,
                                         protocol::OffsetForLeaderEpochRequest& req);
std::optional<protocol::Response> handle(RequestContext& ctx,
                                         protocol::DescribeConfigsRequest& req);

// Cluster-mode halves of handlers, each in its own file: a follower's Fetch
// (replica_id >= 0) served from the partitions led here; Metadata from the
// metadata image; CreateTopics and DeleteTopics forwarded to the controller.
std::optional<protocol::Response> handle_replica_fetch(RequestContext& ctx, protocol::FetchRequest& req);
// Why a topic a Metadata request names and nobody has is not created for
// it (an invalid name, auto-creation off or not allowed), or NONE.
protocol::ErrorCode auto_create_refusal(const RequestContext& ctx,
                                        const protocol::MetadataRequest& req,
                                        const std::string& name);
std::optional<protocol::Response> handle_cluster_metadata(RequestContext& ctx,
                                                          protocol::MetadataRequest& req);
std::optional<protocol::Response> forward_create_topics(RequestContext& ctx,
                                                        protocol::CreateTopicsRequest& req);
std::optional<protocol::Response> forward_delete_topics(RequestContext& ctx,
                                                        protocol::DeleteTopicsRequest& req);

// A partition looked up and locked for one request: the lock is held for
// the object's life. error() is NONE, or why the request can't use it
// (unknown or deleted, offline, a fenced or unknown leader epoch).
class LockedPartition {
 public:
  LockedPartition(Broker::Impl& b, const std::string& topic, protocol::PartitionId index,
                  protocol::LeaderEpoch client_epoch);
  protocol::ErrorCode error() const { return error_; }
  Partition& operator*() { return *p_; }
  Partition* operator->() { return p_.get(); }

 private:
  PartitionPtr p_;
  std::optional<MutexLock> lock_;
  protocol::ErrorCode error_ = protocol::ErrorCode::NONE;
};

// A read of the partition's log found a batch failing its CRC at `offset`
// (data_corrupt). In a cluster the replica goes offline, as Kafka takes a
// failed log directory offline: its heartbeat reports it, the controller
// moves leadership to a replica with an intact copy, and the log comes back
// salvaged once nobody counts on it (ReplicaManager::recover_offline).
// Standalone there is no other copy: the damaged batch fails its reads and
// the rest is served. Call with the partition's lock held.
void take_damaged_offline(Broker::Impl& b, Partition& p, std::int64_t offset);

// Cluster mode: NOT_LEADER_OR_FOLLOWER unless this broker leads the
// partition now (standalone: always NONE). Call with its lock held.
protocol::ErrorCode check_leadership(const Broker::Impl& b, const Partition& p);

// Checks a client's current leader epoch (-1: the client doesn't say)
// against ours: FENCED_LEADER_EPOCH if older, UNKNOWN_LEADER_EPOCH if newer.
protocol::ErrorCode check_leader_epoch(const Partition& p, protocol::LeaderEpoch client_epoch);

}  // namespace castle::broker
