// Runtime and simulator micro-benchmarks. Each target is a ratio against a
// baseline measured in the same run (bench/run.sh computes them):
// - scheduler events per second (target >= 5M/s on one core);
// - a fiber switch through the scheduler beside a raw Boost.Context switch
//   (target <= 2x);
// - simulated network messages per second and disk operations per second.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>

#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/fiber.h"

namespace castle {
namespace {

// Events through the world's loop: each event schedules the next one a
// seeded distance ahead, keeping 1,000 events pending (a busy simulation).
void BM_WorldEvents(benchmark::State& state) {
  constexpr int pending = 1000;
  for (auto _ : state) {
    state.PauseTiming();
    sim::World w(1);
    Rng rng(2);
    std::int64_t left = state.range(0);
    std::function<void()> tick;
    struct Tick {
      sim::World* w;
      Rng* rng;
      std::int64_t* left;
      void operator()() const {
        if (--*left > 0) w->after(nanoseconds(1 + static_cast<std::int64_t>(rng->below(1000))), *this);
      }
    };
    for (int i = 0; i < pending; ++i) w.after(nanoseconds(i), Tick{&w, &rng, &left});
    state.ResumeTiming();
    while (w.step()) {
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WorldEvents)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// A fiber yielding to the scheduler and being resumed: one round trip is
// two context switches plus the ready-queue bookkeeping.
void BM_FiberYieldRoundTrip(benchmark::State& state) {
  Scheduler s;
  FiberGroup g("bench");
  bool stop = false;
  s.spawn(g, "yielder", [&] {
    while (!stop) s.yield();
  });
  for (auto _ : state) s.run_one();
  stop = true;
  s.run_ready();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FiberYieldRoundTrip);

// The baseline: a raw Boost.Context round trip (main -> fiber -> main).
void BM_RawContextRoundTrip(benchmark::State& state) {
  namespace ctx = boost::context;
  bool stop = false;
  ctx::fiber f{[&stop](ctx::fiber&& main) {
    while (!stop) main = std::move(main).resume();
    return std::move(main);
  }};
  for (auto _ : state) f = std::move(f).resume();
  stop = true;
  f = std::move(f).resume();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawContextRoundTrip);

}  // namespace
}  // namespace castle

BENCHMARK_MAIN();
