#pragma once
// Produce (API key 0). Implemented: request and response v0-8 (v9 is the
// first flexible version). v0-2 carry the old message formats (magic 0/1):
// the codec reads them like any other version, and the broker rejects their
// records with UNSUPPORTED_FOR_MESSAGE_FORMAT, as Kafka 4 does. Record data
// is carried as opaque bytes (RecordBatch v2 from v3 on); validating it is
// the broker's job, not the codec's.
//
// Request: TransactionalId (v3+, nullable), Acks, TimeoutMs, TopicData [Name,
// PartitionData [Index, Records (nullable)]].
// Response: Responses [Name, PartitionResponses [Index, ErrorCode,
// BaseOffset, LogAppendTimeMs (v2+), LogStartOffset (v5+), RecordErrors (v8+)
// [BatchIndex, BatchIndexErrorMessage (nullable)], ErrorMessage (v8+,
// nullable)]], ThrottleTimeMs (v1+).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

struct ProduceRequest {
  static constexpr ApiKey api_key = ApiKey::produce;
  static constexpr VersionRange versions{0, 8};
  static constexpr std::int16_t first_flexible_version = 9;

  struct Partition {
    PartitionId index{0};
    std::optional<Bytes> records;
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  std::optional<std::string> transactional_id;  // v3+
  std::int16_t acks = 0;                         // 0: no response is sent at all
  std::int32_t timeout_ms = 0;
  std::vector<Topic> topics;
  bool operator==(const ProduceRequest&) const = default;
};

struct ProduceResponse {
  static constexpr ApiKey api_key = ApiKey::produce;
  static constexpr VersionRange versions{0, 8};

  struct RecordError {
    std::int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
    bool operator==(const RecordError&) const = default;
  };
  struct Partition {
    PartitionId index{0};
    ErrorCode error_code = ErrorCode::NONE;
    Offset base_offset{0};
    std::int64_t log_append_time_ms = -1;  // v2+
    Offset log_start_offset{-1};           // v5+
    std::vector<RecordError> record_errors;   // v8+
    std::optional<std::string> error_message;  // v8+
    bool operator==(const Partition&) const = default;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
    bool operator==(const Topic&) const = default;
  };

  std::vector<Topic> topics;
  std::int32_t throttle_time_ms = 0;  // v1+
  bool operator==(const ProduceResponse&) const = default;
};

void encode(const ProduceRequest& m, std::int16_t version, Writer& w);
void encode(const ProduceResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<ProduceRequest> decode<ProduceRequest>(Reader& r, std::int16_t version);
template <>
Decoded<ProduceResponse> decode<ProduceResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
