#pragma once
// State invariants sampled from a run's trace events. The simulator
// publishes structured events (system/runtime/trace.h) on its TraceBus; an
// invariant subscribes, watches the events it cares about as they happen,
// and reports its anomalies when the run ends. Invariants see events in
// publication order, which in the simulator is the run's one true order.
//
// Use: build an InvariantSet, add invariants, attach it to the bus before
// the run starts, call finish() after the last event. The set must outlive
// the bus's publishing (the subscription holds a pointer to it).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "checkers/log_checks.h"
#include "system/runtime/trace.h"

namespace castle::checkers {

class TraceInvariant {
 public:
  virtual ~TraceInvariant() = default;
  // The anomaly type this invariant reports, e.g. "durable-log-shrank".
  virtual std::string name() const = 0;
  virtual void observe(const TraceEvent& e) = 0;
  // Called once, after the last event.
  virtual std::vector<Anomaly> finish() = 0;
};

class InvariantSet {
 public:
  void add(std::unique_ptr<TraceInvariant> invariant);
  void attach(TraceBus& bus);
  void observe(const TraceEvent& e);
  // Adds every invariant's anomalies to r.
  void finish(CheckResult& r);
  std::int64_t events_seen() const { return events_seen_; }

 private:
  std::vector<std::unique_ptr<TraceInvariant>> invariants_;
  std::int64_t events_seen_ = 0;
  bool finished_ = false;
};

// A numeric field of one event kind that must never decrease per node (a
// leader epoch, a high watermark, a recovered log's length). Anomalies name
// the node and both values; their ops are empty (events are not history
// operations) and the description carries the two event times.
class MonotonicField : public TraceInvariant {
 public:
  MonotonicField(std::string name, std::string kind, std::string field)
      : name_(std::move(name)), kind_(std::move(kind)), field_(std::move(field)) {}
  std::string name() const override { return name_; }
  void observe(const TraceEvent& e) override;
  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Last {
    std::int64_t value = 0;
    std::int64_t time_ns = 0;
  };
  std::string name_, kind_, field_;
  std::map<std::string, Last> last_;  // node -> last value seen
  std::vector<Anomaly> anomalies_;
};

// The proof service's durable log never shrinks: a recovery makes its cut
// durable before appending and syncs every record before acknowledging it,
// so a node's next recovery finds at least as many records as its last one
// (`logsvc.recovered`, field `records`). Only silent disk corruption, which
// can hide a tail record, may break it: install it for runs without bit flips.
std::unique_ptr<TraceInvariant> logsvc_durable_log_never_shrinks();

}  // namespace castle::checkers
