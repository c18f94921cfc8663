#include "system/controller/election.h"

#include <algorithm>

#include "system/replication/min_insync.h"

namespace castle::controller {

namespace {

std::optional<BrokerId> first_alive(const MetadataImage& image, const BrokerIds& replicas,
                                    const BrokerIds& among) {
  for (BrokerId r : replicas) {
    if (contains(among, r) && image.is_alive(r)) return r;
  }
  return std::nullopt;
}

// The ISR back at min.insync.replicas needs no stand-ins.
void settle_elr(PartitionState& s, std::size_t min_insync) {
  std::erase_if(s.elr, [&](BrokerId m) { return contains(s.isr, m); });
  if (s.isr.size() >= min_insync) s.elr.clear();
}

// Dead members leave the ISR, in ISR order; each one that leaves it below
// min.insync.replicas holds everything committed and joins the ELR.
void shrink_isr(const MetadataImage& image, PartitionState& s, std::size_t min_insync) {
  const BrokerIds before = s.isr;
  for (BrokerId m : before) {
    if (image.is_alive(m)) continue;
    std::erase(s.isr, m);
    if (s.isr.size() < min_insync && !contains(s.elr, m)) s.elr.push_back(m);
  }
}

void elect(const MetadataImage& image, const PartitionState& state, PartitionState& next,
           ElectionPolicy policy) {
  next.leader = kNoLeader;
  if (auto leader = first_alive(image, next.replicas, next.isr)) {
    next.leader = *leader;
  } else if (auto eligible = first_alive(image, next.replicas, next.elr)) {
    next.leader = *eligible;
    next.isr = BrokerIds{*eligible};
  } else if (policy.unclean || policy.bug_unclean) {
    // Unclean: whoever is alive and has its log leads, and the ISR
    // restarts from it.
    BrokerIds usable;
    for (BrokerId r : state.replicas)
      if (!contains(policy.offline, r)) usable.push_back(r);
    if (auto any = first_alive(image, state.replicas, usable)) {
      next.leader = *any;
      next.isr = BrokerIds{*any};
      next.elr.clear();
    }
  }
}

// What the partition becomes once its dead members have left the ISR and,
// if its leader is gone, another is elected.
PartitionState repaired(const MetadataImage& image, const PartitionState& state,
                        ElectionPolicy policy) {
  const std::size_t min_insync = effective_min_insync(state, policy.min_insync);
  PartitionState next = state;
  shrink_isr(image, next, min_insync);
  const bool leader_ok = state.leader != kNoLeader && image.is_alive(state.leader);
  if (!leader_ok) elect(image, state, next, policy);
  settle_elr(next, min_insync);
  return next;
}

std::optional<PartitionChangeRecord> change_between(const TopicId& topic, PartitionId partition,
                                                    const PartitionState& state,
                                                    const PartitionState& next) {
  if (next.isr == state.isr && next.elr == state.elr && next.leader == state.leader) {
    return std::nullopt;
  }
  std::optional<PartitionChangeRecord> change(std::in_place);
  change->topic_id = topic;
  change->partition = partition;
  if (next.isr != state.isr) change->isr.emplace(next.isr);
  if (next.leader != state.leader) change->leader = next.leader;
  if (next.elr != state.elr) change->elr.emplace(next.elr);
  return change;
}

// The broker is all the ISR and ELR hold.
bool only_eligible(const PartitionState& state, BrokerId broker) {
  const bool in_isr = contains(state.isr, broker);
  const bool in_elr = contains(state.elr, broker);
  return (in_isr || in_elr) && state.isr.size() + state.elr.size() <= 1;
}

// The partition without the broker in its ISR and ELR, leaderless if it led.
PartitionState without(const PartitionState& state, BrokerId broker) {
  PartitionState next = state;
  std::erase(next.isr, broker);
  std::erase(next.elr, broker);
  if (state.leader == broker) next.leader = kNoLeader;
  return next;
}

}  // namespace

std::size_t effective_min_insync(const PartitionState& state, std::size_t min_insync) {
  return replication::effective_min_insync(static_cast<std::int64_t>(min_insync), state.replicas.size());
}

std::optional<PartitionChangeRecord> move_leadership(const MetadataImage& image, const TopicId& topic,
                                                     PartitionId partition, const PartitionState& state) {
  if (state.leader == kNoLeader || !image.is_alive(state.leader)) return std::nullopt;
  const auto at = std::find(state.replicas.begin(), state.replicas.end(), state.leader);
  if (at == state.replicas.end()) return std::nullopt;
  BrokerIds after(at + 1, state.replicas.end());
  after.insert(after.end(), state.replicas.begin(), at);
  const auto next = first_alive(image, after, state.isr);
  if (!next) return std::nullopt;
  PartitionState moved = state;
  moved.leader = *next;
  return change_between(topic, partition, state, moved);
}

std::optional<BrokerId> clean_leader(const MetadataImage& image, const PartitionState& state) {
  return first_alive(image, state.replicas, state.isr);
}

std::optional<PartitionChangeRecord> repair_partition(const MetadataImage& image,
                                                      const TopicId& topic, PartitionId partition,
                                                      const PartitionState& state,
                                                      ElectionPolicy policy) {
  return change_between(topic, partition, state, repaired(image, state, policy));
}

BrokerIds elr_after_isr_change(const PartitionState& state, const BrokerIds& new_isr,
                               std::size_t min_insync) {
  PartitionState next = state;
  next.isr = new_isr;
  const std::size_t min = effective_min_insync(state, min_insync);
  for (BrokerId m : state.isr) {
    if (!contains(new_isr, m) && new_isr.size() < min && !contains(next.elr, m)) next.elr.push_back(m);
  }
  settle_elr(next, min);
  return next.elr;
}

std::optional<PartitionChangeRecord> forget_replica(const TopicId& topic, PartitionId partition,
                                                    const PartitionState& state, BrokerId broker) {
  if (only_eligible(state, broker)) return std::nullopt;  // the last hope stays
  return change_between(topic, partition, state, without(state, broker));
}

std::optional<PartitionChangeRecord> drop_offline_replica(const MetadataImage& image,
                                                          const TopicId& topic,
                                                          PartitionId partition,
                                                          const PartitionState& state,
                                                          BrokerId broker, ElectionPolicy policy) {
  const PartitionState next = repaired(image, without(state, broker), policy);
  // The last eligible replica stays, unless unclean election found another
  // (alive, its log not reported offline) to lead: Kafka elects uncleanly
  // when no ISR member can lead, and an offline one cannot.
  if (only_eligible(state, broker) && !(policy.unclean && next.leader != kNoLeader)) return std::nullopt;
  return change_between(topic, partition, state, next);
}

}  // namespace castle::controller
