#pragma once
// Shrinking a failing run to a small scenario that still fails the same
// way, replayable from its file and seed.
//
// The random fault plan is first written out as an explicit timeline (the
// nemesis draws from its own named random stream, so the run is the same
// one). Then, greedily and while the run keeps its verdict: remove faults
// (in halves, then quarters, down to one at a time, as delta debugging
// does), end the run earlier, drop client processes, slow the workload
// down (fewer operations), and switch buggify off. Each step is one
// simulator run; `max_runs` bounds the whole search.

#include <cstdint>
#include <functional>
#include <string>

#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::scenarios {

struct ShrinkOptions {
  std::uint64_t seed = 1;
  int max_runs = 400;
  // Told of every accepted step ("removed 3 faults", ...).
  std::function<void(const std::string&)> on_progress;
};

struct ShrinkResult {
  bool failed_at_start = false;  // false: the seed does not fail; nothing shrunk
  bool replayable = true;        // the explicit timeline reproduced the failure
  Verdict verdict = Verdict::pass;
  Scenario original;
  Scenario minimal;
  RunResult minimal_run;
  int runs = 0;
  std::size_t original_faults = 0;  // faults planned in the original failing run
};

ShrinkResult shrink_scenario(const Scenario& s, const ShrinkOptions& options);

}  // namespace castle::scenarios
