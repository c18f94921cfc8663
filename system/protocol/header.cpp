#include "system/protocol/header.h"

namespace castle::protocol {

void encode(const RequestHeader& h, std::int16_t header_version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT(header_version >= 0 && header_version <= 2,
                         "request header versions are 0-2");
  w.write_int16(raw(h.api_key));
  w.write_int16(h.api_version);
  w.write_int32(h.correlation_id);
  if (header_version >= 1) w.write_nullable_string(h.client_id);
  if (header_version >= 2) w.write_empty_tagged_fields();
}

RequestHeader read_request_header(Reader& r, std::int16_t header_version) {
  CASTLE_PROTOCOL_ASSERT(header_version >= 0 && header_version <= 2,
                         "request header versions are 0-2");
  RequestHeader h;
  h.api_key = ApiKey{r.read_int16()};
  h.api_version = r.read_int16();
  h.correlation_id = r.read_int32();
  if (header_version >= 1) h.client_id = r.read_nullable_string();
  if (header_version >= 2) r.skip_tagged_fields();
  return h;
}

void encode(const ResponseHeader& h, std::int16_t header_version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT(header_version >= 0 && header_version <= 1,
                         "response header versions are 0-1");
  w.write_int32(h.correlation_id);
  if (header_version >= 1) w.write_empty_tagged_fields();
}

ResponseHeader read_response_header(Reader& r, std::int16_t header_version) {
  CASTLE_PROTOCOL_ASSERT(header_version >= 0 && header_version <= 1,
                         "response header versions are 0-1");
  ResponseHeader h;
  h.correlation_id = r.read_int32();
  if (header_version >= 1) r.skip_tagged_fields();
  return h;
}

}  // namespace castle::protocol
