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
#include "tests/sim/node_rig.h"
#include "system/storage/log.h"
#include "tests/storage/log_test_util.h"

namespace castle::storage::testing {

using Body = sim::testing::Body;

// The node rig plus the log of the node's current incarnation.
class LogRig : public sim::testing::NodeRig {
 public:
  using NodeRig::NodeRig;

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
  std::unique_ptr<Log> log_;
};

}  // namespace castle::storage::testing
