#pragma once
// Partition leadership and ISR repair, as pure functions of the image: what
// a partition must become once some of its brokers are no longer alive
// (fenced, or in controlled shutdown) or have come back.
//
// Kafka's rules: a broker that is not alive leaves the ISR, except the last
// member, which stays (with no leader) so that the partition can come back
// with it; a leader that is not alive is replaced by the first alive ISR
// member in replica order; when no ISR member is alive the partition is
// offline (leader none), unless unclean leader election is enabled, which
// elects the first alive replica and makes it the whole ISR (data loss).

#include <optional>

#include "system/controller/image.h"

namespace castle::controller {

struct ElectionPolicy {
  bool unclean = false;  // unclean.leader.election.enable for this topic
  // Planted bug controller-unclean-election: behave as if unclean election
  // were enabled even though it is not.
  bool bug_unclean = false;
};

// The change that repairs one partition, or nullopt when it needs none.
std::optional<PartitionChangeRecord> repair_partition(const MetadataImage& image,
                                                      const TopicId& topic, PartitionId partition,
                                                      const PartitionState& state,
                                                      ElectionPolicy policy);

// The first alive ISR member in replica order, if any.
std::optional<BrokerId> clean_leader(const MetadataImage& image, const PartitionState& state);

}  // namespace castle::controller
