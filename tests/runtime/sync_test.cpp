// Channels, events, promises and deadlines, run on the simulator's clock
// (the runtime interface needs some Runtime; the simulated one is exact).
#include <gtest/gtest.h>

#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/sync.h"

namespace castle {
namespace {

using sim::SimNode;
using sim::World;

void run_on_node(std::uint64_t seed, const std::function<void(Runtime&)>& body) {
  World w(seed);
  SimNode& n = w.add_node("n1");
  bool finished = false;
  n.set_main([&](Runtime& rt) {
    body(rt);
    finished = true;
  });
  n.start();
  w.run_for(std::chrono::hours(1));
  ASSERT_TRUE(finished);
}

// A bounded channel blocks its sender when full and delivers in order.
TEST(Sync, ChannelIsBoundedAndOrdered) {
  run_on_node(1, [](Runtime& rt) {
    Channel<int> ch(2);
    std::vector<int> got;
    Task consumer = rt.spawn("consumer", [&] {
      rt.sleep_for(milliseconds(10));
      for (;;) {
        auto [st, v] = ch.recv(rt);
        if (st != ChannelStatus::ok) break;
        got.push_back(*v);
      }
    });
    const Instant start = rt.now();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(ch.send(rt, i), ChannelStatus::ok);
    // The third send had to wait for the consumer, which slept 10 ms.
    EXPECT_GE(rt.now() - start, milliseconds(10));
    ch.close();
    consumer.join();
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
  });
}

// recv with a deadline times out on an empty channel at the deadline.
TEST(Sync, ChannelRecvTimesOut) {
  run_on_node(2, [](Runtime& rt) {
    Channel<int> ch(1);
    const Instant start = rt.now();
    auto [st, v] = ch.recv(rt, start + milliseconds(50));
    EXPECT_EQ(st, ChannelStatus::timed_out);
    EXPECT_FALSE(v.has_value());
    EXPECT_GE(rt.now() - start, milliseconds(50));
    EXPECT_EQ(ch.send(rt, 1, rt.now() + milliseconds(1)), ChannelStatus::ok);
    EXPECT_EQ(ch.send(rt, 2, rt.now() + milliseconds(1)), ChannelStatus::timed_out);
  });
}

// A promise set by one fiber is seen by another; a dropped promise breaks.
TEST(Sync, PromiseFutureAndBrokenPromise) {
  run_on_node(3, [](Runtime& rt) {
    Promise<int> p;
    Future<int> f = p.future();
    rt.spawn("setter", [&] {
      rt.sleep_for(milliseconds(5));
      p.set(17);
    });
    ASSERT_EQ(f.wait(rt), FutureStatus::ready);
    EXPECT_EQ(f.value(), 17);
    Future<int> orphan;
    {
      Promise<int> q;
      orphan = q.future();
    }
    EXPECT_EQ(orphan.wait(rt), FutureStatus::broken);
    Promise<int> never;
    EXPECT_EQ(never.future().wait(rt, rt.now() + milliseconds(3)), FutureStatus::timed_out);
  });
}

// An event wakes every waiter.
TEST(Sync, EventWakesAllWaiters) {
  run_on_node(4, [](Runtime& rt) {
    Event e;
    int woken = 0;
    std::vector<Task> ts;
    for (int i = 0; i < 4; ++i) ts.push_back(rt.spawn("w", [&] {
      e.wait(rt);
      ++woken;
    }));
    rt.sleep_for(milliseconds(1));
    EXPECT_EQ(woken, 0);
    e.set();
    for (auto& t : ts) t.join();
    EXPECT_EQ(woken, 4);
  });
}

}  // namespace
}  // namespace castle
