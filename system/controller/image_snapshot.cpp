// The image's snapshot codec: `i16 version | i64 last index | i64 last term
// | i64 skipped | brokers | topics`, every map written in key order (a
// partition's ELR from version 1 on). restore()
// decodes into a fresh image and checks it the way replay would have built
// it (keys sorted and unique, partitions well formed), so that a corrupt
// snapshot is refused as a whole and the current image stays untouched.

#include "system/controller/image.h"

#include <system_error>

namespace castle::controller {

using protocol::DecodeErrc;
using protocol::Reader;
using protocol::Writer;

namespace {

void write_broker(Writer& w, const BrokerState& b) {
  w.write_int32(raw(b.id));
  write_uuid(w, b.incarnation_id);
  w.write_int64(raw(b.epoch));
  w.write_string(b.endpoint.host);
  w.write_int32(b.endpoint.port);
  w.write_nullable_string(b.rack);
  w.write_bool(b.fenced);
  w.write_bool(b.in_controlled_shutdown);
}

BrokerState read_broker(Reader& r) {
  BrokerState b;
  b.id = BrokerId{r.read_int32()};
  b.incarnation_id = read_uuid(r);
  b.epoch = BrokerEpoch{r.read_int64()};
  b.endpoint.host = r.read_string();
  b.endpoint.port = r.read_int32();
  b.rack = r.read_nullable_string();
  b.fenced = read_flag(r);
  b.in_controlled_shutdown = read_flag(r);
  return b;
}

void write_partition(Writer& w, PartitionId index, const PartitionState& p) {
  w.write_int32(raw(index));
  write_broker_ids(w, p.replicas);
  write_broker_ids(w, p.isr);
  w.write_int32(raw(p.leader));
  w.write_int32(raw(p.leader_epoch));
  w.write_int32(raw(p.partition_epoch));
  write_broker_ids(w, p.elr);
}

void write_topic(Writer& w, const TopicState& t) {
  w.write_string(t.name);
  write_uuid(w, t.id);
  write_configs(w, t.configs);
  w.write_array_length(t.partitions.size());
  for (const auto& [index, p] : t.partitions) write_partition(w, index, p);
}

// Reads a partition map; indexes must ascend and states be well formed.
std::map<PartitionId, PartitionState> read_partitions(Reader& r, std::int16_t version) {
  std::map<PartitionId, PartitionState> out;
  const std::size_t n = r.read_array_count();
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const PartitionId index{r.read_int32()};
    PartitionState p;
    p.replicas = read_broker_ids(r);
    p.isr = read_broker_ids(r);
    p.leader = BrokerId{r.read_int32()};
    p.leader_epoch = LeaderEpoch{r.read_int32()};
    p.partition_epoch = PartitionEpoch{r.read_int32()};
    if (version >= 1) p.elr = read_broker_ids(r);
    const bool ascending = out.empty() || out.rbegin()->first < index;
    if (r.ok() && (!ascending || raw(index) < 0 || !is_well_formed(p))) {
      r.fail(DecodeErrc::invalid_length);
    }
    if (r.ok()) out.emplace_hint(out.end(), index, std::move(p));
  }
  return out;
}

TopicState read_topic(Reader& r, std::int16_t version) {
  TopicState t;
  t.name = r.read_string();
  t.id = read_uuid(r);
  t.configs = read_configs(r);
  t.partitions = read_partitions(r, version);
  return t;
}

}  // namespace

std::vector<std::uint8_t> MetadataImage::snapshot() const {
  Writer w;
  w.write_int16(kSnapshotVersion);
  w.write_int64(last_applied_index_);
  w.write_int64(last_applied_term_);
  w.write_int64(skipped_count_);
  w.write_array_length(brokers_.size());
  for (const auto& [id, b] : brokers_) write_broker(w, b);
  w.write_array_length(topics_.size());
  for (const auto& [id, t] : topics_) write_topic(w, t);
  return w.take();
}

Result<void> MetadataImage::restore(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  MetadataImage fresh;
  const std::int16_t version = r.read_int16();
  if (version < 0 || version > kSnapshotVersion) r.fail(DecodeErrc::unsupported_version);
  fresh.last_applied_index_ = r.read_int64();
  fresh.last_applied_term_ = r.read_int64();
  fresh.skipped_count_ = r.read_int64();
  const std::size_t broker_count = r.read_array_count();
  for (std::size_t i = 0; i < broker_count && r.ok(); ++i) {
    BrokerState b = read_broker(r);
    const bool ascending = fresh.brokers_.empty() || fresh.brokers_.rbegin()->first < b.id;
    if (r.ok() && !ascending) r.fail(DecodeErrc::invalid_length);
    if (r.ok()) fresh.brokers_.emplace_hint(fresh.brokers_.end(), b.id, std::move(b));
  }
  const std::size_t topic_count = r.read_array_count();
  for (std::size_t i = 0; i < topic_count && r.ok(); ++i) {
    TopicState t = read_topic(r, version);
    const bool ascending = fresh.topics_.empty() || fresh.topics_.rbegin()->first < t.id;
    const bool fresh_name = fresh.topic_ids_.count(t.name) == 0;
    if (r.ok() && (!ascending || !fresh_name || t.name.empty() || t.id.is_zero())) {
      r.fail(DecodeErrc::invalid_length);
    }
    if (!r.ok()) break;
    fresh.topic_ids_[t.name] = t.id;
    fresh.topics_.emplace_hint(fresh.topics_.end(), t.id, std::move(t));
  }
  r.expect_end();
  if (!r.ok() || fresh.last_applied_index_ < 0 || fresh.last_applied_term_ < 0) {
    return std::make_error_code(std::errc::bad_message);
  }
  *this = std::move(fresh);
  return ok_result();
}

}  // namespace castle::controller
