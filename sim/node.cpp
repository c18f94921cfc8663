#include "sim/node.h"

#include "sim/disk.h"
#include "sim/network.h"
#include "system/runtime/assert.h"

namespace castle::sim {

namespace {
// 2026-01-01T00:00:00Z: where simulated wall clocks start, give or take skew.
constexpr std::int64_t wall_epoch_ns = 1767225600LL * 1'000'000'000LL;
constexpr std::int64_t ppm_scale = 1'000'000;
}  // namespace

SimNode::SimNode(World& world, int id, std::string name)
    : world_(world),
      id_(id),
      name_(std::move(name)),
      rng_(world.fork_rng("node:" + name_)),
      group_(name_),
      tracer_(name_, &world.trace_bus(), [&world] { return world.now(); }) {
  // Nodes booted at different times: their monotonic clocks disagree, and
  // their wall clocks are a little apart.
  Rng clock_rng = world.fork_rng("clock:" + name_);
  base_mono_ns_ = clock_rng.between(1'000'000'000LL, 1'000'000'000'000LL);
  wall_offset_ns_ = wall_epoch_ns - base_mono_ns_ + clock_rng.between(-50'000'000, 50'000'000);
  disk_ = std::make_unique<SimDisk>(world, *this, world.fork_rng("disk:" + name_));
  net_ = std::make_unique<SimNodeNet>(world.network(), *this);
}

SimNode::~SimNode() {
  if (up_) crash();
}

// Clocks are read at every event, so the scaling stays in 64 bits while the
// product fits (runs under about 2.5 simulated hours, 2.3 at 10% drift),
// where the division by a constant is a multiply; 128 bits (a library call)
// only beyond. Both truncate alike, so the result is the same either way.
std::int64_t SimNode::mono_ns_at(SimTime world_t) const {
  const std::int64_t elapsed = world_t - base_world_;
  std::int64_t scaled = 0;
  if (!__builtin_mul_overflow(elapsed, ppm_scale + rate_ppm_, &scaled))
    return base_mono_ns_ + scaled / ppm_scale;
  const __int128 wide = static_cast<__int128>(elapsed) * (ppm_scale + rate_ppm_);
  return base_mono_ns_ + static_cast<std::int64_t>(wide / ppm_scale);
}

Instant SimNode::now() { return instant_from_ns(mono_ns_at(world_.now())); }

WallTime SimNode::wall_now() {
  return WallTime(Duration(mono_ns_at(world_.now()) + wall_offset_ns_));
}

SimTime SimNode::world_time_of(Instant t) const {
  const __int128 local = to_ns(t) - base_mono_ns_;
  const __int128 rate = ppm_scale + rate_ppm_;
  __int128 elapsed = (local * ppm_scale + rate - 1) / rate;  // round up: never wake early
  if (local < 0) elapsed = (local * ppm_scale) / rate;
  return base_world_ + static_cast<SimTime>(elapsed);
}

void SimNode::wake_at(Instant t, WaitToken token) {
  SimTime when = world_time_of(t);
  if (when < world_.now()) when = world_.now();
  Scheduler* s = &world_.scheduler();
  token.fiber->set_timer_id(world_.at(when, [s, token] { s->wake(token); }));
}

Task SimNode::spawn(std::string name, Callback body) {
  CASTLE_ASSERT(up_, "spawn on a node that is down");
  return world_.scheduler().spawn(group_, std::move(name), std::move(body));
}

Network& SimNode::net() { return *net_; }
Disk& SimNode::disk() { return *disk_; }

bool SimNode::buggify(std::string_view point, double weight) { return world_.buggify(point, weight); }

void SimNode::start() {
  CASTLE_ASSERT(!up_, "start of a node that is up");
  CASTLE_ASSERT(main_ != nullptr, "a node needs a main function");
  world_.scheduler().revive(group_);
  up_ = true;
  ++incarnation_;
  world_.note("node.start", static_cast<std::uint64_t>(id_), incarnation_);
  CASTLE_TRACE(tracer_, "node.start", {{"incarnation", incarnation_}});
  spawn("main", [this] { main_(*this); });
}

void SimNode::crash() {
  CASTLE_ASSERT(up_, "crash of a node that is down");
  world_.note("node.crash", static_cast<std::uint64_t>(id_), incarnation_);
  CASTLE_TRACE(tracer_, "node.crash", {{"incarnation", incarnation_}});
  up_ = false;
  // Connections first, so that fibers unwinding see their sockets dead and
  // peers learn of the crash; then the fibers; then the page cache.
  world_.network().on_crash(id_);
  world_.scheduler().kill_group(group_);
  disk_->crash();
}

void SimNode::restart() {
  if (up_) crash();
  start();
}

void SimNode::pause() {
  world_.note("node.pause", static_cast<std::uint64_t>(id_));
  world_.scheduler().pause(group_);
}

void SimNode::resume() {
  world_.note("node.resume", static_cast<std::uint64_t>(id_));
  world_.scheduler().unpause(group_);
}

void SimNode::set_drift_ppm(std::int64_t ppm) {
  CASTLE_ASSERT(ppm > -ppm_scale / 2 && ppm < ppm_scale, "drift out of range");
  // Rebase so the clock stays continuous across the change of rate.
  base_mono_ns_ = mono_ns_at(world_.now());
  base_world_ = world_.now();
  rate_ppm_ = ppm;
}

void SimNode::jump_monotonic(Duration forward) {
  CASTLE_ASSERT(forward.count() >= 0, "a monotonic clock never goes back");
  base_mono_ns_ += forward.count();
}

void SimNode::jump_wall(Duration delta) { wall_offset_ns_ += delta.count(); }

}  // namespace castle::sim
