#include "system/controller/rpc_messages.h"

namespace castle::controller {

using protocol::DecodeErrc;
using protocol::Reader;
using protocol::Writer;

namespace {

void write_error(Writer& w, ErrorCode e) { w.write_int16(protocol::raw(e)); }
ErrorCode read_error(Reader& r) { return ErrorCode{r.read_int16()}; }

template <class M, class F>
protocol::Bytes encode_with(const M& m, F write_body) {
  Writer w;
  write_body(w, m);
  return w.take();
}

template <class M, class F>
protocol::Decoded<M> decode_with(std::span<const std::uint8_t> body, F read_body) {
  Reader r(body);
  M m;
  read_body(r, m);
  return protocol::finish(r, std::move(m));
}

// ---- registration ----

void write_body(Writer& w, const BrokerRegistrationRequest& m) {
  w.write_int32(raw(m.broker_id));
  write_uuid(w, m.incarnation_id);
  w.write_string(m.endpoint.host);
  w.write_int32(m.endpoint.port);
  w.write_nullable_string(m.rack);
  w.write_bool(m.clean_shutdown);
}
void read_body(Reader& r, BrokerRegistrationRequest& m) {
  m.broker_id = BrokerId{r.read_int32()};
  m.incarnation_id = read_uuid(r);
  m.endpoint.host = r.read_string();
  m.endpoint.port = r.read_int32();
  m.rack = r.read_nullable_string();
  m.clean_shutdown = read_flag(r);
}

void write_body(Writer& w, const BrokerRegistrationResponse& m) {
  write_error(w, m.error);
  w.write_int64(raw(m.broker_epoch));
}
void read_body(Reader& r, BrokerRegistrationResponse& m) {
  m.error = read_error(r);
  m.broker_epoch = BrokerEpoch{r.read_int64()};
}

// ---- heartbeat ----

void write_body(Writer& w, const BrokerHeartbeatRequest& m) {
  w.write_int32(raw(m.broker_id));
  w.write_int64(raw(m.broker_epoch));
  w.write_int64(m.metadata_offset);
  w.write_bool(m.want_shutdown);
  // Absent when empty, so that a healthy broker's heartbeat keeps the
  // layout that brokers and controllers of earlier commits speak.
  if (m.offline_replicas.empty()) return;
  protocol::write_array(w, m.offline_replicas, [](Writer& w, const TopicIdPartition& p) {
    write_uuid(w, p.topic_id);
    w.write_int32(raw(p.partition));
  });
}
void read_body(Reader& r, BrokerHeartbeatRequest& m) {
  m.broker_id = BrokerId{r.read_int32()};
  m.broker_epoch = BrokerEpoch{r.read_int64()};
  m.metadata_offset = r.read_int64();
  m.want_shutdown = read_flag(r);
  if (r.remaining() == 0) return;
  m.offline_replicas = protocol::read_array(r, [](Reader& r) {
    TopicIdPartition p;
    p.topic_id = read_uuid(r);
    p.partition = PartitionId{r.read_int32()};
    return p;
  });
  // An empty list is written as none: one encoding per message.
  if (m.offline_replicas.empty()) r.fail(DecodeErrc::invalid_length);
}

void write_body(Writer& w, const BrokerHeartbeatResponse& m) {
  write_error(w, m.error);
  w.write_bool(m.is_caught_up);
  w.write_bool(m.is_fenced);
  w.write_bool(m.should_shutdown);
}
void read_body(Reader& r, BrokerHeartbeatResponse& m) {
  m.error = read_error(r);
  m.is_caught_up = read_flag(r);
  m.is_fenced = read_flag(r);
  m.should_shutdown = read_flag(r);
}

// ---- alter partition ----

void write_body(Writer& w, const AlterPartitionRequest& m) {
  w.write_int32(raw(m.broker_id));
  w.write_int64(raw(m.broker_epoch));
  protocol::write_array(w, m.topics, [](Writer& w, const AlterPartitionRequest::Topic& t) {
    write_uuid(w, t.topic_id);
    protocol::write_array(w, t.partitions, [](Writer& w, const AlterPartitionRequest::Partition& p) {
      w.write_int32(raw(p.partition));
      w.write_int32(raw(p.leader_epoch));
      write_broker_ids(w, p.new_isr);
      w.write_int32(raw(p.partition_epoch));
    });
  });
}
void read_body(Reader& r, AlterPartitionRequest& m) {
  m.broker_id = BrokerId{r.read_int32()};
  m.broker_epoch = BrokerEpoch{r.read_int64()};
  m.topics = protocol::read_array(r, [](Reader& r) {
    AlterPartitionRequest::Topic t;
    t.topic_id = read_uuid(r);
    t.partitions = protocol::read_array(r, [](Reader& r) {
      AlterPartitionRequest::Partition p;
      p.partition = PartitionId{r.read_int32()};
      p.leader_epoch = LeaderEpoch{r.read_int32()};
      p.new_isr = read_broker_ids(r);
      p.partition_epoch = PartitionEpoch{r.read_int32()};
      return p;
    });
    return t;
  });
}

void write_partition_result(Writer& w, const AlterPartitionResponse::Partition& p) {
  w.write_int32(raw(p.partition));
  write_error(w, p.error);
  w.write_int32(raw(p.leader));
  w.write_int32(raw(p.leader_epoch));
  write_broker_ids(w, p.isr);
  w.write_int32(raw(p.partition_epoch));
}
AlterPartitionResponse::Partition read_partition_result(Reader& r) {
  AlterPartitionResponse::Partition p;
  p.partition = PartitionId{r.read_int32()};
  p.error = read_error(r);
  p.leader = BrokerId{r.read_int32()};
  p.leader_epoch = LeaderEpoch{r.read_int32()};
  p.isr = read_broker_ids(r);
  p.partition_epoch = PartitionEpoch{r.read_int32()};
  return p;
}

void write_body(Writer& w, const AlterPartitionResponse& m) {
  write_error(w, m.error);
  protocol::write_array(w, m.topics, [](Writer& w, const AlterPartitionResponse::Topic& t) {
    write_uuid(w, t.topic_id);
    protocol::write_array(w, t.partitions, write_partition_result);
  });
}
void read_body(Reader& r, AlterPartitionResponse& m) {
  m.error = read_error(r);
  m.topics = protocol::read_array(r, [](Reader& r) {
    AlterPartitionResponse::Topic t;
    t.topic_id = read_uuid(r);
    t.partitions = protocol::read_array(r, read_partition_result);
    return t;
  });
}

// ---- create topics ----

void write_body(Writer& w, const CreateTopicsRequest& m) {
  protocol::write_array(w, m.topics, [](Writer& w, const CreateTopicsRequest::Topic& t) {
    w.write_string(t.name);
    w.write_int32(t.num_partitions);
    w.write_int16(t.replication_factor);
    write_configs(w, t.configs);
  });
  w.write_bool(m.validate_only);
}
void read_body(Reader& r, CreateTopicsRequest& m) {
  m.topics = protocol::read_array(r, [](Reader& r) {
    CreateTopicsRequest::Topic t;
    t.name = r.read_string();
    t.num_partitions = r.read_int32();
    t.replication_factor = r.read_int16();
    t.configs = read_configs(r);
    return t;
  });
  m.validate_only = read_flag(r);
}

void write_body(Writer& w, const CreateTopicsResponse& m) {
  protocol::write_array(w, m.topics, [](Writer& w, const CreateTopicsResponse::Result& t) {
    w.write_string(t.name);
    write_uuid(w, t.topic_id);
    write_error(w, t.error);
    w.write_nullable_string(t.message);
    w.write_int32(t.num_partitions);
    w.write_int16(t.replication_factor);
  });
}
void read_body(Reader& r, CreateTopicsResponse& m) {
  m.topics = protocol::read_array(r, [](Reader& r) {
    CreateTopicsResponse::Result t;
    t.name = r.read_string();
    t.topic_id = read_uuid(r);
    t.error = read_error(r);
    t.message = r.read_nullable_string();
    t.num_partitions = r.read_int32();
    t.replication_factor = r.read_int16();
    return t;
  });
}

// ---- delete topics ----

void write_body(Writer& w, const DeleteTopicsRequest& m) {
  protocol::write_array(w, m.names, [](Writer& w, const std::string& n) { w.write_string(n); });
}
void read_body(Reader& r, DeleteTopicsRequest& m) {
  m.names = protocol::read_array(r, [](Reader& r) { return r.read_string(); });
}

void write_body(Writer& w, const DeleteTopicsResponse& m) {
  protocol::write_array(w, m.topics, [](Writer& w, const DeleteTopicsResponse::Result& t) {
    w.write_string(t.name);
    write_uuid(w, t.topic_id);
    write_error(w, t.error);
  });
}
void read_body(Reader& r, DeleteTopicsResponse& m) {
  m.topics = protocol::read_array(r, [](Reader& r) {
    DeleteTopicsResponse::Result t;
    t.name = r.read_string();
    t.topic_id = read_uuid(r);
    t.error = read_error(r);
    return t;
  });
}

}  // namespace

#define CASTLE_CONTROLLER_RPC(M)                                                   \
  protocol::Bytes encode_rpc(const M& m) {                                         \
    return encode_with(m, [](Writer& w, const M& m) { write_body(w, m); });        \
  }                                                                                \
  template <>                                                                      \
  protocol::Decoded<M> decode_rpc<M>(std::span<const std::uint8_t> body) {         \
    return decode_with<M>(body, [](Reader& r, M& m) { read_body(r, m); });         \
  }
CASTLE_CONTROLLER_RPC(BrokerRegistrationRequest)
CASTLE_CONTROLLER_RPC(BrokerRegistrationResponse)
CASTLE_CONTROLLER_RPC(BrokerHeartbeatRequest)
CASTLE_CONTROLLER_RPC(BrokerHeartbeatResponse)
CASTLE_CONTROLLER_RPC(AlterPartitionRequest)
CASTLE_CONTROLLER_RPC(AlterPartitionResponse)
CASTLE_CONTROLLER_RPC(CreateTopicsRequest)
CASTLE_CONTROLLER_RPC(CreateTopicsResponse)
CASTLE_CONTROLLER_RPC(DeleteTopicsRequest)
CASTLE_CONTROLLER_RPC(DeleteTopicsResponse)
#undef CASTLE_CONTROLLER_RPC

}  // namespace castle::controller
