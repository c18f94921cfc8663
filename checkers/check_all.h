#pragma once
// Every history checker in one call, and the JSON summary `castle check`
// prints: the log checks (log_checks.h), the per-process order checks
// (order_checks.h) and per-key log linearizability (linearizability.h). A
// key that is not linearizable is one anomaly of type "nonlinearizable"
// whose ops are the shrunk witness; a key whose search ran out of budget is
// no anomaly, but makes the verdict "unknown" rather than "valid".

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "checkers/linearizability.h"
#include "checkers/log_checks.h"

namespace castle::checkers {

struct AllCheckOptions {
  LogCheckOptions log;
  LinOptions lin;
  bool linearizability = true;
};

struct AllCheckResult {
  CheckResult check;  // anomalies of every checker
  LinResult lin;      // per-key detail (empty when not run)
  bool lin_ran = false;
  // "valid", "invalid" (anomalies) or "unknown" (none, but a search gave up).
  std::string verdict() const;
};

// The anomaly types the history checkers can report, for the summary.
const std::vector<std::string>& history_anomaly_types();

AllCheckResult check_history(const history::History& h, const AllCheckOptions& options);

// The summary: the fields `castle check` has always printed (valid, ops,
// acked_sends, counts, anomalies) plus verdict, checked, by_type and
// linearizability.
nlohmann::json summary_json(const history::History& h, const AllCheckResult& r);

}  // namespace castle::checkers
