// The nemesis's partitions as a scenario names them: a "leader" target that
// resolves to a node the other side also lists stays on its own side, so
// split ["leader", "n0"] from ["n1", "n2", "n3"] keeps the leader with n0
// and cuts both from the rest; healing restores every link; and a slow_sync
// with an amount slows the node's syncs to that latency, then restores them.
#include <gtest/gtest.h>

#include "scenarios/nemesis.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"

namespace castle::scenarios {
namespace {

std::vector<sim::SimNode*> idle_nodes(sim::World& w, int count) {
  std::vector<sim::SimNode*> nodes;
  for (int i = 0; i < count; ++i) {
    sim::SimNode& n = w.add_node("n" + std::to_string(i));
    n.set_main([](Runtime&) {});
    n.start();
    nodes.push_back(&n);
  }
  return nodes;
}

TEST(Nemesis, LeaderNamedOnBothSidesOfASplitStaysOnTheFirst) {
  sim::World w(3);
  const auto n = idle_nodes(w, 4);
  Nemesis nemesis(w);
  nemesis.set_leader_finder([] { return std::string("n2"); });
  FaultSpec split;
  split.at_ms = 10;
  split.kind = "split";
  split.duration_ms = 100;
  split.nodes = {"leader", "n0"};
  split.others = {"n1", "n2", "n3"};
  nemesis.schedule({split}, 1000);
  w.run_for(milliseconds(50));
  auto& net = w.network();
  EXPECT_TRUE(net.link_up(n[2]->id(), n[0]->id()));
  EXPECT_TRUE(net.link_up(n[0]->id(), n[2]->id()));
  EXPECT_TRUE(net.link_up(n[1]->id(), n[3]->id()));
  for (int a : {0, 2})
    for (int b : {1, 3}) {
      EXPECT_FALSE(net.link_up(n[a]->id(), n[b]->id())) << a << "->" << b;
      EXPECT_FALSE(net.link_up(n[b]->id(), n[a]->id())) << b << "->" << a;
    }
  ASSERT_EQ(nemesis.applied().size(), 1u);
  EXPECT_EQ(nemesis.applied()[0].nodes, (std::vector<std::string>{"n2", "n0"}));
  EXPECT_EQ(nemesis.applied()[0].others, (std::vector<std::string>{"n1", "n3"}));
  w.run_for(milliseconds(100));
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) EXPECT_TRUE(net.link_up(n[a]->id(), n[b]->id()));
}

TEST(Nemesis, SlowSyncTakesTheAmountAsItsLatencyAndRestoresTheDisk) {
  sim::World w(4);
  const auto n = idle_nodes(w, 1);
  const sim::DiskConfig before = n[0]->sim_disk().config();
  Nemesis nemesis(w);
  FaultSpec slow;
  slow.at_ms = 10;
  slow.kind = "slow_sync";
  slow.duration_ms = 100;
  slow.nodes = {"n0"};
  slow.amount = 20;
  nemesis.schedule({slow}, 1000);
  w.run_for(milliseconds(50));
  EXPECT_EQ(n[0]->sim_disk().config().slow_sync_rate, 1.0);
  EXPECT_EQ(n[0]->sim_disk().config().slow_sync_latency, milliseconds(20));
  w.run_for(milliseconds(100));
  EXPECT_EQ(n[0]->sim_disk().config().slow_sync_rate, before.slow_sync_rate);
  EXPECT_EQ(n[0]->sim_disk().config().slow_sync_latency, before.slow_sync_latency);
}

}  // namespace
}  // namespace castle::scenarios
