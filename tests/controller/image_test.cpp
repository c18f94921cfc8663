// The metadata image: what each record does to it, which records it refuses
// (and that refusing changes nothing but the applied index), the queries
// brokers use, and the snapshot: exact round trip, corrupt snapshots refused
// with the image untouched, and replay from a snapshot taken at any point
// equal to replay from the start.

#include "system/controller/image.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "tests/controller/generators.h"
#include "tests/controller/rig.h"

namespace castle::controller {
namespace {

using testing::small_topic_id;

using testing::ids;

// Applies records at consecutive indexes after the image's last, term 1.
void apply_all(MetadataImage& image, const std::vector<MetadataRecord>& records) {
  for (const MetadataRecord& rec : records) {
    (void)image.apply_record(image.last_applied_index() + 1, 1, rec);
  }
}

// Three brokers (registered at indexes 1-3, unfenced) and topic "t0" with
// two partitions over them.
MetadataImage three_brokers_one_topic() {
  MetadataImage image;
  apply_all(image, {
      RegisterBrokerRecord{BrokerId{1}, {}, Endpoint{"b1", 9091}, "r1"},
      RegisterBrokerRecord{BrokerId{2}, {}, Endpoint{"b2", 9092}, {}},
      RegisterBrokerRecord{BrokerId{3}, {}, Endpoint{"b3", 9093}, {}},
      UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{1}},
      UnfenceBrokerRecord{BrokerId{2}, BrokerEpoch{2}},
      UnfenceBrokerRecord{BrokerId{3}, BrokerEpoch{3}},
      TopicRecord{"t0", small_topic_id(0), {{"retention.ms", "5"}}},
      PartitionRecord{small_topic_id(0), PartitionId{0}, ids({1, 2}), ids({1, 2}), BrokerId{1},
                      {}, {}},
      PartitionRecord{small_topic_id(0), PartitionId{1}, ids({2, 3}), ids({2, 3}), BrokerId{2},
                      {}, {}},
  });
  EXPECT_EQ(image.skipped_count(), 0);
  return image;
}

TEST(ControllerImage, RegistrationGivesTheRecordIndexAsEpochAndStartsFenced) {
  MetadataImage image;
  apply_all(image, {NoOpRecord{}, NoOpRecord{}});
  ASSERT_TRUE(image.apply_record(3, 2, RegisterBrokerRecord{BrokerId{7}, {}, {"h", 1}, "rack"}));
  const BrokerState* b = image.broker(BrokerId{7});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->epoch, BrokerEpoch{3});
  EXPECT_TRUE(b->fenced);
  EXPECT_FALSE(image.is_alive(BrokerId{7}));
  EXPECT_EQ(image.endpoint(BrokerId{7}), (Endpoint{"h", 1}));
  EXPECT_EQ(image.last_applied_index(), 3);
  EXPECT_EQ(image.last_applied_term(), 2);
}

TEST(ControllerImage, FenceUnfenceAndShutdownApplyOnlyToTheCurrentEpoch) {
  MetadataImage image = three_brokers_one_topic();
  EXPECT_TRUE(image.is_alive(BrokerId{1}));
  // Broker 1 restarts: its new registration (index 10) starts fenced.
  ASSERT_TRUE(image.apply_record(10, 1, RegisterBrokerRecord{BrokerId{1}, {}, {"b1", 9091}, {}}));
  EXPECT_FALSE(image.is_alive(BrokerId{1}));
  // An unfence or shutdown decided for the old epoch no longer applies.
  EXPECT_FALSE(image.apply_record(11, 1, UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{1}}));
  EXPECT_FALSE(image.apply_record(12, 1, BrokerShutdownRecord{BrokerId{1}, BrokerEpoch{1}}));
  EXPECT_EQ(image.skipped_count(), 2);
  EXPECT_EQ(image.last_applied_index(), 12);
  EXPECT_TRUE(image.apply_record(13, 1, UnfenceBrokerRecord{BrokerId{1}, BrokerEpoch{10}}));
  EXPECT_TRUE(image.is_alive(BrokerId{1}));
  EXPECT_TRUE(image.apply_record(14, 1, BrokerShutdownRecord{BrokerId{1}, BrokerEpoch{10}}));
  EXPECT_FALSE(image.is_alive(BrokerId{1}));
  EXPECT_TRUE(image.broker(BrokerId{1})->in_controlled_shutdown);
  EXPECT_TRUE(image.apply_record(15, 1, FenceBrokerRecord{BrokerId{2}, BrokerEpoch{2}}));
  EXPECT_EQ(image.alive_brokers(), ids({3}));
  EXPECT_FALSE(image.apply_record(16, 1, FenceBrokerRecord{BrokerId{9}, BrokerEpoch{2}}));
}

