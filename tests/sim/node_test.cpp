// Simulated nodes: crash unwinds every fiber and nothing of the node runs
// again; restart boots the main function anew; pause stops the node's
// fibers while time passes; drift and jumps change what the node's clocks
// say and nothing else.
#include <gtest/gtest.h>

#include "sim/node.h"
#include "sim/world.h"

namespace castle::sim {
namespace {

struct Counter {
  int* destroyed;
  ~Counter() { ++*destroyed; }
};

TEST(Node, CrashUnwindsEveryFiberAndStopsTheNode) {
  World w(1);
  SimNode& n = w.add_node("n1");
  int boots = 0, destroyed = 0, ticks = 0;
  n.set_main([&](Runtime& rt) {
    ++boots;
    Counter c{&destroyed};
    for (int i = 0; i < 3; ++i)
      rt.spawn("worker", [&] {
        Counter wc{&destroyed};
        for (;;) {
          rt.sleep_for(milliseconds(10));
          ++ticks;
        }
      });
    rt.sleep_for(hours(1));
  });
  n.start();
  w.run_for(milliseconds(105));
  EXPECT_EQ(ticks, 30);
  n.crash();
  EXPECT_EQ(destroyed, 4);  // main and three workers, destructors run
  EXPECT_EQ(n.fiber_count(), 0u);
  w.run_for(seconds(1));
  EXPECT_EQ(ticks, 30);  // nothing of the crashed node ran
  n.start();
  w.run_for(milliseconds(55));
  EXPECT_EQ(boots, 2);
  EXPECT_EQ(ticks, 45);
  EXPECT_EQ(n.incarnation(), 2u);
}

TEST(Node, PauseStopsFibersButNotTime) {
  World w(2);
  SimNode& n = w.add_node("n1");
  std::vector<std::int64_t> wakeups;
  n.set_main([&](Runtime& rt) {
    for (;;) {
      rt.sleep_for(milliseconds(100));
      wakeups.push_back(w.now() / 1'000'000);
    }
  });
  n.start();
  w.run_for(milliseconds(250));
  ASSERT_EQ(wakeups.size(), 2u);
  n.pause();
  w.run_for(milliseconds(1000));
  EXPECT_EQ(wakeups.size(), 2u);  // the timer fired, the fiber did not run
  n.resume();
  w.run_for(milliseconds(1));
  ASSERT_EQ(wakeups.size(), 3u);
  EXPECT_EQ(wakeups[2], 1250);  // it runs at once on resume, late, as after a GC pause
}

TEST(Node, DriftChangesTheNodeClockRate) {
  World w(3);
  SimNode& fast = w.add_node("fast");
  SimNode& normal = w.add_node("normal");
  fast.set_drift_ppm(100'000);  // 10% fast
  const Instant f0 = fast.now(), n0 = normal.now();
  w.run_for(seconds(10));
  EXPECT_EQ(normal.now() - n0, seconds(10));
  EXPECT_EQ(fast.now() - f0, seconds(11));
}

// The drift scaling is done in 64 bits while it fits and in 128 beyond
// (about 2.3 simulated hours at 10% fast): both must give the exact value.
TEST(Node, DriftStaysExactPastTheSixtyFourBitProduct) {
  World w(13);
  SimNode& fast = w.add_node("fast");
  fast.set_drift_ppm(100'000);
  const Instant f0 = fast.now();
  w.run_for(hours(2));
  EXPECT_EQ(fast.now() - f0, minutes(132));
  w.run_for(hours(2));
  EXPECT_EQ(fast.now() - f0, minutes(264));
  w.run_for(hours(96));
  EXPECT_EQ(fast.now() - f0, hours(110));
}

TEST(Node, SleepOnADriftingClockLastsItsOwnDuration) {
  World w(4);
  SimNode& n = w.add_node("slow");
  n.set_drift_ppm(-500'00);  // 5% slow
  std::int64_t woke_world_ns = 0;
  Duration measured{};
  n.set_main([&](Runtime& rt) {
    const Instant t0 = rt.now();
    rt.sleep_for(seconds(1));
    measured = rt.now() - t0;
    woke_world_ns = w.now();
  });
  n.start();
  w.run_for(seconds(5));
  EXPECT_GE(measured, seconds(1));
  EXPECT_LT(measured, seconds(1) + microseconds(1));
  // In world time the sleep took longer, as the node's clock runs slow.
  EXPECT_GT(woke_world_ns, 1'050'000'000);
}

TEST(Node, WallClockJumpsBothWaysMonotonicOnlyForward) {
  World w(5);
  SimNode& n = w.add_node("n1");
  const WallTime wall0 = n.wall_now();
  const Instant mono0 = n.now();
  n.jump_wall(-minutes(5));
  EXPECT_EQ(n.wall_now() - wall0, -minutes(5));
  EXPECT_EQ(n.now(), mono0);
  n.jump_monotonic(seconds(3));
  EXPECT_EQ(n.now() - mono0, seconds(3));
}

TEST(Node, NodesStartWithDifferentClocks) {
  World w(6);
  SimNode& a = w.add_node("a");
  SimNode& b = w.add_node("b");
  EXPECT_NE(a.now(), b.now());
  EXPECT_LT(std::chrono::abs(a.wall_now() - b.wall_now()), milliseconds(200));
}

TEST(Buggify, ArmedBySeedAndPointNameOnly) {
  auto armed = [](std::uint64_t seed) {
    World w(seed);
    w.set_buggify({true, 0.5, 1.0});
    std::vector<bool> fired;
    for (const char* p : {"a", "b", "c", "d", "e", "f", "g", "h"}) fired.push_back(w.buggify(p));
    return fired;
  };
  EXPECT_EQ(armed(7), armed(7));
  bool differs = false;
  for (std::uint64_t s = 8; s < 20 && !differs; ++s) differs = armed(s) != armed(7);
  EXPECT_TRUE(differs);
  World off(1);
  EXPECT_FALSE(off.buggify("a"));
}

// The report counts how often each armed point fired; a weight scales how
// often; once the faults are over (stop_buggify) none fires, and the
// points reached stay listed.
TEST(Buggify, CountsFiresScalesByWeightAndStops) {
  World w(3);
  w.set_buggify({true, 1.0, 0.5});
  int heavy = 0, light = 0;
  for (int i = 0; i < 2000; ++i) {
    heavy += w.buggify("heavy", 2.0) ? 1 : 0;  // always: 0.5 x 2
    light += w.buggify("light", 0.1) ? 1 : 0;  // one in twenty
  }
  EXPECT_EQ(heavy, 2000);
  EXPECT_GT(light, 50);
  EXPECT_LT(light, 200);
  EXPECT_EQ(w.buggify_points().at("heavy").fired, 2000u);
  EXPECT_EQ(w.buggify_points().at("light").fired, static_cast<std::uint64_t>(light));
  w.stop_buggify();
  EXPECT_FALSE(w.buggify("heavy", 2.0));
  EXPECT_TRUE(w.buggify_points().at("heavy").armed);
}

}  // namespace
}  // namespace castle::sim
