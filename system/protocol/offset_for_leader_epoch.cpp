#include "system/protocol/offset_for_leader_epoch.h"

namespace castle::protocol {
namespace {

using RequestPartition = OffsetForLeaderEpochRequest::Partition;
using RequestTopic = OffsetForLeaderEpochRequest::Topic;
using ResponsePartition = OffsetForLeaderEpochResponse::Partition;
using ResponseTopic = OffsetForLeaderEpochResponse::Topic;

}  // namespace

void encode(const OffsetForLeaderEpochRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(OffsetForLeaderEpochRequest, version);
  if (version >= 3) w.write_int32(raw(m.replica_id));
  write_array(w, m.topics, [version](Writer& w, const RequestTopic& t) {
    w.write_string(t.topic);
    write_array(w, t.partitions, [version](Writer& w, const RequestPartition& p) {
      w.write_int32(raw(p.partition));
      if (version >= 2) w.write_int32(raw(p.current_leader_epoch));
      w.write_int32(raw(p.leader_epoch));
    });
  });
}

template <>
Decoded<OffsetForLeaderEpochRequest> decode<OffsetForLeaderEpochRequest>(Reader& r,
                                                                         std::int16_t version) {
  OffsetForLeaderEpochRequest m;
  if (!accept_version(r, OffsetForLeaderEpochRequest::versions, version)) return *r.error();
  if (version >= 3) m.replica_id = BrokerId{r.read_int32()};
  m.topics = read_array(r, [version](Reader& r) {
    RequestTopic t;
    t.topic = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) {
      RequestPartition p;
      p.partition = PartitionId{r.read_int32()};
      if (version >= 2) p.current_leader_epoch = LeaderEpoch{r.read_int32()};
      p.leader_epoch = LeaderEpoch{r.read_int32()};
      return p;
    });
    return t;
  });
  return finish(r, std::move(m));
}

void encode(const OffsetForLeaderEpochResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(OffsetForLeaderEpochResponse, version);
  if (version >= 2) w.write_int32(m.throttle_time_ms);
  write_array(w, m.topics, [version](Writer& w, const ResponseTopic& t) {
    w.write_string(t.topic);
    write_array(w, t.partitions, [version](Writer& w, const ResponsePartition& p) {
      w.write_int16(raw(p.error_code));
      w.write_int32(raw(p.partition));
      if (version >= 1) w.write_int32(raw(p.leader_epoch));
      w.write_int64(raw(p.end_offset));
    });
  });
}

template <>
Decoded<OffsetForLeaderEpochResponse> decode<OffsetForLeaderEpochResponse>(Reader& r,
                                                                           std::int16_t version) {
  OffsetForLeaderEpochResponse m;
  if (!accept_version(r, OffsetForLeaderEpochResponse::versions, version)) return *r.error();
  if (version >= 2) m.throttle_time_ms = r.read_int32();
  m.topics = read_array(r, [version](Reader& r) {
    ResponseTopic t;
    t.topic = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) {
      ResponsePartition p;
      p.error_code = ErrorCode{r.read_int16()};
      p.partition = PartitionId{r.read_int32()};
      if (version >= 1) p.leader_epoch = LeaderEpoch{r.read_int32()};
      p.end_offset = Offset{r.read_int64()};
      return p;
    });
    return t;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
