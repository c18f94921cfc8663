#pragma once
// What a report says about a run besides its pictures: the verdict, seed,
// numbers, applied faults and anomalies, as report.json records them and
// index.html shows them. Built from a RunResult when `castle sim` writes a
// folder, or read back from report.json when `castle report` re-renders one,
// so the page has one source whichever way the folder was made.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "checkers/log_checks.h"
#include "scenarios/nemesis.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::reports {

struct RunFacts {
  std::string name;           // the scenario's name
  std::string purpose;        // from the scenario, when known
  std::string scenario_path;  // as given to `castle sim`
  std::optional<std::uint64_t> seed;  // none for a bare history
  std::string verdict;        // pass, safety, liveness (or unknown for a bare history)
  std::string trace_hash;     // hex, "" when unknown
  std::int64_t sim_time_ns = 0;
  std::uint64_t events = 0;
  scenarios::RunStats stats;
  std::string liveness_failure;
  std::string liveness_excused;  // why an unfinished final read is no failure
  std::vector<scenarios::AppliedFault> faults;        // as the nemesis applied them
  std::vector<scenarios::FaultSpec> planned_faults;   // what the timeline draws
  std::map<std::string, bool> buggify_points;
  std::map<std::string, std::uint64_t> buggify_fired;  // armed points: times fired
  checkers::CheckResult check;
  std::string reproduce;      // "" when the run cannot be reproduced
  // Why the page may show less than a simulated run's (e.g. "history only:
  // anomalies from castle report's checkers"); "" for a full folder.
  std::string note;
};

RunFacts facts_from_result(const std::string& scenario_path, const scenarios::Scenario& s,
                           const scenarios::RunResult& r);

// report.json. Reading is the inverse of writing; on a missing or mistyped
// field it returns nullopt and names the field in *error.
nlohmann::json facts_to_json(const RunFacts& f);
std::optional<RunFacts> facts_from_json(const nlohmann::json& j, std::string* error);

}  // namespace castle::reports
