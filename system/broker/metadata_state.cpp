#include "system/broker/metadata_state.h"

#include "system/runtime/trace.h"

namespace castle::broker {

namespace {

// The partition a record sets the leadership of, if any.
std::optional<std::pair<controller::TopicId, controller::PartitionId>> partition_of(
    std::span<const std::uint8_t> entry) {
  auto rec = controller::decode_record(entry);
  if (!rec) return std::nullopt;
  if (const auto* p = std::get_if<controller::PartitionRecord>(&rec.value()))
    return std::pair{p->topic_id, p->partition};
  if (const auto* c = std::get_if<controller::PartitionChangeRecord>(&rec.value()))
    return std::pair{c->topic_id, c->partition};
  return std::nullopt;
}

}  // namespace

void MetadataState::apply(std::int64_t index, std::int64_t term, std::span<const std::uint8_t> entry) {
  image_.apply(index, term, entry);
  if (tracer_.enabled())
    if (auto tp = partition_of(entry)) trace_partition(tp->first, tp->second);
  bump();
}

Result<void> MetadataState::restore(std::span<const std::uint8_t> snapshot) {
  auto r = image_.restore(snapshot);
  if (!r) return r;
  if (tracer_.enabled())
    for (const auto& [id, t] : image_.topics())
      for (const auto& [index, ps] : t.partitions) trace_partition(t.id, index);
  bump();
  return r;
}

void MetadataState::trace_partition(const controller::TopicId& topic, controller::PartitionId partition) const {
  const controller::TopicState* t = image_.topic(topic);
  const controller::PartitionState* ps = image_.partition(topic, partition);
  if (t == nullptr || ps == nullptr) return;  // a record the image skipped
  CASTLE_TRACE(tracer_, "metadata.partition",
               {{"topic", t->name}, {"partition", std::int64_t{controller::raw(partition)}},
                {"leader", std::int64_t{controller::raw(ps->leader)}},
                {"epoch", std::int64_t{controller::raw(ps->leader_epoch)}}});
}

}  // namespace castle::broker
