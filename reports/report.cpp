#include "reports/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "reports/index_html.h"
#include "reports/pictures.h"

namespace castle::reports {

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

bool write_pages(const std::string& dir, const PageSource& src, std::string* error) {
  std::vector<Picture> pictures;
  if (!write_pictures(dir, src.view, &pictures, error)) return false;
  std::ofstream page(dir + "/index.html");
  page << index_html({src.facts, src.view, src.history, pictures, src.has_trace, src.has_report});
  if (!page) {
    *error = "cannot write " + dir + "/index.html";
    return false;
  }
  return true;
}

bool write_run_folder(const std::string& dir, const std::string& scenario_path,
                      const scenarios::Scenario& s, const scenarios::RunResult& r,
                      std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return false;
  }
  const RunFacts facts = facts_from_result(scenario_path, s, r);
  std::ofstream report(dir + "/report.json");
  report << facts_to_json(facts).dump(2) << "\n";
  std::ofstream history(dir + "/history.jsonl");
  r.history.write_jsonl(history);
  std::ofstream trace(dir + "/trace.jsonl");
  for (const auto& line : r.trace_lines) trace << line << "\n";
  if (!report || !history || !trace) {
    *error = "cannot write the run folder " + dir;
    return false;
  }
  return write_pages(dir, {facts, make_run_view(s, r), r.history}, error);
}

}  // namespace castle::reports
