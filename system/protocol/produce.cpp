#include "system/protocol/produce.h"

namespace castle::protocol {
namespace {

using RequestPartition = ProduceRequest::Partition;
using RequestTopic = ProduceRequest::Topic;
using ResponsePartition = ProduceResponse::Partition;
using ResponseTopic = ProduceResponse::Topic;
using RecordError = ProduceResponse::RecordError;

void write_request_topic(Writer& w, const RequestTopic& t) {
  w.write_string(t.name);
  write_array(w, t.partitions, [](Writer& w, const RequestPartition& p) {
    w.write_int32(raw(p.index));
    w.write_nullable_bytes(p.records);
  });
}

RequestTopic read_request_topic(Reader& r) {
  RequestTopic t;
  t.name = r.read_string();
  t.partitions = read_array(r, [](Reader& r) {
    RequestPartition p;
    p.index = PartitionId{r.read_int32()};
    p.records = r.read_nullable_bytes();
    return p;
  });
  return t;
}

void write_response_partition(Writer& w, const ResponsePartition& p, std::int16_t version) {
  w.write_int32(raw(p.index));
  w.write_int16(raw(p.error_code));
  w.write_int64(raw(p.base_offset));
  if (version >= 2) w.write_int64(p.log_append_time_ms);
  if (version >= 5) w.write_int64(raw(p.log_start_offset));
  if (version >= 8) {
    write_array(w, p.record_errors, [](Writer& w, const RecordError& e) {
      w.write_int32(e.batch_index);
      w.write_nullable_string(e.batch_index_error_message);
    });
    w.write_nullable_string(p.error_message);
  }
}

ResponsePartition read_response_partition(Reader& r, std::int16_t version) {
  ResponsePartition p;
  p.index = PartitionId{r.read_int32()};
  p.error_code = ErrorCode{r.read_int16()};
  p.base_offset = Offset{r.read_int64()};
  if (version >= 2) p.log_append_time_ms = r.read_int64();
  if (version >= 5) p.log_start_offset = Offset{r.read_int64()};
  if (version >= 8) {
    p.record_errors = read_array(r, [](Reader& r) {
      RecordError e;
      e.batch_index = r.read_int32();
      e.batch_index_error_message = r.read_nullable_string();
      return e;
    });
    p.error_message = r.read_nullable_string();
  }
  return p;
}

}  // namespace

void encode(const ProduceRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(ProduceRequest, version);
  if (version >= 3) w.write_nullable_string(m.transactional_id);
  w.write_int16(m.acks);
  w.write_int32(m.timeout_ms);
  write_array(w, m.topics, write_request_topic);
}

template <>
Decoded<ProduceRequest> decode<ProduceRequest>(Reader& r, std::int16_t version) {
  ProduceRequest m;
  if (!accept_version(r, ProduceRequest::versions, version)) return *r.error();
  if (version >= 3) m.transactional_id = r.read_nullable_string();
  m.acks = r.read_int16();
  m.timeout_ms = r.read_int32();
  m.topics = read_array(r, read_request_topic);
  return finish(r, std::move(m));
}

void encode(const ProduceResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(ProduceResponse, version);
  write_array(w, m.topics, [version](Writer& w, const ResponseTopic& t) {
    w.write_string(t.name);
    write_array(w, t.partitions, [version](Writer& w, const ResponsePartition& p) {
      write_response_partition(w, p, version);
    });
  });
  if (version >= 1) w.write_int32(m.throttle_time_ms);
}

template <>
Decoded<ProduceResponse> decode<ProduceResponse>(Reader& r, std::int16_t version) {
  ProduceResponse m;
  if (!accept_version(r, ProduceResponse::versions, version)) return *r.error();
  m.topics = read_array(r, [version](Reader& r) {
    ResponseTopic t;
    t.name = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) { return read_response_partition(r, version); });
    return t;
  });
  if (version >= 1) m.throttle_time_ms = r.read_int32();
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
