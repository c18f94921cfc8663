#include "system/protocol/list_offsets.h"

namespace castle::protocol {
namespace {

using RequestPartition = ListOffsetsRequest::Partition;
using RequestTopic = ListOffsetsRequest::Topic;
using ResponsePartition = ListOffsetsResponse::Partition;
using ResponseTopic = ListOffsetsResponse::Topic;

void write_request_partition(Writer& w, const RequestPartition& p, std::int16_t version) {
  w.write_int32(raw(p.partition_index));
  if (version >= 4) w.write_int32(raw(p.current_leader_epoch));
  w.write_int64(p.timestamp);
  if (version == 0) w.write_int32(p.max_num_offsets);
}

RequestPartition read_request_partition(Reader& r, std::int16_t version) {
  RequestPartition p;
  p.partition_index = PartitionId{r.read_int32()};
  if (version >= 4) p.current_leader_epoch = LeaderEpoch{r.read_int32()};
  p.timestamp = r.read_int64();
  if (version == 0) p.max_num_offsets = r.read_int32();
  return p;
}

void write_response_partition(Writer& w, const ResponsePartition& p, std::int16_t version) {
  w.write_int32(raw(p.partition_index));
  w.write_int16(raw(p.error_code));
  if (version == 0) {
    write_array(w, p.old_style_offsets, [](Writer& w, Offset o) { w.write_int64(raw(o)); });
  }
  if (version >= 1) {
    w.write_int64(p.timestamp);
    w.write_int64(raw(p.offset));
  }
  if (version >= 4) w.write_int32(raw(p.leader_epoch));
}

ResponsePartition read_response_partition(Reader& r, std::int16_t version) {
  ResponsePartition p;
  p.partition_index = PartitionId{r.read_int32()};
  p.error_code = ErrorCode{r.read_int16()};
  if (version == 0) {
    p.old_style_offsets = read_array(r, [](Reader& r) { return Offset{r.read_int64()}; });
  }
  if (version >= 1) {
    p.timestamp = r.read_int64();
    p.offset = Offset{r.read_int64()};
  }
  if (version >= 4) p.leader_epoch = LeaderEpoch{r.read_int32()};
  return p;
}

}  // namespace

void encode(const ListOffsetsRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(ListOffsetsRequest, version);
  w.write_int32(raw(m.replica_id));
  if (version >= 2) w.write_int8(m.isolation_level);
  write_array(w, m.topics, [version](Writer& w, const RequestTopic& t) {
    w.write_string(t.name);
    write_array(w, t.partitions, [version](Writer& w, const RequestPartition& p) {
      write_request_partition(w, p, version);
    });
  });
}

template <>
Decoded<ListOffsetsRequest> decode<ListOffsetsRequest>(Reader& r, std::int16_t version) {
  ListOffsetsRequest m;
  if (!accept_version(r, ListOffsetsRequest::versions, version)) return *r.error();
  m.replica_id = BrokerId{r.read_int32()};
  if (version >= 2) m.isolation_level = r.read_int8();
  m.topics = read_array(r, [version](Reader& r) {
    RequestTopic t;
    t.name = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) { return read_request_partition(r, version); });
    return t;
  });
  return finish(r, std::move(m));
}

void encode(const ListOffsetsResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(ListOffsetsResponse, version);
  if (version >= 2) w.write_int32(m.throttle_time_ms);
  write_array(w, m.topics, [version](Writer& w, const ResponseTopic& t) {
    w.write_string(t.name);
    write_array(w, t.partitions, [version](Writer& w, const ResponsePartition& p) {
      write_response_partition(w, p, version);
    });
  });
}

template <>
Decoded<ListOffsetsResponse> decode<ListOffsetsResponse>(Reader& r, std::int16_t version) {
  ListOffsetsResponse m;
  if (!accept_version(r, ListOffsetsResponse::versions, version)) return *r.error();
  if (version >= 2) m.throttle_time_ms = r.read_int32();
  m.topics = read_array(r, [version](Reader& r) {
    ResponseTopic t;
    t.name = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) { return read_response_partition(r, version); });
    return t;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
