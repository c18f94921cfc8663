// Runtime and simulator micro-benchmarks. Each target is a ratio against a
// baseline measured in the same run (bench/run.sh computes them):
// - scheduler events per second (target >= 5M/s on one core);
// - a fiber switch through the scheduler beside a raw Boost.Context switch
//   (target <= 2x);
// - simulated network messages per second and disk operations per second.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>

#include <cstdint>
#include <memory>
#include <vector>

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

// --- Simulated network -------------------------------------------------

// A framed message: a 4-byte big-endian length, then the payload; 100 bytes
// in all, about a small Kafka request.
constexpr std::size_t frame_bytes = 100;
constexpr std::uint16_t bench_port = 9092;

std::vector<std::uint8_t> make_frame() {
  std::vector<std::uint8_t> f(frame_bytes, 0x5a);
  const std::uint32_t len = frame_bytes - 4;
  for (int i = 0; i < 4; ++i) f[i] = static_cast<std::uint8_t>(len >> (24 - 8 * i));
  return f;
}

// Reads one frame: the header, then as many payload bytes as it names.
bool read_frame(Connection& c) {
  std::uint8_t buf[frame_bytes];
  if (!read_exact(c, {buf, 4}).status.ok()) return false;
  const std::uint32_t len = (std::uint32_t{buf[0]} << 24) | (std::uint32_t{buf[1]} << 16) |
                            (std::uint32_t{buf[2]} << 8) | buf[3];
  CASTLE_ASSERT(len <= sizeof buf, "bench frame too long");
  return read_exact(c, {buf, len}).status.ok();
}

// A seeded world of two idle nodes joined by one open connection: the
// setup every network iteration starts from, not part of what is timed.
struct NetPair {
  std::unique_ptr<sim::World> w = std::make_unique<sim::World>(3);
  sim::SimNode* client = nullptr;
  sim::SimNode* server = nullptr;
  std::unique_ptr<Connection> client_conn, server_conn;

  NetPair() {
    client = &w->add_node("client");
    server = &w->add_node("server");
    for (sim::SimNode* n : {client, server}) {
      n->set_main([](Runtime&) {});
      n->start();
    }
    server->spawn("accept", [this] {
      auto l = server->net().listen({"server", bench_port});
      CASTLE_ASSERT(l.ok(), "bench listen failed");
      if (auto c = (*l)->accept()) server_conn = std::move(*c);
    });
    client->spawn("connect", [this] {
      if (auto c = client->net().connect({"server", bench_port}, seconds(1))) client_conn = std::move(*c);
    });
    w->run_until([this] { return client_conn && server_conn; }, w->now() + to_ns(seconds(2)));
    CASTLE_ASSERT(client_conn && server_conn, "bench connect failed");
  }
};

enum class NetMode { pingpong, stream };

// Simulated network messages delivered per wall-clock second: the cost of
// the simulator's TCP model (a seeded-latency segment event per write, the
// reader's wake-up, two fiber switches) that every simulated Kafka request
// pays. pingpong: the client sends a frame and waits for the server's
// reply frame, `rounds` times (both frames count). stream: the client writes
// frames back to back (more than the 1 MiB flow-control window) while the
// server reads them. Counters: world events and simulated time per message.
void BM_SimNetworkMessages(benchmark::State& state, NetMode mode) {
  const std::int64_t sends = mode == NetMode::pingpong ? 10'000 : 20'000;
  const std::int64_t messages = mode == NetMode::pingpong ? 2 * sends : sends;
  const std::vector<std::uint8_t> frame = make_frame();
  std::uint64_t events = 0;
  sim::SimTime sim_ns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto p = std::make_unique<NetPair>();
    bool done = false;
    p->server->spawn("server", [&] {
      for (std::int64_t i = 0; i < sends; ++i) {
        CASTLE_ASSERT(read_frame(*p->server_conn), "bench server read failed");
        if (mode == NetMode::pingpong) CASTLE_ASSERT(p->server_conn->write(frame).ok(), "bench reply failed");
      }
      if (mode == NetMode::stream) done = true;
    });
    p->client->spawn("client", [&] {
      for (std::int64_t i = 0; i < sends; ++i) {
        CASTLE_ASSERT(p->client_conn->write(frame).ok(), "bench write failed");
        if (mode == NetMode::pingpong) CASTLE_ASSERT(read_frame(*p->client_conn), "bench client read failed");
      }
      if (mode == NetMode::pingpong) done = true;
    });
    const std::uint64_t events0 = p->w->events_processed();
    const sim::SimTime t0 = p->w->now();
    state.ResumeTiming();
    p->w->run_until([&] { return done; }, t0 + to_ns(seconds(3600)));
    state.PauseTiming();
    CASTLE_ASSERT(done, "bench network run did not finish");
    events += p->w->events_processed() - events0;
    sim_ns += p->w->now() - t0;
    p.reset();  // tearing the world down is not the measured work either
    state.ResumeTiming();
  }
  const double total = static_cast<double>(state.iterations() * messages);
  state.SetItemsProcessed(state.iterations() * messages);
  state.counters["events_per_msg"] = static_cast<double>(events) / total;
  state.counters["sim_us_per_msg"] = static_cast<double>(sim_ns) / 1e3 / total;
}
BENCHMARK_CAPTURE(BM_SimNetworkMessages, pingpong, NetMode::pingpong)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SimNetworkMessages, stream, NetMode::stream)->Unit(benchmark::kMillisecond);

