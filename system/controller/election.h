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
//   - a broker that registers after an unclean shutdown (its unsynced tail
//     may be gone) leaves the ISR and ELR, unless it is the only eligible
//     replica left: then, as Kafka did before KIP-966, it may lead again
//     with what it has, since no replica is known to hold more.
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

// The change that takes a broker back from an unclean shutdown out of the
// partition's ISR and ELR, or nullopt when it is in neither or is the only
// eligible replica.
std::optional<PartitionChangeRecord> forget_unclean_replica(const TopicId& topic,
                                                            PartitionId partition,
                                                            const PartitionState& state,
                                                            BrokerId broker);

// The first alive ISR member in replica order, if any.
std::optional<BrokerId> clean_leader(const MetadataImage& image, const PartitionState& state);

}  // namespace castle::controller
