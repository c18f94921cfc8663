#pragma once
// Shared by the storage tests that run the partition log on a simulated
// node: a world with one node, a runner that drives one step as a fiber of
// the node (optionally crashing the node part-way through), batch makers,
// and a full scan of the log through its public read API.

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
#include "system/runtime/random.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"
#include "system/storage/log.h"

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

// A batch of `count` records with values of about value_bytes each, drawn
// from rng; timestamps are ts_ms.
inline Bytes make_batch(Rng& rng, int count, std::size_t value_bytes, std::int64_t ts_ms) {
  std::vector<Record> records(static_cast<std::size_t>(count));
  for (Record& r : records) {
    r.timestamp_ms = ts_ms;
    r.key = Bytes{static_cast<std::uint8_t>(rng.below(256))};
    Bytes v(value_bytes);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng.below(256));
    r.value = std::move(v);
  }
  return build_batch(records);
}

// What a leader append stores: the batch with the assigned base offset and
// the leader epoch written in.
inline Bytes as_stored(Bytes batch, std::int64_t base_offset, std::int32_t epoch) {
  set_base_offset(batch, base_offset);
  set_leader_epoch(batch, epoch);
  return batch;
}

// Every batch of the log from its start, read through Log::read.
struct Scan {
  std::string error;  // empty if the scan went through
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::vector<Bytes> batches;
};

// Reads the whole log in reads of max_bytes. Every returned batch must pass
// its CRC; an error names the offset and the reason.
inline Scan full_scan(Log& log, std::size_t max_bytes) {
  // Reads beyond this many are a log that does not progress.
  constexpr int reads_max = 1'000'000;
  Scan s;
  s.start = log.log_start_offset();
  s.end = log.log_end_offset();
  std::int64_t at = s.start;
  for (int i = 0; at < s.end; ++i) {
    if (i == reads_max) return s.error = "scan does not progress", s;
    auto r = log.read(at, max_bytes);
    if (!r.ok()) return s.error = "read at " + std::to_string(at) + ": " + r.error().message(), s;
    auto parts = split_batches(r->bytes);
    if (!parts.ok()) return s.error = "read at " + std::to_string(at) + " returned a corrupt batch", s;
    if (parts->empty() || r->next_offset <= at)
      return s.error = "read at " + std::to_string(at) + " returned nothing below the end", s;
    for (auto p : *parts) s.batches.emplace_back(p.begin(), p.end());
    at = r->next_offset;
  }
  if (at != s.end) s.error = "scan ended at " + std::to_string(at) + " past the log end";
  return s;
}

// Checks that scanned batches are dense from the start to the end offset:
// the first holds the start offset, each begins after the previous, the last
// ends at the log end. Returns a description of the first gap, or "".
inline std::string density_error(const Scan& s) {
  if (s.batches.empty()) return s.start == s.end ? "" : "no batches between start and end";
  const BatchView first(s.batches.front());
  if (first.base_offset() > s.start || first.last_offset() < s.start)
    return "first batch " + std::to_string(first.base_offset()) + " does not hold the start " +
           std::to_string(s.start);
  std::int64_t next = first.base_offset();
  for (const Bytes& b : s.batches) {
    const BatchView v(b);
    if (v.base_offset() != next)
      return "batch at " + std::to_string(v.base_offset()) + " where " + std::to_string(next) + " was due";
    next = v.next_offset();
  }
  if (next != s.end) return "batches end at " + std::to_string(next) + ", log end is " + std::to_string(s.end);
  return "";
}

}  // namespace castle::storage::testing
