#pragma once
// The active controller's decisions, pure and I/O-free. The controller is
// the Raft leader of the metadata quorum; this class turns its inputs (the
// committed image, a broker's RPC, the time) into the records to propose and
// the response to send. It owns only the heartbeat leases, which live in
// memory and are reset for everyone when it becomes leader.
//
// How the node uses it (system/broker or the controller's server):
//   - call becoming_leader(image, now) when this node wins a Raft election;
//   - for each RPC, call the operation with the image as applied so far,
//     propose `records` as Raft entries in order, and send `response` only
//     once they are committed (a lost leadership loses them, and the broker
//     retries);
//   - call tick(image, now) every so often (100 ms, say) and propose what
//     it returns;
//   - serialise operations: apply one decision's records to the image (or a
//     speculative copy) before deciding the next, so that each decision sees
//     the previous ones. The image skips records that no longer fit, so a
//     race costs a retry, never a corrupt image.
//
// Time is `now` from the node's runtime clock, passed in: nothing here reads
// a clock. Every loop walks sorted maps, so decisions are deterministic.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "system/controller/election.h"
#include "system/controller/image.h"
#include "system/controller/rpc_messages.h"
#include "system/runtime/time.h"

namespace castle::controller {

// Planted bugs of the controller (simulation only): name and purpose.
const std::vector<std::pair<std::string, std::string>>& planted_bugs();

struct ControllerConfig {
  std::int64_t broker_session_timeout_ms = 9000;  // broker.session.timeout.ms
  bool unclean_leader_election_enable = false;    // unclean.leader.election.enable
  // min.insync.replicas, the brokers' default (a topic may override it);
  // the ELR follows it, so it must be the leaders' setting too.
  std::int32_t min_insync_replicas = 1;
  std::int32_t num_partitions = 1;                // num.partitions (CreateTopics -1)
  std::int16_t default_replication_factor = 1;    // default.replication.factor
  std::int32_t partitions_per_topic_max = 10000;  // a bound, not a Kafka setting
  // Checks topic-level configs (the broker passes its
  // validate_topic_overrides); unset: only the controller's own ones are
  // checked. On failure it names the property and says why.
  std::function<bool(const TopicConfigs&, std::string* bad, std::string* why)>
      validate_topic_configs;
  std::set<std::string> bugs;  // planted bugs by name; empty for real
  // Empty outside planted-bug runs: no string is built for the lookup then.
  bool bug(const char* name) const { return !bugs.empty() && bugs.count(name) != 0; }
};

// What one operation decided: records to propose, in order, and the
// response to send once they commit.
template <class Response>
struct Decision {
  Response response;
  std::vector<MetadataRecord> records;
};

class Controller {
 public:
  explicit Controller(ControllerConfig config);

  const ControllerConfig& config() const { return config_; }

  // A new term as leader: every registered broker gets a fresh lease, since
  // the heartbeats the previous leader saw are unknown here (and so are the
  // offline replicas they reported).
  void becoming_leader(const MetadataImage& image, Instant now);

  // A broker (re)joins. The same incarnation again is a retry and gets its
  // current epoch with no records. Otherwise the old registration, if any,
  // is fenced (its leaderships move, it leaves ISRs); after an unclean
  // shutdown it also leaves the ELRs (election.h); and a registration
  // record follows as the last record: its log index is the new broker
  // epoch, which the caller puts into response.broker_epoch.
  Decision<BrokerRegistrationResponse> register_broker(const MetadataImage& image,
                                                       const BrokerRegistrationRequest& request,
                                                       Instant now);

  // Renews the lease; unfences a broker whose applied metadata reached its
  // registration; starts or reports a controlled shutdown. Replicas it
  // reports offline leave their ISR and ELR (election.h: not the only
  // eligible one), and leadership moves off them; they may rejoin the ISR
  // (AlterPartition) only once a heartbeat no longer reports them.
  Decision<BrokerHeartbeatResponse> heartbeat(const MetadataImage& image,
                                              const BrokerHeartbeatRequest& request, Instant now);

  // Fences brokers silent past the session timeout, then repairs every
  // partition (ISR shrink, leader election) as election.h describes.
  std::vector<MetadataRecord> tick(const MetadataImage& image, Instant now);

  // Buggify's leadership move (election.h move_leadership) on the pick-th
  // partition, in topic id and index order, whose leadership can move; no
  // records if none can.
  std::vector<MetadataRecord> move_a_leader(const MetadataImage& image, std::uint64_t pick) const;

  // A partition leader's ISR change, checked against the broker epoch, the
  // leader epoch and the partition epoch.
  Decision<AlterPartitionResponse> alter_partition(const MetadataImage& image,
                                                   const AlterPartitionRequest& request);

  Decision<CreateTopicsResponse> create_topics(const MetadataImage& image,
                                               const CreateTopicsRequest& request);
  Decision<DeleteTopicsResponse> delete_topics(const MetadataImage& image,
                                               const DeleteTopicsRequest& request);

  // When the broker's lease runs out (nullopt: no lease).
  std::optional<Instant> lease_expiry(BrokerId id) const;

 private:
  class Batch;
  void repair_all(Batch& batch) const;
  void forget_unclean(Batch& batch, BrokerId broker) const;
  bool forget_offline(Batch& batch, BrokerId broker) const;
  bool change_lifecycle(Batch& batch, const BrokerState& b, bool want_shutdown,
                        bool caught_up) const;
  bool is_offline(BrokerId broker, const TopicId& topic, PartitionId partition) const;
  ElectionPolicy policy_for(const TopicState& topic) const;
  // The topic's policy with the partition's offline replicas.
  ElectionPolicy policy_for(ElectionPolicy topic_policy, const TopicId& id, PartitionId partition) const;
  ErrorCode check_alter(const MetadataImage& image, const AlterPartitionRequest& request,
                        const TopicId& topic, const PartitionState& p,
                        const AlterPartitionRequest::Partition& ask) const;
  CreateTopicsResponse::Result create_one(Batch& batch, const CreateTopicsRequest::Topic& topic,
                                          bool validate_only) const;
  ErrorCode check_new_topic(const MetadataImage& image, const CreateTopicsRequest::Topic& topic,
                            std::int32_t partitions, std::int16_t replication_factor,
                            std::string* message) const;

  ControllerConfig config_;
  std::map<BrokerId, Instant> lease_;  // last heartbeat (or registration) seen
  // The offline replicas of each broker's last heartbeat. In memory like
  // the leases: a new controller learns them from the next heartbeats, and
  // meanwhile an offline replica cannot catch up to be added back.
  std::map<BrokerId, std::set<TopicIdPartition>> offline_;
};

// unclean.leader.election.enable for a topic: its override, else the
// controller's setting.
bool unclean_election_enabled(const ControllerConfig& config, const TopicState& topic);
// min.insync.replicas for a topic: its override (when a positive integer),
// else the controller's setting.
std::int32_t min_insync_replicas(const ControllerConfig& config, const TopicState& topic);

}  // namespace castle::controller
