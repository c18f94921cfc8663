#include "system/controller/records.h"

#include <type_traits>

namespace castle::controller {

using protocol::DecodeErrc;
using protocol::Reader;
using protocol::Writer;

// ---- shared pieces ----

void write_uuid(Writer& w, const Uuid& id) {
  for (std::uint8_t b : id.bytes) w.write_int8(static_cast<std::int8_t>(b));
}

bool read_flag(Reader& r) {
  const std::int8_t v = r.read_int8();
  if (v != 0 && v != 1) r.fail(DecodeErrc::invalid_length);
  return v == 1;
}

Uuid read_uuid(Reader& r) {
  Uuid id;
  for (std::uint8_t& b : id.bytes) b = static_cast<std::uint8_t>(r.read_int8());
  return id;
}

void write_broker_ids(Writer& w, const BrokerIds& ids) { protocol::write_int32_array(w, ids); }

// Replica lists longer than kReplicasMax are not a cluster Castle builds:
// such a length in the input is garbage.
BrokerIds read_broker_ids(Reader& r) {
  BrokerIds ids = protocol::read_int32_array<BrokerId>(r);
  if (ids.size() > kReplicasMax) r.fail(DecodeErrc::invalid_length);
  return ids;
}

void write_configs(Writer& w, const TopicConfigs& configs) {
  w.write_array_length(configs.size());
  for (const auto& [name, value] : configs) {
    w.write_string(name);
    w.write_string(value);
  }
}

// Names must arrive sorted and unique: the encoder writes a std::map, so
// anything else did not come from it.
TopicConfigs read_configs(Reader& r) {
  TopicConfigs configs;
  const std::size_t n = r.read_array_count();
  if (n > kTopicConfigsMax) r.fail(DecodeErrc::invalid_length);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.read_string();
    std::string value = r.read_string();
    if (!configs.empty() && !(configs.rbegin()->first < name)) r.fail(DecodeErrc::invalid_length);
    if (r.ok()) configs.emplace_hint(configs.end(), std::move(name), std::move(value));
  }
  return configs;
}

namespace {

void write_optional_broker_ids(Writer& w, const std::optional<BrokerIds>& ids) {
  if (!ids) return w.write_null_array();
  write_broker_ids(w, *ids);
}

std::optional<BrokerIds> read_optional_broker_ids(Reader& r) {
  auto ids = protocol::read_nullable_array(r, [](Reader& r) { return BrokerId{r.read_int32()}; });
  if (ids && ids->size() > kReplicasMax) r.fail(DecodeErrc::invalid_length);
  return ids;
}

// ---- bodies: one write/read pair per record ----

void write_body(Writer& w, const RegisterBrokerRecord& rec) {
  w.write_int32(raw(rec.broker_id));
  write_uuid(w, rec.incarnation_id);
  w.write_string(rec.endpoint.host);
  w.write_int32(rec.endpoint.port);
  w.write_nullable_string(rec.rack);
}
void read_body(Reader& r, RegisterBrokerRecord& rec) {
  rec.broker_id = BrokerId{r.read_int32()};
  rec.incarnation_id = read_uuid(r);
  rec.endpoint.host = r.read_string();
  rec.endpoint.port = r.read_int32();
  rec.rack = r.read_nullable_string();
}

template <class T>
  requires(std::is_same_v<T, FenceBrokerRecord> || std::is_same_v<T, UnfenceBrokerRecord> ||
           std::is_same_v<T, BrokerShutdownRecord>)
void write_body(Writer& w, const T& rec) {
  w.write_int32(raw(rec.broker_id));
  w.write_int64(raw(rec.epoch));
}
template <class T>
  requires(std::is_same_v<T, FenceBrokerRecord> || std::is_same_v<T, UnfenceBrokerRecord> ||
           std::is_same_v<T, BrokerShutdownRecord>)
void read_body(Reader& r, T& rec) {
  rec.broker_id = BrokerId{r.read_int32()};
  rec.epoch = BrokerEpoch{r.read_int64()};
}

void write_body(Writer& w, const TopicRecord& rec) {
  w.write_string(rec.name);
  write_uuid(w, rec.topic_id);
  write_configs(w, rec.configs);
}
void read_body(Reader& r, TopicRecord& rec) {
  rec.name = r.read_string();
  rec.topic_id = read_uuid(r);
  rec.configs = read_configs(r);
}

void write_body(Writer& w, const PartitionRecord& rec) {
  write_uuid(w, rec.topic_id);
  w.write_int32(raw(rec.partition));
  write_broker_ids(w, rec.replicas);
  write_broker_ids(w, rec.isr);
  w.write_int32(raw(rec.leader));
  w.write_int32(raw(rec.leader_epoch));
  w.write_int32(raw(rec.partition_epoch));
  write_broker_ids(w, rec.elr);
}
void read_body(Reader& r, PartitionRecord& rec) {
  rec.topic_id = read_uuid(r);
  rec.partition = PartitionId{r.read_int32()};
  rec.replicas = read_broker_ids(r);
  rec.isr = read_broker_ids(r);
  rec.leader = BrokerId{r.read_int32()};
  rec.leader_epoch = LeaderEpoch{r.read_int32()};
  rec.partition_epoch = PartitionEpoch{r.read_int32()};
}
void read_body_v1(Reader& r, PartitionRecord& rec) { rec.elr = read_broker_ids(r); }

// The optional leader is a presence byte then the id.
void write_body(Writer& w, const PartitionChangeRecord& rec) {
  write_uuid(w, rec.topic_id);
  w.write_int32(raw(rec.partition));
  write_optional_broker_ids(w, rec.isr);
  w.write_bool(rec.leader.has_value());
  w.write_int32(raw(rec.leader.value_or(kNoLeader)));
  write_optional_broker_ids(w, rec.replicas);
  write_optional_broker_ids(w, rec.elr);
}
void read_body(Reader& r, PartitionChangeRecord& rec) {
  rec.topic_id = read_uuid(r);
  rec.partition = PartitionId{r.read_int32()};
  rec.isr = read_optional_broker_ids(r);
  const bool has_leader = read_flag(r);
  const BrokerId leader{r.read_int32()};
  if (has_leader) rec.leader = leader;
  rec.replicas = read_optional_broker_ids(r);
}
void read_body_v1(Reader& r, PartitionChangeRecord& rec) { rec.elr = read_optional_broker_ids(r); }

void write_body(Writer& w, const RemoveTopicRecord& rec) { write_uuid(w, rec.topic_id); }
void read_body(Reader& r, RemoveTopicRecord& rec) { rec.topic_id = read_uuid(r); }

void write_body(Writer&, const NoOpRecord&) {}
void read_body(Reader&, NoOpRecord&) {}

// What version 1 appended to a record; nothing for most.
template <class T>
void read_body_v1(Reader&, T&) {}

template <class T>
protocol::Decoded<MetadataRecord> read_record(Reader& r, std::int16_t version) {
  // Built in place: moving a finished T into the variant trips GCC 12's
  // -Wmaybe-uninitialized on the optional members.
  MetadataRecord out(std::in_place_type<T>);
  read_body(r, std::get<T>(out));
  if (version >= 1) read_body_v1(r, std::get<T>(out));
  r.expect_end();
  if (!r.ok()) return *r.error();
  return out;
}

}  // namespace

