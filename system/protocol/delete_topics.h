#pragma once
// DeleteTopics (API key 20). Implemented: request and response v0-3 (v4 is
// the first flexible version).
//
// Request: TopicNames []string (v0-5), TimeoutMs.
// Response: ThrottleTimeMs (v1+), Responses [Name, ErrorCode].

#include <cstdint>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct DeleteTopicsRequest {
  static constexpr ApiKey api_key = ApiKey::delete_topics;
  static constexpr VersionRange versions{0, 3};
  static constexpr std::int16_t first_flexible_version = 4;

  std::vector<std::string> topic_names;
  std::int32_t timeout_ms = 0;
  bool operator==(const DeleteTopicsRequest&) const = default;
};

struct DeleteTopicsResponse {
  static constexpr ApiKey api_key = ApiKey::delete_topics;
  static constexpr VersionRange versions{0, 3};

  struct Result {
    std::string name;
    ErrorCode error_code = ErrorCode::NONE;
    bool operator==(const Result&) const = default;
  };

  std::int32_t throttle_time_ms = 0;  // v1+
  std::vector<Result> responses;
  bool operator==(const DeleteTopicsResponse&) const = default;
};

void encode(const DeleteTopicsRequest& m, std::int16_t version, Writer& w);
void encode(const DeleteTopicsResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<DeleteTopicsRequest> decode<DeleteTopicsRequest>(Reader& r, std::int16_t version);
template <>
Decoded<DeleteTopicsResponse> decode<DeleteTopicsResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
