#pragma once
// ApiVersions (API key 18). Implemented: request v0-3 (v3 is the first
// flexible version: compact strings and tagged fields), response v0-2.
// The broker advertises 0-2 and answers a v3+ request with
// UNSUPPORTED_VERSION and its key list in the v0 format, after which
// librdkafka retries with v2 or lower; so the flexible v3 response is never
// written and the codec does not implement it.
//
// Request fields: v0-2 empty; v3+ ClientSoftwareName, ClientSoftwareVersion
// (compact strings), tagged fields.
// Response fields: ErrorCode; ApiKeys [ApiKey, MinVersion, MaxVersion];
// ThrottleTimeMs (v1+).

#include <cstdint>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct ApiVersionsRequest {
  static constexpr ApiKey api_key = ApiKey::api_versions;
  static constexpr VersionRange versions{0, 2};
  static constexpr std::int16_t first_flexible_version = 3;
  // The codec reads and writes the flexible v3 request too, so that the
  // broker can make sense of what a newer client sends first.
  static constexpr std::int16_t flexible_version_max = 3;

  std::string client_software_name;     // v3+
  std::string client_software_version;  // v3+
  bool operator==(const ApiVersionsRequest&) const = default;
};

struct ApiVersionsResponse {
  static constexpr ApiKey api_key = ApiKey::api_versions;
  static constexpr VersionRange versions{0, 2};

  struct ApiVersion {
    ApiKey api_key = ApiKey::produce;
    std::int16_t min_version = 0;
    std::int16_t max_version = 0;
    bool operator==(const ApiVersion&) const = default;
  };
  ErrorCode error_code = ErrorCode::NONE;
  std::vector<ApiVersion> api_keys;
  std::int32_t throttle_time_ms = 0;  // v1+
  bool operator==(const ApiVersionsResponse&) const = default;
};

void encode(const ApiVersionsRequest& m, std::int16_t version, Writer& w);
void encode(const ApiVersionsResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<ApiVersionsRequest> decode<ApiVersionsRequest>(Reader& r, std::int16_t version);
template <>
Decoded<ApiVersionsResponse> decode<ApiVersionsResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
