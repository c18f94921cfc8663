// Byte layouts worked out by hand from the field order of Kafka's JSON
// message definitions (ApiVersionsResponse, MetadataRequest, ProduceRequest,
// RequestHeader), so that the codec is checked against the wire format and
// not only against itself. Also the primitives' encodings and the error-code
// names.
#include <gtest/gtest.h>

#include <limits>
#include <utility>

#include "system/protocol/messages.h"

namespace castle::protocol {
namespace {

TEST(ProtocolLayout, ApiVersionsV0Response) {
  ApiVersionsResponse m;
  m.api_keys = {{ApiKey::api_versions, 0, 2}, {ApiKey::metadata, 0, 8}};
  Writer w;
  encode(m, 0, w);
  const Bytes expected = {
      0x00, 0x00,                                      // ErrorCode NONE
      0x00, 0x00, 0x00, 0x02,                          // ApiKeys: 2 entries
      0x00, 0x12, 0x00, 0x00, 0x00, 0x02,              // ApiVersions 18: 0-2
      0x00, 0x03, 0x00, 0x00, 0x00, 0x08,              // Metadata 3: 0-8
  };                                                   // v0: no ThrottleTimeMs
  EXPECT_EQ(w.bytes(), expected);
}

TEST(ProtocolLayout, MetadataV0RequestFrame) {
  RequestHeader h{ApiKey::metadata, 0, 7, std::string("c")};
  MetadataRequest m;
  m.topics = std::vector<std::string>{"ab"};
  const Bytes frame = encode_request_frame(h, m);
  const Bytes expected = {
      0x00, 0x00, 0x00, 0x13,  // frame size: 19 bytes follow
      0x00, 0x03,              // RequestApiKey 3
      0x00, 0x00,              // RequestApiVersion 0
      0x00, 0x00, 0x00, 0x07,  // CorrelationId 7
      0x00, 0x01, 'c',         // ClientId "c" (header v1)
      0x00, 0x00, 0x00, 0x01,  // Topics: 1 entry
      0x00, 0x02, 'a', 'b',    // Name "ab"
  };
  EXPECT_EQ(frame, expected);
  auto parsed = decode_request(std::span<const std::uint8_t>(frame).subspan(4));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<MetadataRequest>(parsed->body), m);
}

// v0 has no null topic array; "all topics" is the empty array there, so a
// null (the v1+ spelling of "all topics") is written as empty.
TEST(ProtocolLayout, MetadataV0WritesAllTopicsAsTheEmptyArray) {
  MetadataRequest m;
  m.topics = std::nullopt;
  Writer w;
  encode(m, 0, w);
  EXPECT_EQ(w.bytes(), (Bytes{0x00, 0x00, 0x00, 0x00}));
  Writer w1;
  encode(m, 1, w1);
  EXPECT_EQ(w1.bytes(), (Bytes{0xff, 0xff, 0xff, 0xff}));
}

TEST(ProtocolLayout, ProduceV3Request) {
  ProduceRequest m;
  m.acks = -1;
  m.timeout_ms = 1000;
  m.topics = {{"t", {{PartitionId{0}, Bytes{1, 2, 3}}}}};
  Writer w;
  encode(m, 3, w);
  const Bytes expected = {
      0xff, 0xff,              // TransactionalId null (v3+)
      0xff, 0xff,              // Acks -1
      0x00, 0x00, 0x03, 0xe8,  // TimeoutMs 1000
      0x00, 0x00, 0x00, 0x01,  // TopicData: 1 entry
      0x00, 0x01, 't',         // Name "t"
      0x00, 0x00, 0x00, 0x01,  // PartitionData: 1 entry
      0x00, 0x00, 0x00, 0x00,  // Index 0
      0x00, 0x00, 0x00, 0x03,  // Records: 3 bytes
      0x01, 0x02, 0x03,
  };
  EXPECT_EQ(w.bytes(), expected);
}

TEST(ProtocolLayout, FlexibleRequestHeaderV2ReadsTaggedFields) {
  const Bytes body = {
      0x00, 0x12, 0x00, 0x03,  // ApiVersions v3
      0x00, 0x00, 0x00, 0x09,  // CorrelationId 9
      0x00, 0x01, 'x',         // ClientId "x": a classic string even in v2
      0x01, 0x05, 0x02, 0xaa, 0xbb,  // one tagged field: tag 5, 2 bytes
  };
  Reader r(body);
  const RequestHeader h = read_request_header(r, 2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(h.correlation_id, 9);
  EXPECT_EQ(h.client_id, std::optional<std::string>("x"));
}

TEST(ProtocolLayout, VarintsAreZigzagLittleEndianGroups) {
  Writer w;
  w.write_varint(0);
  w.write_varint(-1);
  w.write_varint(1);
  w.write_varint(-64);
  w.write_varint(64);
  w.write_unsigned_varint(300);
  w.write_varlong(std::numeric_limits<std::int64_t>::min());
  const Bytes expected = {0x00, 0x01, 0x02, 0x7f, 0x80, 0x01, 0xac, 0x02,
                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  EXPECT_EQ(w.bytes(), expected);
  Reader r(w.bytes());
  EXPECT_EQ(r.read_varint(), 0);
  EXPECT_EQ(r.read_varint(), -1);
  EXPECT_EQ(r.read_varint(), 1);
  EXPECT_EQ(r.read_varint(), -64);
  EXPECT_EQ(r.read_varint(), 64);
  EXPECT_EQ(r.read_unsigned_varint(), 300u);
  EXPECT_EQ(r.read_varlong(), std::numeric_limits<std::int64_t>::min());
  EXPECT_TRUE(r.ok());
}

TEST(ProtocolLayout, OverlongVarintIsAnError) {
  const Bytes b = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  Reader r(b);
  (void)r.read_unsigned_varint();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error()->errc, DecodeErrc::invalid_varint);
}

TEST(ProtocolLayout, ErrorCodesCarryKafkasNumbersAndNames) {
  EXPECT_EQ(raw(ErrorCode::UNSUPPORTED_VERSION), 35);
  EXPECT_EQ(raw(ErrorCode::NOT_LEADER_OR_FOLLOWER), 6);
  EXPECT_EQ(raw(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER), 45);
  EXPECT_EQ(raw(ErrorCode::DUPLICATE_SEQUENCE_NUMBER), 46);
  EXPECT_EQ(raw(ErrorCode::UNKNOWN_PRODUCER_ID), 59);
  EXPECT_EQ(raw(ErrorCode::FENCED_LEADER_EPOCH), 74);
  EXPECT_EQ(raw(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE), 76);
  EXPECT_STREQ(to_string(ErrorCode::UNSUPPORTED_VERSION), "UNSUPPORTED_VERSION");
  EXPECT_STREQ(to_string(ErrorCode::NONE), "NONE");
  EXPECT_STREQ(to_string(ErrorCode{-1}), "UNKNOWN_SERVER_ERROR");
  EXPECT_STREQ(to_string(ErrorCode{12345}), "UNKNOWN_ERROR_CODE");
}

TEST(ProtocolLayout, AdvertisedRangesStopBelowFlexibleVersions) {
  const std::pair<ApiKey, VersionRange> expected[] = {
      {ApiKey::produce, {0, 8}},          {ApiKey::fetch, {0, 11}},
      {ApiKey::list_offsets, {0, 5}},     {ApiKey::metadata, {0, 8}},
      {ApiKey::api_versions, {0, 2}},     {ApiKey::create_topics, {0, 4}},
      {ApiKey::delete_topics, {0, 3}},    {ApiKey::init_producer_id, {0, 1}},
      {ApiKey::offset_for_leader_epoch, {0, 3}}, {ApiKey::describe_configs, {0, 3}},
  };
  ASSERT_EQ(supported_apis.size(), std::size(expected));
  for (std::size_t i = 0; i < supported_apis.size(); ++i) {
    EXPECT_EQ(supported_apis[i].api_key, expected[i].first);
    EXPECT_EQ(supported_apis[i].versions.min, expected[i].second.min);
    EXPECT_EQ(supported_apis[i].versions.max, expected[i].second.max);
    EXPECT_EQ(request_header_version(expected[i].first, expected[i].second.max), 1);
    EXPECT_EQ(request_header_version(expected[i].first, expected[i].second.max + 1), 2);
  }
}

}  // namespace
}  // namespace castle::protocol
