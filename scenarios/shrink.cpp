#include "scenarios/shrink.h"

#include <algorithm>

namespace castle::scenarios {

namespace {

class Shrinker {
 public:
  Shrinker(const ShrinkOptions& o, ShrinkResult& r) : opt_(o), r_(r) {}

  // Runs a candidate; adopts it if it fails with the target verdict.
  bool try_candidate(const Scenario& c, const std::string& what) {
    if (r_.runs >= opt_.max_runs) return false;
    ++r_.runs;
    RunOptions ro;
    ro.seed = opt_.seed;
    RunResult run = run_scenario(c, ro);
    if (run.verdict != r_.verdict) return false;
    r_.minimal = c;
    r_.minimal_run = std::move(run);
    if (opt_.on_progress) opt_.on_progress(what);
    return true;
  }

  bool budget_left() const { return r_.runs < opt_.max_runs; }

  // Delta debugging over the fault timeline: remove chunks, halving the
  // chunk size whenever no chunk of the current size can go.
  bool remove_faults() {
    bool any = false;
    std::size_t chunk = std::max<std::size_t>(1, r_.minimal.timeline.size() / 2);
    while (!r_.minimal.timeline.empty() && budget_left()) {
      bool removed = false;
      for (std::size_t at = 0; at < r_.minimal.timeline.size() && budget_left();) {
        Scenario c = r_.minimal;
        const auto first = c.timeline.begin() + static_cast<std::ptrdiff_t>(at);
        const auto last = c.timeline.begin() +
                          static_cast<std::ptrdiff_t>(std::min(at + chunk, c.timeline.size()));
        const auto n = static_cast<std::size_t>(last - first);
        c.timeline.erase(first, last);
        if (try_candidate(c, "removed " + std::to_string(n) + " fault(s)")) {
          removed = any = true;  // retry the same position: new faults slid in
        } else {
          at += chunk;
        }
      }
      if (!removed) {
        if (chunk == 1) break;
        chunk /= 2;
      }
    }
    return any;
  }

  // Ends the run earlier: just past the failure if we can, else halving.
  bool shorten() {
    bool any = false;
    while (r_.minimal.duration_ms > 500 && budget_left()) {
      Scenario c = r_.minimal;
      c.duration_ms = std::max<std::int64_t>(500, c.duration_ms / 2);
      std::erase_if(c.timeline, [&](const FaultSpec& f) { return f.at_ms >= c.duration_ms; });
      if (!try_candidate(c, "duration " + std::to_string(c.duration_ms) + " ms")) break;
      any = true;
    }
    return any;
  }

  bool fewer_clients() {
    bool any = false;
    while (r_.minimal.clients > 1 && budget_left()) {
      Scenario c = r_.minimal;
      --c.clients;
      if (!targets_exist(c)) break;
      if (!try_candidate(c, std::to_string(c.clients) + " client(s)")) break;
      any = true;
    }
    return any;
  }

  bool fewer_operations() {
    bool any = false;
    while (r_.minimal.interval_ms < 2000 && budget_left()) {
      Scenario c = r_.minimal;
      c.interval_ms = std::max<std::int64_t>(1, c.interval_ms * 2);
      if (!try_candidate(c, "one operation per " + std::to_string(c.interval_ms) + " ms")) break;
      any = true;
    }
    return any;
  }

  bool no_buggify() {
    if (!r_.minimal.buggify) return false;
    Scenario c = r_.minimal;
    c.buggify = false;
    return try_candidate(c, "buggify off");
  }

 private:
  static bool targets_exist(const Scenario& c) {
    ParseError e;
    return validate_targets(c, &e);
  }

  const ShrinkOptions& opt_;
  ShrinkResult& r_;
};

}  // namespace

ShrinkResult shrink_scenario(const Scenario& s, const ShrinkOptions& options) {
  ShrinkResult r;
  r.original = s;
  RunOptions ro;
  ro.seed = options.seed;
  RunResult first = run_scenario(s, ro);
  r.runs = 1;
  r.verdict = first.verdict;
  r.failed_at_start = first.verdict != Verdict::pass;
  r.original_faults = first.planned_faults.size();
  r.minimal = s;
  r.minimal_run = std::move(first);
  if (!r.failed_at_start) return r;

  Scenario explicit_plan = s;
  explicit_plan.timeline = r.minimal_run.planned_faults;
  explicit_plan.random.enabled = false;
  explicit_plan.name = s.name + "-shrunk";
  Shrinker shrinker(options, r);
  if (!shrinker.try_candidate(explicit_plan, "random faults written out as a timeline")) {
    r.replayable = false;
    return r;
  }
  // Repeat the passes until none makes progress: removing a fault can make
  // a shorter run fail, and a shorter run can make another fault useless.
  for (bool progress = true; progress && shrinker.budget_left();) {
    progress = false;
    progress |= shrinker.remove_faults();
    progress |= shrinker.shorten();
    progress |= shrinker.fewer_clients();
    progress |= shrinker.fewer_operations();
    progress |= shrinker.no_buggify();
  }
  r.minimal.purpose = "Shrunk from " + s.name + " seed " + std::to_string(options.seed) + " (" +
                      to_string(r.verdict) + "): " + std::to_string(r.minimal.timeline.size()) +
                      " fault(s), " + std::to_string(r.minimal.duration_ms) + " ms.";
  return r;
}

}  // namespace castle::scenarios
