#pragma once
// A simulated Castle cluster: N combined nodes s0..s<N-1> (broker and
// controller in one process, Kafka port 9092, controller port 9093, node
// ids 0..N-1) and one client node. Test bodies run as fibers of the client
// node; nodes can be crashed, restarted and cut off the network.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/broker/broker.h"
#include "system/client/admin.h"
#include "system/client/consumer.h"
#include "system/client/producer.h"
#include "system/runtime/sync.h"
#include "tests/sim/node_rig.h"

namespace castle::cluster::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

inline constexpr std::uint16_t kafka_port = 9092;
inline constexpr std::uint16_t controller_port = 9093;

inline std::string node_name(int i) { return "s" + std::to_string(i); }

// Timings shortened from Kafka's defaults so that failures are noticed
// within simulated seconds.
inline broker::BrokerConfig node_config(int id, int nodes) {
  broker::BrokerConfig c;
  c.node_id = id;
  c.listen = Address{node_name(id), kafka_port};
  c.advertised = c.listen;
  c.log_dir = "kafka-logs";
  c.num_partitions = 3;
  c.default_replication_factor = 3;
  auto& cc = c.cluster;
  cc.broker_role = true;
  cc.controller_role = true;
  for (int v = 0; v < nodes; ++v) cc.voters.push_back({v, Address{node_name(v), controller_port}});
  cc.controller_listen = Address{node_name(id), controller_port};
  broker::use_fast_failure_detection(cc);
  return c;
}

struct Rig {
  explicit Rig(int nodes = 3, std::uint64_t seed = 1) : world(seed) {
    for (int i = 0; i < nodes; ++i) {
      servers.push_back(&world.add_node(node_name(i)));
      configs.push_back(node_config(i, nodes));
    }
    client_node = &world.add_node("client");
    for (int i = 0; i < nodes; ++i) {
      servers[static_cast<std::size_t>(i)]->set_main([this, i](Runtime& rt) {
        broker::Broker b(rt, configs[static_cast<std::size_t>(i)]);
        if (auto r = b.start(); !r) {
          ADD_FAILURE() << node_name(i) << " did not start: " << r.error().message();
          return;
        }
        Event forever;
        forever.wait(rt);
      });
      servers[static_cast<std::size_t>(i)]->start();
    }
  }

  bool run(std::function<void(Runtime&)> body, Duration limit = seconds(300)) {
    return sim::testing::run_step(world, *client_node, std::move(body), limit);
  }

  sim::SimNode& server(int i) { return *servers.at(static_cast<std::size_t>(i)); }

  client::ClientConfig client_config() const {
    client::ClientConfig c;
    for (std::size_t i = 0; i < servers.size(); ++i)
      c.bootstrap_servers.push_back(Address{node_name(static_cast<int>(i)), kafka_port});
    c.client_id = "cluster-test";
    return c;
  }

  sim::World world;
  std::vector<sim::SimNode*> servers;
  std::vector<broker::BrokerConfig> configs;
  sim::SimNode* client_node = nullptr;
};

}  // namespace castle::cluster::testing
