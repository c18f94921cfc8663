#include "reports/run_facts.h"

#include "reports/report.h"

namespace castle::reports {

using nlohmann::json;

RunFacts facts_from_result(const std::string& scenario_path, const scenarios::Scenario& s,
                           const scenarios::RunResult& r) {
  RunFacts f;
  f.name = s.name;
  f.purpose = s.purpose;
  f.scenario_path = scenario_path;
  f.seed = r.seed;
  f.verdict = scenarios::to_string(r.verdict);
  f.trace_hash = hex64(r.trace_hash);
  f.sim_time_ns = r.sim_time_ns;
  f.events = r.events;
  f.stats = r.stats;
  f.liveness_failure = r.liveness_failure;
  f.liveness_excused = r.liveness_excused;
  f.faults = r.faults;
  f.planned_faults = r.planned_faults;
  f.buggify_points = r.buggify_points;
  f.buggify_fired = r.buggify_fired;
  f.check = r.check;
  f.reproduce = reproduce_command(scenario_path, r.seed, s);
  return f;
}

namespace {

// The planned faults in the scenario file's own shape (scenario.h), so a
// reader of report.json can paste them into a timeline.
json fault_spec_json(const scenarios::FaultSpec& f) {
  json j = {{"at_ms", f.at_ms}, {"kind", f.kind}, {"duration_ms", f.duration_ms}};
  if (!f.nodes.empty()) j["nodes"] = f.nodes;
  if (!f.others.empty()) j["others"] = f.others;
  if (f.amount != 0) j["amount"] = f.amount;
  if (f.rate > 0) j["rate"] = f.rate;
  return j;
}

json anomalies_json(const checkers::CheckResult& c) {
  json arr = json::array();
  for (const auto& a : c.anomalies)
    arr.push_back({{"type", a.type}, {"key", a.key}, {"description", a.description}, {"ops", a.ops}});
  return arr;
}

}  // namespace

json facts_to_json(const RunFacts& f) {
  json faults = json::array();
  for (const auto& a : f.faults) faults.push_back({{"time_ns", a.time_ns}, {"what", a.description}});
  json planned = json::array();
  for (const auto& p : f.planned_faults) planned.push_back(fault_spec_json(p));
  json j = {{"scenario", f.name},
            {"scenario_path", f.scenario_path},
            {"verdict", f.verdict},
            {"trace_hash", f.trace_hash},
            {"sim_time_ns", f.sim_time_ns},
            {"events", f.events},
            {"stats",
             {{"sends", f.stats.sends},
              {"acked", f.stats.acked},
              {"failed", f.stats.failed},
              {"unknown", f.stats.unknown},
              {"server_restarts", f.stats.server_restarts}}},
            {"anomaly_counts", f.check.counts},
            {"anomalies", anomalies_json(f.check)},
            {"liveness_failure", f.liveness_failure},
            {"faults", faults},
            {"planned_faults", planned},
            {"buggify_points", f.buggify_points},
            {"buggify_fired", f.buggify_fired},
            {"reproduce", f.reproduce}};
  if (f.seed) j["seed"] = *f.seed;
  if (!f.liveness_excused.empty()) j["liveness_excused"] = f.liveness_excused;
  return j;
}

namespace {

// Reads one field into *out, naming it in the error when it has the wrong
// type; a missing field is an error only when required.
template <class T>
bool read_field(const json& j, const std::string& path, const char* key, T* out, bool required,
                std::string* error) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) *error = path + key + ": missing";
    return !required;
  }
  try {
    *out = it->get<T>();
    return true;
  } catch (const json::exception& e) {
    *error = path + key + ": " + e.what();
    return false;
  }
}

bool read_stats(const json& j, scenarios::RunStats* st, std::string* error) {
  const auto it = j.find("stats");
  if (it == j.end()) return true;
  if (!it->is_object()) {
    *error = "stats: not an object";
    return false;
  }
  return read_field(*it, "stats.", "sends", &st->sends, false, error) &&
         read_field(*it, "stats.", "acked", &st->acked, false, error) &&
         read_field(*it, "stats.", "failed", &st->failed, false, error) &&
         read_field(*it, "stats.", "unknown", &st->unknown, false, error) &&
         read_field(*it, "stats.", "server_restarts", &st->server_restarts, false, error);
}

