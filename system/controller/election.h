#pragma once
// Partition leadership, ISR and ELR repair, as pure functions of the image:
// what a partition must become once some of its brokers are no longer alive
// (fenced, or in controlled shutdown), have come back, or came back with a
// log a crash may have shortened.
//
// Kafka's rules with KIP-966's eligible leader replicas (ELR):
//   - a broker that is not alive leaves the ISR; it joins the ELR when the
//     ISR it leaves behind is below min.insync.replicas (the high watermark
//     cannot advance then, so it holds every committed record);
//   - the ELR empties once the ISR is back at min.insync.replicas;
//   - a leader that is not alive is replaced by the first alive ISR member
//     in replica order, else by the first alive ELR member (which becomes
//     the ISR); with neither the partition is offline (leader none), unless
//     unclean leader election is enabled, which elects the first alive
//     replica and makes it the whole ISR (data loss);
//   - a broker whose replica may no longer hold what it acknowledged
//     leaves the ISR and ELR (and its leadership), unless it is the only
//     eligible replica left: after an unclean shutdown (its unsynced tail
//     may be gone) it may then, as Kafka did before KIP-966, lead again
//     with what it has, since no replica is known to hold more; a replica
//     reported offline (its log failed) then stays, and the partition is
//     unavailable until that log is back, as in Kafka, where the last ISR
//     member stays in the ISR.
// "min.insync.replicas" here is the topic's, capped at the replica count,
// the same bound the leader's high watermark obeys.

#include <cstddef>
#include <optional>

#include "system/controller/image.h"

namespace castle::controller {

struct ElectionPolicy {
  bool unclean = false;  // unclean.leader.election.enable for this topic
  // Planted bug controller-unclean-election: behave as if unclean election
  // were enabled even though it is not.
  bool bug_unclean = false;
  std::size_t min_insync = 1;  // the topic's min.insync.replicas
  // The partition's replicas their brokers report offline (the log
  // failed): an unclean election passes over them, as a damaged log can
  // neither serve nor hold what it had.
  BrokerIds offline;
};

// The partition's min.insync.replicas as the ISR rules apply it: at least
// 1, at most the replica count.
std::size_t effective_min_insync(const PartitionState& state, std::size_t min_insync);

// The change that repairs one partition, or nullopt when it needs none.
std::optional<PartitionChangeRecord> repair_partition(const MetadataImage& image,
                                                      const TopicId& topic, PartitionId partition,
                                                      const PartitionState& state,
                                                      ElectionPolicy policy);

// The leader's ISR change `new_isr` applied to the ELR: members it drops
// join the ELR while the ISR is below min.insync.replicas.
BrokerIds elr_after_isr_change(const PartitionState& state, const BrokerIds& new_isr,
                               std::size_t min_insync);

// The change that takes a broker whose replica may not hold what it
// acknowledged (back from an unclean shutdown, or reported offline) out of
// the partition's ISR and ELR, leaving it leaderless if the broker led (a
// repair elects another), or nullopt when it is in neither or is the only
// eligible replica.
std::optional<PartitionChangeRecord> forget_replica(const TopicId& topic, PartitionId partition,
                                                    const PartitionState& state, BrokerId broker);

// A replica reported offline: forget_replica's change and, if the broker
// led, the election of another, as one change (one new leader epoch).
std::optional<PartitionChangeRecord> drop_offline_replica(const MetadataImage& image,
                                                          const TopicId& topic,
                                                          PartitionId partition,
                                                          const PartitionState& state,
                                                          BrokerId broker, ElectionPolicy policy);

// Leadership moved from an alive leader to the next alive ISR member after
// it in replica order, as Kafka's preferred-replica election moves it (every
// ISR member holds everything committed); nullopt if there is none.
std::optional<PartitionChangeRecord> move_leadership(const MetadataImage& image, const TopicId& topic,
                                                     PartitionId partition, const PartitionState& state);

// The first alive ISR member in replica order, if any.
std::optional<BrokerId> clean_leader(const MetadataImage& image, const PartitionState& state);

}  // namespace castle::controller
