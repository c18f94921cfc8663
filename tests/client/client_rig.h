#pragma once
// A simulated world with one broker node ("broker") and one client node
// ("client") for the client's tests. Test bodies run as fibers of the client
// node; the broker node runs a Broker until it is crashed. Helpers build the
// client configs pointed at the broker.

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "sim/network.h"
#include "sim/node.h"
#include "tests/sim/node_rig.h"
#include "sim/world.h"
#include "system/broker/broker.h"
#include "system/client/admin.h"
#include "system/client/consumer.h"
#include "system/client/producer.h"
#include "system/runtime/sync.h"

namespace castle::client::testing {

inline constexpr std::uint16_t broker_port = 9092;

struct Rig {
  explicit Rig(std::uint64_t seed = 1, broker::BrokerConfig cfg = {})
      : world(seed), broker_node(world.add_node("broker")), client_node(world.add_node("client")) {
    cfg.listen = Address{"broker", broker_port};
    cfg.advertised = cfg.listen;
    cfg.log_dir = "kafka-logs";
    config = cfg;
    broker_node.set_main([this](Runtime& rt) {
      broker::Broker b(rt, config);
      auto r = b.start();
      if (!r) {
        start_error = r.error();
        return;
      }
      broker = &b;
      Event forever;
      forever.wait(rt);
    });
    broker_node.start();
  }

  // Runs body on the client node until it ends or limit of simulated time
  // passes. An exception (a failed ASSERT) is carried out of the fiber.
  bool run(std::function<void(Runtime&)> body, Duration limit = std::chrono::seconds(300)) {
    return sim::testing::run_step(world, client_node, std::move(body), limit);
  }

  void crash_broker() {
    broker = nullptr;
    broker_node.crash();
  }
  void restart_broker() { broker_node.restart(); }

  ClientConfig client_config() const {
    ClientConfig c;
    c.bootstrap_servers = {Address{"broker", broker_port}};
    c.client_id = "client-test";
    return c;
  }
  ProducerConfig producer_config(std::int16_t acks = -1) const {
    ProducerConfig c;
    c.client = client_config();
    c.acks = acks;
    return c;
  }
  ConsumerConfig consumer_config() const {
    ConsumerConfig c;
    c.client = client_config();
    c.auto_offset_reset = OffsetReset::earliest;
    return c;
  }

  sim::World world;
  sim::SimNode& broker_node;
  sim::SimNode& client_node;
  broker::BrokerConfig config;
  broker::Broker* broker = nullptr;
  std::error_code start_error;
};

inline std::unique_ptr<Admin> make_admin(Runtime& rt, const Rig& rig) {
  auto a = Admin::create(rt, rig.client_config());
  CASTLE_ASSERT(a.ok(), "admin config is valid");
  return std::move(*a);
}

inline std::unique_ptr<Producer> make_producer(Runtime& rt, ProducerConfig c) {
  auto p = Producer::create(rt, std::move(c));
  CASTLE_ASSERT(p.ok(), "producer config is valid");
  return std::move(*p);
}

inline std::unique_ptr<Consumer> make_consumer(Runtime& rt, ConsumerConfig c) {
  auto p = Consumer::create(rt, std::move(c));
  CASTLE_ASSERT(p.ok(), "consumer config is valid");
  return std::move(*p);
}

// Creates a topic and asserts it worked.
inline void create_topic(Runtime& rt, const Rig& rig, const std::string& name,
                         std::int32_t partitions,
                         std::map<std::string, std::string> configs = {}) {
  auto admin = make_admin(rt, rig);
  auto r = admin->create_topics({NewTopic{name, partitions, 1, std::move(configs)}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_FALSE(r->at(name)) << r->at(name).message();
}

inline std::vector<TopicPartition> partitions_of(const std::string& topic, std::int32_t count) {
  std::vector<TopicPartition> out;
  for (std::int32_t p = 0; p < count; ++p) out.push_back({topic, p});
  return out;
}

// Polls until `count` records came back or the simulated deadline passes.
inline std::vector<ConsumerRecord> consume(Runtime& rt, Consumer& c, std::size_t count,
                                           Duration limit = std::chrono::seconds(30)) {
  std::vector<ConsumerRecord> out;
  const Instant deadline = rt.now() + limit;
  while (out.size() < count && rt.now() < deadline) {
    auto got = c.poll(std::chrono::milliseconds(200));
    EXPECT_TRUE(got.ok()) << got.error().message();
    if (!got) break;
    for (auto& r : *got) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace castle::client::testing