RecordType record_type(const MetadataRecord& record) {
  // The variant's alternatives are declared in RecordType order from 1.
  return static_cast<RecordType>(record.index() + 1);
}

const char* to_string(RecordType type) {
  switch (type) {
    case RecordType::register_broker: return "register_broker";
    case RecordType::fence_broker: return "fence_broker";
    case RecordType::unfence_broker: return "unfence_broker";
    case RecordType::broker_shutdown: return "broker_shutdown";
    case RecordType::topic: return "topic";
    case RecordType::partition: return "partition";
    case RecordType::partition_change: return "partition_change";
    case RecordType::remove_topic: return "remove_topic";
    case RecordType::no_op: return "no_op";
  }
  return "unknown";
}

protocol::Bytes encode_record(const MetadataRecord& record) {
  Writer w;
  w.write_int16(static_cast<std::int16_t>(record_type(record)));
  w.write_int16(kRecordVersion);
  std::visit([&w](const auto& rec) { write_body(w, rec); }, record);
  return w.take();
}

protocol::Decoded<MetadataRecord> decode_record(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  const auto type = static_cast<RecordType>(r.read_int16());
  const std::int16_t version = r.read_int16();
  if (!r.ok()) return *r.error();
  if (version < kRecordVersionMin || version > kRecordVersion) r.fail(DecodeErrc::unsupported_version);
  if (!r.ok()) return *r.error();
  switch (type) {
    case RecordType::register_broker: return read_record<RegisterBrokerRecord>(r, version);
    case RecordType::fence_broker: return read_record<FenceBrokerRecord>(r, version);
    case RecordType::unfence_broker: return read_record<UnfenceBrokerRecord>(r, version);
    case RecordType::broker_shutdown: return read_record<BrokerShutdownRecord>(r, version);
    case RecordType::topic: return read_record<TopicRecord>(r, version);
    case RecordType::partition: return read_record<PartitionRecord>(r, version);
    case RecordType::partition_change: return read_record<PartitionChangeRecord>(r, version);
    case RecordType::remove_topic: return read_record<RemoveTopicRecord>(r, version);
    case RecordType::no_op: return read_record<NoOpRecord>(r, version);
  }
  // An unknown record type plays the part of an unknown API key.
  r.fail(DecodeErrc::unknown_api_key);
  return *r.error();
}

}  // namespace castle::controller
