#pragma once
// InitProducerId (API key 22). Implemented: request and response v0-1 (v2 is
// the first flexible version; v1 differs from v0 only in how the broker
// handles errors, not in layout).
//
// Request: TransactionalId (nullable), TransactionTimeoutMs.
// Response: ThrottleTimeMs, ErrorCode, ProducerId, ProducerEpoch.

#include <cstdint>
#include <optional>
#include <string>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct InitProducerIdRequest {
  static constexpr ApiKey api_key = ApiKey::init_producer_id;
  static constexpr VersionRange versions{0, 1};
  static constexpr std::int16_t first_flexible_version = 2;

  std::optional<std::string> transactional_id;  // null: an idempotent producer
  std::int32_t transaction_timeout_ms = 0;
  bool operator==(const InitProducerIdRequest&) const = default;
};

struct InitProducerIdResponse {
  static constexpr ApiKey api_key = ApiKey::init_producer_id;
  static constexpr VersionRange versions{0, 1};

  std::int32_t throttle_time_ms = 0;
  ErrorCode error_code = ErrorCode::NONE;
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{0};
  bool operator==(const InitProducerIdResponse&) const = default;
};

void encode(const InitProducerIdRequest& m, std::int16_t version, Writer& w);
void encode(const InitProducerIdResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<InitProducerIdRequest> decode<InitProducerIdRequest>(Reader& r, std::int16_t version);
template <>
Decoded<InitProducerIdResponse> decode<InitProducerIdResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