TEST(ControllerImage, PartitionChangeBumpsEpochsAsKafkaDoes) {
  MetadataImage image = three_brokers_one_topic();
  const TopicId t = small_topic_id(0);
  // ISR only: partition epoch +1, leader epoch unchanged.
  ASSERT_TRUE(image.apply_record(20, 1, PartitionChangeRecord{t, PartitionId{0}, ids({1}), {}, {}}));
  const PartitionState* p = image.partition(t, PartitionId{0});
  EXPECT_EQ(p->isr, ids({1}));
  EXPECT_EQ(p->partition_epoch, PartitionEpoch{1});
  EXPECT_EQ(p->leader_epoch, LeaderEpoch{0});
  // The same leader named again is no leader change.
  ASSERT_TRUE(image.apply_record(21, 1, PartitionChangeRecord{t, PartitionId{0}, {}, BrokerId{1}, {}}));
  EXPECT_EQ(p->leader_epoch, LeaderEpoch{0});
  EXPECT_EQ(p->partition_epoch, PartitionEpoch{2});
  // Leader to none, then back: two leader changes.
  ASSERT_TRUE(image.apply_record(22, 1, PartitionChangeRecord{t, PartitionId{0}, {}, kNoLeader, {}}));
  ASSERT_TRUE(image.apply_record(23, 1, PartitionChangeRecord{t, PartitionId{0}, {}, BrokerId{1}, {}}));
  EXPECT_EQ(p->leader_epoch, LeaderEpoch{2});
  EXPECT_EQ(p->partition_epoch, PartitionEpoch{4});
}

TEST(ControllerImage, MalformedPartitionStatesAreRefusedWhole) {
  MetadataImage image = three_brokers_one_topic();
  const TopicId t = small_topic_id(0);
  const MetadataImage before = image;
  std::int64_t index = image.last_applied_index();
  const std::vector<MetadataRecord> refused = {
      PartitionChangeRecord{t, PartitionId{0}, ids({1, 3}), {}, {}},       // ISR outside replicas
      PartitionChangeRecord{t, PartitionId{0}, ids({}), {}, {}},           // empty ISR
      PartitionChangeRecord{t, PartitionId{0}, ids({2}), BrokerId{1}, {}}, // leader outside ISR
      PartitionChangeRecord{t, PartitionId{0}, {}, {}, ids({2, 3})},       // ISR left outside
      PartitionChangeRecord{t, PartitionId{9}, ids({1}), {}, {}},          // unknown partition
      PartitionChangeRecord{small_topic_id(2), PartitionId{0}, ids({1}), {}, {}},
      PartitionRecord{t, PartitionId{0}, ids({1}), ids({1}), BrokerId{1}, {}, {}},  // exists
      PartitionRecord{t, PartitionId{5}, ids({1, 1}), ids({1}), BrokerId{1}, {}, {}},
      PartitionRecord{small_topic_id(2), PartitionId{0}, ids({1}), ids({1}), BrokerId{1}, {}, {}},
      TopicRecord{"t0", small_topic_id(1), {}},  // name taken
      TopicRecord{"t1", small_topic_id(0), {}},  // id taken
      TopicRecord{"t1", TopicId{}, {}},          // zero id
      RemoveTopicRecord{small_topic_id(2)},
      RegisterBrokerRecord{BrokerId{-1}, {}, {"h", 1}, {}},
  };
  for (const MetadataRecord& rec : refused) {
    EXPECT_FALSE(image.apply_record(++index, 1, rec)) << to_string(record_type(rec));
  }
  EXPECT_EQ(image.skipped_count(), static_cast<std::int64_t>(refused.size()));
  EXPECT_EQ(image.brokers(), before.brokers());
  EXPECT_EQ(image.topics(), before.topics());
}

