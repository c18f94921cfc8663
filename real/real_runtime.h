#pragma once
// castle::Runtime on the operating system: steady_clock and system_clock,
// fibers on one epoll loop, TCP sockets, POSIX files under a data
// directory. One RealRuntime per process; it owns the process's Loop.
//
// Typical use (from a main() elsewhere):
//
//   castle::real::RealRuntime rt({.node_name = "broker-1", .data_dir = "/var/lib/castle"});
//   rt.spawn("main", [&] { run_broker(rt); });
//   rt.run();  // until rt.stop(), e.g. from a SIGTERM handler
//
// Tests use run_until_idle(), which returns once every fiber has ended.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "real/disk.h"
#include "real/loop.h"
#include "real/net.h"
#include "system/runtime/runtime.h"

namespace castle::real {

struct RealConfig {
  std::string node_name = "node";
  // Root of every Disk path; must exist.
  std::string data_dir = ".";
  // Seeds rng(); without one, std::random_device does.
  std::optional<std::uint64_t> seed;
  // Where tracer() publishes; null disables tracing.
  const TraceBus* trace_bus = nullptr;
  std::size_t blocking_threads = Loop::blocking_threads_default;
};

class RealRuntime final : public Runtime {
 public:
  explicit RealRuntime(RealConfig config);
  // Unwinds every fiber still alive (destructors run while the network and
  // disk they use still exist), then tears the loop down.
  ~RealRuntime() override;

  // Runtime.
  const std::string& node_name() const override { return config_.node_name; }
  Instant now() override { return Loop::now(); }
  WallTime wall_now() override;
  void wake_at(Instant t, WaitToken token) override { loop_->wake_at(t, token); }
  Task spawn(std::string name, Callback body) override;
  Scheduler& scheduler() override { return loop_->scheduler(); }
  Network& net() override { return *net_; }
  Disk& disk() override { return *disk_; }
  Rng& rng() override { return rng_; }
  const Tracer& tracer() override { return tracer_; }
  using Runtime::buggify;
  bool buggify(std::string_view, double) override { return false; }

  // Process control.
  void run() { loop_->run(); }
  void run_until_idle() { loop_->run_until_idle(); }
  // Callable from any thread and from a signal handler.
  void stop() { loop_->stop(); }
  // Unwinds every fiber now; from outside any fiber.
  void shutdown() { loop_->shutdown(); }

  Loop& loop() { return *loop_; }
  RealDisk& real_disk() { return *disk_; }
  std::uint64_t seed() const { return seed_; }

 private:
  RealConfig config_;
  std::uint64_t seed_;
  std::unique_ptr<Loop> loop_;  // first in, last out: everything below runs on it
  std::unique_ptr<RealNetwork> net_;
  std::unique_ptr<RealDisk> disk_;
  Rng rng_;
  Tracer tracer_;
};

}  // namespace castle::real
