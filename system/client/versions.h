#pragma once
// API version negotiation. On connect the client sends ApiVersions and, for
// each API, uses the highest version that both it and the broker support.
//
// The client's ranges are the codec's (system/protocol/messages.h)
// narrowed where the client needs a newer format: Produce and Fetch from
// the versions that carry RecordBatch v2 (3 and 4), ListOffsets from v1
// (v0 answers with an old-style offset list), Metadata from v1 (v0 cannot
// ask for no topics).

#include <cstdint>
#include <map>
#include <optional>

#include "system/protocol/api_versions.h"
#include "system/protocol/types.h"

namespace castle::client {

using protocol::ApiKey;
using protocol::VersionRange;

// The versions this client can speak, or nullopt for an API it never uses.
std::optional<VersionRange> client_versions(ApiKey key);

class ApiVersionTable {
 public:
  // From a broker's ApiVersions answer.
  static ApiVersionTable from_response(const protocol::ApiVersionsResponse& response);
  // The highest version both sides support, or nullopt if none.
  std::optional<std::int16_t> pick(ApiKey key) const;

 private:
  std::map<ApiKey, VersionRange> broker_;
};

}  // namespace castle::client
