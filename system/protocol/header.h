#pragma once
// Request header v0-2 and response header v0-1.
//
// RequestHeader: RequestApiKey, RequestApiVersion, CorrelationId, ClientId
// (v1+, nullable, and a classic int16-length string even in the flexible
// v2), tagged fields (v2). Every API version the codec implements uses v1;
// v2 is read for flexible requests (ApiVersions v3+), v0 only by
// ControlledShutdown v0, which Castle does not serve.
// ResponseHeader: CorrelationId, tagged fields (v1). ApiVersions responses
// always use v0, so that a client that sent a too-new version can read the
// answer.

#include <cstdint>
#include <optional>
#include <string>

#include "system/protocol/codec.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct RequestHeader {
  ApiKey api_key = ApiKey::produce;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // v1+
  bool operator==(const RequestHeader&) const = default;
};

struct ResponseHeader {
  std::int32_t correlation_id = 0;
  bool operator==(const ResponseHeader&) const = default;
};

// Headers are a prefix of a frame, so these read and write without checking
// for the end of the input; the Reader's sticky error reports failures.
void encode(const RequestHeader& h, std::int16_t header_version, Writer& w);
RequestHeader read_request_header(Reader& r, std::int16_t header_version);
void encode(const ResponseHeader& h, std::int16_t header_version, Writer& w);
ResponseHeader read_response_header(Reader& r, std::int16_t header_version);

}  // namespace castle::protocol
