// The metadata records' codec: every record survives encode -> decode
// unchanged, the bytes of one record are pinned, and input that did not come
// from the encoder (truncated, garbage, unknown type or version, too long a
// list, bytes left over) decodes to an error rather than crashing.

#include "system/controller/records.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "tests/controller/generators.h"

namespace castle::controller {
namespace {

using protocol::Bytes;
using protocol::DecodeErrc;

TopicId topic_id(std::uint8_t fill) {
  TopicId id;
  id.bytes.fill(fill);
  return id;
}

std::vector<MetadataRecord> one_of_each() {
  return {
      RegisterBrokerRecord{BrokerId{3}, topic_id(7), Endpoint{"b3.local", 9092}, "rack-a"},
      RegisterBrokerRecord{BrokerId{4}, topic_id(8), Endpoint{"b4", 1}, std::nullopt},
      FenceBrokerRecord{BrokerId{3}, BrokerEpoch{12}},
      UnfenceBrokerRecord{BrokerId{3}, BrokerEpoch{12}},
      BrokerShutdownRecord{BrokerId{3}, BrokerEpoch{12}},
      TopicRecord{"orders", topic_id(1), {{"retention.ms", "1000"}, {"x", ""}}},
      PartitionRecord{topic_id(1), PartitionId{2}, {BrokerId{1}, BrokerId{2}}, {BrokerId{2}},
                      BrokerId{2}, LeaderEpoch{4}, PartitionEpoch{9}},
      PartitionChangeRecord{topic_id(1), PartitionId{2}, BrokerIds{BrokerId{1}}, BrokerId{1},
                            std::nullopt},
      PartitionChangeRecord{topic_id(1), PartitionId{0}, std::nullopt, kNoLeader, BrokerIds{}},
      PartitionChangeRecord{topic_id(1), PartitionId{0}, std::nullopt, std::nullopt, std::nullopt},
      RemoveTopicRecord{topic_id(1)},
      NoOpRecord{},
  };
}

TEST(ControllerRecords, EveryRecordTypeRoundTrips) {
  for (const MetadataRecord& rec : one_of_each()) {
    const Bytes bytes = encode_record(rec);
    auto back = decode_record(bytes);
    ASSERT_TRUE(back.ok()) << to_string(record_type(rec));
    EXPECT_EQ(back.value(), rec) << to_string(record_type(rec));
  }
}

TEST(ControllerRecords, ArbitraryRecordsRoundTrip) {
  EXPECT_TRUE(rc::check("encode -> decode is the identity", [] {
    const MetadataRecord rec = testing::arb_record();
    auto back = decode_record(encode_record(rec));
    RC_ASSERT(back.ok());
    RC_ASSERT(back.value() == rec);
  }));
}

// The layout is what every stored log holds: pin one record byte by byte.
TEST(ControllerRecords, FenceRecordLayoutIsPinned) {
  const Bytes bytes = encode_record(FenceBrokerRecord{BrokerId{5}, BrokerEpoch{0x0102}});
  const Bytes expected = {0, 2,  0, 1,  // type fence_broker, version 1
                          0, 0,  0, 5,  // broker id
                          0, 0,  0, 0, 0, 0, 1, 2};  // epoch
  EXPECT_EQ(bytes, expected);
}

// Logs written before the ELR existed hold version 0 partition records:
// they still read, with an empty ELR.
TEST(ControllerRecords, VersionZeroPartitionRecordsReadWithoutAnElr) {
  PartitionRecord rec{Uuid{}, PartitionId{3}, {BrokerId{1}, BrokerId{2}}, {BrokerId{2}},
                      BrokerId{2}, LeaderEpoch{4}, PartitionEpoch{5}, {BrokerId{1}}};
  rec.topic_id.bytes[0] = 7;
  Bytes bytes = encode_record(rec);
  bytes[3] = 0;                         // version 0 ...
  bytes.resize(bytes.size() - 8);       // ... has no ELR array (count 1, one id)
  auto back = decode_record(bytes);
  ASSERT_TRUE(back.ok());
  rec.elr.clear();
  EXPECT_EQ(std::get<PartitionRecord>(back.value()), rec);
}

TEST(ControllerRecords, EveryTruncationIsAnError) {
  for (const MetadataRecord& rec : one_of_each()) {
    const Bytes bytes = encode_record(rec);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto back = decode_record(std::span(bytes.data(), n));
      EXPECT_FALSE(back.ok()) << to_string(record_type(rec)) << " cut at " << n;
    }
  }
}

TEST(ControllerRecords, TrailingBytesAreAnError) {
  Bytes bytes = encode_record(NoOpRecord{});
  bytes.push_back(0);
  auto back = decode_record(bytes);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().errc, DecodeErrc::trailing_bytes);
}

TEST(ControllerRecords, UnknownTypeAndVersionAreErrors) {
  auto unknown = decode_record(Bytes{0, 99, 0, 0});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().errc, DecodeErrc::unknown_api_key);
  auto zero = decode_record(Bytes{0, 0, 0, 0});
  EXPECT_FALSE(zero.ok());
  auto version = decode_record(Bytes{0, 9, 0, 2});
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().errc, DecodeErrc::unsupported_version);
}

TEST(ControllerRecords, OverlongReplicaListIsAnError) {
  PartitionRecord rec{topic_id(1), PartitionId{0}, {}, {BrokerId{1}}, kNoLeader, {}, {}};
  for (std::size_t i = 0; i <= kReplicasMax; ++i) rec.replicas.push_back(BrokerId{1});
  auto back = decode_record(encode_record(rec));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().errc, DecodeErrc::invalid_length);
}

TEST(ControllerRecords, BadPresenceByteIsAnError) {
  Bytes bytes = encode_record(PartitionChangeRecord{topic_id(1), PartitionId{0}, std::nullopt,
                                                    BrokerId{1}, std::nullopt});
  // type(2) version(2) uuid(16) partition(4) isr(-1: 4) then the presence byte.
  bytes.at(28) = 7;
  EXPECT_FALSE(decode_record(bytes).ok());
}

TEST(ControllerRecords, UnsortedConfigsAreAnError) {
  protocol::Writer w;
  w.write_int16(static_cast<std::int16_t>(RecordType::topic));
  w.write_int16(kRecordVersion);
  w.write_string("t");
  write_uuid(w, topic_id(1));
  w.write_array_length(2);
  for (const char* name : {"b", "a"}) {
    w.write_string(name);
    w.write_string("v");
  }
  EXPECT_FALSE(decode_record(w.bytes()).ok());
}

TEST(ControllerRecords, GarbageNeverCrashes) {
  EXPECT_TRUE(rc::check("random bytes decode or fail, never crash", [] {
    const auto bytes = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
    auto back = decode_record(bytes);
    if (back.ok()) RC_ASSERT(decode_record(encode_record(back.value())).ok());
  }));
  EXPECT_TRUE(rc::check("a valid record with flipped bytes decodes or fails", [] {
    Bytes bytes = encode_record(testing::arb_record());
    const auto flips = *rc::gen::inRange<std::size_t>(1, 4);
    for (std::size_t i = 0; i < flips; ++i) {
      const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
      bytes[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
    }
    (void)decode_record(bytes);
  }));
}

}  // namespace
}  // namespace castle::controller
