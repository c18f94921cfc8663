#pragma once
// The runtime interface: everything a node of Castle may use of the world.
// system/ code receives a Runtime& and touches clocks, tasks, network, disk,
// randomness and tracing only through it. The simulator and the real
// runtime implement it; fault controls are never part of it.

#include <string>
#include <string_view>

#include "system/runtime/callback.h"
#include "system/runtime/disk.h"
#include "system/runtime/fiber.h"
#include "system/runtime/net.h"
#include "system/runtime/random.h"
#include "system/runtime/time.h"
#include "system/runtime/trace.h"

namespace castle {

class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual const std::string& node_name() const = 0;

  // Time. now() is this node's monotonic clock; wall_now() may jump.
  virtual Instant now() = 0;
  virtual WallTime wall_now() = 0;
  // Wakes the token's fiber at (or after) t on this node's clock: the
  // primitive under every sleep and timeout.
  virtual void wake_at(Instant t, WaitToken token) = 0;

  // Tasks. Fibers of this node; a crash ends them all.
  virtual Task spawn(std::string name, Callback body) = 0;
  virtual Scheduler& scheduler() = 0;

  virtual Network& net() = 0;
  virtual Disk& disk() = 0;
  virtual Rng& rng() = 0;
  virtual const Tracer& tracer() = 0;

  // A named fault point. In simulation the seed arms some points per run and
  // armed points fire now and then (`weight` scales how often: below 1 on
  // hot paths, above where a run reaches the point seldom); in real mode it
  // is always false. Every point must
  // be a legal behaviour (a short read, an early roll, a retriable error),
  // so that it only makes rare paths common.
  virtual bool buggify(std::string_view point, double weight) = 0;
  bool buggify(std::string_view point) { return buggify(point, 1.0); }

  void sleep_until(Instant t);
  void sleep_for(Duration d) { sleep_until(now() + d); }
  void yield() { scheduler().yield(); }
  Instant deadline_after(Duration d) { return now() + d; }
};

}  // namespace castle
