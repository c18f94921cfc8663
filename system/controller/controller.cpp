#include "system/controller/controller.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "system/controller/topic_creation.h"

namespace castle::controller {

const std::vector<std::pair<std::string, std::string>>& planted_bugs() {
  static const std::vector<std::pair<std::string, std::string>> bugs = {
      {"controller-unclean-election",
       "elects an out-of-sync replica when no ISR member is alive, though unclean election is off"},
      {"controller-accept-stale-alter-partition",
       "accepts AlterPartition with a stale leader epoch or partition epoch"},
      {"controller-isr-expand-any",
       "lets AlterPartition add fenced or shutting-down brokers to the ISR"},
  };
  return bugs;
}

// The records of one decision, applied as they are made to a copy of the
// image, so that each later step of the same decision sees the earlier ones
// (fencing two brokers in one tick shrinks an ISR twice, not once). The copy
// costs O(image) per decision, which a controller of a few thousand
// partitions affords.
class Controller::Batch {
 public:
  explicit Batch(const MetadataImage& image) : image_(image) {}
  const MetadataImage& image() const { return image_; }
  std::vector<MetadataRecord> take() { return std::move(records_); }

  void emit(MetadataRecord record) {
    const bool applied =
        image_.apply_record(image_.last_applied_index() + 1, image_.last_applied_term(), record);
    CASTLE_ASSERT(applied, "the controller proposes only records that fit the image");
    records_.push_back(std::move(record));
  }

 private:
  MetadataImage image_;
  std::vector<MetadataRecord> records_;
};

Controller::Controller(ControllerConfig config) : config_(std::move(config)) {
  CASTLE_ASSERT(config_.broker_session_timeout_ms > 0, "session timeout must be positive");
}

bool unclean_election_enabled(const ControllerConfig& config, const TopicState& topic) {
  auto it = topic.configs.find("unclean.leader.election.enable");
  if (it == topic.configs.end()) return config.unclean_leader_election_enable;
  return it->second == "true";
}

std::int32_t min_insync_replicas(const ControllerConfig& config, const TopicState& topic) {
  auto it = topic.configs.find("min.insync.replicas");
  if (it == topic.configs.end()) return config.min_insync_replicas;
  std::int32_t v = 0;
  const auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc{} || end != it->second.data() + it->second.size() || v < 1)
    return config.min_insync_replicas;
  return v;
}

ElectionPolicy Controller::policy_for(const TopicState& topic) const {
  return ElectionPolicy{unclean_election_enabled(config_, topic),
                        config_.bug("controller-unclean-election"),
                        static_cast<std::size_t>(std::max(min_insync_replicas(config_, topic), 1)),
                        {}};
}

ElectionPolicy Controller::policy_for(ElectionPolicy topic_policy, const TopicId& id,
                                      PartitionId partition) const {
  for (const auto& [broker, replicas] : offline_)  // by broker id: deterministic
    if (replicas.count(TopicIdPartition{id, partition}) != 0) topic_policy.offline.push_back(broker);
  return topic_policy;
}

void Controller::becoming_leader(const MetadataImage& image, Instant now) {
  lease_.clear();
  offline_.clear();
  for (const auto& [id, b] : image.brokers()) lease_[id] = now;
}

std::optional<Instant> Controller::lease_expiry(BrokerId id) const {
  auto it = lease_.find(id);
  if (it == lease_.end()) return std::nullopt;
  return it->second + milliseconds(config_.broker_session_timeout_ms);
}

// Repairs every partition against the batch's current image. Topics are
// walked by id and partitions by index: sorted, so deterministic.
void Controller::repair_all(Batch& batch) const {
  std::vector<PartitionChangeRecord> changes;
  for (const auto& [id, topic] : batch.image().topics()) {
    const ElectionPolicy policy = policy_for(topic);
    for (const auto& [index, p] : topic.partitions) {
      if (auto change = repair_partition(batch.image(), id, index, p, policy_for(policy, id, index))) {
        changes.push_back(std::move(*change));
      }
    }
  }
  // Each change touches one partition, so emitting after the walk is the
  // same as emitting during it, without mutating what is being walked.
  for (PartitionChangeRecord& change : changes) batch.emit(std::move(change));
}

