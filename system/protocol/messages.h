#pragma once
// The set of APIs the codec serves, the version table that ApiVersions
// advertises, and whole-frame encode/decode.
//
// Adding an API (the group APIs come next): write its <api>.h/.cpp with a
// request and a response struct that declare api_key, versions and (the
// request) first_flexible_version, plus encode/decode<> for both; then add
// the two types to Request and Response below, at the place their API key
// sorts. The dispatch, the ApiVersions table and the header versions follow
// from the lists.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <variant>

#include "system/protocol/api_versions.h"
#include "system/protocol/codec.h"
#include "system/protocol/create_topics.h"
#include "system/protocol/delete_topics.h"
#include "system/protocol/describe_configs.h"
#include "system/protocol/error_code.h"
#include "system/protocol/fetch.h"
#include "system/protocol/header.h"
#include "system/protocol/init_producer_id.h"
#include "system/protocol/list_offsets.h"
#include "system/protocol/metadata.h"
#include "system/protocol/offset_for_leader_epoch.h"
#include "system/protocol/produce.h"
#include "system/protocol/types.h"

namespace castle::protocol {

// Sorted by API key; Response lists the same APIs in the same order.
using Request = std::variant<ProduceRequest, FetchRequest, ListOffsetsRequest, MetadataRequest,
                             ApiVersionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
                             InitProducerIdRequest, OffsetForLeaderEpochRequest,
                             DescribeConfigsRequest>;
using Response = std::variant<ProduceResponse, FetchResponse, ListOffsetsResponse,
                              MetadataResponse, ApiVersionsResponse, CreateTopicsResponse,
                              DeleteTopicsResponse, InitProducerIdResponse,
                              OffsetForLeaderEpochResponse, DescribeConfigsResponse>;

struct ApiSupport {
  ApiKey api_key = ApiKey::produce;
  VersionRange versions;
};

namespace detail {
template <class... Ts>
constexpr auto make_api_table(std::type_identity<std::variant<Ts...>>) {
  return std::array<ApiSupport, sizeof...(Ts)>{ApiSupport{Ts::api_key, Ts::versions}...};
}
}  // namespace detail

// What ApiVersions advertises: every implemented API from version 0 (see
// DESIGN.md: librdkafka enables features only when the ranges overlap old
// versions) up to the last version below the API's first flexible one.
inline constexpr auto supported_apis = detail::make_api_table(std::type_identity<Request>{});

std::optional<VersionRange> supported_versions(ApiKey key);
// Request header v2 for flexible versions, else v1.
std::int16_t request_header_version(ApiKey key, std::int16_t api_version);
// Response header v1 for flexible versions, else v0; ApiVersions always v0.
std::int16_t response_header_version(ApiKey key, std::int16_t api_version);

// The ApiVersions answer built from supported_apis.
ApiVersionsResponse make_api_versions_response(ErrorCode error_code);

// ---- requests ----

struct ParsedRequest {
  RequestHeader header;
  Request body;
};

// Why a request frame could not be decoded. With header_ok the broker knows
// the correlation id and may answer (error_code says with what: an
// ApiVersions v3+ request is answered with UNSUPPORTED_VERSION and the v0
// key list); without it the connection can only be closed.
struct RequestFailure {
  bool header_ok = false;
  RequestHeader header;  // meaningful only when header_ok
  ErrorCode error_code = ErrorCode::INVALID_REQUEST;
  DecodeError detail;
};

// Decodes a request frame body: everything after the 4-byte size prefix.
// Never reads out of range and never throws, whatever the bytes.
Decoded<ParsedRequest, RequestFailure> decode_request(std::span<const std::uint8_t> frame_body);

// A whole request frame, size prefix included. header.api_key must be the
// body's API and header.api_version one the codec implements.
Bytes encode_request_frame(const RequestHeader& header, const Request& body);

// ---- responses ----

struct ParsedResponse {
  ResponseHeader header;
  Response body;
};

// A whole response frame, size prefix included, with the header version the
// API and version call for.
Bytes encode_response_frame(std::int32_t correlation_id, std::int16_t api_version,
                            const Response& body);
// The answer to an ApiVersions request of a version above the advertised
// range: UNSUPPORTED_VERSION and the key list, in the v0 format.
Bytes encode_api_versions_fallback_frame(std::int32_t correlation_id);

// Decodes a response frame body (after the size prefix); the client knows
// the API and version from the request it sent.
Decoded<ParsedResponse> decode_response(ApiKey key, std::int16_t api_version,
                                        std::span<const std::uint8_t> frame_body);

}  // namespace castle::protocol
