#include "system/protocol/api_versions.h"

namespace castle::protocol {

void encode(const ApiVersionsRequest& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT(version >= 0 && version <= ApiVersionsRequest::flexible_version_max,
                         "ApiVersions request version not implemented");
  if (version < ApiVersionsRequest::first_flexible_version) return;  // v0-2: empty body
  w.write_compact_string(m.client_software_name);
  w.write_compact_string(m.client_software_version);
  w.write_empty_tagged_fields();
}

template <>
Decoded<ApiVersionsRequest> decode<ApiVersionsRequest>(Reader& r, std::int16_t version) {
  ApiVersionsRequest m;
  if (version < 0 || version > ApiVersionsRequest::flexible_version_max) {
    r.fail(DecodeErrc::unsupported_version);
    return *r.error();
  }
  if (version >= ApiVersionsRequest::first_flexible_version) {
    m.client_software_name = r.read_compact_string();
    m.client_software_version = r.read_compact_string();
    r.skip_tagged_fields();
  }
  return finish(r, std::move(m));
}

void encode(const ApiVersionsResponse& m, std::int16_t version, Writer& w) {
  CASTLE_PROTOCOL_ASSERT(ApiVersionsResponse::versions.contains(version),
                         "ApiVersions response version not implemented");
  w.write_int16(raw(m.error_code));
  write_array(w, m.api_keys, [](Writer& w, const ApiVersionsResponse::ApiVersion& a) {
    w.write_int16(raw(a.api_key));
    w.write_int16(a.min_version);
    w.write_int16(a.max_version);
  });
  if (version >= 1) w.write_int32(m.throttle_time_ms);
}

template <>
Decoded<ApiVersionsResponse> decode<ApiVersionsResponse>(Reader& r, std::int16_t version) {
  ApiVersionsResponse m;
  if (!ApiVersionsResponse::versions.contains(version)) {
    r.fail(DecodeErrc::unsupported_version);
    return *r.error();
  }
  m.error_code = ErrorCode{r.read_int16()};
  m.api_keys = read_array(r, [](Reader& r) {
    ApiVersionsResponse::ApiVersion a;
    a.api_key = ApiKey{r.read_int16()};
    a.min_version = r.read_int16();
    a.max_version = r.read_int16();
    return a;
  });
  if (version >= 1) m.throttle_time_ms = r.read_int32();
  return finish(r, std::move(m));
}

}  // namespace castle::protocol