// A broker back from an unclean shutdown may have lost what it had
// acknowledged: it is no longer eligible to lead where another is.
void Controller::forget_unclean(Batch& batch, BrokerId broker) const {
  std::vector<PartitionChangeRecord> changes;
  for (const auto& [id, topic] : batch.image().topics()) {
    for (const auto& [index, p] : topic.partitions) {
      if (auto change = forget_replica(id, index, p, broker)) changes.push_back(std::move(*change));
    }
  }
  for (PartitionChangeRecord& change : changes) batch.emit(std::move(change));
}

// A replica whose log failed may have lost what it acknowledged, and cannot
// serve it meanwhile: where another replica is eligible it no longer
// counts (the broker keeps its damaged log away until this commits). True
// if any change was made.
bool Controller::forget_offline(Batch& batch, BrokerId broker) const {
  auto it = offline_.find(broker);
  if (it == offline_.end()) return false;
  std::vector<PartitionChangeRecord> changes;
  for (const TopicIdPartition& tp : it->second) {  // sorted: deterministic
    const PartitionState* p = batch.image().partition(tp.topic_id, tp.partition);
    if (p == nullptr) continue;  // deleted meanwhile
    const ElectionPolicy policy =
        policy_for(policy_for(*batch.image().topic(tp.topic_id)), tp.topic_id, tp.partition);
    if (auto change = drop_offline_replica(batch.image(), tp.topic_id, tp.partition, *p, broker, policy))
      changes.push_back(std::move(*change));
  }
  for (PartitionChangeRecord& change : changes) batch.emit(std::move(change));
  return !changes.empty();
}

bool Controller::is_offline(BrokerId broker, const TopicId& topic, PartitionId partition) const {
  auto it = offline_.find(broker);
  return it != offline_.end() && it->second.count(TopicIdPartition{topic, partition}) != 0;
}

// ---- brokers ----

Decision<BrokerRegistrationResponse> Controller::register_broker(
    const MetadataImage& image, const BrokerRegistrationRequest& request, Instant now) {
  Decision<BrokerRegistrationResponse> out;
  if (raw(request.broker_id) < 0 || request.endpoint.port <= 0 || request.endpoint.port > 65535) {
    out.response.error = ErrorCode::INVALID_REQUEST;
    return out;
  }
  const BrokerState* existing = image.broker(request.broker_id);
  if (existing != nullptr && existing->incarnation_id == request.incarnation_id) {
    lease_[request.broker_id] = now;
    out.response.broker_epoch = existing->epoch;  // a retry: nothing to write
    return out;
  }
  offline_.erase(request.broker_id);  // a new process: its heartbeats will say
  Batch batch(image);
  if (existing != nullptr && !existing->fenced) {
    // The old process is gone (or about to be): what it led moves first.
    batch.emit(FenceBrokerRecord{request.broker_id, existing->epoch});
    repair_all(batch);
  }
  if (!request.clean_shutdown) {
    forget_unclean(batch, request.broker_id);
    repair_all(batch);
  }
  batch.emit(RegisterBrokerRecord{request.broker_id, request.incarnation_id, request.endpoint,
                                  request.rack});
  lease_[request.broker_id] = now;
  out.response.broker_epoch = BrokerEpoch{-1};  // the caller fills in the record's index
  out.records = batch.take();
  return out;
}

// A controlled shutdown starting, or a fenced broker that caught up coming
// back; true if either happened.
bool Controller::change_lifecycle(Batch& batch, const BrokerState& b, bool want_shutdown,
                                  bool caught_up) const {
  if (want_shutdown && !b.fenced && !b.in_controlled_shutdown) {
    batch.emit(BrokerShutdownRecord{b.id, b.epoch});
    return true;
  }
  if (!want_shutdown && b.fenced && !b.in_controlled_shutdown && caught_up) {
    batch.emit(UnfenceBrokerRecord{b.id, b.epoch});
    return true;
  }
  return false;
}