TEST(ControllerImage, UndecodableEntriesAreSkippedAndCounted) {
  MetadataImage image;
  const std::vector<std::uint8_t> garbage = {0xff, 0x00, 0x13};
  image.apply(1, 1, garbage);
  image.apply(2, 1, encode_record(RegisterBrokerRecord{BrokerId{1}, {}, {"h", 1}, {}}));
  EXPECT_EQ(image.skipped_count(), 1);
  EXPECT_EQ(image.last_applied_index(), 2);
  ASSERT_NE(image.broker(BrokerId{1}), nullptr);
  EXPECT_EQ(image.broker(BrokerId{1})->epoch, BrokerEpoch{2});
}

TEST(ControllerImage, QueriesAnswerByNameAndIdSorted) {
  MetadataImage image = three_brokers_one_topic();
  apply_all(image, {
      TopicRecord{"a-first", small_topic_id(2), {}},
      PartitionRecord{small_topic_id(2), PartitionId{0}, ids({3, 2}), ids({3}), BrokerId{3}, {}, {}},
  });
  const PartitionState* p = image.partition("t0", PartitionId{1});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->leader, BrokerId{2});
  EXPECT_EQ(p->replicas, ids({2, 3}));
  EXPECT_EQ(image.partition("t0", PartitionId{7}), nullptr);
  EXPECT_EQ(image.partition("nope", PartitionId{0}), nullptr);
  EXPECT_EQ(image.topic("t0")->configs.at("retention.ms"), "5");
  EXPECT_EQ(image.topic(small_topic_id(0))->name, "t0");

  const std::vector<PartitionRef> of2 = image.partitions_of_replica(BrokerId{2});
  const std::vector<PartitionRef> expected = {
      {"a-first", small_topic_id(2), PartitionId{0}},
      {"t0", small_topic_id(0), PartitionId{0}},
      {"t0", small_topic_id(0), PartitionId{1}},
  };
  EXPECT_EQ(of2, expected);
  const std::vector<PartitionRef> led = image.partitions_led_by(BrokerId{2});
  ASSERT_EQ(led.size(), 1u);
  EXPECT_EQ(led[0].partition, PartitionId{1});
  EXPECT_FALSE(image.endpoint(BrokerId{9}).has_value());
}

TEST(ControllerImage, RemoveTopicForgetsNameAndPartitions) {
  MetadataImage image = three_brokers_one_topic();
  apply_all(image, {RemoveTopicRecord{small_topic_id(0)}});
  EXPECT_EQ(image.topic("t0"), nullptr);
  EXPECT_TRUE(image.partitions_of_replica(BrokerId{1}).empty());
  // The name is free again, under a new id.
  apply_all(image, {TopicRecord{"t0", small_topic_id(1), {}}});
  EXPECT_EQ(image.topic("t0")->id, small_topic_id(1));
  EXPECT_EQ(image.skipped_count(), 0);
}

TEST(ControllerImage, SnapshotRoundTripsExactly) {
  const MetadataImage image = three_brokers_one_topic();
  MetadataImage copy;
  ASSERT_TRUE(copy.restore(image.snapshot()).ok());
  EXPECT_EQ(copy, image);
  EXPECT_EQ(copy.snapshot(), image.snapshot());
}

