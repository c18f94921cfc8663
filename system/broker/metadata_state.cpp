#include "system/broker/metadata_state.h"

#include <string>
#include <type_traits>
#include <variant>

#include "system/broker/replica_trace.h"
#include "system/runtime/trace.h"

namespace castle::broker {

namespace {

// The partition a record sets the leadership or ISR of, if any.
std::optional<std::pair<controller::TopicId, controller::PartitionId>> partition_of(
    const controller::MetadataRecord& rec) {
  if (const auto* p = std::get_if<controller::PartitionRecord>(&rec))
    return std::pair{p->topic_id, p->partition};
  if (const auto* c = std::get_if<controller::PartitionChangeRecord>(&rec))
    return std::pair{c->topic_id, c->partition};
  return std::nullopt;
}

// The broker a record registers, fences, unfences or shuts down, if any.
std::optional<controller::BrokerId> broker_of(const controller::MetadataRecord& rec) {
  return std::visit(
      [](const auto& r) -> std::optional<controller::BrokerId> {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, controller::RegisterBrokerRecord> ||
                      std::is_same_v<R, controller::FenceBrokerRecord> ||
                      std::is_same_v<R, controller::UnfenceBrokerRecord> ||
                      std::is_same_v<R, controller::BrokerShutdownRecord>) {
          return r.broker_id;
        } else {
          return std::nullopt;
        }
      },
      rec);
}

std::string id_list(const controller::BrokerIds& ids) {
  std::vector<std::int32_t> raw_ids;
  for (controller::BrokerId id : ids) raw_ids.push_back(controller::raw(id));
  return trace_id_list(raw_ids);
}

}  // namespace

void MetadataState::apply(std::int64_t index, std::int64_t term, std::span<const std::uint8_t> entry) {
  image_.apply(index, term, entry);
  if (tracer_.enabled()) {
    if (auto rec = controller::decode_record(entry)) {
      if (auto tp = partition_of(rec.value())) trace_partition(tp->first, tp->second);
      if (auto id = broker_of(rec.value())) trace_broker(*id);
    }
  }
  bump();
}

Result<void> MetadataState::restore(std::span<const std::uint8_t> snapshot) {
  auto r = image_.restore(snapshot);
  if (!r) return r;
  if (tracer_.enabled()) {
    // Brokers first: the ISR check reads each partition against them.
    for (const auto& [id, b] : image_.brokers()) trace_broker(id);
    for (const auto& [id, t] : image_.topics())
      for (const auto& [index, ps] : t.partitions) trace_partition(t.id, index, true);
  }
  bump();
  return r;
}

void MetadataState::trace_partition(const controller::TopicId& topic, controller::PartitionId partition,
                                    bool from_snapshot) const {
  const controller::TopicState* t = image_.topic(topic);
  const controller::PartitionState* ps = image_.partition(topic, partition);
  if (t == nullptr || ps == nullptr) return;  // a record the image skipped
  CASTLE_TRACE(tracer_, "metadata.partition",
               {{"topic", t->name}, {"partition", std::int64_t{controller::raw(partition)}},
                {"leader", std::int64_t{controller::raw(ps->leader)}},
                {"epoch", std::int64_t{controller::raw(ps->leader_epoch)}},
                {"partition_epoch", static_cast<std::int64_t>(ps->partition_epoch)},
                {"isr", id_list(ps->isr)}, {"elr", id_list(ps->elr)},
                {"replicas", id_list(ps->replicas)}, {"snapshot", from_snapshot}});
}

void MetadataState::trace_broker(controller::BrokerId id) const {
  const controller::BrokerState* b = image_.broker(id);
  if (b == nullptr) return;
  CASTLE_TRACE(tracer_, "metadata.broker",
               {{"broker", std::int64_t{controller::raw(id)}}, {"alive", b->alive()}});
}

}  // namespace castle::broker
