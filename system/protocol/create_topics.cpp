#include "system/protocol/create_topics.h"

namespace castle::protocol {
namespace {

using Assignment = CreateTopicsRequest::Assignment;
using Config = CreateTopicsRequest::Config;
using RequestTopic = CreateTopicsRequest::Topic;
using ResponseTopic = CreateTopicsResponse::Topic;

void write_request_topic(Writer& w, const RequestTopic& t) {
  w.write_string(t.name);
  w.write_int32(t.num_partitions);
  w.write_int16(t.replication_factor);
  write_array(w, t.assignments, [](Writer& w, const Assignment& a) {
    w.write_int32(raw(a.partition_index));
    write_int32_array(w, a.broker_ids);
  });
  write_array(w, t.configs, [](Writer& w, const Config& c) {
    w.write_string(c.name);
    w.write_nullable_string(c.value);
  });
}

RequestTopic read_request_topic(Reader& r) {
  RequestTopic t;
  t.name = r.read_string();
  t.num_partitions = r.read_int32();
  t.replication_factor = r.read_int16();
  t.assignments = read_array(r, [](Reader& r) {
    Assignment a;
    a.partition_index = PartitionId{r.read_int32()};
    a.broker_ids = read_int32_array<BrokerId>(r);
    return a;
  });
  t.configs = read_array(r, [](Reader& r) {
    Config c;
    c.name = r.read_string();
    c.value = r.read_nullable_string();
    return c;
  });
  return t;
}

}  // namespace

void encode(const CreateTopicsRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(CreateTopicsRequest, version);
  write_array(w, m.topics, write_request_topic);
  w.write_int32(m.timeout_ms);
  if (version >= 1) w.write_bool(m.validate_only);
}

template <>
Decoded<CreateTopicsRequest> decode<CreateTopicsRequest>(Reader& r, std::int16_t version) {
  CreateTopicsRequest m;
  if (!accept_version(r, CreateTopicsRequest::versions, version)) return *r.error();
  m.topics = read_array(r, read_request_topic);
  m.timeout_ms = r.read_int32();
  if (version >= 1) m.validate_only = r.read_bool();
  return finish(r, std::move(m));
}

void encode(const CreateTopicsResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(CreateTopicsResponse, version);
  if (version >= 2) w.write_int32(m.throttle_time_ms);
  write_array(w, m.topics, [version](Writer& w, const ResponseTopic& t) {
    w.write_string(t.name);
    w.write_int16(raw(t.error_code));
    if (version >= 1) w.write_nullable_string(t.error_message);
  });
}

template <>
Decoded<CreateTopicsResponse> decode<CreateTopicsResponse>(Reader& r, std::int16_t version) {
  CreateTopicsResponse m;
  if (!accept_version(r, CreateTopicsResponse::versions, version)) return *r.error();
  if (version >= 2) m.throttle_time_ms = r.read_int32();
  m.topics = read_array(r, [version](Reader& r) {
    ResponseTopic t;
    t.name = r.read_string();
    t.error_code = ErrorCode{r.read_int16()};
    if (version >= 1) t.error_message = r.read_nullable_string();
    return t;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
