#include "checkers/invariants.h"

#include "system/runtime/assert.h"

namespace castle::checkers {

void InvariantSet::add(std::unique_ptr<TraceInvariant> invariant) {
  CASTLE_ASSERT(invariant != nullptr, "an invariant to add");
  CASTLE_ASSERT(!finished_, "invariants are added before the run");
  invariants_.push_back(std::move(invariant));
}

void InvariantSet::attach(TraceBus& bus) {
  bus.subscribe([this](const TraceEvent& e) { observe(e); });
}

void InvariantSet::observe(const TraceEvent& e) {
  // An event after finish() would be checked by nobody: a wiring mistake.
  CASTLE_ASSERT(!finished_, "trace event published after the invariants finished");
  ++events_seen_;
  for (auto& inv : invariants_) inv->observe(e);
}

void InvariantSet::finish(CheckResult& r) {
  CASTLE_ASSERT(!finished_, "InvariantSet::finish called twice");
  finished_ = true;
  for (auto& inv : invariants_)
    for (auto& a : inv->finish()) r.add(std::move(a));
}

void MonotonicField::observe(const TraceEvent& e) {
  if (e.kind != kind_ || e.find(field_) == nullptr) return;
  const std::int64_t value = e.int_field(field_);
  auto [it, first] = last_.try_emplace(e.node, Last{value, e.time_ns});
  if (first) return;
  if (value < it->second.value)
    anomalies_.push_back({name_, e.node,
                          kind_ + "." + field_ + " went from " + std::to_string(it->second.value) +
                              " (at " + std::to_string(it->second.time_ns) + " ns) to " +
                              std::to_string(value) + " (at " + std::to_string(e.time_ns) +
                              " ns) on node " + e.node,
                          {}});
  it->second = {value, e.time_ns};
}

std::unique_ptr<TraceInvariant> logsvc_durable_log_never_shrinks() {
  return std::make_unique<MonotonicField>("durable-log-shrank", "logsvc.recovered", "records");
}

}  // namespace castle::checkers