TEST(ControllerImage, CorruptSnapshotsAreRefusedAndChangeNothing) {
  const MetadataImage source = three_brokers_one_topic();
  const std::vector<std::uint8_t> good = source.snapshot();
  MetadataImage target;
  apply_all(target, {RegisterBrokerRecord{BrokerId{4}, {}, {"x", 1}, {}}});
  const MetadataImage before = target;
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(target.restore(std::span(good.data(), n)).ok()) << "cut at " << n;
  }
  std::vector<std::uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(target.restore(longer).ok());
  EXPECT_EQ(target, before);
}

TEST(ControllerImage, SnapshotWithBrokenPartitionIsRefused) {
  MetadataImage image;
  apply_all(image, {TopicRecord{"t", small_topic_id(0), {}},
                    PartitionRecord{small_topic_id(0), PartitionId{0}, ids({1}), ids({1}),
                                    BrokerId{1}, {}, {}}});
  std::vector<std::uint8_t> bytes = image.snapshot();
  // The snapshot ends with leader, leader epoch, partition epoch (int32s)
  // and the empty ELR (an int32 count); make the leader 9, which is
  // outside the ISR.
  bytes.at(bytes.size() - 13) = 9;
  MetadataImage target;
  EXPECT_FALSE(target.restore(bytes).ok());
  EXPECT_EQ(target, MetadataImage{});
}

std::vector<MetadataRecord> arb_history() {
  const auto n = *rc::gen::inRange<std::size_t>(0, 80);
  std::vector<MetadataRecord> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(testing::arb_plausible_record(static_cast<std::int64_t>(i) + 1));
  }
  return out;
}

TEST(ControllerImage, PropertySnapshotRestoreIsTheSameImage) {
  EXPECT_TRUE(rc::check("replay -> snapshot -> restore gives an equal image", [] {
    MetadataImage image;
    apply_all(image, arb_history());
    MetadataImage copy;
    RC_ASSERT(copy.restore(image.snapshot()).ok());
    RC_ASSERT(copy == image);
    RC_ASSERT(copy.snapshot() == image.snapshot());
  }));
}

TEST(ControllerImage, PropertySnapshotAtAnyPointThenRestEqualsFullReplay) {
  EXPECT_TRUE(rc::check("replay from a snapshot at any point matches full replay", [] {
    const std::vector<MetadataRecord> history = arb_history();
    const auto cut = *rc::gen::inRange<std::size_t>(0, history.size() + 1);
    MetadataImage full;
    MetadataImage before_cut;
    std::int64_t index = 0;
    for (std::size_t i = 0; i < history.size(); ++i) {
      ++index;
      const std::vector<std::uint8_t> entry = encode_record(history[i]);
      full.apply(index, 1 + index / 10, entry);
      if (i < cut) before_cut.apply(index, 1 + index / 10, entry);
    }
    MetadataImage resumed;
    RC_ASSERT(resumed.restore(before_cut.snapshot()).ok());
    for (std::size_t i = cut; i < history.size(); ++i) {
      const auto at = static_cast<std::int64_t>(i) + 1;
      resumed.apply(at, 1 + at / 10, encode_record(history[i]));
    }
    RC_ASSERT(resumed == full);
    // The generator must exercise the image, not only its refusals.
    RC_CLASSIFY(full.skipped_count() * 2 < static_cast<std::int64_t>(history.size()), "mostly applied");
  }));
}

TEST(ControllerImage, PropertyRandomSnapshotBytesNeverCrashRestore) {
  EXPECT_TRUE(rc::check("a corrupted snapshot is refused or restores a well-formed image", [] {
    MetadataImage image;
    apply_all(image, arb_history());
    std::vector<std::uint8_t> bytes = image.snapshot();
    const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
    MetadataImage target;
    if (target.restore(bytes).ok()) {
      for (const auto& [id, t] : target.topics()) {
        for (const auto& [index, p] : t.partitions) RC_ASSERT(is_well_formed(p));
      }
    }
  }));
}

}  // namespace
}  // namespace castle::controller
