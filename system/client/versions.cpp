#include "system/client/versions.h"

#include <algorithm>

#include "system/protocol/messages.h"

namespace castle::client {
namespace {

// The lowest version the client accepts, per API, where it is not 0.
std::int16_t client_min_version(ApiKey key) {
  switch (key) {
    case ApiKey::produce: return 3;
    case ApiKey::fetch: return 4;
    case ApiKey::list_offsets: return 1;
    case ApiKey::metadata: return 1;
    default: return 0;
  }
}

}  // namespace

std::optional<VersionRange> client_versions(ApiKey key) {
  std::optional<VersionRange> codec = protocol::supported_versions(key);
  if (!codec) return std::nullopt;
  const std::int16_t min = std::max(codec->min, client_min_version(key));
  if (min > codec->max) return std::nullopt;
  return VersionRange{min, codec->max};
}

ApiVersionTable ApiVersionTable::from_response(const protocol::ApiVersionsResponse& response) {
  ApiVersionTable t;
  for (const auto& v : response.api_keys) t.broker_[v.api_key] = {v.min_version, v.max_version};
  return t;
}

std::optional<std::int16_t> ApiVersionTable::pick(ApiKey key) const {
  const std::optional<VersionRange> ours = client_versions(key);
  const auto theirs = broker_.find(key);
  if (!ours || theirs == broker_.end()) return std::nullopt;
  const std::int16_t high = std::min(ours->max, theirs->second.max);
  const std::int16_t low = std::max(ours->min, theirs->second.min);
  if (high < low) return std::nullopt;
  return high;
}

}  // namespace castle::client
