#include "real/real_runtime.h"

#include <chrono>
#include <random>

#include "system/runtime/assert.h"

namespace castle::real {

namespace {
std::uint64_t seed_or_random(std::optional<std::uint64_t> seed) {
  if (seed) return *seed;
  // Real runs need no reproducibility; only here may entropy come from the OS.
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}
}  // namespace

RealRuntime::RealRuntime(RealConfig config)
    : config_(std::move(config)),
      seed_(seed_or_random(config_.seed)),
      loop_(std::make_unique<Loop>(config_.node_name, config_.blocking_threads)),
      net_(std::make_unique<RealNetwork>(*loop_)),
      disk_(std::make_unique<RealDisk>(*loop_, config_.data_dir)),
      rng_(seed_),
      tracer_(config_.node_name, config_.trace_bus, [] { return to_ns(Loop::now()); }) {
  CASTLE_ASSERT(!config_.node_name.empty(), "a runtime needs a node name");
}

RealRuntime::~RealRuntime() { loop_->shutdown(); }

WallTime RealRuntime::wall_now() {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  return WallTime(std::chrono::duration_cast<Duration>(since));
}

Task RealRuntime::spawn(std::string name, Callback body) {
  CASTLE_ASSERT(!loop_->group().dead(), "spawn after shutdown");
  return loop_->spawn(std::move(name), std::move(body));
}

}  // namespace castle::real
