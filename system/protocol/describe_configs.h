#pragma once
// DescribeConfigs (API key 32). Implemented: request and response v0-3 (v4
// is the first flexible version).
//
// Request: Resources [ResourceType (int8), ResourceName, ConfigurationKeys
// (nullable []string: null = all)], IncludeSynonyms (v1+),
// IncludeDocumentation (v3+).
// Response: ThrottleTimeMs, Results [ErrorCode, ErrorMessage (nullable),
// ResourceType, ResourceName, Configs [Name, Value (nullable), ReadOnly,
// IsDefault (v0 only), ConfigSource (v1+), IsSensitive, Synonyms (v1+) [Name,
// Value (nullable), Source], ConfigType (v3+), Documentation (v3+,
// nullable)]].

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "system/protocol/codec.h"
#include "system/protocol/error_code.h"
#include "system/protocol/types.h"

namespace castle::protocol {

// Kafka's ConfigResource.Type codes.
enum class ConfigResourceType : std::int8_t { unknown = 0, topic = 2, broker = 4, broker_logger = 8 };

struct DescribeConfigsRequest {
  static constexpr ApiKey api_key = ApiKey::describe_configs;
  static constexpr VersionRange versions{0, 3};
  static constexpr std::int16_t first_flexible_version = 4;

  struct Resource {
    ConfigResourceType resource_type = ConfigResourceType::unknown;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null = all
    bool operator==(const Resource&) const = default;
  };

  std::vector<Resource> resources;
  bool include_synonyms = false;       // v1+
  bool include_documentation = false;  // v3+
  bool operator==(const DescribeConfigsRequest&) const = default;
};

struct DescribeConfigsResponse {
  static constexpr ApiKey api_key = ApiKey::describe_configs;
  static constexpr VersionRange versions{0, 3};

  struct Synonym {
    std::string name;
    std::optional<std::string> value;
    std::int8_t source = 0;
    bool operator==(const Synonym&) const = default;
  };
  struct Config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;        // v0 only
    std::int8_t config_source = -1;  // v1+
    bool is_sensitive = false;
    std::vector<Synonym> synonyms;            // v1+
    std::int8_t config_type = 0;              // v3+
    std::optional<std::string> documentation;  // v3+
    bool operator==(const Config&) const = default;
  };
  struct Result {
    ErrorCode error_code = ErrorCode::NONE;
    std::optional<std::string> error_message;
    ConfigResourceType resource_type = ConfigResourceType::unknown;
    std::string resource_name;
    std::vector<Config> configs;
    bool operator==(const Result&) const = default;
  };

  std::int32_t throttle_time_ms = 0;
  std::vector<Result> results;
  bool operator==(const DescribeConfigsResponse&) const = default;
};

void encode(const DescribeConfigsRequest& m, std::int16_t version, Writer& w);
void encode(const DescribeConfigsResponse& m, std::int16_t version, Writer& w);
template <>
Decoded<DescribeConfigsRequest> decode<DescribeConfigsRequest>(Reader& r, std::int16_t version);
template <>
Decoded<DescribeConfigsResponse> decode<DescribeConfigsResponse>(Reader& r, std::int16_t version);

}  // namespace castle::protocol
