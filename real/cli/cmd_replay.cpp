// castle replay DIR
//
// Re-runs the run recorded in a report folder (written by `castle sim
// --out DIR`): the scenario as it ran (DIR/scenario.json, planted bugs
// included) with the seed of DIR/report.json, and checks that it is the
// same run: same trace hash and verdict. Exit: the run's verdict code if
// identical, 1 if it diverged (the binary or the scenario changed), 2 for a
// folder that is not a report.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/cli/sim_common.h"
#include "reports/report.h"
#include "scenarios/run.h"

namespace castle::cli {

int cmd_replay(const std::vector<std::string>& argv) {
  Args args(argv, {}, {});
  if (args.positional().size() != 1) throw UsageError("castle replay needs one report DIR");
  const std::string dir = args.positional()[0];
  nlohmann::json report;
  try {
    std::ifstream f(dir + "/report.json");
    if (!f) throw std::runtime_error("no report.json");
    report = nlohmann::json::parse(f);
    (void)report.at("seed").get<std::uint64_t>();
    (void)report.at("trace_hash").get<std::string>();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "castle replay: %s is not a report folder: %s\n", dir.c_str(), e.what());
    return 2;
  }
  scenarios::Scenario s;
  try {
    s = load_checked(dir + "/scenario.json");
  } catch (const BadScenario& e) {
    std::fprintf(stderr, "castle replay: %s\n", e.what());
    return 2;
  }
  scenarios::RunOptions opt;
  opt.seed = report["seed"].get<std::uint64_t>();
  const auto r = scenarios::run_scenario(s, opt);
  const std::string want_hash = report["trace_hash"].get<std::string>();
  const std::string want_verdict = report.value("verdict", "");
  const std::string got_hash = reports::hex64(r.trace_hash);
  const bool same = got_hash == want_hash && want_verdict == scenarios::to_string(r.verdict);
  std::printf("replay: %s (recorded %s %s, replayed %s %s)\n", same ? "identical" : "DIVERGED",
              want_verdict.c_str(), want_hash.c_str(), scenarios::to_string(r.verdict), got_hash.c_str());
  std::printf("verdict=%s seed=%llu trace_hash=%s\n", scenarios::to_string(r.verdict),
              static_cast<unsigned long long>(opt.seed), got_hash.c_str());
  return same ? scenarios::exit_code(r.verdict) : 1;
}

}  // namespace castle::cli
