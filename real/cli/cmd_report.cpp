// castle report DIR [--recheck] [--lin-budget-ms N] [--no-lin]
//
// Redraws a run folder's pictures and index.html from its files alone
// (reports/run_folder.h), without running the simulation again: after
// installing Graphviz, for a folder copied from CI, after editing
// history.jsonl, or for a folder holding nothing but a history.jsonl (whose
// anomalies the history checkers then find). Exit 0 when the pages were
// written, whatever the run's verdict; 2 for a folder that is not a report
// (the message names the missing or broken file, and its line or field).
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "reports/run_folder.h"

namespace castle::cli {

int cmd_report(const std::vector<std::string>& argv) {
  Args args(argv, {"lin-budget-ms"}, {"recheck", "no-lin"});
  if (args.positional().size() != 1) throw UsageError("castle report needs one run folder DIR");
  const std::string dir = args.positional()[0];
  reports::RebuildOptions options;
  options.recheck = args.has("recheck");
  options.check.linearizability = !args.has("no-lin");
  auto& lin_ms = options.check.lin.time_ms_max;
  lin_ms = static_cast<std::int64_t>(
      std::min<std::uint64_t>(args.u64("lin-budget-ms", static_cast<std::uint64_t>(lin_ms)), INT64_MAX));
  reports::RunFacts facts;
  std::string error;
  if (!reports::rebuild_run_folder(dir, options, &facts, &error)) {
    std::fprintf(stderr, "castle report: %s\n", error.c_str());
    return 2;
  }
  std::printf("report: %s/index.html\n", dir.c_str());
  std::printf("verdict=%s anomalies=%zu\n", facts.verdict.c_str(), facts.check.anomalies.size());
  return 0;
}

}  // namespace castle::cli