Decision<BrokerHeartbeatResponse> Controller::heartbeat(const MetadataImage& image,
                                                        const BrokerHeartbeatRequest& request,
                                                        Instant now) {
  Decision<BrokerHeartbeatResponse> out;
  const BrokerState* b = image.broker(request.broker_id);
  if (b == nullptr) {
    out.response.error = ErrorCode::BROKER_ID_NOT_REGISTERED;
    return out;
  }
  if (b->epoch != request.broker_epoch) {
    out.response.error = ErrorCode::STALE_BROKER_EPOCH;
    return out;
  }
  lease_[request.broker_id] = now;
  if (request.offline_replicas.empty()) {
    offline_.erase(request.broker_id);
  } else {
    offline_[request.broker_id] = {request.offline_replicas.begin(), request.offline_replicas.end()};
  }
  const bool caught_up = request.metadata_offset >= raw(b->epoch);
  Batch batch(image);
  const bool lifecycle = change_lifecycle(batch, *b, request.want_shutdown, caught_up);
  const bool dropped = forget_offline(batch, request.broker_id);
  // A broker that left, came back or lost replicas changes who may lead
  // and be in ISRs; a plain heartbeat changes nothing (tick repairs the rest).
  if (lifecycle || dropped) repair_all(batch);
  const BrokerState& now_b = *batch.image().broker(request.broker_id);
  out.response.is_caught_up = caught_up;
  out.response.is_fenced = now_b.fenced;
  // A broker may stop once it leads nothing; the response goes out after the
  // records moving its leadership commit.
  out.response.should_shutdown =
      request.want_shutdown &&
      (now_b.fenced || batch.image().partitions_led_by(request.broker_id).empty());
  out.records = batch.take();
  return out;
}

std::vector<MetadataRecord> Controller::tick(const MetadataImage& image, Instant now) {
  Batch batch(image);
  const Duration timeout = milliseconds(config_.broker_session_timeout_ms);
  for (const auto& [id, b] : image.brokers()) {
    if (b.fenced) continue;
    auto [it, fresh] = lease_.try_emplace(id, now);  // unseen: a lease from now
    if (!fresh && now - it->second > timeout) batch.emit(FenceBrokerRecord{id, b.epoch});
  }
  repair_all(batch);
  return batch.take();
}

std::vector<MetadataRecord> Controller::move_a_leader(const MetadataImage& image, std::uint64_t pick) const {
  std::vector<PartitionChangeRecord> movable;
  for (const auto& [id, topic] : image.topics())
    for (const auto& [index, p] : topic.partitions)
      if (auto change = move_leadership(image, id, index, p)) movable.push_back(std::move(*change));
  if (movable.empty()) return {};
  Batch batch(image);
  batch.emit(std::move(movable[pick % movable.size()]));
  return batch.take();
}

// ---- AlterPartition ----

