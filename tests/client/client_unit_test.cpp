// The client's pure parts, without a network: Kafka's murmur2 partitioner
// against the Java client's published values, sticky partitioning of
// unkeyed records, the accumulator's batching rules, version negotiation,
// and the decoding of fetched record bytes.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "system/client/accumulator.h"
#include "system/client/config.h"
#include "system/client/errors.h"
#include "system/client/fetched_records.h"
#include "system/client/partitioner.h"
#include "system/client/versions.h"
#include "system/protocol/messages.h"
#include "system/storage/batch.h"

namespace castle::client {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Kafka's UtilsTest.testMurmur2: the Java implementation's results, so a
// key hashes here exactly as in a Java producer (every tail length 0-3).
TEST(Partitioner, Murmur2MatchesTheJavaClientsPublishedValues) {
  const std::map<std::string, std::int32_t> cases = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& [key, expected] : cases) EXPECT_EQ(murmur2(bytes_of(key)), expected) << key;
}

// toPositive masks the sign bit (it is not abs()), then mod the count.
TEST(Partitioner, KeyedPartitionIsToPositiveMurmur2ModCount) {
  EXPECT_EQ(to_positive(-1), 0x7fffffff);
  EXPECT_EQ(to_positive(-973932308), -973932308 & 0x7fffffff);
  for (std::int32_t n = 1; n <= 12; ++n) {
    EXPECT_EQ(partition_for_key(bytes_of("21"), n), (-973932308 & 0x7fffffff) % n);
    EXPECT_EQ(partition_for_key(bytes_of("abc"), n), 479470107 % n);
  }
}

// Unkeyed records stay on one partition for batch.size bytes, then move to
// another; over time every partition gets some.
TEST(Partitioner, StickyStaysForABatchThenMovesAndCoversAllPartitions) {
  Rng rng(7);
  StickyPartitioner sticky(1000);
  const std::int32_t first = sticky.next(4, 100, rng);
  for (int i = 1; i < 10; ++i) EXPECT_EQ(sticky.next(4, 100, rng), first);  // 1000 bytes
  EXPECT_NE(sticky.next(4, 100, rng), first);
  std::set<std::int32_t> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(sticky.next(4, 100, rng));
  EXPECT_EQ(seen.size(), 4u);
}

storage::Record record(std::size_t value_bytes, std::int64_t ts = 1000) {
  storage::Record r;
  r.value = Bytes(value_bytes, 'v');
  r.timestamp_ms = ts;
  return r;
}

const TopicPartition tp0{"t", 0};
const TopicPartition tp1{"t", 1};

// Records of one partition share a batch until batch.size, then a new one
// starts; the batch's size estimate is the built batch's size exactly.
TEST(Accumulator, FillsBatchesUpToBatchSize) {
  RecordAccumulator acc(1000, std::chrono::milliseconds(50));
  const Instant t0{};
  for (std::uint64_t i = 0; i < 25; ++i) (void)acc.append(tp0, record(100), i, t0);
  ASSERT_GT(acc.batch_count(), 1u);
  BatchPtr b = acc.take_front(tp0);
  EXPECT_LE(b->bytes, 1000u);
  EXPECT_GT(b->bytes + 120, 1000u);  // it was full: one more record would not fit
  EXPECT_EQ(storage::build_batch(b->records).size(), b->bytes);
  std::size_t total = b->records.size();
  while (acc.front(tp0)) total += acc.take_front(tp0)->records.size();
  EXPECT_EQ(total, 25u);
}

// A lone, small batch waits for linger.ms, unless a flush asks for it now;
// a full one (or one with another queued behind it) is ready at once.
TEST(Accumulator, ReadinessFollowsLingerFullnessAndFlush) {
  RecordAccumulator acc(1000, std::chrono::milliseconds(50));
  const Instant t0{};
  (void)acc.append(tp0, record(10), 1, t0);
  EXPECT_FALSE(acc.ready(tp0, t0));
  EXPECT_EQ(acc.next_ready_time(t0), t0 + std::chrono::milliseconds(50));
  EXPECT_TRUE(acc.ready(tp0, t0 + std::chrono::milliseconds(50)));
  acc.begin_flush();
  EXPECT_TRUE(acc.ready(tp0, t0));
  acc.end_flush();
  for (std::uint64_t i = 0; i < 12; ++i) (void)acc.append(tp1, record(100), 10 + i, t0);
  EXPECT_TRUE(acc.ready(tp1, t0));
  EXPECT_FALSE(acc.ready(tp0, t0));
}

// A sealed batch takes no more records; a retried batch goes back ahead of
// new ones, in sequence order, and waits out its backoff.
TEST(Accumulator, RetriesGoFirstInSequenceOrder) {
  RecordAccumulator acc(1000, std::chrono::milliseconds(0));
  const Instant t0{};
  (void)acc.append(tp0, record(10), 1, t0);
  BatchPtr a = acc.take_front(tp0);
  a->base_sequence = 0;
  (void)acc.append(tp0, record(10), 2, t0);
  BatchPtr b = acc.take_front(tp0);
  b->base_sequence = 1;
  (void)acc.append(tp0, record(10), 3, t0);  // a new batch: a and b are sealed
  EXPECT_EQ(a->records.size(), 1u);
  b->retry_at = t0 + std::chrono::milliseconds(100);
  acc.reenqueue(b);
  a->retry_at = t0 + std::chrono::milliseconds(100);
  acc.reenqueue(a);
  EXPECT_EQ(acc.front(tp0), a);
  EXPECT_FALSE(acc.ready(tp0, t0));
  EXPECT_TRUE(acc.ready(tp0, t0 + std::chrono::milliseconds(100)));
  EXPECT_EQ(acc.take_front(tp0), a);
  EXPECT_EQ(acc.take_front(tp0), b);
  EXPECT_EQ(acc.take_front(tp0)->record_ids, (std::vector<std::uint64_t>{3}));
  EXPECT_TRUE(acc.empty());
}

