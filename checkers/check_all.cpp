#include "checkers/check_all.h"

#include "checkers/order_checks.h"

namespace castle::checkers {

using nlohmann::json;

const std::vector<std::string>& history_anomaly_types() {
  static const std::vector<std::string> types = {
      "lost-write",       "unseen",      "inconsistent-offsets", "duplicate",
      "G1a",              "phantom",     "nonmonotonic-poll",    "poll-skip",
      "nonmonotonic-send", "nonlinearizable"};
  return types;
}

std::string AllCheckResult::verdict() const {
  if (!check.valid()) return "invalid";
  if (lin_ran && lin.verdict == LinVerdict::unknown) return "unknown";
  return "valid";
}

namespace {

void add_lin_anomalies(const LinResult& lin, CheckResult& r) {
  for (const KeyLinResult& k : lin.keys)
    if (k.verdict == LinVerdict::invalid)
      r.add({"nonlinearizable", k.key, "the log is not linearizable: " + k.reason, k.witness});
}

json anomaly_json(const Anomaly& a) {
  return {{"type", a.type}, {"key", a.key}, {"description", a.description}, {"ops", a.ops}};
}

json lin_json(const AllCheckResult& r) {
  if (!r.lin_ran) return {{"verdict", "not-run"}};
  json keys = json::array();
  for (const KeyLinResult& k : r.lin.keys) {
    json j = {{"key", k.key},     {"verdict", to_string(k.verdict)}, {"ops", k.ops},
              {"steps", k.steps}, {"elapsed_ms", k.elapsed_ms}};
    if (!k.reason.empty()) j["reason"] = k.reason;
    if (!k.witness.empty()) j["witness"] = k.witness;
    keys.push_back(std::move(j));
  }
  return {{"verdict", to_string(r.lin.verdict)},
          {"steps", r.lin.steps},
          {"elapsed_ms", r.lin.elapsed_ms},
          {"keys", keys}};
}

}  // namespace

AllCheckResult check_history(const history::History& h, const AllCheckOptions& options) {
  AllCheckResult r;
  r.check = check_log_history(h, options.log);
  check_order(h, r.check);
  if (options.linearizability) {
    r.lin = check_log_linearizability(h, options.lin);
    r.lin_ran = true;
    add_lin_anomalies(r.lin, r.check);
  }
  return r;
}

json summary_json(const history::History& h, const AllCheckResult& r) {
  json anomalies = json::array();
  json by_type = json::object();
  for (const auto& a : r.check.anomalies) {
    anomalies.push_back(anomaly_json(a));
    json& t = by_type[a.type];
    if (t.is_null()) t = {{"count", 0}, {"instances", json::array()}};
    t["count"] = t["count"].get<std::int64_t>() + 1;
    t["instances"].push_back(anomaly_json(a));
  }
  return {{"valid", r.check.valid()},
          {"verdict", r.verdict()},
          {"ops", h.size()},
          {"acked_sends", r.check.acked_sends},
          {"counts", r.check.counts},
          {"anomalies", anomalies},
          {"checked", history_anomaly_types()},
          {"by_type", by_type},
          {"linearizability", lin_json(r)}};
}

}  // namespace castle::checkers
