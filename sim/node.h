#pragma once
// A simulated node: one process on one machine, with its own clocks, disk,
// network endpoint, random stream and fibers.
//
// Fault model (node): crash ends the process at once: every fiber of the
// node is unwound (destructors run, nothing of it runs again), its
// connections are reset for the peers, and its disk loses, keeps or tears
// what was never synced. restart() boots the node's main function again from
// what the disk holds. pause() stops the node's fibers from running (a GC
// pause or a SIGSTOP) while its network and timers keep going; resume()
// releases them. Clocks: the monotonic clock runs at the node's drift rate
// (parts per million) and may jump forward; the wall clock is the monotonic
// clock plus an offset that may jump either way.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sim/world.h"
#include "system/runtime/runtime.h"

namespace castle::sim {

class SimDisk;
class SimNodeNet;

class SimNode final : public Runtime {
 public:
  using MainFn = std::function<void(Runtime&)>;

  SimNode(World& world, int id, std::string name);
  ~SimNode() override;

  int id() const { return id_; }
  World& world() { return world_; }

  // Runtime.
  const std::string& node_name() const override { return name_; }
  Instant now() override;
  WallTime wall_now() override;
  void wake_at(Instant t, WaitToken token) override;
  Task spawn(std::string name, Callback body) override;
  Scheduler& scheduler() override { return world_.scheduler(); }
  Network& net() override;
  Disk& disk() override;
  Rng& rng() override { return rng_; }
  const Tracer& tracer() override { return tracer_; }
  using Runtime::buggify;
  bool buggify(std::string_view point, double weight) override;

  // Lifecycle controls (the simulator's side only).
  void set_main(MainFn main) { main_ = std::move(main); }
  void start();
  void crash();
  void restart();
  void pause();
  void resume();
  bool up() const { return up_; }
  bool paused() const { return group_.paused(); }
  std::uint64_t incarnation() const { return incarnation_; }
  std::size_t fiber_count() const { return group_.fiber_count(); }

  // Clock controls.
  void set_drift_ppm(std::int64_t ppm);
  std::int64_t drift_ppm() const { return rate_ppm_; }
  void jump_monotonic(Duration forward);
  void jump_wall(Duration delta);
  // Converts this node's monotonic time to world time (rounded up).
  SimTime world_time_of(Instant t) const;

  SimDisk& sim_disk() { return *disk_; }
  SimNodeNet& sim_net() { return *net_; }

 private:
  std::int64_t mono_ns_at(SimTime world_t) const;

  World& world_;
  int id_;
  std::string name_;
  Rng rng_;
  FiberGroup group_;
  Tracer tracer_;
  MainFn main_;
  bool up_ = false;
  std::uint64_t incarnation_ = 0;
  // Monotonic clock: mono = base_mono_ + (world - base_world_) * (1e6 + ppm) / 1e6.
  SimTime base_world_ = 0;
  std::int64_t base_mono_ns_ = 0;
  std::int64_t rate_ppm_ = 0;
  std::int64_t wall_offset_ns_ = 0;
  std::unique_ptr<SimDisk> disk_;
  std::unique_ptr<SimNodeNet> net_;
};

}  // namespace castle::sim
