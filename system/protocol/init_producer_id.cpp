#include "system/protocol/init_producer_id.h"

namespace castle::protocol {

void encode(const InitProducerIdRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(InitProducerIdRequest, version);
  w.write_nullable_string(m.transactional_id);
  w.write_int32(m.transaction_timeout_ms);
}

template <>
Decoded<InitProducerIdRequest> decode<InitProducerIdRequest>(Reader& r, std::int16_t version) {
  InitProducerIdRequest m;
  if (!accept_version(r, InitProducerIdRequest::versions, version)) return *r.error();
  m.transactional_id = r.read_nullable_string();
  m.transaction_timeout_ms = r.read_int32();
  return finish(r, std::move(m));
}

void encode(const InitProducerIdResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT_VERSION(InitProducerIdResponse, version);
  w.write_int32(m.throttle_time_ms);
  w.write_int16(raw(m.error_code));
  w.write_int64(raw(m.producer_id));
  w.write_int16(raw(m.producer_epoch));
}

template <>
Decoded<InitProducerIdResponse> decode<InitProducerIdResponse>(Reader& r, std::int16_t version) {
  InitProducerIdResponse m;
  if (!accept_version(r, InitProducerIdResponse::versions, version)) return *r.error();
  m.throttle_time_ms = r.read_int32();
  m.error_code = ErrorCode{r.read_int16()};
  m.producer_id = ProducerId{r.read_int64()};
  m.producer_epoch = ProducerEpoch{r.read_int16()};
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
