#pragma once
// Shared by the storage tests that run the partition log on a simulated
// node: a world with one node and a runner that drives one step as a fiber
// of the node, optionally crashing the node part-way through.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "sim/disk.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/storage/log.h"
#include "tests/storage/log_test_util.h"

namespace castle::storage::testing {

using Body = std::function<void(Runtime&)>;

// One world with one node. Steps run as fibers of the node; an exception
// thrown by a step (a failed RC_ASSERT) is carried out of the fiber and
// rethrown on the test's side, since it must not escape a fiber.
class LogRig {
 public:
  explicit LogRig(std::uint64_t seed) : world_(seed), node_(world_.add_node("n1")) {}

  sim::World& world() { return world_; }
  sim::SimNode& node() { return node_; }
  sim::SimDisk& disk() { return node_.sim_disk(); }

  // Runs body to its end (booting the node if it is down) within limit of
  // simulated time. Returns whether it finished.
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

  // The log of the current incarnation, if open.
  Log* log() { return log_.get(); }

  // Drops the previous incarnation's Log (its file handles are stale after a
  // crash, so its destructor can touch nothing durable) and opens the log.
  Result<void> open(Runtime& rt, const std::string& dir, const LogConfig& config) {
    log_.reset();
    auto opened = Log::open(rt, dir, config);
    if (!opened.ok()) return opened.error();
    log_ = std::move(*opened);
    return {};
  }
  // Closes the log without a crash (a clean shutdown), from a fiber.
  void close() { log_.reset(); }

 private:
  bool run_for(Body body, Duration limit, bool stop_at_limit) {
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
    if (node_.up()) {
      node_.spawn("step", [this, step] { step(node_); });
    } else {
      node_.set_main(step);
      node_.start();
    }
    const sim::SimTime deadline = world_.now() + limit.count();
    if (stop_at_limit) {
      world_.run_until(deadline);
    } else {
      world_.run_until([&] { return *done; }, deadline);
    }
    if (*error) std::rethrow_exception(*error);
    return *done;
  }

  sim::World world_;
  sim::SimNode& node_;
  std::unique_ptr<Log> log_;
};

}  // namespace castle::storage::testing
