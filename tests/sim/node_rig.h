#pragma once
// Shared by tests that drive code on one simulated node: a world with one
// node and a runner that executes one step as a fiber of the node, booting
// it if it is down, optionally crashing it part-way through. An exception
// thrown by a step (a failed RC_ASSERT) is carried out of the fiber and
// rethrown on the test's side, since it must not escape a fiber.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

#include "sim/disk.h"
#include "sim/node.h"
#include "sim/world.h"

namespace castle::sim::testing {

using Body = std::function<void(Runtime&)>;

// Runs body as a fiber of node (booting the node if it is down) until body
// ends or limit of simulated time passes; with stop_at_limit the world runs
// to the limit whether or not body ended. An exception from body (a failed
// RC_ASSERT or ASSERT) is carried out of the fiber and rethrown here.
// Returns whether body finished.
inline bool run_step(World& world, SimNode& node, Body body, Duration limit,
                     bool stop_at_limit = false) {
  auto done = std::make_shared<bool>(false);
  auto error = std::make_shared<std::exception_ptr>();
  auto step = [done, error, body = std::move(body)](Runtime& rt) {
    try {
      body(rt);
    } catch (const FiberKilled&) {
      throw;
    } catch (const FiberCancelled&) {
      throw;
    } catch (...) {
      *error = std::current_exception();
    }
    *done = true;
  };
  if (node.up()) {
    node.spawn("step", [&node, step] { step(node); });
  } else {
    node.set_main(step);
    node.start();
  }
  const SimTime deadline = world.now() + limit.count();
  if (stop_at_limit) {
    world.run_until(deadline);
  } else {
    world.run_until([&] { return *done; }, deadline);
  }
  if (*error) std::rethrow_exception(*error);
  return *done;
}

class NodeRig {
 public:
  explicit NodeRig(std::uint64_t seed) : world_(seed), node_(world_.add_node("n1")) {}

  World& world() { return world_; }
  SimNode& node() { return node_; }
  SimDisk& disk() { return node_.sim_disk(); }

  // Runs body to its end within limit of simulated time. Returns whether it
  // finished.
  bool run(Body body, Duration limit = std::chrono::seconds(600)) {
    return run_for(std::move(body), limit, false);
  }

  // Starts body, lets it run for `after` of simulated time, then crashes the
  // node whether or not body finished. Returns whether it finished first.
  bool run_then_crash(Body body, Duration after) {
    const bool finished = run_for(std::move(body), after, true);
    node_.crash();
    return finished;
  }

  void crash() { node_.crash(); }

 private:
  bool run_for(Body body, Duration limit, bool stop_at_limit) {
    return run_step(world_, node_, std::move(body), limit, stop_at_limit);
  }

  World world_;
  SimNode& node_;
};

}  // namespace castle::sim::testing
