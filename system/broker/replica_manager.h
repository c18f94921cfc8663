#pragma once
// Cluster mode: the partitions this broker hosts, as the metadata image
// says (docs/cluster.md, "Replication"). After each change of the image the
// reconciler fiber calls reconcile(), which for every partition naming this
// broker a replica:
//   - opens (or creates) the local log in the usual layout under log.dirs;
//   - leader at epoch E: LeaderPartition::become_leader, registered with the
//     LeaderService, the producer state rebuilt from the log (the previous
//     leader appended batches this broker only fetched);
//   - follower: a FollowerPartition handed to the ReplicaFetcher of its
//     leader broker, which talks to the leader over the Kafka protocol;
// and for every local partition no longer assigned (a topic deleted, a
// reassignment) stops it and deletes its log. A broker fenced or registered
// anew is reported to the partitions this broker leads (on_follower_fenced).
//
// ISR changes: isr_round() collects the shrinks and expansions the leaders
// want and sends them to the controller in one AlterPartition, marking them
// in flight (begin_isr_change) and adopting (on_partition_state) or
// dropping (abort_isr_change) each according to the answer.
//
// Locks: a partition's lock is held while its leader state changes, so a
// produce never appends across a change of role. A follower's log is the
// fetcher's alone (handlers refuse non-leaders before touching the log).

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "system/broker/broker_core.h"
#include "system/broker/controller_channel.h"
#include "system/broker/kafka_leader_endpoint.h"
#include "system/broker/metadata_state.h"
#include "system/replication/fetcher.h"
#include "system/replication/leader_service.h"

namespace castle::broker {

class ReplicaManager {
 public:
  ReplicaManager(Broker::Impl& broker, MetadataState& metadata);
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  // Brings the local partitions in line with the image. From one fiber.
  void reconcile();
  // One round of ISR maintenance for the partitions led here.
  void isr_round(ControllerChannel& channel, controller::BrokerEpoch broker_epoch);
  // Offline partitions (a disk error the produce path could not undo, a
  // damaged batch) give up their roles; the logs of those the controller
  // no longer counts on are reopened, a damaged one salvaged (cut at the
  // damage, fetched again as a follower). One the controller still counts
  // on stays offline, untouched, until its change taking the replica out
  // of the ISR and ELR commits, so that a log cut short never leads or
  // counts for a high watermark; the only eligible replica (which the
  // controller keeps) is reopened as it is, since nobody holds more. True
  // if any came back, which the next reconcile puts in their roles again.
  // From the reconciler's fiber.
  bool recover_offline();
  // The partitions whose replica here is offline, sorted (for heartbeats).
  std::vector<controller::TopicIdPartition> offline_replicas() const;
  // Stops every fetcher and resigns every leadership (from a fiber).
  void stop();

  replication::LeaderService& leaders() { return leaders_; }

 private:
  struct Assignment {
    std::string topic;
    controller::TopicId topic_id;
    std::int32_t index = 0;
    std::int32_t partition_count = 0;
    TopicOverrides overrides;
    controller::PartitionState state;
  };
  struct Led {
    controller::TopicId topic_id;
    std::shared_ptr<replication::LeaderPartition> partition;
  };
  struct FetcherSlot {
    std::unique_ptr<KafkaLeaderEndpoint> endpoint;
    std::unique_ptr<replication::ReplicaFetcher> fetcher;
  };

  std::vector<Assignment> assignments() const;
  void apply(const Assignment& a);
  void lead(Partition& p, const Assignment& a);
  void follow(Partition& p, const Assignment& a);
  static void take_up_what_was_left(const Partition& p, replication::PartitionState& state,
                                    std::optional<std::vector<std::int32_t>>& proposed);
  void stop_leading(Partition& p, const replication::TopicPartition& tp);
  void stop_following(Partition& p, const replication::TopicPartition& tp);
  void remove_unassigned(const std::set<replication::TopicPartition>& assigned);
  void notice_fenced_brokers();
  void release_roles(Partition& p);
  bool take_failed_follower_offline(Partition& p);
  void take_offline_for_role(Partition& p, std::error_code error);
  enum class Standing { counted_on, only_eligible, released };
  Standing standing(const Partition& p) const;
  replication::ReplicaFetcher& fetcher_for(std::int32_t leader_id);
  replication::LeaderConfig leader_config(const TopicOverrides& overrides) const;

  Broker::Impl& b_;
  MetadataState& metadata_;
  std::int32_t self_;
  replication::Bugs bugs_;
  replication::LeaderService leaders_;
  std::map<replication::TopicPartition, Led> led_;
  std::map<std::int32_t, FetcherSlot> fetchers_;
  // (broker epoch, fenced) of every broker as last seen.
  std::map<std::int32_t, std::pair<std::int64_t, bool>> brokers_seen_;
};

replication::PartitionState to_replication(const controller::PartitionState& s);

}  // namespace castle::broker
