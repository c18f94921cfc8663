#include "system/protocol/delete_topics.h"

namespace castle::protocol {

void encode(const DeleteTopicsRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(DeleteTopicsRequest, version);
  write_array(w, m.topic_names, [](Writer& w, const std::string& n) { w.write_string(n); });
  w.write_int32(m.timeout_ms);
}

template <>
Decoded<DeleteTopicsRequest> decode<DeleteTopicsRequest>(Reader& r, std::int16_t version) {
  DeleteTopicsRequest m;
  if (!accept_version(r, DeleteTopicsRequest::versions, version)) return *r.error();
  m.topic_names = read_array(r, [](Reader& r) { return r.read_string(); });
  m.timeout_ms = r.read_int32();
  return finish(r, std::move(m));
}

void encode(const DeleteTopicsResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(DeleteTopicsResponse, version);
  if (version >= 1) w.write_int32(m.throttle_time_ms);
  write_array(w, m.responses, [](Writer& w, const DeleteTopicsResponse::Result& t) {
    w.write_string(t.name);
    w.write_int16(raw(t.error_code));
  });
}

template <>
Decoded<DeleteTopicsResponse> decode<DeleteTopicsResponse>(Reader& r, std::int16_t version) {
  DeleteTopicsResponse m;
  if (!accept_version(r, DeleteTopicsResponse::versions, version)) return *r.error();
  if (version >= 1) m.throttle_time_ms = r.read_int32();
  m.responses = read_array(r, [](Reader& r) {
    DeleteTopicsResponse::Result t;
    t.name = r.read_string();
    t.error_code = ErrorCode{r.read_int16()};
    return t;
  });
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
