#include "reports/run_folder.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "reports/report.h"
#include "reports/run_view.h"
#include "scenarios/scenario.h"
#include "scenarios/swarm.h"

namespace castle::reports {

namespace {

using nlohmann::json;

// The files of a run folder, each checked as it is read.
struct FolderFiles {
  std::optional<RunFacts> report;               // report.json
  std::optional<scenarios::Scenario> scenario;  // scenario.json
  history::History history;
  std::vector<std::string> trace_lines;
  bool has_trace = false;
};

bool exists(const std::string& path) { return std::filesystem::is_regular_file(path); }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool read_report(const std::string& dir, FolderFiles* files, std::string* error) {
  const std::string path = dir + "/report.json";
  if (!exists(path)) return true;
  json j;
  try {
    j = json::parse(slurp(path));
  } catch (const json::parse_error& e) {
    *error = path + ": not JSON: " + e.what();  // nlohmann names the line and column
    return false;
  }
  std::string why;
  files->report = facts_from_json(j, &why);
  if (!files->report) *error = path + ": " + why;
  return files->report.has_value();
}

bool read_scenario(const std::string& dir, FolderFiles* files, std::string* error) {
  const std::string path = dir + "/scenario.json";
  if (!exists(path)) return true;
  scenarios::ParseError why;
  files->scenario = scenarios::parse_scenario(slurp(path), &why);
  if (!files->scenario) *error = path + ": " + why.to_string();
  return files->scenario.has_value();
}

// The line of every operation in the file (History skips empty lines, so
// an operation's index is not always its line number minus one).
std::vector<int> op_lines(const std::string& text) {
  std::vector<int> lines;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (!line.empty()) lines.push_back(n);
  return lines;
}

// An operation must not complete before its process invoked it: the
// pictures put every operation on a time axis from invoke to completion.
bool check_times(const history::History& h, const std::vector<int>& lines, std::string* error) {
  std::map<std::int64_t, const history::Op*> open;  // process -> its pending invoke
  for (const auto& op : h.ops()) {
    if (op.type == history::OpType::invoke) {
      open[op.process] = &op;
      continue;
    }
    const auto it = open.find(op.process);
    if (it == open.end()) continue;
    if (op.time_ns < it->second->time_ns) {
      *error = "line " + std::to_string(lines.at(static_cast<std::size_t>(op.index))) +
               ": completes at time_ns " + std::to_string(op.time_ns) + ", before its invoke on line " +
               std::to_string(lines.at(static_cast<std::size_t>(it->second->index))) + " (time_ns " +
               std::to_string(it->second->time_ns) + ")";
      return false;
    }
    open.erase(it);
  }
  return true;
}

bool read_history(const std::string& dir, FolderFiles* files, std::string* error) {
  const std::string path = dir + "/history.jsonl";
  if (!exists(path)) {
    *error = dir + " is not a run folder: it has no history.jsonl";
    return false;
  }
  const std::string text = slurp(path);
  std::istringstream in(text);
  std::string why;
  auto h = history::History::read_jsonl(in, &why);
  if (h && !check_times(*h, op_lines(text), &why)) h.reset();
  if (!h) {
    *error = path + ": " + why;
    return false;
  }
  files->history = std::move(*h);
  return true;
}

// Every trace line is a JSON object; the view reads what it knows of them.
bool read_trace_file(const std::string& dir, FolderFiles* files, std::string* error) {
  const std::string path = dir + "/trace.jsonl";
  if (!exists(path)) return true;
  files->has_trace = true;
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      *error = path + ": line " + std::to_string(n) + ": not a JSON object";
      return false;
    }
    files->trace_lines.push_back(std::move(line));
  }
  return true;
}

bool read_folder(const std::string& dir, FolderFiles* files, std::string* error) {
  if (!std::filesystem::is_directory(dir)) {
    *error = dir + " is not a folder";
    return false;
  }
  return read_history(dir, files, error) && read_report(dir, files, error) &&
         read_scenario(dir, files, error) && read_trace_file(dir, files, error);
}

// A bare history's numbers, counted the way the harness counts sends.
scenarios::RunStats history_stats(const history::History& h) {
  scenarios::RunStats st;
  for (const auto& op : h.ops()) {
    if (op.f != "send") continue;
    if (op.type == history::OpType::invoke) ++st.sends;
    if (op.type == history::OpType::ok) ++st.acked;
    if (op.type == history::OpType::fail) ++st.failed;
    if (op.type == history::OpType::info) ++st.unknown;
  }
  return st;
}

// Replaces the facts' anomalies with the history checkers' findings.
void check_history_into(const FolderFiles& files, const RebuildOptions& options, RunFacts* f) {
  const auto r = checkers::check_history(files.history, options.check);
  f->check = r.check;
  const std::string v = r.verdict();
  f->verdict = v == "invalid" ? "safety" : v == "valid" ? "pass" : "unknown";
}

// report.json does not repeat the scenario's purpose; scenario.json has it.
RunFacts recorded_facts(const FolderFiles& files) {
  RunFacts f = *files.report;
  if (files.scenario) f.purpose = files.scenario->purpose;
  return f;
}

RunFacts facts_of(const std::string& dir, const FolderFiles& files, const RebuildOptions& options) {
  if (files.report && !options.recheck) return recorded_facts(files);
  RunFacts f;
  if (files.report) {
    f = recorded_facts(files);
    f.note = "Anomalies and verdict from castle report's checkers over history.jsonl (--recheck); "
             "report.json says " + files.report->verdict + " with " +
             std::to_string(files.report->check.anomalies.size()) + " anomalies.";
  } else {
    f.name = files.scenario ? files.scenario->name : std::filesystem::path(dir).filename().string();
    f.purpose = files.scenario ? files.scenario->purpose : "";
    f.stats = history_stats(files.history);
    f.note = "This folder has no report.json: the anomalies and verdict are castle report's checkers' "
             "over history.jsonl (as castle check finds them), and the run cannot be reproduced from here.";
  }
  check_history_into(files, options, &f);
  return f;
}

// The planned faults the timeline draws: report.json's, or for a folder
// written before it recorded them, the scenario's explicit timeline.
const std::vector<scenarios::FaultSpec>& planned_faults(const FolderFiles& files, const RunFacts& f) {
  if (!f.planned_faults.empty() || !files.scenario) return f.planned_faults;
  return files.scenario->timeline;
}

RunView view_of(const FolderFiles& files, const RunFacts& f) {
  // scenario.json is the scenario as given; a swarm run's seed drew its shape.
  std::optional<scenarios::Scenario> s = files.scenario;
  if (s && f.seed) s = scenarios::draw_swarm(*s, *f.seed);
  const auto stop_ns = s ? std::optional<std::int64_t>(s->duration_ms * 1'000'000) : std::nullopt;
  return make_run_view(ViewInputs{s ? scenarios::server_names(*s) : std::vector<std::string>{},
                                  s ? scenarios::client_names(*s) : std::vector<std::string>{},
                                  files.report ? f.sim_time_ns : 0, stop_ns, planned_faults(files, f),
                                  files.trace_lines, files.history, f.check});
}

}  // namespace

bool rebuild_run_folder(const std::string& dir, const RebuildOptions& options, RunFacts* facts,
                        std::string* error) {
  FolderFiles files;
  if (!read_folder(dir, &files, error)) return false;
  *facts = facts_of(dir, files, options);
  const RunView view = view_of(files, *facts);
  return write_pages(dir, {*facts, view, files.history, files.has_trace, files.report.has_value()}, error);
}

}  // namespace castle::reports
