#include "system/protocol/fetch.h"

namespace castle::protocol {
namespace {

using RequestPartition = FetchRequest::Partition;
using RequestTopic = FetchRequest::Topic;
using ForgottenTopic = FetchRequest::ForgottenTopic;
using ResponsePartition = FetchResponse::Partition;
using ResponseTopic = FetchResponse::Topic;
using AbortedTransaction = FetchResponse::AbortedTransaction;

void write_request_partition(Writer& w, const RequestPartition& p, std::int16_t version) {
  w.write_int32(raw(p.partition));
  if (version >= 9) w.write_int32(raw(p.current_leader_epoch));
  w.write_int64(raw(p.fetch_offset));
  if (version >= 5) w.write_int64(raw(p.log_start_offset));
  w.write_int32(p.partition_max_bytes);
}

RequestPartition read_request_partition(Reader& r, std::int16_t version) {
  RequestPartition p;
  p.partition = PartitionId{r.read_int32()};
  if (version >= 9) p.current_leader_epoch = LeaderEpoch{r.read_int32()};
  p.fetch_offset = Offset{r.read_int64()};
  if (version >= 5) p.log_start_offset = Offset{r.read_int64()};
  p.partition_max_bytes = r.read_int32();
  return p;
}

void write_request_topics(Writer& w, const FetchRequest& m, std::int16_t version) {
  write_array(w, m.topics, [version](Writer& w, const RequestTopic& t) {
    w.write_string(t.topic);
    write_array(w, t.partitions, [version](Writer& w, const RequestPartition& p) {
      write_request_partition(w, p, version);
    });
  });
}

std::vector<RequestTopic> read_request_topics(Reader& r, std::int16_t version) {
  return read_array(r, [version](Reader& r) {
    RequestTopic t;
    t.topic = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) { return read_request_partition(r, version); });
    return t;
  });
}

void write_response_partition(Writer& w, const ResponsePartition& p, std::int16_t version) {
  w.write_int32(raw(p.partition_index));
  w.write_int16(raw(p.error_code));
  w.write_int64(raw(p.high_watermark));
  if (version >= 4) w.write_int64(raw(p.last_stable_offset));
  if (version >= 5) w.write_int64(raw(p.log_start_offset));
  if (version >= 4) {
    write_nullable_array(w, p.aborted_transactions, [](Writer& w, const AbortedTransaction& a) {
      w.write_int64(raw(a.producer_id));
      w.write_int64(raw(a.first_offset));
    });
  }
  if (version >= 11) w.write_int32(raw(p.preferred_read_replica));
  w.write_nullable_bytes(p.records);
}

ResponsePartition read_response_partition(Reader& r, std::int16_t version) {
  ResponsePartition p;
  p.partition_index = PartitionId{r.read_int32()};
  p.error_code = ErrorCode{r.read_int16()};
  p.high_watermark = Offset{r.read_int64()};
  if (version >= 4) p.last_stable_offset = Offset{r.read_int64()};
  if (version >= 5) p.log_start_offset = Offset{r.read_int64()};
  if (version >= 4) {
    p.aborted_transactions = read_nullable_array(r, [](Reader& r) {
      AbortedTransaction a;
      a.producer_id = ProducerId{r.read_int64()};
      a.first_offset = Offset{r.read_int64()};
      return a;
    });
  }
  if (version >= 11) p.preferred_read_replica = BrokerId{r.read_int32()};
  p.records = r.read_nullable_bytes();
  return p;
}

}  // namespace

void encode(const FetchRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(FetchRequest, version);
  w.write_int32(raw(m.replica_id));
  w.write_int32(m.max_wait_ms);
  w.write_int32(m.min_bytes);
  if (version >= 3) w.write_int32(m.max_bytes);
  if (version >= 4) w.write_int8(m.isolation_level);
  if (version >= 7) {
    w.write_int32(m.session_id);
    w.write_int32(m.session_epoch);
  }
  write_request_topics(w, m, version);
  if (version >= 7) {
    write_array(w, m.forgotten_topics_data, [](Writer& w, const ForgottenTopic& f) {
      w.write_string(f.topic);
      write_int32_array(w, f.partitions);
    });
  }
  if (version >= 11) w.write_string(m.rack_id);
}

template <>
Decoded<FetchRequest> decode<FetchRequest>(Reader& r, std::int16_t version) {
  FetchRequest m;
  if (!accept_version(r, FetchRequest::versions, version)) return *r.error();
  m.replica_id = BrokerId{r.read_int32()};
  m.max_wait_ms = r.read_int32();
  m.min_bytes = r.read_int32();
  if (version >= 3) m.max_bytes = r.read_int32();
  if (version >= 4) m.isolation_level = r.read_int8();
  if (version >= 7) {
    m.session_id = r.read_int32();
    m.session_epoch = r.read_int32();
  }
  m.topics = read_request_topics(r, version);
  if (version >= 7) {
    m.forgotten_topics_data = read_array(r, [](Reader& r) {
      ForgottenTopic f;
      f.topic = r.read_string();
      f.partitions = read_int32_array<PartitionId>(r);
      return f;
    });
  }
  if (version >= 11) m.rack_id = r.read_string();
  return finish(r, std::move(m));
}

void encode(const FetchResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(FetchResponse, version);
  if (version >= 1) w.write_int32(m.throttle_time_ms);
  if (version >= 7) {
    w.write_int16(raw(m.error_code));
    w.write_int32(m.session_id);
  }
  write_array(w, m.topics, [version](Writer& w, const ResponseTopic& t) {
    w.write_string(t.topic);
    write_array(w, t.partitions, [version](Writer& w, const ResponsePartition& p) {
      write_response_partition(w, p, version);
    });
  });
}

template <>
Decoded<FetchResponse> decode<FetchResponse>(Reader& r, std::int16_t version) {
  FetchResponse m;
  if (!accept_version(r, FetchResponse::versions, version)) return *r.error();
  if (version >= 1) m.throttle_time_ms = r.read_int32();
  if (version >= 7) {
    m.error_code = ErrorCode{r.read_int16()};
    m.session_id = r.read_int32();
  }
  m.topics = read_array(r, [version](Reader& r) {
    ResponseTopic t;
    t.topic = r.read_string();
    t.partitions = read_array(r, [version](Reader& r) { return read_response_partition(r, version); });
    return t;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
