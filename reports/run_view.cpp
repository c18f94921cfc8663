#include "reports/run_view.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "scenarios/swarm.h"
#include "system/runtime/assert.h"

namespace castle::reports {

using nlohmann::json;

std::string fault_family(const std::string& kind) {
  if (kind == "crash" || kind == "pause") return "node";
  if (kind == "isolate" || kind == "split" || kind == "oneway" || kind == "bridge")
    return "partition";
  if (kind == "clog" || kind == "latency" || kind == "reset") return "network";
  if (kind.rfind("clock", 0) == 0) return "clock";
  if (kind.rfind("disk", 0) == 0 || kind == "slow_sync") return "disk";
  return "other";
}

std::string format_time(std::int64_t ns) {
  if (ns == 0) return "0";
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns >= 1'000'000'000 || ns <= -1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.3f s", v / 1e9);
  else if (ns >= 1'000'000 || ns <= -1'000'000)
    std::snprintf(buf, sizeof buf, "%.1f ms", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f us", v / 1e3);
  return buf;
}

std::string format_time_fine(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f s", static_cast<double>(ns) / 1e9);
  return buf;
}

std::string format_time_tick(std::int64_t ns) {
  if (ns == 0) return "0";
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns >= 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%g s", v / 1e9);
  else if (ns >= 1'000'000)
    std::snprintf(buf, sizeof buf, "%g ms", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%g us", v / 1e3);
  return buf;
}

std::int64_t round_step(double span, double ticks_target) {
  CASTLE_ASSERT(ticks_target >= 1, "at least one tick");
  const double raw = std::max(1.0, span / ticks_target);
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (decade * m >= raw) return static_cast<std::int64_t>(decade * m);
  return static_cast<std::int64_t>(decade * 10);
}

namespace {

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : sep) + x;
  return out;
}

std::string fault_label(const scenarios::FaultSpec& f) {
  std::string label = f.kind;
  if (!f.nodes.empty()) label += " " + join(f.nodes);
  if (!f.others.empty()) label += (f.kind == "split" ? " | " : " -> ") + join(f.others);
  if (f.amount != 0) label += " amount=" + std::to_string(f.amount);
  if (f.duration_ms > 0) label += " (" + std::to_string(f.duration_ms) + " ms)";
  return label;
}

// The nemesis applies a planned fault only if it starts before the fault
// phase ends, and the end of that phase undoes whatever is still in force.
std::vector<FaultInterval> fault_intervals(const ViewInputs& in) {
  std::vector<FaultInterval> out;
  for (const auto& f : in.planned_faults) {
    const std::int64_t start_ns = f.at_ms * 1'000'000;
    const std::int64_t stop_ns = in.faults_stop_ns.value_or(std::numeric_limits<std::int64_t>::max());
    if (start_ns >= stop_ns) continue;
    FaultInterval fi{f.kind, f.nodes, f.others, start_ns, 0, fault_label(f)};
    const std::int64_t duration_ns = std::max<std::int64_t>(f.duration_ms, 0) * 1'000'000;
    fi.end_ns = std::min(stop_ns, fi.start_ns + duration_ns);
    CASTLE_ASSERT(fi.end_ns >= fi.start_ns, "a fault ends before it starts");
    out.push_back(std::move(fi));
  }
  return out;
}

// The run's end as the pictures draw it: a history edited by hand (castle
// report reads files) may hold operations past the recorded end, and every
// operation must fall inside the axes.
std::int64_t view_end_ns(const ViewInputs& in) {
  std::int64_t end = std::max<std::int64_t>(in.sim_time_ns, 1);
  for (const auto& op : in.history.ops()) end = std::max(end, op.time_ns);
  return end;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string field_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

TracePoint trace_point(const json& j) {
  TracePoint p;
  // Fields of the wrong type (a hand-edited trace) read as absent, not as
  // an exception out of the report.
  p.node = field_string(j, "node");
  p.time_ns = j.contains("time_ns") && j["time_ns"].is_number_integer() ? j["time_ns"].get<std::int64_t>() : 0;
  p.kind = j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>() : "";
  json rest = j;
  for (const char* k : {"node", "time_ns", "kind"}) rest.erase(k);
  for (const char* k : {"to", "peer"})
    if (rest.contains(k) && rest[k].is_string()) p.peer = rest[k].get<std::string>();
  p.details = rest.empty() ? "" : rest.dump();
  return p;
}

// Leadership as claimed by trace events: a claim holds until the same
// subject gets a new claim, the claimant ends it, or its node goes down.
void add_leadership(RunView& v, const json& j, const TracePoint& p) {
  const std::string kind = lower(p.kind);
  if (kind.find("leader") == std::string::npos) return;
  std::string subject;
  for (const char* k : {"partition", "key", "topic", "group"})
    if (subject.empty()) subject = field_string(j, k);
  std::string leader = j.contains("leader") && j["leader"].is_string() ? j["leader"].get<std::string>()
                                                                       : p.node;
  std::string epoch;
  for (const char* k : {"epoch", "leader_epoch", "term"})
    if (epoch.empty()) epoch = field_string(j, k);
  for (auto& span : v.leaders)
    if (span.subject == subject && span.end_ns == v.end_ns) span.end_ns = p.time_ns;
  const bool ends = kind.find("resign") != std::string::npos ||
                    kind.find("lost") != std::string::npos || kind.find("step") != std::string::npos;
  if (!ends) v.leaders.push_back({leader, subject, epoch, p.time_ns, v.end_ns});
}

void add_lifecycle(RunView& v, const TracePoint& p) {
  // The simulator stops every node when the run ends; that is no outage.
  if (p.time_ns >= v.end_ns) return;
  if (p.kind == "node.crash") v.down.push_back({p.node, p.time_ns, v.end_ns});
  if (p.kind != "node.crash" && p.kind != "node.start") return;
  // A crash also ends the node's leadership claims.
  for (auto& span : v.leaders)
    if (span.node == p.node && span.end_ns == v.end_ns && p.kind == "node.crash")
      span.end_ns = p.time_ns;
  if (p.kind == "node.start")
    for (auto& d : v.down)
      if (d.node == p.node && d.end_ns == v.end_ns && d.start_ns <= p.time_ns) d.end_ns = p.time_ns;
}

void read_trace(RunView& v, const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) continue;  // a line the tracer did not write; skip it
    TracePoint p = trace_point(j);
    if (!p.node.empty() && std::find(v.nodes.begin(), v.nodes.end(), p.node) == v.nodes.end())
      v.nodes.push_back(p.node);
    add_leadership(v, j, p);
    add_lifecycle(v, p);
    v.trace.push_back(std::move(p));
  }
}

}  // namespace

RunView make_run_view(const ViewInputs& in) {
  RunView v;
  v.servers = in.servers;
  v.clients = in.clients;
  v.nodes = v.servers;
  v.nodes.insert(v.nodes.end(), v.clients.begin(), v.clients.end());
  v.end_ns = view_end_ns(in);
  if (in.faults_stop_ns) v.faults_end_ns = std::clamp<std::int64_t>(*in.faults_stop_ns, 0, v.end_ns);
  v.faults = fault_intervals(in);
  read_trace(v, in.trace_lines);
  add_ops(v, in.history);
  add_violation(v, in.check);
  return v;
}

RunView make_run_view(const scenarios::Scenario& given, const scenarios::RunResult& r) {
  // A swarm run's seed drew its cluster shape: the nodes are the drawn ones.
  const scenarios::Scenario s = scenarios::draw_swarm(given, r.seed);
  return make_run_view(ViewInputs{scenarios::server_names(s), scenarios::client_names(s), r.sim_time_ns,
                                  s.duration_ms * 1'000'000, r.planned_faults, r.trace_lines, r.history,
                                  r.check});
}

}  // namespace castle::reports
