// Malformed input is an error value, never undefined behaviour (the
// sanitizer build runs these): every strict prefix of a valid request or
// response frame fails to decode; lengths larger than the input, negative
// lengths and trailing bytes fail; random garbage — bare, and behind a valid
// header so that it reaches each body decoder — never crashes. Also what the
// broker needs to answer: unknown keys, unsupported versions and the
// ApiVersions v3 fallback.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "system/protocol/messages.h"
#include "tests/protocol/generators.h"

namespace castle::protocol {
namespace {

using namespace castle::protocol::testing;

std::span<const std::uint8_t> prefix(const Bytes& frame, std::size_t n) {
  return std::span<const std::uint8_t>(frame).subspan(4, n);
}

// A header (v1) followed by the given body bytes, without a size prefix.
Bytes request_body(ApiKey key, std::int16_t version, const Bytes& body) {
  Writer w;
  encode(RequestHeader{key, version, 42, std::string("cl")}, 1, w);
  Bytes out = w.take();
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(ProtocolMalformed, EveryStrictPrefixOfARequestFails) {
  EXPECT_TRUE(rc::check([] {
    const auto api = *rc::gen::inRange<std::size_t>(0, supported_apis.size());
    const VersionRange vr = supported_apis[api].versions;
    const auto v = *rc::gen::inRange<std::int16_t>(vr.min, vr.max + 1);
    RequestHeader h{supported_apis[api].api_key, v, 5, arb_nullable_string()};
    const Bytes frame = encode_request_frame(h, gen_request(api, v));
    const std::size_t body_bytes = frame.size() - 4;
    for (std::size_t n = 0; n < body_bytes; ++n) {
      auto d = decode_request(prefix(frame, n));
      RC_ASSERT(!d.ok());
      // A cut inside a string or array is seen as its length exceeding the input.
      const DecodeErrc errc = d.error().detail.errc;
      RC_ASSERT(errc == DecodeErrc::truncated || errc == DecodeErrc::length_exceeds_input);
      // The header is known once it has been read whole.
      const std::size_t header_bytes = 10 + (h.client_id ? h.client_id->size() : 0);
      RC_ASSERT(d.error().header_ok == (n >= header_bytes));
    }
  }));
}

TEST(ProtocolMalformed, EveryStrictPrefixOfAResponseFails) {
  EXPECT_TRUE(rc::check([] {
    const auto api = *rc::gen::inRange<std::size_t>(0, supported_apis.size());
    const VersionRange vr = supported_apis[api].versions;
    const auto v = *rc::gen::inRange<std::int16_t>(vr.min, vr.max + 1);
    const Bytes frame = encode_response_frame(1, v, gen_response(api, v));
    for (std::size_t n = 0; n + 4 < frame.size(); ++n) {
      RC_ASSERT(!decode_response(supported_apis[api].api_key, v, prefix(frame, n)).ok());
    }
  }));
}

TEST(ProtocolMalformed, LengthsBeyondTheInputFail) {
  // Metadata v1: a topic array claiming 2^31-1 entries; then a string
  // claiming 32767 bytes; then a negative length that is not -1.
  const Bytes huge_array = request_body(ApiKey::metadata, 1, {0x7f, 0xff, 0xff, 0xff});
  auto d = decode_request(huge_array);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.error().header_ok);
  EXPECT_EQ(d.error().header.correlation_id, 42);
  EXPECT_EQ(d.error().error_code, ErrorCode::INVALID_REQUEST);
  EXPECT_EQ(d.error().detail.errc, DecodeErrc::length_exceeds_input);

  const Bytes huge_string = request_body(ApiKey::metadata, 1, {0, 0, 0, 1, 0x7f, 0xff, 'a'});
  EXPECT_EQ(decode_request(huge_string).error().detail.errc, DecodeErrc::length_exceeds_input);

  const Bytes negative = request_body(ApiKey::metadata, 1, {0xff, 0xff, 0xff, 0xfe});
  EXPECT_EQ(decode_request(negative).error().detail.errc, DecodeErrc::invalid_length);

  // Produce v3 records claiming 2^31-1 bytes.
  const Bytes huge_records = request_body(
      ApiKey::produce, 3,
      {0xff, 0xff, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff});
  EXPECT_EQ(decode_request(huge_records).error().detail.errc, DecodeErrc::length_exceeds_input);
}

TEST(ProtocolMalformed, NullWhereTheVersionAllowsNoneFails) {
  // Metadata v0 topics cannot be null; v1 topics can.
  EXPECT_EQ(decode_request(request_body(ApiKey::metadata, 0, {0xff, 0xff, 0xff, 0xff})).error().detail.errc,
            DecodeErrc::null_not_allowed);
  EXPECT_TRUE(decode_request(request_body(ApiKey::metadata, 1, {0xff, 0xff, 0xff, 0xff})).ok());
}

TEST(ProtocolMalformed, TrailingBytesFail) {
  auto d = decode_request(request_body(ApiKey::api_versions, 0, {0x00}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().detail.errc, DecodeErrc::trailing_bytes);
}

TEST(ProtocolMalformed, UnknownKeysAndVersionsKeepTheHeader) {
  auto unknown = decode_request(request_body(ApiKey{999}, 0, {}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.error().header_ok);
  EXPECT_EQ(unknown.error().detail.errc, DecodeErrc::unknown_api_key);

  auto too_new = decode_request(request_body(ApiKey::produce, 9, {1, 2, 3}));
  ASSERT_FALSE(too_new.ok());
  EXPECT_TRUE(too_new.error().header_ok);
  EXPECT_EQ(too_new.error().error_code, ErrorCode::UNSUPPORTED_VERSION);

  auto negative = decode_request(request_body(ApiKey::fetch, -1, {}));
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().error_code, ErrorCode::UNSUPPORTED_VERSION);
}

// What librdkafka sends first: ApiVersions v3 with a v2 (flexible) header.
// The broker learns the correlation id and answers in the v0 format with
// UNSUPPORTED_VERSION and the key list, which the client can read.
TEST(ProtocolMalformed, ApiVersionsV3IsAnsweredInTheV0Format) {
  ApiVersionsRequest req{"librdkafka", "2.0.2"};
  Writer w;
  encode(RequestHeader{ApiKey::api_versions, 3, 77, std::string("rdkafka")}, 2, w);
  encode(req, 3, w);
  auto d = decode_request(w.bytes());
  ASSERT_FALSE(d.ok());
  ASSERT_TRUE(d.error().header_ok);
  EXPECT_EQ(d.error().error_code, ErrorCode::UNSUPPORTED_VERSION);
  EXPECT_EQ(d.error().header.correlation_id, 77);

  const Bytes frame = encode_api_versions_fallback_frame(77);
  auto resp = decode_response(ApiKey::api_versions, 0, std::span<const std::uint8_t>(frame).subspan(4));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->header.correlation_id, 77);
  const auto& body = std::get<ApiVersionsResponse>(resp->body);
  EXPECT_EQ(body.error_code, ErrorCode::UNSUPPORTED_VERSION);
  EXPECT_EQ(body.api_keys.size(), supported_apis.size());
}

TEST(ProtocolMalformed, RandomGarbageNeverCrashes) {
  EXPECT_TRUE(rc::check([](const Bytes& garbage) {
    (void)decode_request(garbage);
    for (const ApiSupport& s : supported_apis) {
      (void)decode_response(s.api_key, s.versions.max, garbage);
    }
  }));
}

// Garbage behind a well-formed header reaches the body decoder of every API
// and version; whatever it decodes to must encode again without tripping an
// assertion.
TEST(ProtocolMalformed, GarbageBodiesNeverCrash) {
  EXPECT_TRUE(rc::check([](const Bytes& garbage) {
    const auto api = *rc::gen::inRange<std::size_t>(0, supported_apis.size());
    const VersionRange vr = supported_apis[api].versions;
    const auto v = *rc::gen::inRange<std::int16_t>(vr.min, vr.max + 1);
    auto d = decode_request(request_body(supported_apis[api].api_key, v, garbage));
    if (d.ok()) (void)encode_request_frame(d->header, d->body);
  }));
}

}  // namespace
}  // namespace castle::protocol