// --- Simulated disk ----------------------------------------------------

constexpr std::size_t block_bytes = 4096;
constexpr std::uint64_t file_blocks_max = 64;  // 256 KiB, then the file rolls

// The disk workload of one fiber, `ops` file operations long. Each round: a
// 4 KiB write (appends and pwrites over a seeded written block alternate),
// then a 4 KiB pread of a seeded written block; a datasync after every 16
// writes. At 256 KiB the file is truncated to empty, as a log segment rolls,
// so datasync (which copies the file's image) stays bounded. Every call on
// the file counts as one operation; returns how many ran (at least ops).
std::int64_t disk_workload(Runtime& rt, std::int64_t ops) {
  auto f = rt.disk().open("bench.log", OpenMode::create_truncate);
  CASTLE_ASSERT(f.ok(), "bench open failed");
  File& file = **f;
  std::vector<std::uint8_t> block(block_bytes, 0xa5), buf(block_bytes);
  std::uint64_t blocks = 0, writes = 0;
  std::int64_t done = 0;
  while (done < ops) {
    if (blocks == 0 || writes % 2 == 0) {
      CASTLE_ASSERT(file.append(block).ok(), "bench append failed");
      ++blocks;
    } else {
      CASTLE_ASSERT(file.pwrite(rt.rng().below(blocks) * block_bytes, block).ok(), "bench pwrite failed");
    }
    ++done;
    if (++writes % 16 == 0) {
      CASTLE_ASSERT(file.datasync().ok(), "bench datasync failed");
      ++done;
    }
    auto n = file.pread(rt.rng().below(blocks) * block_bytes, buf);
    CASTLE_ASSERT(n.ok() && *n == block_bytes, "bench pread failed");
    ++done;
    if (blocks == file_blocks_max) {
      CASTLE_ASSERT(file.truncate(0).ok(), "bench truncate failed");
      blocks = 0;
      ++done;
    }
  }
  file.close();
  return done;
}

// Simulated disk operations per wall-clock second: the cost of the disk
// model (a seeded latency sleep, i.e. a world event and two fiber
// switches, plus the sector bookkeeping and data copies) behind every
// simulated log append, read and fsync. Counter: world events per op.
void BM_SimDiskOps(benchmark::State& state) {
  const std::int64_t ops = state.range(0);
  std::int64_t ran = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<sim::World>(4);
    sim::SimNode& n = w->add_node("disk");
    bool done = false;
    n.set_main([&](Runtime& rt) {
      ran += disk_workload(rt, ops);
      done = true;
    });
    n.start();
    const std::uint64_t events0 = w->events_processed();
    state.ResumeTiming();
    w->run_until([&] { return done; }, w->now() + to_ns(seconds(3600)));
    state.PauseTiming();
    CASTLE_ASSERT(done, "bench disk run did not finish");
    events += w->events_processed() - events0;
    w.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(ran);
  state.counters["events_per_op"] = static_cast<double>(events) / static_cast<double>(ran);
}
BENCHMARK(BM_SimDiskOps)->Arg(20'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace castle

BENCHMARK_MAIN();