TEST(Accumulator, ExpiresBatchesPastTheDeliveryTimeout) {
  RecordAccumulator acc(1000, std::chrono::milliseconds(0));
  (void)acc.append(tp0, record(10), 1, Instant{});
  (void)acc.append(tp1, record(10), 2, Instant{} + std::chrono::seconds(1));
  auto gone = acc.expire(Instant{} + std::chrono::seconds(2), std::chrono::milliseconds(1500));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]->tp, tp0);
  EXPECT_EQ(acc.batch_count(), 1u);
}

// For each API: the highest version both sides support; none when the
// ranges do not meet (a broker without RecordBatch v2 produce).
TEST(Versions, PicksTheHighestCommonVersion) {
  protocol::ApiVersionsResponse r;
  r.api_keys = {{ApiKey::produce, 0, 5}, {ApiKey::fetch, 0, 20}, {ApiKey::metadata, 0, 0}};
  const ApiVersionTable t = ApiVersionTable::from_response(r);
  EXPECT_EQ(t.pick(ApiKey::produce), 5);
  EXPECT_EQ(t.pick(ApiKey::fetch), protocol::supported_versions(ApiKey::fetch)->max);
  EXPECT_EQ(t.pick(ApiKey::metadata), std::nullopt);     // we need v1+
  EXPECT_EQ(t.pick(ApiKey::list_offsets), std::nullopt);  // not offered
  r.api_keys = {{ApiKey::produce, 0, 2}};
  EXPECT_EQ(ApiVersionTable::from_response(r).pick(ApiKey::produce), std::nullopt);
}

Bytes batch_at(std::int64_t base_offset, int count) {
  std::vector<storage::Record> recs;
  for (int i = 0; i < count; ++i) {
    storage::Record r = record(5, 1000 + i);
    r.key = Bytes{static_cast<std::uint8_t>('a' + i)};
    recs.push_back(r);
  }
  storage::BatchOptions o;
  o.base_offset = base_offset;
  return storage::build_batch(recs, o);
}

// Records below the fetch offset inside a returned batch are skipped, and
// a partial batch at the end (cut by the byte limit) is left for later.
TEST(FetchedRecords, SkipsRecordsBeforeTheOffsetAndAPartialTail) {
  Bytes bytes = batch_at(10, 5);
  const Bytes second = batch_at(15, 3);
  bytes.insert(bytes.end(), second.begin(), second.end());
  const Bytes third = batch_at(18, 4);
  bytes.insert(bytes.end(), third.begin(), third.begin() + 30);
  FetchedRecords got = decode_fetched("t", 2, bytes, 13);
  EXPECT_FALSE(got.error);
  ASSERT_EQ(got.records.size(), 5u);
  EXPECT_EQ(got.records.front().offset, 13);
  EXPECT_EQ(got.records.back().offset, 17);
  EXPECT_EQ(got.records.front().topic, "t");
  EXPECT_EQ(got.records.front().partition, 2);
  EXPECT_EQ(got.records.front().key, Bytes{'d'});
  EXPECT_EQ(got.records.front().timestamp_ms, 1003);
  EXPECT_EQ(got.next_offset, 18);
  EXPECT_FALSE(got.only_partial);

  FetchedRecords partial = decode_fetched("t", 2, std::span(third).first(30), 18);
  EXPECT_TRUE(partial.only_partial);
  EXPECT_TRUE(partial.records.empty());
}

TEST(FetchedRecords, ACorruptBatchIsAnError) {
  Bytes bytes = batch_at(0, 3);
  bytes.back() ^= 0x40;
  FetchedRecords got = decode_fetched("t", 0, bytes, 0);
  EXPECT_EQ(got.error, kafka_error(ErrorCode::CORRUPT_MESSAGE));
  EXPECT_TRUE(got.records.empty());
}

TEST(Errors, KafkaCodesRoundTripAndClassify) {
  const std::error_code ec = kafka_error(ErrorCode::NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(as_kafka_error(ec), ErrorCode::NOT_LEADER_OR_FOLLOWER);
  EXPECT_EQ(ec.message(), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_TRUE(is_retriable(ErrorCode::NOT_LEADER_OR_FOLLOWER));
  EXPECT_TRUE(needs_metadata_refresh(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  EXPECT_FALSE(is_retriable(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
  EXPECT_EQ(as_kafka_error(std::make_error_code(std::errc::connection_reset)), std::nullopt);
  EXPECT_TRUE(is_network_error(std::make_error_code(std::errc::connection_reset)));
}

// Kafka's construction-time rules: idempotence needs acks=all, retries and
// at most five requests in flight.
TEST(Config, IdempotenceRulesAreEnforced) {
  ProducerConfig c;
  c.client.bootstrap_servers = {Address{"b", 9092}};
  c.enable_idempotence = true;
  EXPECT_TRUE(validate(c).ok());
  c.acks = 1;
  EXPECT_FALSE(validate(c).ok());
  c.acks = -1;
  c.client.max_in_flight_requests_per_connection = 6;
  EXPECT_FALSE(validate(c).ok());
  c.client.max_in_flight_requests_per_connection = 5;
  c.retries = 0;
  EXPECT_FALSE(validate(c).ok());
  c.enable_idempotence = false;
  EXPECT_TRUE(validate(c).ok());
  c.client.bootstrap_servers.clear();
  EXPECT_FALSE(validate(c).ok());
}

}  // namespace
}  // namespace castle::client
