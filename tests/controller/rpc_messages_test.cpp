// The broker <-> controller RPC bodies: every message survives encode ->
// decode unchanged (fixed examples and arbitrary ones), the type numbers are
// the controller's 20-39, and truncated, padded or random bodies decode to
// an error rather than crashing.

#include "system/controller/rpc_messages.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "tests/controller/generators.h"

namespace castle::controller {
namespace {

using protocol::Bytes;
using testing::arb_broker_ids;
using testing::arb_configs;
using testing::arb_text;
using testing::arb_uuid;

template <class T>
T arb() {
  return *rc::gen::arbitrary<T>();
}

ErrorCode arb_error() { return ErrorCode{arb<std::int16_t>()}; }

BrokerRegistrationRequest arb_registration_request() {
  return {BrokerId{arb<std::int32_t>()}, arb_uuid(), Endpoint{arb_text(), arb<std::int32_t>()},
          arb<bool>() ? std::optional(arb_text()) : std::nullopt};
}
BrokerRegistrationResponse arb_registration_response() {
  return {arb_error(), BrokerEpoch{arb<std::int64_t>()}};
}
BrokerHeartbeatRequest arb_heartbeat_request() {
  BrokerHeartbeatRequest m{BrokerId{arb<std::int32_t>()}, BrokerEpoch{arb<std::int64_t>()},
                           arb<std::int64_t>(), arb<bool>(), {}};
  for (int p = *rc::gen::inRange(0, 4); p > 0; --p)
    m.offline_replicas.push_back({arb_uuid(), PartitionId{arb<std::int32_t>()}});
  return m;
}
BrokerHeartbeatResponse arb_heartbeat_response() {
  return {arb_error(), arb<bool>(), arb<bool>(), arb<bool>()};
}
AlterPartitionRequest arb_alter_request() {
  AlterPartitionRequest m{BrokerId{arb<std::int32_t>()}, BrokerEpoch{arb<std::int64_t>()}, {}};
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) {
    AlterPartitionRequest::Topic topic{arb_uuid(), {}};
    for (int p = *rc::gen::inRange(0, 3); p > 0; --p) {
      topic.partitions.push_back({PartitionId{arb<std::int32_t>()}, LeaderEpoch{arb<std::int32_t>()},
                                  arb_broker_ids(), PartitionEpoch{arb<std::int32_t>()}});
    }
    m.topics.push_back(topic);
  }
  return m;
}
AlterPartitionResponse arb_alter_response() {
  AlterPartitionResponse m{arb_error(), {}};
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) {
    AlterPartitionResponse::Topic topic{arb_uuid(), {}};
    for (int p = *rc::gen::inRange(0, 3); p > 0; --p) {
      topic.partitions.push_back({PartitionId{arb<std::int32_t>()}, arb_error(),
                                  BrokerId{arb<std::int32_t>()}, LeaderEpoch{arb<std::int32_t>()},
                                  arb_broker_ids(), PartitionEpoch{arb<std::int32_t>()}});
    }
    m.topics.push_back(topic);
  }
  return m;
}
CreateTopicsRequest arb_create_request() {
  CreateTopicsRequest m;
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) {
    m.topics.push_back({arb_text(), arb<std::int32_t>(), arb<std::int16_t>(), arb_configs()});
  }
  m.validate_only = arb<bool>();
  return m;
}
CreateTopicsResponse arb_create_response() {
  CreateTopicsResponse m;
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) {
    m.topics.push_back({arb_text(), arb_uuid(), arb_error(),
                        arb<bool>() ? std::optional(arb_text()) : std::nullopt,
                        arb<std::int32_t>(), arb<std::int16_t>()});
  }
  return m;
}
DeleteTopicsRequest arb_delete_request() {
  DeleteTopicsRequest m;
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) m.names.push_back(arb_text());
  return m;
}
DeleteTopicsResponse arb_delete_response() {
  DeleteTopicsResponse m;
  for (int t = *rc::gen::inRange(0, 3); t > 0; --t) {
    m.topics.push_back({arb_text(), arb_uuid(), arb_error()});
  }
  return m;
}

// Round trip, every truncation an error, a trailing byte an error, random
// bodies never crash.
// `old_size`: a message with an optional tail (absent when empty, so that
// earlier commits still read it) also decodes when cut to this many bytes.
template <class M, class G>
void check_codec(const char* name, G arb_message, std::size_t old_size = 0) {
  EXPECT_TRUE(rc::check(std::string(name) + " round-trips; cut or padded fails", [&] {
    const M m = arb_message();
    const Bytes body = encode_rpc(m);
    auto back = decode_rpc<M>(body);
    RC_ASSERT(back.ok());
    RC_ASSERT(back.value() == m);
    const auto cut = *rc::gen::inRange<std::size_t>(0, body.size());
    RC_ASSERT(!decode_rpc<M>(std::span(body.data(), cut)).ok() || (cut == old_size && cut > 0));
    Bytes padded = body;
    padded.push_back(0);
    RC_ASSERT(!decode_rpc<M>(padded).ok());
  }));
  EXPECT_TRUE(rc::check(std::string(name) + " from random bytes never crashes", [] {
    const auto bytes = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
    auto back = decode_rpc<M>(bytes);
    if (back.ok()) RC_ASSERT(encode_rpc(back.value()) == bytes);
  }));
}

