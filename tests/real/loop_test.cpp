// The real event loop and runtime basics: sleeps wait at least as long as
// asked on the OS clock, timers fire in deadline order, a yielding fiber
// cannot starve timers, stop() from another thread ends run(), shutdown
// unwinds blocked fibers, blocking work runs off the loop thread, and the
// rng and tracer behave as configured.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "real/real_runtime.h"
#include "tests/real/real_test_util.h"

namespace castle::real {
namespace {

using namespace std::chrono_literals;
using testing::config_for;
using testing::run_fiber;
using testing::TempDir;

TEST(RealLoop, SleepForWaitsAtLeastTheRequestedTime) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  Duration slept{};
  Duration wall_slept{};
  run_fiber(rt, [&] {
    const Instant t0 = rt.now();
    const WallTime w0 = rt.wall_now();
    rt.sleep_for(20ms);
    slept = rt.now() - t0;
    wall_slept = rt.wall_now() - w0;
  });
  EXPECT_GE(slept, 20ms);
  EXPECT_LT(slept, 1s);
  EXPECT_GT(wall_slept, 10ms);  // the wall clock may be adjusted, but not by much here
}

TEST(RealLoop, TimersFireInDeadlineOrderAndTiesInSetOrder) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  std::vector<std::string> fired;
  run_fiber(rt, [&] {
    const Instant base = rt.now();
    std::vector<Task> tasks;
    auto sleeper = [&](std::string name, Duration at) {
      tasks.push_back(rt.spawn(name, [&rt, &fired, name, base, at] {
        rt.sleep_until(base + at);
        fired.push_back(name);
      }));
    };
    sleeper("c", 30ms);
    sleeper("a", 10ms);
    sleeper("b1", 20ms);
    sleeper("b2", 20ms);
    for (auto& t : tasks) t.join();
  });
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b1", "b2", "c"}));
}

TEST(RealLoop, YieldingFiberDoesNotStarveTimers) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  bool flag = false;
  std::uint64_t spins = 0;
  run_fiber(rt, [&] {
    rt.spawn("timer", [&] {
      rt.sleep_for(5ms);
      flag = true;
    });
    while (!flag) {
      rt.yield();
      ++spins;
    }
  });
  EXPECT_TRUE(flag);
  EXPECT_GT(spins, 0u);
}

TEST(RealLoop, StopFromAnotherThreadEndsRunAndShutdownUnwinds) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  bool unwound = false;
  struct SetOnExit {
    bool& flag;
    ~SetOnExit() { flag = true; }
  };
  Task sleeper = rt.spawn("sleeper", [&] {
    SetOnExit guard{unwound};
    rt.sleep_for(10s);
  });
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    rt.stop();
  });
  const Instant t0 = Loop::now();
  rt.run();
  stopper.join();
  EXPECT_LT(Loop::now() - t0, 5s);
  EXPECT_FALSE(sleeper.done());
  rt.shutdown();
  EXPECT_TRUE(unwound);
  EXPECT_EQ(sleeper.outcome(), TaskOutcome::killed);
}

TEST(RealLoop, CancelWakesASleepingTask) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  Task sleeper;
  run_fiber(rt, [&] {
    sleeper = rt.spawn("sleeper", [&] { rt.sleep_for(10s); });
    rt.sleep_for(1ms);
    sleeper.cancel();
    sleeper.join();
  });
  EXPECT_EQ(sleeper.outcome(), TaskOutcome::cancelled);
}

TEST(RealLoop, BlockingWorkRunsOffTheLoopThread) {
  // A job that blocks its worker for 100 ms must not stop a 5 ms ticker.
  TempDir dir;
  RealRuntime rt(config_for(dir));
  int ticks_during_job = -1;
  run_fiber(rt, [&] {
    int ticks = 0;
    bool job_done = false;
    Task ticker = rt.spawn("ticker", [&] {
      while (!job_done) {
        rt.sleep_for(5ms);
        ++ticks;
      }
    });
    const auto loop_thread = std::this_thread::get_id();
    std::atomic<bool> ran_elsewhere{false};
    const int rc = rt.loop().run_blocking([&] {
      ran_elsewhere = std::this_thread::get_id() != loop_thread;
      std::this_thread::sleep_for(100ms);
      return 7;
    });
    EXPECT_EQ(rc, 7);
    EXPECT_TRUE(ran_elsewhere.load());
    ticks_during_job = ticks;
    job_done = true;
    ticker.join();
  });
  EXPECT_GE(ticks_during_job, 3);
}

TEST(RealLoop, KillDuringBlockingWorkIsSafe) {
  // Shutdown while a fiber waits on the blocking pool: the fiber unwinds at
  // once, the job finishes on its own and its completion is dropped.
  TempDir dir;
  Task waiter;
  std::atomic<bool> job_finished{false};
  {
    RealRuntime rt(config_for(dir));
    waiter = rt.spawn("waiter", [&] {
      rt.loop().run_blocking([&] {
        std::this_thread::sleep_for(50ms);
        job_finished = true;
        return 0;
      });
    });
    rt.spawn("stopper", [&] {
      rt.sleep_for(5ms);
      rt.stop();
    });
    rt.run();
    EXPECT_FALSE(waiter.done());
  }
  EXPECT_EQ(waiter.outcome(), TaskOutcome::killed);
  EXPECT_TRUE(job_finished.load());  // the pool was drained before the loop went
}

TEST(RealRuntime, RngFollowsTheSeedAndBuggifyIsOff) {
  TempDir dir;
  std::uint64_t first = 0;
  {
    RealRuntime rt(config_for(dir));
    first = rt.rng().next();
    EXPECT_FALSE(rt.buggify("anything"));
    EXPECT_EQ(rt.seed(), 42u);
  }
  RealRuntime again(config_for(dir));
  EXPECT_EQ(again.rng().next(), first);
}

TEST(RealRuntime, TracerPublishesOnlyWhenABusIsGiven) {
  TempDir dir;
  TraceBus bus;
  std::vector<TraceEvent> seen;
  bus.subscribe([&](const TraceEvent& e) { seen.push_back(e); });
  RealConfig config = config_for(dir);
  config.trace_bus = &bus;
  RealRuntime traced(std::move(config));
  CASTLE_TRACE(traced.tracer(), "test.event", {{"n", 3}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].node, "test");
  EXPECT_EQ(seen[0].kind, "test.event");
  EXPECT_EQ(seen[0].int_field("n"), 3);
  EXPECT_GT(seen[0].time_ns, 0);
}

TEST(RealRuntime, TracerIsDisabledByDefault) {
  TempDir dir;
  RealRuntime rt(config_for(dir));
  EXPECT_FALSE(rt.tracer().enabled());
}

}  // namespace
}  // namespace castle::real