// Kafka's checks, in Kafka's order. The planted bugs switch some off.
ErrorCode Controller::check_alter(const MetadataImage& image, const AlterPartitionRequest& request,
                                  const TopicId& topic, const PartitionState& p,
                                  const AlterPartitionRequest::Partition& ask) const {
  if (p.leader != request.broker_id) return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  if (!config_.bug("controller-accept-stale-alter-partition")) {
    if (ask.leader_epoch < p.leader_epoch) return ErrorCode::FENCED_LEADER_EPOCH;
    if (ask.leader_epoch > p.leader_epoch) return ErrorCode::UNKNOWN_LEADER_EPOCH;
    if (ask.partition_epoch != p.partition_epoch) return ErrorCode::INVALID_UPDATE_VERSION;
  }
  const BrokerIds& isr = ask.new_isr;
  if (isr.empty() || std::set<BrokerId>(isr.begin(), isr.end()).size() != isr.size()) {
    return ErrorCode::INVALID_REQUEST;
  }
  for (BrokerId m : isr) {
    if (!contains(p.replicas, m)) return ErrorCode::INVALID_REQUEST;
  }
  // A leader that dropped itself would leave a partition whose leader is
  // outside its ISR.
  if (!contains(isr, request.broker_id)) return ErrorCode::INVALID_REQUEST;
  if (!config_.bug("controller-isr-expand-any")) {
    for (BrokerId m : isr) {
      if (!image.is_alive(m)) return ErrorCode::INELIGIBLE_REPLICA;
    }
  }
  // A replica reported offline rejoins once its log is back and caught up.
  for (BrokerId m : isr) {
    if (!contains(p.isr, m) && is_offline(m, topic, ask.partition)) return ErrorCode::INELIGIBLE_REPLICA;
  }
  return ErrorCode::NONE;
}

Decision<AlterPartitionResponse> Controller::alter_partition(const MetadataImage& image,
                                                             const AlterPartitionRequest& request) {
  Decision<AlterPartitionResponse> out;
  const BrokerState* b = image.broker(request.broker_id);
  if (b == nullptr || b->epoch != request.broker_epoch) {
    out.response.error = ErrorCode::STALE_BROKER_EPOCH;
    return out;
  }
  Batch batch(image);
  for (const AlterPartitionRequest::Topic& t : request.topics) {
    AlterPartitionResponse::Topic& rt = out.response.topics.emplace_back();
    rt.topic_id = t.topic_id;
    for (const AlterPartitionRequest::Partition& ask : t.partitions) {
      AlterPartitionResponse::Partition& rp = rt.partitions.emplace_back();
      rp.partition = ask.partition;
      if (batch.image().topic(t.topic_id) == nullptr) {
        rp.error = ErrorCode::UNKNOWN_TOPIC_ID;
        continue;
      }
      const PartitionState* p = batch.image().partition(t.topic_id, ask.partition);
      if (p == nullptr) {
        rp.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
        continue;
      }
      rp.error = check_alter(batch.image(), request, t.topic_id, *p, ask);
      if (rp.error == ErrorCode::NONE && ask.new_isr != p->isr) {
        PartitionChangeRecord change{t.topic_id, ask.partition, ask.new_isr, {}, {}};
        const auto min = static_cast<std::size_t>(
            std::max(min_insync_replicas(config_, *batch.image().topic(t.topic_id)), 1));
        BrokerIds elr = elr_after_isr_change(*p, ask.new_isr, min);
        if (elr != p->elr) change.elr = std::move(elr);
        batch.emit(std::move(change));
        p = batch.image().partition(t.topic_id, ask.partition);
      }
      rp.leader = p->leader;
      rp.leader_epoch = p->leader_epoch;
      rp.isr = p->isr;
      rp.partition_epoch = p->partition_epoch;
    }
  }
  out.records = batch.take();
  return out;
}

// ---- topics ----

ErrorCode Controller::check_new_topic(const MetadataImage& image,
                                      const CreateTopicsRequest::Topic& topic,
                                      std::int32_t partitions, std::int16_t replication_factor,
                                      std::string* message) const {
  if (!is_valid_topic_name(topic.name, message)) return ErrorCode::INVALID_TOPIC_EXCEPTION;
  if (image.topic(topic.name) != nullptr) {
    *message = "topic '" + topic.name + "' already exists";
    return ErrorCode::TOPIC_ALREADY_EXISTS;
  }
  if (collides_with_existing(image, topic.name)) {
    *message = "topic '" + topic.name + "' collides with an existing topic ('.' versus '_')";
    return ErrorCode::INVALID_TOPIC_EXCEPTION;
  }
  if (partitions <= 0 || partitions > config_.partitions_per_topic_max) {
    *message = "number of partitions must be between 1 and " +
               std::to_string(config_.partitions_per_topic_max);
    return ErrorCode::INVALID_PARTITIONS;
  }
  const std::size_t alive = image.alive_brokers().size();
  if (replication_factor <= 0 || static_cast<std::size_t>(replication_factor) > alive) {
    *message = "replication factor " + std::to_string(replication_factor) + " with " +
               std::to_string(alive) + " alive brokers";
    return ErrorCode::INVALID_REPLICATION_FACTOR;
  }
  auto unclean = topic.configs.find("unclean.leader.election.enable");
  if (unclean != topic.configs.end() && unclean->second != "true" && unclean->second != "false") {
    *message = "unclean.leader.election.enable must be true or false";
    return ErrorCode::INVALID_CONFIG;
  }
  std::string bad;
  std::string why;
  if (config_.validate_topic_configs && !config_.validate_topic_configs(topic.configs, &bad, &why)) {
    *message = bad + ": " + why;
    return ErrorCode::INVALID_CONFIG;
  }
  return ErrorCode::NONE;
}