TEST(ControllerRpc, EveryMessageRoundTripsAndRejectsBadBodies) {
  check_codec<BrokerRegistrationRequest>("BrokerRegistrationRequest", arb_registration_request);
  check_codec<BrokerRegistrationResponse>("BrokerRegistrationResponse", arb_registration_response);
  check_codec<BrokerHeartbeatRequest>("BrokerHeartbeatRequest", arb_heartbeat_request, 21);
  check_codec<BrokerHeartbeatResponse>("BrokerHeartbeatResponse", arb_heartbeat_response);
  check_codec<AlterPartitionRequest>("AlterPartitionRequest", arb_alter_request);
  check_codec<AlterPartitionResponse>("AlterPartitionResponse", arb_alter_response);
  check_codec<CreateTopicsRequest>("CreateTopicsRequest", arb_create_request);
  check_codec<CreateTopicsResponse>("CreateTopicsResponse", arb_create_response);
  check_codec<DeleteTopicsRequest>("DeleteTopicsRequest", arb_delete_request);
  check_codec<DeleteTopicsResponse>("DeleteTopicsResponse", arb_delete_response);
}

TEST(ControllerRpc, TypesAreTheControllersRange) {
  EXPECT_EQ(static_cast<int>(BrokerRegistrationRequest::type), 20);
  EXPECT_EQ(static_cast<int>(BrokerRegistrationResponse::type), 21);
  EXPECT_EQ(static_cast<int>(BrokerHeartbeatRequest::type), 22);
  EXPECT_EQ(static_cast<int>(AlterPartitionRequest::type), 24);
  EXPECT_EQ(static_cast<int>(CreateTopicsRequest::type), 26);
  EXPECT_EQ(static_cast<int>(DeleteTopicsResponse::type), 29);
  EXPECT_TRUE(is_controller_rpc_type(20));
  EXPECT_TRUE(is_controller_rpc_type(39));
  EXPECT_FALSE(is_controller_rpc_type(19));
  EXPECT_FALSE(is_controller_rpc_type(40));
}

// The heartbeat layout, pinned: the broker and controller may be built
// from different commits.
TEST(ControllerRpc, HeartbeatLayoutIsPinned) {
  const Bytes body = encode_rpc(BrokerHeartbeatRequest{BrokerId{2}, BrokerEpoch{9}, 7, true, {}});
  const Bytes expected = {0, 0, 0, 2,  0, 0, 0, 0, 0, 0, 0, 9,  0, 0, 0, 0, 0, 0, 0, 7,  1};
  EXPECT_EQ(body, expected);
}

// Offline replicas follow as an array of (topic id, partition); without
// any the body is the layout above, which decodes to none.
TEST(ControllerRpc, HeartbeatOfflineReplicasAreATrailingArray) {
  TopicId topic;
  topic.bytes[15] = 0xab;
  BrokerHeartbeatRequest m{BrokerId{2}, BrokerEpoch{9}, 7, false, {{topic, PartitionId{3}}}};
  const Bytes body = encode_rpc(m);
  Bytes tail(body.begin() + 21, body.end());
  Bytes expected = {0, 0, 0, 1};
  expected.insert(expected.end(), topic.bytes.begin(), topic.bytes.end());
  expected.insert(expected.end(), {0, 0, 0, 3});
  EXPECT_EQ(tail, expected);
  auto back = decode_rpc<BrokerHeartbeatRequest>(body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), m);
  auto plain = decode_rpc<BrokerHeartbeatRequest>(std::span(body).first(21));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain.value().offline_replicas.empty());
}

TEST(ControllerRpc, FlagOtherThanZeroOrOneIsAnError) {
  Bytes body = encode_rpc(BrokerHeartbeatResponse{ErrorCode::NONE, true, false, false});
  body.at(2) = 2;
  EXPECT_FALSE(decode_rpc<BrokerHeartbeatResponse>(body).ok());
}

TEST(ControllerRpc, UnnamedErrorCodesRoundTrip) {
  const BrokerRegistrationResponse m{ErrorCode{999}, BrokerEpoch{4}};
  auto back = decode_rpc<BrokerRegistrationResponse>(encode_rpc(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().error, ErrorCode{999});
}

}  // namespace
}  // namespace castle::controller
