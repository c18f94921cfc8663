// Castle's own Kafka client against the broker on the real runtime: real
// loopback TCP, real files. Keyed records produced with idempotence come
// back in order per partition, nothing missing, nothing twice, on the
// partitions Kafka's partitioner picks; and they are still there after the
// broker is shut down and opened again on the same directory.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "system/broker/broker.h"
#include "system/client/admin.h"
#include "system/client/consumer.h"
#include "system/client/partitioner.h"
#include "system/client/producer.h"
#include "tests/real/real_test_util.h"

namespace castle::real::testing {
namespace {

constexpr int partitions = 3;
constexpr int records = 600;

broker::BrokerConfig broker_config() {
  broker::BrokerConfig c;
  c.listen = Address{"127.0.0.1", 0};
  c.advertised = c.listen;
  c.log_dir = "kafka-logs";
  return c;
}

client::ClientConfig client_config(const Address& a) {
  client::ClientConfig c;
  c.bootstrap_servers = {a};
  c.request_timeout_ms = 5000;
  return c;
}

void produce_all(Runtime& rt, const Address& a) {
  client::ProducerConfig pc;
  pc.client = client_config(a);
  pc.enable_idempotence = true;
  pc.linger_ms = 2;
  auto producer = client::Producer::create(rt, pc);
  ASSERT_TRUE(producer.ok());
  std::vector<Future<client::DeliveryReport>> sent;
  // Several rounds, so each partition holds several batches.
  for (int i = 0; i < records; ++i) {
    sent.push_back((*producer)->send("orders", client::to_bytes("key-" + std::to_string(i % 50)),
                                     client::to_bytes(std::to_string(i))));
    if (i % 100 == 99) {
      ASSERT_TRUE((*producer)->flush(seconds(10)).ok());
    }
  }
  for (auto& f : sent) {
    ASSERT_EQ(f.wait(rt, rt.now() + seconds(10)), FutureStatus::ready);
    ASSERT_TRUE(f.value().ok()) << f.value().error.message();
  }
  (*producer)->close();
}

// partition -> values in offset order
std::map<int, std::vector<int>> consume_all(Runtime& rt, const Address& a) {
  client::ConsumerConfig cc;
  cc.client = client_config(a);
  cc.auto_offset_reset = client::OffsetReset::earliest;
  cc.fetch_max_wait_ms = 50;
  auto consumer = client::Consumer::create(rt, cc);
  EXPECT_TRUE(consumer.ok());
  std::vector<client::TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back({"orders", p});
  (*consumer)->assign(tps);
  std::map<int, std::vector<int>> got;
  int total = 0;
  const Instant until = rt.now() + seconds(10);
  std::int64_t last_offset[partitions] = {-1, -1, -1};
  while (total < records && rt.now() < until) {
    auto batch = (*consumer)->poll(milliseconds(200));
    EXPECT_TRUE(batch.ok());
    if (!batch) break;
    for (const auto& r : *batch) {
      EXPECT_EQ(r.offset, last_offset[r.partition] + 1) << "offsets are dense and in order";
      last_offset[r.partition] = r.offset;
      const int v = std::stoi(client::to_string(*r.value));
      const std::string key = client::to_string(*r.key);
      EXPECT_EQ(client::partition_for_key(client::to_bytes(key), partitions), r.partition) << key;
      got[r.partition].push_back(v);
      ++total;
    }
  }
  (*consumer)->close();
  return got;
}

void expect_everything_once_in_order(const std::map<int, std::vector<int>>& got) {
  std::set<int> seen;
  for (const auto& [p, values] : got) {
    for (std::size_t i = 1; i < values.size(); ++i)
      EXPECT_LT(values[i - 1], values[i]) << "one producer's records stay in send order";
    for (int v : values) EXPECT_TRUE(seen.insert(v).second) << v << " read twice";
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(records));
}

TEST(ClientReal, ProducesAndConsumesThroughTheRealNetworkAndSurvivesARestart) {
  TempDir dir;
  {
    RealRuntime rt(config_for(dir));
    run_fiber(rt, [&] {
      broker::Broker b(rt, broker_config());
      ASSERT_TRUE(b.start().ok());
      auto admin = client::Admin::create(rt, client_config(b.local_address()));
      ASSERT_TRUE(admin.ok());
      auto created = (*admin)->create_topics({{"orders", partitions, 1, {}}});
      ASSERT_TRUE(created.ok());
      produce_all(rt, b.local_address());
      expect_everything_once_in_order(consume_all(rt, b.local_address()));
      ASSERT_TRUE(b.shutdown().ok());
    }, seconds(30));
  }
  RealRuntime rt(config_for(dir));
  run_fiber(rt, [&] {
    broker::Broker b(rt, broker_config());
    ASSERT_TRUE(b.start().ok());
    expect_everything_once_in_order(consume_all(rt, b.local_address()));
    ASSERT_TRUE(b.shutdown().ok());
  }, seconds(30));
}

}  // namespace
}  // namespace castle::real::testing
