// castle shrink SCENARIO --seed N [--out FILE] [--max-runs K] [--bug NAME]...
//
// Turns a failing seed into a small scenario with an explicit fault
// timeline that fails the same way with the same seed (scenarios/shrink.h
// says how). Writes it (default: SCENARIO's name + "-seed-N-shrunk.json" in
// the current directory), prints what each accepted step removed, and the
// command that replays the minimal case.
#include <cstdio>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/cli/sim_common.h"
#include "reports/report.h"
#include "scenarios/shrink.h"

namespace castle::cli {

int cmd_shrink(const std::vector<std::string>& argv) {
  Args args(argv, {"seed", "out", "max-runs"}, {}, {"bug"});
  if (args.positional().size() != 1) throw UsageError("castle shrink needs one SCENARIO.json");
  const std::string path = args.positional()[0];
  scenarios::Scenario s;
  try {
    s = load_checked(path, args.values("bug"));
  } catch (const BadScenario& e) {
    std::fprintf(stderr, "castle shrink: %s\n", e.what());
    return 2;
  }
  scenarios::ShrinkOptions opt;
  opt.seed = args.u64("seed", 1);
  opt.max_runs = static_cast<int>(args.u64("max-runs", 400));
  opt.on_progress = [](const std::string& step) { std::printf("shrink: %s\n", step.c_str()); };
  const auto r = scenarios::shrink_scenario(s, opt);
  if (!r.failed_at_start) {
    std::printf("castle shrink: seed %llu passes: nothing to shrink\n",
                static_cast<unsigned long long>(opt.seed));
    return 2;
  }
  if (!r.replayable) {
    std::printf("castle shrink: the failure did not reproduce with its faults as a timeline\n");
    return 1;
  }
  const std::string out = args.value("out").value_or(
      s.name + "-seed-" + std::to_string(opt.seed) + "-shrunk.json");
  if (!write_text_file(out, scenarios::scenario_to_json(r.minimal))) {
    std::fprintf(stderr, "castle shrink: cannot write %s\n", out.c_str());
    return 2;
  }
  std::printf("shrunk in %d runs: %zu -> %zu faults, %lld -> %lld ms, %d -> %d clients\n", r.runs,
              r.original_faults,
              r.minimal.timeline.size(), static_cast<long long>(r.original.duration_ms),
              static_cast<long long>(r.minimal.duration_ms), r.original.clients, r.minimal.clients);
  std::printf("minimal scenario: %s\n", out.c_str());
  std::printf("replay: %s\n", reports::reproduce_command(out, opt.seed, r.minimal).c_str());
  std::printf("verdict=%s seed=%llu\n", scenarios::to_string(r.verdict),
              static_cast<unsigned long long>(opt.seed));
  return 0;
}

}  // namespace castle::cli
