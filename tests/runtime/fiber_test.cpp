// The scheduler core: spawn, join, cancel, kill, pause, and stale wait tokens.
#include <gtest/gtest.h>

#include "system/runtime/fiber.h"

namespace castle {
namespace {

TEST(Fiber, SpawnRunsBodyAndJoinWaits) {
  Scheduler s;
  FiberGroup g("g");
  std::vector<int> order;
  Task a = s.spawn(g, "a", [&] {
    order.push_back(1);
    s.yield();
    order.push_back(3);
  });
  s.spawn(g, "b", [&] {
    order.push_back(2);
    a.join();
    order.push_back(4);
  });
  s.run_ready();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(a.outcome(), TaskOutcome::finished);
  EXPECT_EQ(s.live_fibers(), 0u);
}

}  // namespace
}  // namespace castle
