// The world's event loop, per-node clocks and node lifecycle.
#include <gtest/gtest.h>

#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/sync.h"

namespace castle::sim {
namespace {

TEST(World, SleepAdvancesVirtualTimeOnly) {
  World w(1);
  SimNode& n = w.add_node("n1");
  Instant before{}, after{};
  n.set_main([&](Runtime& rt) {
    before = rt.now();
    rt.sleep_for(seconds(10));
    after = rt.now();
  });
  n.start();
  w.run_for(seconds(20));
  EXPECT_GE(after - before, seconds(10));
  EXPECT_LT(after - before, seconds(10) + microseconds(1));
}

}  // namespace
}  // namespace castle::sim
