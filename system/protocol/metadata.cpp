#include "system/protocol/metadata.h"

namespace castle::protocol {
namespace {

using Broker = MetadataResponse::Broker;
using Partition = MetadataResponse::Partition;
using Topic = MetadataResponse::Topic;

void write_broker(Writer& w, const Broker& b, std::int16_t version) {
  w.write_int32(raw(b.node_id));
  w.write_string(b.host);
  w.write_int32(b.port);
  if (version >= 1) w.write_nullable_string(b.rack);
}

Broker read_broker(Reader& r, std::int16_t version) {
  Broker b;
  b.node_id = BrokerId{r.read_int32()};
  b.host = r.read_string();
  b.port = r.read_int32();
  if (version >= 1) b.rack = r.read_nullable_string();
  return b;
}

void write_partition(Writer& w, const Partition& p, std::int16_t version) {
  w.write_int16(raw(p.error_code));
  w.write_int32(raw(p.partition_index));
  w.write_int32(raw(p.leader_id));
  if (version >= 7) w.write_int32(raw(p.leader_epoch));
  write_int32_array(w, p.replica_nodes);
  write_int32_array(w, p.isr_nodes);
  if (version >= 5) write_int32_array(w, p.offline_replicas);
}

Partition read_partition(Reader& r, std::int16_t version) {
  Partition p;
  p.error_code = ErrorCode{r.read_int16()};
  p.partition_index = PartitionId{r.read_int32()};
  p.leader_id = BrokerId{r.read_int32()};
  if (version >= 7) p.leader_epoch = LeaderEpoch{r.read_int32()};
  p.replica_nodes = read_int32_array<BrokerId>(r);
  p.isr_nodes = read_int32_array<BrokerId>(r);
  if (version >= 5) p.offline_replicas = read_int32_array<BrokerId>(r);
  return p;
}

void write_topic(Writer& w, const Topic& t, std::int16_t version) {
  w.write_int16(raw(t.error_code));
  w.write_string(t.name);
  if (version >= 1) w.write_bool(t.is_internal);
  write_array(w, t.partitions,
              [version](Writer& w, const Partition& p) { write_partition(w, p, version); });
  if (version >= 8) w.write_int32(t.topic_authorized_operations);
}

Topic read_topic(Reader& r, std::int16_t version) {
  Topic t;
  t.error_code = ErrorCode{r.read_int16()};
  t.name = r.read_string();
  if (version >= 1) t.is_internal = r.read_bool();
  t.partitions = read_array(r, [version](Reader& r) { return read_partition(r, version); });
  if (version >= 8) t.topic_authorized_operations = r.read_int32();
  return t;
}

}  // namespace

void encode(const MetadataRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(MetadataRequest, version);
  auto write_name = [](Writer& w, const std::string& name) { w.write_string(name); };
  if (version == 0 && !m.topics) {
    w.write_array_length(0);  // v0 has no null: the empty array means all topics
  } else {
    write_nullable_array(w, m.topics, write_name);
  }
  if (version >= 4) w.write_bool(m.allow_auto_topic_creation);
  if (version >= 8) {
    w.write_bool(m.include_cluster_authorized_operations);
    w.write_bool(m.include_topic_authorized_operations);
  }
}

template <>
Decoded<MetadataRequest> decode<MetadataRequest>(Reader& r, std::int16_t version) {
  MetadataRequest m;
  if (!accept_version(r, MetadataRequest::versions, version)) return *r.error();
  auto read_name = [](Reader& r) { return r.read_string(); };
  if (version == 0) {
    m.topics = read_array(r, read_name);
  } else {
    m.topics = read_nullable_array(r, read_name);
  }
  if (version >= 4) m.allow_auto_topic_creation = r.read_bool();
  if (version >= 8) {
    m.include_cluster_authorized_operations = r.read_bool();
    m.include_topic_authorized_operations = r.read_bool();
  }
  return finish(r, std::move(m));
}

void encode(const MetadataResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(MetadataResponse, version);
  if (version >= 3) w.write_int32(m.throttle_time_ms);
  write_array(w, m.brokers,
              [version](Writer& w, const Broker& b) { write_broker(w, b, version); });
  if (version >= 2) w.write_nullable_string(m.cluster_id);
  if (version >= 1) w.write_int32(raw(m.controller_id));
  write_array(w, m.topics, [version](Writer& w, const Topic& t) { write_topic(w, t, version); });
  if (version >= 8) w.write_int32(m.cluster_authorized_operations);
}

template <>
Decoded<MetadataResponse> decode<MetadataResponse>(Reader& r, std::int16_t version) {
  MetadataResponse m;
  if (!accept_version(r, MetadataResponse::versions, version)) return *r.error();
  if (version >= 3) m.throttle_time_ms = r.read_int32();
  m.brokers = read_array(r, [version](Reader& r) { return read_broker(r, version); });
  if (version >= 2) m.cluster_id = r.read_nullable_string();
  if (version >= 1) m.controller_id = BrokerId{r.read_int32()};
  m.topics = read_array(r, [version](Reader& r) { return read_topic(r, version); });
  if (version >= 8) m.cluster_authorized_operations = r.read_int32();
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