bool read_anomalies(const json& j, checkers::CheckResult* c, std::string* error) {
  json list = json::array();
  if (!read_field(j, "", "anomalies", &list, false, error)) return false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "anomalies[" + std::to_string(i) + "].";
    checkers::Anomaly a;
    if (!list[i].is_object()) {
      *error = path + ": not an object";
      return false;
    }
    if (!read_field(list[i], path, "type", &a.type, true, error) ||
        !read_field(list[i], path, "key", &a.key, false, error) ||
        !read_field(list[i], path, "description", &a.description, false, error) ||
        !read_field(list[i], path, "ops", &a.ops, false, error))
      return false;
    c->add(std::move(a));
  }
  return true;
}

bool read_faults(const json& j, RunFacts* f, std::string* error) {
  json applied = json::array(), planned = json::array();
  if (!read_field(j, "", "faults", &applied, false, error) ||
      !read_field(j, "", "planned_faults", &planned, false, error))
    return false;
  for (std::size_t i = 0; i < applied.size(); ++i) {
    const std::string path = "faults[" + std::to_string(i) + "].";
    scenarios::AppliedFault a{0, ""};
    if (!read_field(applied[i], path, "time_ns", &a.time_ns, true, error) ||
        !read_field(applied[i], path, "what", &a.description, true, error))
      return false;
    f->faults.push_back(std::move(a));
  }
  for (std::size_t i = 0; i < planned.size(); ++i) {
    const std::string path = "planned_faults[" + std::to_string(i) + "].";
    scenarios::FaultSpec p;
    if (!read_field(planned[i], path, "at_ms", &p.at_ms, true, error) ||
        !read_field(planned[i], path, "kind", &p.kind, true, error) ||
        !read_field(planned[i], path, "duration_ms", &p.duration_ms, false, error) ||
        !read_field(planned[i], path, "nodes", &p.nodes, false, error) ||
        !read_field(planned[i], path, "others", &p.others, false, error) ||
        !read_field(planned[i], path, "amount", &p.amount, false, error) ||
        !read_field(planned[i], path, "rate", &p.rate, false, error))
      return false;
    f->planned_faults.push_back(std::move(p));
  }
  return true;
}

}  // namespace

std::optional<RunFacts> facts_from_json(const json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  RunFacts f;
  std::uint64_t seed = 0;
  const bool ok = read_field(j, "", "seed", &seed, true, error) &&
                  read_field(j, "", "verdict", &f.verdict, true, error) &&
                  read_field(j, "", "trace_hash", &f.trace_hash, true, error) &&
                  read_field(j, "", "scenario", &f.name, false, error) &&
                  read_field(j, "", "scenario_path", &f.scenario_path, false, error) &&
                  read_field(j, "", "sim_time_ns", &f.sim_time_ns, false, error) &&
                  read_field(j, "", "events", &f.events, false, error) &&
                  read_field(j, "", "liveness_failure", &f.liveness_failure, false, error) &&
                  read_field(j, "", "liveness_excused", &f.liveness_excused, false, error) &&
                  read_field(j, "", "buggify_points", &f.buggify_points, false, error) &&
                  read_field(j, "", "buggify_fired", &f.buggify_fired, false, error) &&
                  read_field(j, "", "reproduce", &f.reproduce, false, error) &&
                  read_stats(j, &f.stats, error) && read_anomalies(j, &f.check, error) &&
                  read_faults(j, &f, error);
  if (!ok) return std::nullopt;
  if (f.verdict != "pass" && f.verdict != "safety" && f.verdict != "liveness") {
    *error = "verdict: '" + f.verdict + "' is none of pass, safety, liveness";
    return std::nullopt;
  }
  f.seed = seed;
  return f;
}

}  // namespace castle::reports