CreateTopicsResponse::Result Controller::create_one(Batch& batch,
                                                    const CreateTopicsRequest::Topic& topic,
                                                    bool validate_only) const {
  CreateTopicsResponse::Result result;
  result.name = topic.name;
  const std::int32_t partitions =
      topic.num_partitions == -1 ? config_.num_partitions : topic.num_partitions;
  const std::int16_t rf = topic.replication_factor == -1 ? config_.default_replication_factor
                                                         : topic.replication_factor;
  std::string message;
  result.error = check_new_topic(batch.image(), topic, partitions, rf, &message);
  if (result.error != ErrorCode::NONE) {
    result.message = message;
    return result;
  }
  result.num_partitions = partitions;
  result.replication_factor = rf;
  if (validate_only) return result;
  std::uint64_t salt = 0;
  TopicId id = derive_topic_id(topic.name, batch.image().last_applied_index(), salt);
  while (batch.image().topic(id) != nullptr) id = derive_topic_id(topic.name, 0, ++salt);
  result.topic_id = id;
  batch.emit(TopicRecord{topic.name, id, topic.configs});
  const auto assignment = assign_replicas(topic.name, batch.image().alive_brokers(), partitions, rf);
  for (std::size_t p = 0; p < assignment.size(); ++p) {
    const BrokerIds& replicas = assignment[p];
    batch.emit(PartitionRecord{id, PartitionId{static_cast<std::int32_t>(p)}, replicas, replicas,
                               replicas.front(), LeaderEpoch{0}, PartitionEpoch{0}});
  }
  return result;
}

Decision<CreateTopicsResponse> Controller::create_topics(const MetadataImage& image,
                                                         const CreateTopicsRequest& request) {
  Decision<CreateTopicsResponse> out;
  // Kafka refuses every copy of a name that appears twice in one request.
  std::map<std::string, int> seen;
  for (const auto& t : request.topics) ++seen[t.name];
  Batch batch(image);
  for (const CreateTopicsRequest::Topic& topic : request.topics) {
    if (seen[topic.name] > 1) {
      out.response.topics.push_back(
          {topic.name, TopicId{}, ErrorCode::INVALID_REQUEST, "duplicate topic name in request", -1, -1});
      continue;
    }
    out.response.topics.push_back(create_one(batch, topic, request.validate_only));
  }
  out.records = batch.take();
  return out;
}

Decision<DeleteTopicsResponse> Controller::delete_topics(const MetadataImage& image,
                                                         const DeleteTopicsRequest& request) {
  Decision<DeleteTopicsResponse> out;
  Batch batch(image);
  for (const std::string& name : request.names) {
    DeleteTopicsResponse::Result& r = out.response.topics.emplace_back();
    r.name = name;
    const TopicState* t = batch.image().topic(name);
    if (t == nullptr) {
      r.error = ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
      continue;
    }
    r.topic_id = t->id;
    batch.emit(RemoveTopicRecord{t->id});
  }
  out.records = batch.take();
  return out;
}

}  // namespace castle::controller
