#include "system/protocol/messages.h"

#include <utility>

namespace castle::protocol {
namespace {

template <std::size_t... I>
constexpr bool pairs_match(std::index_sequence<I...>) {
  return ((std::variant_alternative_t<I, Request>::api_key ==
           std::variant_alternative_t<I, Response>::api_key) && ...);
}
static_assert(std::variant_size_v<Request> == std::variant_size_v<Response>);
static_assert(pairs_match(std::make_index_sequence<std::variant_size_v<Request>>{}),
              "Request and Response list the same APIs in the same order");

constexpr bool table_sorted() {
  for (std::size_t i = 1; i < supported_apis.size(); ++i) {
    if (raw(supported_apis[i - 1].api_key) >= raw(supported_apis[i].api_key)) return false;
  }
  return true;
}
static_assert(table_sorted(), "APIs are listed once each, sorted by key");

// Calls f(std::type_identity<T>{}) for the alternative T of V whose api_key
// is key; returns false when there is none.
template <class V, class F, std::size_t... I>
bool visit_api(ApiKey key, F&& f, std::index_sequence<I...>) {
  return ((std::variant_alternative_t<I, V>::api_key == key
               ? (f(std::type_identity<std::variant_alternative_t<I, V>>{}), true)
               : false) ||
          ...);
}

template <class V, class F>
bool visit_api(ApiKey key, F&& f) {
  return visit_api<V>(key, std::forward<F>(f), std::make_index_sequence<std::variant_size_v<V>>{});
}

constexpr std::size_t frame_size_bytes = 4;

// Starts a frame with a size placeholder that finish_frame fills in.
// Every frame starts with room for a small message, which most are (a
// produce response, a fetch request): growing from empty would copy it
// five times over. A message carrying records reserves for them too.
Writer start_frame(std::size_t payload_bytes = 0) {
  Writer w;
  w.reserve(frame_size_bytes + 256 + payload_bytes);
  w.write_int32(0);
  return w;
}

// The record bytes of a produce request or fetch response, with room for
// each partition's own fields.
template <class Message>
std::size_t records_bytes(const Message& m) {
  std::size_t n = 0;
  for (const auto& t : m.topics)
    for (const auto& p : t.partitions) n += (p.records ? p.records->size() : 0) + 64;
  return n;
}

Bytes finish_frame(Writer& w) {
  CASTLE_PROTOCOL_ASSERT(w.size() >= frame_size_bytes, "a frame starts with its size");
  const std::size_t body_bytes = w.size() - frame_size_bytes;
  CASTLE_PROTOCOL_ASSERT(body_bytes <= 0x7fffffff, "a frame is at most 2^31-1 bytes");
  w.patch_int32(0, static_cast<std::int32_t>(body_bytes));
  return w.take();
}

RequestFailure failure(const Reader& r, bool header_ok, const RequestHeader& h,
                       ErrorCode error_code) {
  RequestFailure f;
  f.header_ok = header_ok;
  if (header_ok) f.header = h;
  f.error_code = error_code;
  f.detail = r.error().value_or(DecodeError{DecodeErrc::unsupported_version, r.position()});
  return f;
}

}  // namespace

std::optional<VersionRange> supported_versions(ApiKey key) {
  for (const ApiSupport& s : supported_apis) {
    if (s.api_key == key) return s.versions;
  }
  return std::nullopt;
}

std::int16_t request_header_version(ApiKey key, std::int16_t api_version) {
  std::int16_t header_version = 1;
  (void)visit_api<Request>(key, [&](auto type) {
    using T = typename decltype(type)::type;
    if (api_version >= T::first_flexible_version) header_version = 2;
  });
  return header_version;
}

std::int16_t response_header_version(ApiKey key, std::int16_t api_version) {
  if (key == ApiKey::api_versions) return 0;
  return request_header_version(key, api_version) == 2 ? 1 : 0;
}

ApiVersionsResponse make_api_versions_response(ErrorCode error_code) {
  ApiVersionsResponse m;
  m.error_code = error_code;
  for (const ApiSupport& s : supported_apis) {
    m.api_keys.push_back({s.api_key, s.versions.min, s.versions.max});
  }
  return m;
}

Decoded<ParsedRequest, RequestFailure> decode_request(std::span<const std::uint8_t> frame_body) {
  Reader r(frame_body);
  // Every version this codec knows has at least header v1, and v2 only adds
  // tagged fields after the client id, so v1 is read first for all.
  RequestHeader h = read_request_header(r, 1);
  if (!r.ok()) return failure(r, false, h, ErrorCode::INVALID_REQUEST);
  const std::optional<VersionRange> versions = supported_versions(h.api_key);
  if (!versions) {
    r.fail(DecodeErrc::unknown_api_key);
    return failure(r, true, h, ErrorCode::INVALID_REQUEST);
  }
  if (!versions->contains(h.api_version)) {
    // Only the header is needed to answer; the body of a newer version is
    // not looked at, as Kafka does not either.
    r.fail(DecodeErrc::unsupported_version);
    return failure(r, true, h, ErrorCode::UNSUPPORTED_VERSION);
  }
  if (request_header_version(h.api_key, h.api_version) == 2) r.skip_tagged_fields();
  std::optional<Request> body;
  (void)visit_api<Request>(h.api_key, [&](auto type) {
    using T = typename decltype(type)::type;
    Decoded<T> d = decode<T>(r, h.api_version);
    if (d.ok()) body.emplace(std::move(d).value());
  });
  if (!body) return failure(r, true, h, ErrorCode::INVALID_REQUEST);
  return ParsedRequest{std::move(h), std::move(*body)};
}

Bytes encode_request_frame(const RequestHeader& header, const Request& body) {
  const auto* produce = std::get_if<ProduceRequest>(&body);
  Writer w = start_frame(produce != nullptr ? records_bytes(*produce) : 0);
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        CASTLE_PROTOCOL_ASSERT(header.api_key == T::api_key, "header and body name one API");
        encode(header, request_header_version(T::api_key, header.api_version), w);
        encode(m, header.api_version, w);
      },
      body);
  return finish_frame(w);
}

Bytes encode_response_frame(std::int32_t correlation_id, std::int16_t api_version,
                            const Response& body) {
  const auto* fetch = std::get_if<FetchResponse>(&body);
  Writer w = start_frame(fetch != nullptr ? records_bytes(*fetch) : 0);
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        encode(ResponseHeader{correlation_id}, response_header_version(T::api_key, api_version), w);
        encode(m, api_version, w);
      },
      body);
  return finish_frame(w);
}

Bytes encode_api_versions_fallback_frame(std::int32_t correlation_id) {
  return encode_response_frame(correlation_id, 0,
                               make_api_versions_response(ErrorCode::UNSUPPORTED_VERSION));
}

Decoded<ParsedResponse> decode_response(ApiKey key, std::int16_t api_version,
                                        std::span<const std::uint8_t> frame_body) {
  Reader r(frame_body);
  const ResponseHeader h = read_response_header(r, response_header_version(key, api_version));
  std::optional<Response> body;
  const bool known = visit_api<Response>(key, [&](auto type) {
    using T = typename decltype(type)::type;
    if (!r.ok()) return;
    Decoded<T> d = decode<T>(r, api_version);
    if (d.ok()) body.emplace(std::move(d).value());
  });
  if (!known) r.fail(DecodeErrc::unknown_api_key);
  if (!body) return r.error().value_or(DecodeError{DecodeErrc::truncated, r.position()});
  return ParsedResponse{h, std::move(*body)};
}

}  // namespace castle::protocol
