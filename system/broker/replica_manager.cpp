#include "system/broker/replica_manager.h"

#include <algorithm>

#include "system/runtime/trace.h"

namespace castle::broker {

namespace repl = replication;
using controller::raw;

namespace {

std::vector<std::int32_t> ids(const controller::BrokerIds& v) {
  std::vector<std::int32_t> out;
  for (auto id : v) out.push_back(raw(id));
  return out;
}

}  // namespace

repl::PartitionState to_replication(const controller::PartitionState& s) {
  return {raw(s.leader_epoch), static_cast<std::int32_t>(s.partition_epoch), ids(s.replicas),
          ids(s.isr)};
}

ReplicaManager::ReplicaManager(Broker::Impl& broker, MetadataState& metadata)
    : b_(broker), metadata_(metadata), self_(broker.config.node_id),
      bugs_{broker.config.bugs}, leaders_(broker.rt) {}

repl::LeaderConfig ReplicaManager::leader_config(const TopicOverrides& overrides) const {
  return {b_.config.cluster.replica_lag_time_max_ms, topic_log_min_insync(b_.config, overrides)};
}

// Copies what reconcile needs: the image changes while a log opens.
std::vector<ReplicaManager::Assignment> ReplicaManager::assignments() const {
  const auto& image = metadata_.image();
  std::vector<Assignment> out;
  for (const auto& ref : image.partitions_of_replica(controller::BrokerId{self_})) {
    const controller::TopicState* t = image.topic(ref.topic_id);
    const controller::PartitionState* ps = image.partition(ref.topic_id, ref.partition);
    if (t == nullptr || ps == nullptr) continue;
    out.push_back({t->name, t->id, raw(ref.partition), static_cast<std::int32_t>(t->partitions.size()),
                   TopicOverrides(t->configs.begin(), t->configs.end()), *ps});
  }
  return out;
}

void ReplicaManager::reconcile() {
  notice_fenced_brokers();
  std::set<repl::TopicPartition> assigned;
  for (const Assignment& a : assignments()) {
    assigned.insert({a.topic, a.index});
    apply(a);
  }
  remove_unassigned(assigned);
  b_.data_arrived.notify_all();  // fetches waiting on a role that changed
}

void ReplicaManager::apply(const Assignment& a) {
  auto p = b_.topics.open_replica(a.topic, a.index, a.partition_count, a.overrides);
  if (!p) {
    CASTLE_TRACE(b_.rt.tracer(), "broker.replica_open_failed",
                 {{"topic", a.topic}, {"partition", std::int64_t{a.index}}, {"error", p.error().message()}});
    return;
  }
  Partition& part = **p;
  take_failed_follower_offline(part);
  if (part.deleted || part.offline) return;
  if (raw(a.state.leader) == self_) {
    lead(part, a);
  } else {
    follow(part, a);
  }
}

void ReplicaManager::lead(Partition& p, const Assignment& a) {
  const repl::TopicPartition tp{a.topic, a.index};
  repl::PartitionState state = to_replication(a.state);
  if (p.leader && p.leader->is_leader() && p.leader->leader_epoch() == state.leader_epoch) {
    if (state.partition_epoch > p.leader->partition_epoch())
      (void)p.leader->on_partition_state(state, b_.rt.now());
    return;
  }
  stop_following(p, tp);
  MutexLock lock(b_.rt, p.lock);
  if (p.deleted || !p.log) return;
  if (p.leader) stop_leading(p, tp);
  std::optional<std::vector<std::int32_t>> proposed;
  take_up_what_was_left(p, state, proposed);
  auto l = repl::LeaderPartition::become_leader(b_.rt, *p.log, self_, state, leader_config(a.overrides), bugs_,
                                                std::move(proposed));
  if (!l) {
    CASTLE_TRACE(b_.rt.tracer(), "broker.become_leader_failed",
                 {{"topic", a.topic}, {"partition", std::int64_t{a.index}}, {"error", l.error().message()}});
    take_offline_for_role(p, l.error());
    return;
  }
  p.leader = std::shared_ptr<repl::LeaderPartition>(std::move(*l));
  p.leader_epoch = state.leader_epoch;
  p.left.reset();
  // The batches fetched as a follower carry producer state this broker
  // never checked: rebuild it from the log, as a restart does.
  if (auto r = rebuild_producer_state(p); !r) {
    p.producers.clear();
    // Damaged: a replica with an intact copy should lead, if there is one.
    if (r.error() == std::errc::illegal_byte_sequence && standing(p) == Standing::counted_on)
      take_damaged_offline(b_, p, -1);
  }
  leaders_.add(tp, p.leader);
  // Consumers' long polls wait on the broker's list, not the service's.
  p.leader->set_data_listener(&b_.data_arrived);
  led_[tp] = {a.topic_id, p.leader};
  CASTLE_TRACE(b_.rt.tracer(), "replica.leader",
               {{"topic", a.topic}, {"partition", std::int64_t{a.index}},
                {"epoch", std::int64_t{state.leader_epoch}}, {"leo", p.log->log_end_offset()},
                {"id", std::int64_t{self_}}});
}

void ReplicaManager::follow(Partition& p, const Assignment& a) {
  const repl::TopicPartition tp{a.topic, a.index};
  const std::int32_t leader = raw(a.state.leader);
  const std::int32_t epoch = raw(a.state.leader_epoch);
  if (p.leader) {
    MutexLock lock(b_.rt, p.lock);
    if (p.leader) stop_leading(p, tp);
  }
  p.leader_epoch = epoch;
  if (p.follower && p.follower->leader_id() == leader && p.follower->leader_epoch() == epoch) return;
  // Any change starts the follower protocol over (truncation first); the
  // fetcher lets go of the partition before its state is replaced.
  stop_following(p, tp);
  if (leader == raw(controller::kNoLeader) || p.deleted || !p.log) return;
  auto f = repl::FollowerPartition::become_follower(*p.log, tp, leader, epoch, bugs_);
  if (!f) {
    CASTLE_TRACE(b_.rt.tracer(), "broker.become_follower_failed",
                 {{"topic", a.topic}, {"partition", std::int64_t{a.index}}, {"error", f.error().message()}});
    MutexLock lock(b_.rt, p.lock);
    take_offline_for_role(p, f.error());
    return;
  }
  p.follower = std::shared_ptr<repl::FollowerPartition>(std::move(*f));
  fetcher_for(leader).add_partition(p.follower);
}

// With the partition's lock held.
void ReplicaManager::stop_leading(Partition& p, const repl::TopicPartition& tp) {
  // Before resigning, which forgets it: the controller may yet commit it.
  const repl::LeaderPartition& l = *p.leader;
  p.left = Partition::LeadershipLeft{{l.leader_epoch(), l.partition_epoch(), l.replicas(), l.isr()}, l.proposed_isr()};
  leaders_.remove(tp);  // resigns: acks=all waiters fail with NOT_LEADER_OR_FOLLOWER
  led_.erase(tp);
  p.leader.reset();
}

// A leadership of the same leader epoch as the last one here starts from
// what that one knew. A newer partition state it had from the controller
// is committed, though this broker's image may not show it yet: leading
// from the image's older, smaller ISR would commit without a member the
// controller counts on (cluster-swarm seed 8004, acked-not-durable). An
// ISR change it sent under the same partition epoch may still commit:
// without it in the maximal ISR, the high watermark would advance past a
// member the change adds (seeds 2002, 24570). Under other epochs the
// controller refuses it. Kept until a leadership took it up: a failed
// attempt to lead retries.
void ReplicaManager::take_up_what_was_left(const Partition& p, repl::PartitionState& state,
                                           std::optional<std::vector<std::int32_t>>& proposed) {
  if (!p.left || p.left->state.leader_epoch != state.leader_epoch) return;
  if (p.left->state.partition_epoch > state.partition_epoch) state = p.left->state;
  if (p.left->state.partition_epoch == state.partition_epoch) proposed = p.left->proposed;
}

void ReplicaManager::stop_following(Partition& p, const repl::TopicPartition& tp) {
  if (!p.follower) return;
  auto it = fetchers_.find(p.follower->leader_id());
  if (it != fetchers_.end()) it->second.fetcher->remove_partition(tp);
  p.follower.reset();
}

void ReplicaManager::remove_unassigned(const std::set<repl::TopicPartition>& assigned) {
  for (const PartitionPtr& p : b_.topics.all_partitions()) {
    const repl::TopicPartition tp{p->topic, p->index};
    if (assigned.count(tp) != 0) continue;
    stop_following(*p, tp);
    {
      MutexLock lock(b_.rt, p->lock);
      if (p->leader) stop_leading(*p, tp);
    }
    if (auto r = b_.topics.remove_replica(p->topic, p->index); !r) {
      CASTLE_TRACE(b_.rt.tracer(), "broker.replica_remove_failed",
                   {{"dir", p->dir}, {"error", r.error().message()}});
    }
  }
}

// A follower that was fenced, or came back with a new broker epoch, may
// have lost its unsynced tail: what the leader knew of it no longer holds.
void ReplicaManager::notice_fenced_brokers() {
  for (const auto& [id, broker] : metadata_.image().brokers()) {
    const std::pair<std::int64_t, bool> now{static_cast<std::int64_t>(broker.epoch), broker.fenced};
    auto [it, inserted] = brokers_seen_.emplace(raw(id), now);
    if (inserted || it->second == now) continue;
    const bool lost = now.second || now.first != it->second.first;
    it->second = now;
    if (!lost) continue;
    for (auto& [tp, led] : led_) led.partition->on_follower_fenced(raw(id));
  }
}

repl::ReplicaFetcher& ReplicaManager::fetcher_for(std::int32_t leader_id) {
  auto it = fetchers_.find(leader_id);
  if (it != fetchers_.end()) return *it->second.fetcher;
  const ClusterConfig& c = b_.config.cluster;
  repl::FetcherConfig fc;
  fc.max_wait_ms = c.replica_fetch_wait_max_ms;
  fc.min_bytes = c.replica_fetch_min_bytes;
  fc.partition_max_bytes = c.replica_fetch_max_bytes;
  fc.backoff_ms = c.replica_fetch_backoff_ms;
  FetcherSlot slot;
  MetadataState* metadata = &metadata_;
  slot.endpoint = std::make_unique<KafkaLeaderEndpoint>(
      b_.rt, self_, [metadata, leader_id]() -> std::optional<Address> {
        auto e = metadata->image().endpoint(controller::BrokerId{leader_id});
        if (!e || e->port <= 0 || e->port > 65535) return std::nullopt;
        return Address{e->host, static_cast<std::uint16_t>(e->port)};
      });
  slot.fetcher = std::make_unique<repl::ReplicaFetcher>(b_.rt, self_, leader_id, *slot.endpoint, fc);
  slot.fetcher->start();
  return *fetchers_.emplace(leader_id, std::move(slot)).first->second.fetcher;
}

void ReplicaManager::release_roles(Partition& p) {
  const repl::TopicPartition tp{p.topic, p.index};
  stop_following(p, tp);
  MutexLock lock(b_.rt, p.lock);
  if (p.leader) stop_leading(p, tp);
}

// How the committed metadata counts on this broker's replica: as one of
// several eligible (ISR or ELR), as the only one, or not at all.
ReplicaManager::Standing ReplicaManager::standing(const Partition& p) const {
  const controller::PartitionState* s = metadata_.image().partition(p.topic, controller::PartitionId{p.index});
  const controller::BrokerId self{self_};
  if (s == nullptr || (!controller::contains(s->isr, self) && !controller::contains(s->elr, self)))
    return Standing::released;
  return s->isr.size() + s->elr.size() <= 1 ? Standing::only_eligible : Standing::counted_on;
}

// A role the disk would not let us take (writing the epoch cache failed,
// say) is not retried by the reconciler, which acts on metadata changes
// only: the replica goes offline instead, so the controller moves the role
// elsewhere if it can, and the recovery loop reopens the log and puts the
// partition back in its role. A disk error may have been a failed sync
// (of the epoch checkpoint, say): the log comes back with its unsynced
// tail and its checkpoints written again. With the partition's lock held.
void ReplicaManager::take_offline_for_role(Partition& p, std::error_code error) {
  if (p.offline) return;
  p.take_offline();
  p.sync_failed = p.sync_failed || p.log->sync_failed();
  p.rewrite_unsynced = p.rewrite_unsynced || error != std::errc::invalid_argument;
  CASTLE_TRACE(b_.rt.tracer(), "broker.partition_offline", {{"dir", p.dir}, {"error", "role not taken"}});
}

// A follower whose append could not be undone (FollowerPhase::failed)
// takes its replica offline, as a leader's does (undo_failed_append in
// handle_produce.cpp): the heartbeat reports it, and its log is reopened
// cut back to before that append (and past the recovery point, after a
// failed sync).
bool ReplicaManager::take_failed_follower_offline(Partition& p) {
  if (!p.follower || !p.follower->failure() || p.offline) return false;
  const repl::FollowerFailure f = *p.follower->failure();
  stop_following(p, {p.topic, p.index});
  MutexLock lock(b_.rt, p.lock);
  p.take_offline();
  p.sync_failed = p.sync_failed || f.sync_failed;
  p.damaged = p.damaged || f.damaged;
  if (f.end_before >= 0) p.undo_to = p.undo_to < 0 ? f.end_before : std::min(p.undo_to, f.end_before);
  const char* why = f.damaged ? "damaged batch" : f.sync_failed ? "sync failed" : "follower append not undone";
  CASTLE_TRACE(b_.rt.tracer(), "broker.partition_offline", {{"dir", p.dir}, {"error", why}, {"damaged", f.damaged}});
  return true;
}

bool ReplicaManager::recover_offline() {
  bool any = false;
  for (const PartitionPtr& p : b_.topics.all_partitions()) {
    take_failed_follower_offline(*p);
    if (!p->offline || p->deleted) continue;
    release_roles(*p);
    const Standing s = standing(*p);
    if (s == Standing::counted_on) continue;  // the controller's change is not in yet
    any = b_.topics.recover_partition(*p, /*salvage=*/s == Standing::released) || any;
  }
  return any;
}

std::vector<controller::TopicIdPartition> ReplicaManager::offline_replicas() const {
  std::vector<controller::TopicIdPartition> out;
  for (const PartitionPtr& p : b_.topics.all_partitions()) {
    if (!p->offline || p->deleted) continue;
    const controller::TopicState* t = metadata_.image().topic(p->topic);
    if (t != nullptr) out.push_back({t->id, controller::PartitionId{p->index}});
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ReplicaManager::stop() {
  for (auto& [id, slot] : fetchers_) slot.fetcher->stop();
  for (const PartitionPtr& p : b_.topics.all_partitions()) {
    p->follower.reset();
    if (p->leader) stop_leading(*p, {p->topic, p->index});
  }
}

}  // namespace castle::broker
