// castle sim SCENARIO.json --seed N [--check-determinism] [--out DIR] [--bug NAME]...
#include <cstdio>
#include <map>
#include <iostream>

#include "real/cli/args.h"
#include "real/cli/commands.h"
#include "real/cli/sim_common.h"
#include "reports/report.h"
#include "scenarios/run.h"
#include "system/broker/broker.h"
#include "system/client/config.h"
#include "system/logsvc/server.h"

namespace castle::cli {

namespace {

using scenarios::RunResult;
using scenarios::Scenario;

void print_summary(const Scenario& s, const RunResult& r) {
  std::printf("scenario=%s servers=%d clients=%d duration_ms=%lld faults=%zu\n", s.name.c_str(),
              s.servers, s.clients, static_cast<long long>(s.duration_ms), r.faults.size());
  std::printf("ops: sends=%lld acked=%lld failed=%lld unknown=%lld server_restarts=%lld\n",
              static_cast<long long>(r.stats.sends), static_cast<long long>(r.stats.acked),
              static_cast<long long>(r.stats.failed), static_cast<long long>(r.stats.unknown),
              static_cast<long long>(r.stats.server_restarts));
  if (!r.buggify_points.empty()) {
    std::printf("buggify:");
    for (const auto& [point, armed] : r.buggify_points) {
      const auto fired = r.buggify_fired.find(point);
      if (armed && fired != r.buggify_fired.end())
        std::printf(" %s=armed:%llu", point.c_str(), static_cast<unsigned long long>(fired->second));
      else
        std::printf(" %s=%s", point.c_str(), armed ? "armed" : "off");
    }
    std::printf("\n");
  }
  if (!r.swarm.empty()) std::printf("swarm: %s\n", r.swarm.c_str());
  if (!r.contract.empty()) std::printf("contract: %s\n", r.contract.c_str());
  if (!r.allowed.empty()) {
    std::map<std::string, int> by_type;
    for (const auto& a : r.allowed) ++by_type[a.type];
    std::printf("allowed by the contract:");
    for (const auto& [type, n] : by_type) std::printf(" %s=%d", type.c_str(), n);
    std::printf("\n");
  }
  if (!r.unverified.empty()) {
    std::printf("unverified (the final read did not complete): %zu acknowledged values never read, in",
                r.unverified.size());
    std::map<std::string, int> by_key;
    for (const auto& a : r.unverified) ++by_key[a.key];
    for (const auto& [key, n] : by_key) std::printf(" %s=%d", key.c_str(), n);
    std::printf("\n");
  }
  for (const auto& a : r.check.anomalies)
    std::printf("anomaly: %s key=%s %s\n", a.type.c_str(), a.key.c_str(), a.description.c_str());
  if (!r.liveness_failure.empty()) std::printf("liveness: %s\n", r.liveness_failure.c_str());
  if (!r.liveness_excused.empty()) std::printf("liveness excused: %s\n", r.liveness_excused.c_str());
}

// Runs the seed a second time and compares every step. Empty if identical.
std::string determinism_divergence(const Scenario& s, const scenarios::RunOptions& opt,
                                   const RunResult& first) {
  RunResult second = scenarios::run_scenario(s, opt);
  std::string d = sim::first_divergence(first.steps, second.steps);
  if (d.empty() && first.trace_hash != second.trace_hash) d = "trace hashes differ";
  return d;
}

}  // namespace

int cmd_sim(const std::vector<std::string>& argv) {
  Args args(argv, {"seed", "out"}, {"check-determinism", "quiet"}, {"bug"});
  if (args.positional().size() != 1) throw UsageError("castle sim needs one SCENARIO.json");
  const std::string path = args.positional()[0];
  const std::uint64_t seed = args.u64("seed", 1);
  std::optional<Scenario> s;
  try {
    s = load_checked(path, args.values("bug"));
  } catch (const BadScenario& e) {
    std::fprintf(stderr, "castle sim: %s\n", e.what());
    return 2;
  }
  scenarios::RunOptions opt;
  opt.seed = seed;
  opt.record_steps = args.has("check-determinism");
  opt.keep_trace = args.has("out");
  RunResult r = scenarios::run_scenario(*s, opt);
  if (!args.has("quiet")) print_summary(*s, r);
  int code = scenarios::exit_code(r.verdict);
  if (opt.record_steps) {
    const std::string d = determinism_divergence(*s, opt, r);
    std::printf("determinism: %s\n", d.empty() ? "identical on a second run" : d.c_str());
    if (!d.empty()) code = 1;
  }
  if (auto out = args.value("out")) {
    std::string error;
    if (!reports::write_run_folder(*out, path, *s, r, &error)) {
      std::fprintf(stderr, "castle sim: %s\n", error.c_str());
      return 2;
    }
    // The effective scenario (planted bugs included) beside the report, so
    // `castle replay DIR` needs nothing else.
    if (!write_text_file(*out + "/scenario.json", scenarios::scenario_to_json(*s))) {
      std::fprintf(stderr, "castle sim: cannot write %s/scenario.json\n", out->c_str());
      return 2;
    }
    std::printf("report: %s/report.json\n", out->c_str());
  }
  if (code != 0) std::printf("reproduce: %s\n", reports::reproduce_command(path, opt.seed, *s).c_str());
  std::printf("verdict=%s seed=%llu trace_hash=%s sim_time_ms=%lld events=%llu anomalies=%zu\n",
              scenarios::to_string(r.verdict), static_cast<unsigned long long>(opt.seed),
              reports::hex64(r.trace_hash).c_str(), static_cast<long long>(r.sim_time_ns / 1'000'000),
              static_cast<unsigned long long>(r.events), r.check.anomalies.size());
  return code;
}

int cmd_bugs(const std::vector<std::string>& argv) {
  Args args(argv, {}, {});
  for (const auto& [name, why] : logsvc::planted_bugs())
    std::printf("%s\t%s\n", name.c_str(), why.c_str());
  for (const auto& [name, why] : broker::planted_bugs())
    std::printf("%s\t%s\n", name.c_str(), why.c_str());
  for (const auto& [name, why] : broker::cluster_planted_bugs())
    std::printf("%s\t%s\n", name.c_str(), why.c_str());
  for (const auto& [name, why] : client::planted_bugs())
    std::printf("%s\t%s\n", name.c_str(), why.c_str());
  return 0;
}

}  // namespace castle::cli
