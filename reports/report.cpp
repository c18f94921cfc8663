#include "reports/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "reports/index_html.h"
#include "reports/pictures.h"
#include "reports/run_view.h"

namespace castle::reports {

using nlohmann::json;

std::string hex64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string reproduce_command(const std::string& scenario_path, std::uint64_t seed,
                              const scenarios::Scenario& s) {
  std::string cmd = "castle sim " + scenario_path + " --seed " + std::to_string(seed);
  // Planted bugs may have come from --bug flags rather than the file; naming
  // them all again is harmless and keeps the command a faithful replay.
  for (const auto& bug : s.bugs) cmd += " --bug " + bug;
  return cmd;
}

namespace {

json anomalies_json(const checkers::CheckResult& c) {
  json arr = json::array();
  for (const auto& a : c.anomalies)
    arr.push_back({{"type", a.type}, {"key", a.key}, {"description", a.description}, {"ops", a.ops}});
  return arr;
}

json report_json(const std::string& scenario_path, const scenarios::Scenario& s,
                 const scenarios::RunResult& r) {
  json faults = json::array();
  for (const auto& f : r.faults) faults.push_back({{"time_ns", f.time_ns}, {"what", f.description}});
  return {{"scenario", s.name},
          {"scenario_path", scenario_path},
          {"seed", r.seed},
          {"verdict", scenarios::to_string(r.verdict)},
          {"trace_hash", hex64(r.trace_hash)},
          {"sim_time_ns", r.sim_time_ns},
          {"events", r.events},
          {"stats",
           {{"sends", r.stats.sends},
            {"acked", r.stats.acked},
            {"failed", r.stats.failed},
            {"unknown", r.stats.unknown},
            {"server_restarts", r.stats.server_restarts}}},
          {"anomaly_counts", r.check.counts},
          {"anomalies", anomalies_json(r.check)},
          {"liveness_failure", r.liveness_failure},
          {"faults", faults},
          {"buggify_points", r.buggify_points},
          {"reproduce", reproduce_command(scenario_path, r.seed, s)}};
}

// The pictures and index.html that shows them with the numbers above.
bool write_pages(const std::string& dir, const std::string& scenario_path,
                 const scenarios::Scenario& s, const scenarios::RunResult& r, std::string* error) {
  const RunView view = make_run_view(s, r);
  std::vector<Picture> pictures;
  if (!write_pictures(dir, view, &pictures, error)) return false;
  std::ofstream page(dir + "/index.html");
  page << index_html({scenario_path, s, r, view, pictures, reproduce_command(scenario_path, r.seed, s)});
  if (!page) {
    *error = "cannot write " + dir + "/index.html";
    return false;
  }
  return true;
}

}  // namespace

bool write_run_folder(const std::string& dir, const std::string& scenario_path,
                      const scenarios::Scenario& s, const scenarios::RunResult& r,
                      std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  std::ofstream report(dir + "/report.json");
  report << report_json(scenario_path, s, r).dump(2) << "\n";
  std::ofstream history(dir + "/history.jsonl");
  r.history.write_jsonl(history);
  std::ofstream trace(dir + "/trace.jsonl");
  for (const auto& line : r.trace_lines) trace << line << "\n";
  if (!report || !history || !trace) {
    *error = "cannot write the run folder " + dir;
    return false;
  }
  return write_pages(dir, scenario_path, s, r, error);
}

}  // namespace castle::reports
