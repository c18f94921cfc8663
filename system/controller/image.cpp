#include "system/controller/image.h"

#include <algorithm>
#include <set>

namespace castle::controller {

namespace {

bool unique(const BrokerIds& ids) {
  return std::set<BrokerId>(ids.begin(), ids.end()).size() == ids.size();
}

}  // namespace

bool is_well_formed(const PartitionState& p) {
  if (p.replicas.empty() || (p.isr.empty() && p.elr.empty())) return false;
  if (!unique(p.replicas) || !unique(p.isr) || !unique(p.elr)) return false;
  for (BrokerId r : p.replicas) {
    if (raw(r) < 0) return false;
  }
  for (BrokerId r : p.isr) {
    if (!contains(p.replicas, r)) return false;
  }
  for (BrokerId r : p.elr) {
    if (!contains(p.replicas, r) || contains(p.isr, r)) return false;
  }
  if (p.leader != kNoLeader && !contains(p.isr, p.leader)) return false;
  return raw(p.leader_epoch) >= 0 && raw(p.partition_epoch) >= 0;
}

void MetadataImage::apply(std::int64_t index, std::int64_t term,
                          std::span<const std::uint8_t> entry) {
  auto record = decode_record(entry);
  if (!record) {
    // Raft's contract: an entry we cannot read is skipped, never fatal.
    CASTLE_ASSERT(index > last_applied_index_, "entries are applied in index order");
    last_applied_index_ = index;
    last_applied_term_ = term;
    ++skipped_count_;
    return;
  }
  (void)apply_record(index, term, record.value());
}

bool MetadataImage::apply_record(std::int64_t index, std::int64_t term,
                                 const MetadataRecord& record) {
  CASTLE_ASSERT(index > last_applied_index_, "entries are applied in index order");
  CASTLE_ASSERT(term >= last_applied_term_, "terms never go back along the log");
  const bool applied = std::visit([&](const auto& rec) { return apply_one(index, rec); }, record);
  last_applied_index_ = index;
  last_applied_term_ = term;
  if (!applied) ++skipped_count_;
  return applied;
}

// A registration replaces whatever the broker's previous incarnation left:
// the new process starts fenced, out of controlled shutdown, with an epoch
// that orders it after every earlier registration.
bool MetadataImage::apply_one(std::int64_t index, const RegisterBrokerRecord& rec) {
  if (raw(rec.broker_id) < 0 || rec.endpoint.port < 0 || rec.endpoint.port > 65535) return false;
  BrokerState& b = brokers_[rec.broker_id];
  b = BrokerState{};
  b.id = rec.broker_id;
  b.incarnation_id = rec.incarnation_id;
  b.epoch = BrokerEpoch{index};
  b.endpoint = rec.endpoint;
  b.rack = rec.rack;
  return true;
}

// Fence, unfence and shutdown name the epoch they were decided for: one
// aimed at an older registration of the broker must not touch the new one.
BrokerState* MetadataImage::current_broker(BrokerId id, BrokerEpoch epoch) {
  auto it = brokers_.find(id);
  if (it == brokers_.end() || it->second.epoch != epoch) return nullptr;
  return &it->second;
}

bool MetadataImage::apply_one(std::int64_t, const FenceBrokerRecord& rec) {
  BrokerState* b = current_broker(rec.broker_id, rec.epoch);
  if (b == nullptr) return false;
  b->fenced = true;
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const UnfenceBrokerRecord& rec) {
  BrokerState* b = current_broker(rec.broker_id, rec.epoch);
  if (b == nullptr) return false;
  b->fenced = false;
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const BrokerShutdownRecord& rec) {
  BrokerState* b = current_broker(rec.broker_id, rec.epoch);
  if (b == nullptr) return false;
  b->in_controlled_shutdown = true;
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const TopicRecord& rec) {
  if (rec.name.empty() || rec.topic_id.is_zero()) return false;
  if (topics_.count(rec.topic_id) != 0 || topic_ids_.count(rec.name) != 0) return false;
  topics_[rec.topic_id] = TopicState{rec.name, rec.topic_id, rec.configs, {}};
  topic_ids_[rec.name] = rec.topic_id;
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const PartitionRecord& rec) {
  auto it = topics_.find(rec.topic_id);
  if (it == topics_.end() || raw(rec.partition) < 0) return false;
  if (it->second.partitions.count(rec.partition) != 0) return false;
  PartitionState p{rec.replicas, rec.isr, rec.leader, rec.leader_epoch, rec.partition_epoch, rec.elr};
  if (!is_well_formed(p)) return false;
  it->second.partitions.emplace(rec.partition, std::move(p));
  return true;
}

// Every change bumps the partition epoch (AlterPartition compares it); a new
// leader also bumps the leader epoch, which followers and clients fence on.
bool MetadataImage::apply_one(std::int64_t, const PartitionChangeRecord& rec) {
  auto it = topics_.find(rec.topic_id);
  if (it == topics_.end()) return false;
  auto pit = it->second.partitions.find(rec.partition);
  if (pit == it->second.partitions.end()) return false;
  PartitionState next_state = pit->second;
  if (rec.replicas) next_state.replicas = *rec.replicas;
  if (rec.isr) next_state.isr = *rec.isr;
  if (rec.elr) next_state.elr = *rec.elr;
  if (rec.leader && *rec.leader != next_state.leader) {
    next_state.leader = *rec.leader;
    next_state.leader_epoch = next(next_state.leader_epoch);
  }
  next_state.partition_epoch = next(next_state.partition_epoch);
  if (!is_well_formed(next_state)) return false;
  pit->second = std::move(next_state);
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const RemoveTopicRecord& rec) {
  auto it = topics_.find(rec.topic_id);
  if (it == topics_.end()) return false;
  topic_ids_.erase(it->second.name);
  topics_.erase(it);
  return true;
}

bool MetadataImage::apply_one(std::int64_t, const NoOpRecord&) { return true; }

// ---- queries ----

const BrokerState* MetadataImage::broker(BrokerId id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

std::optional<Endpoint> MetadataImage::endpoint(BrokerId id) const {
  const BrokerState* b = broker(id);
  if (b == nullptr) return std::nullopt;
  return b->endpoint;
}

bool MetadataImage::is_alive(BrokerId id) const {
  const BrokerState* b = broker(id);
  return b != nullptr && b->alive();
}

BrokerIds MetadataImage::alive_brokers() const {
  BrokerIds out;
  for (const auto& [id, b] : brokers_) {
    if (b.alive()) out.push_back(id);
  }
  return out;
}

const TopicState* MetadataImage::topic(const TopicId& id) const {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicState* MetadataImage::topic(std::string_view name) const {
  auto it = topic_ids_.find(std::string(name));
  return it == topic_ids_.end() ? nullptr : topic(it->second);
}

const PartitionState* MetadataImage::partition(const TopicId& id, PartitionId partition) const {
  const TopicState* t = topic(id);
  if (t == nullptr) return nullptr;
  auto it = t->partitions.find(partition);
  return it == t->partitions.end() ? nullptr : &it->second;
}

const PartitionState* MetadataImage::partition(std::string_view name, PartitionId partition) const {
  const TopicState* t = topic(name);
  return t == nullptr ? nullptr : this->partition(t->id, partition);
}

// Walks topics by name (topic_ids_ is sorted by name), so the result is
// sorted by (name, partition) without a sort.
template <class F>
std::vector<PartitionRef> MetadataImage::partitions_where(F pred) const {
  std::vector<PartitionRef> out;
  for (const auto& [name, id] : topic_ids_) {
    for (const auto& [index, p] : topics_.at(id).partitions) {
      if (pred(p)) out.push_back(PartitionRef{name, id, index});
    }
  }
  return out;
}

std::vector<PartitionRef> MetadataImage::partitions_of_replica(BrokerId id) const {
  return partitions_where([id](const PartitionState& p) { return contains(p.replicas, id); });
}

std::vector<PartitionRef> MetadataImage::partitions_led_by(BrokerId id) const {
  return partitions_where([id](const PartitionState& p) { return p.leader == id; });
}

bool MetadataImage::operator==(const MetadataImage& other) const {
  return last_applied_index_ == other.last_applied_index_ &&
         last_applied_term_ == other.last_applied_term_ &&
         skipped_count_ == other.skipped_count_ && brokers_ == other.brokers_ &&
         topics_ == other.topics_ && topic_ids_ == other.topic_ids_;
}

}  // namespace castle::controller
