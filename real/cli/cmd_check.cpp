// castle check history.jsonl [--lin-budget-ms N] [--lin-steps-max N] [--no-lin]:
// runs every history checker (checkers/check_all.h) over any history file and
// prints a JSON summary. Exit 0 when no anomaly is found (the summary's
// verdict says "unknown" if a linearizability search ran out of budget),
// 1 on anomalies, 2 on unreadable input or bad usage.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "checkers/check_all.h"
#include "real/cli/args.h"
#include "real/cli/commands.h"

namespace castle::cli {

namespace {

// A non-negative flag as a budget; absurdly large values mean "no limit".
std::int64_t budget_flag(const Args& args, const std::string& flag, std::int64_t fallback) {
  const std::uint64_t v = args.u64(flag, static_cast<std::uint64_t>(fallback));
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, INT64_MAX));
}

}  // namespace

int cmd_check(const std::vector<std::string>& argv) {
  Args args(argv, {"lin-budget-ms", "lin-steps-max"}, {"no-lin"});
  if (args.positional().size() != 1) throw UsageError("castle check needs one history.jsonl");
  checkers::AllCheckOptions options;
  options.linearizability = !args.has("no-lin");
  options.lin.time_ms_max = budget_flag(args, "lin-budget-ms", options.lin.time_ms_max);
  options.lin.steps_max = budget_flag(args, "lin-steps-max", options.lin.steps_max);
  std::ifstream in(args.positional()[0]);
  if (!in) {
    std::fprintf(stderr, "castle check: cannot open %s\n", args.positional()[0].c_str());
    return 2;
  }
  std::string error;
  auto h = history::History::read_jsonl(in, &error);
  if (!h) {
    std::fprintf(stderr, "castle check: %s: %s\n", args.positional()[0].c_str(), error.c_str());
    return 2;
  }
  const auto r = checkers::check_history(*h, options);
  std::printf("%s\n", checkers::summary_json(*h, r).dump(2).c_str());
  if (r.verdict() == "unknown")
    std::fprintf(stderr, "castle check: linearizability unknown for some key: raise --lin-budget-ms\n");
  return r.check.valid() ? 0 : 1;
}

}  // namespace castle::cli
