// ApiVersions (API key 18), versions 0-2 (v3, the first flexible one, is
// answered by the connection with UNSUPPORTED_VERSION and the key list in
// the v0 format, so the client retries with a version we speak). The list
// is the codec's: every API this broker serves, each from version 0.

#include "system/broker/broker_core.h"

namespace castle::broker {

std::optional<protocol::Response> handle(RequestContext&, protocol::ApiVersionsRequest&) {
  return protocol::make_api_versions_response(protocol::ErrorCode::NONE);
}

}  // namespace castle::broker
