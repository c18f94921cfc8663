#include "system/controller/election.h"

namespace castle::controller {

std::optional<BrokerId> clean_leader(const MetadataImage& image, const PartitionState& state) {
  for (BrokerId r : state.replicas) {
    if (contains(state.isr, r) && image.is_alive(r)) return r;
  }
  return std::nullopt;
}

namespace {

// The ISR without its dead members, in ISR order, never emptied: the last
// member standing stays even if it is dead.
BrokerIds shrink_isr(const MetadataImage& image, const BrokerIds& isr) {
  BrokerIds out = isr;
  for (BrokerId m : isr) {
    if (out.size() == 1) break;
    if (!image.is_alive(m)) std::erase(out, m);
  }
  return out;
}

std::optional<BrokerId> first_alive_replica(const MetadataImage& image, const BrokerIds& replicas) {
  for (BrokerId r : replicas) {
    if (image.is_alive(r)) return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<PartitionChangeRecord> repair_partition(const MetadataImage& image,
                                                      const TopicId& topic, PartitionId partition,
                                                      const PartitionState& state,
                                                      ElectionPolicy policy) {
  PartitionState next_state = state;
  next_state.isr = shrink_isr(image, state.isr);
  const bool leader_ok = state.leader != kNoLeader && image.is_alive(state.leader);
  if (!leader_ok) {
    next_state.leader = kNoLeader;
    if (auto leader = clean_leader(image, next_state)) {
      next_state.leader = *leader;
    } else if (policy.unclean || policy.bug_unclean) {
      // Unclean: whoever is alive leads, and the ISR restarts from it.
      if (auto any = first_alive_replica(image, state.replicas)) {
        next_state.leader = *any;
        next_state.isr = BrokerIds{*any};
      }
    }
  }
  if (next_state.isr == state.isr && next_state.leader == state.leader) return std::nullopt;
  PartitionChangeRecord change{topic, partition, std::nullopt, std::nullopt, std::nullopt};
  if (next_state.isr != state.isr) change.isr = next_state.isr;
  if (next_state.leader != state.leader) change.leader = next_state.leader;
  return change;
}

}  // namespace castle::controller
