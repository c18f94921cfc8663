#pragma once
// Checks over a log-shaped history (sends and polls of per-key logs):
//   lost-write          an acknowledged send absent from its offset although
//                       reads reached past that offset
//   unseen              an acknowledged send that no read ever returned
//   inconsistent-offsets one (key, offset) seen with two values
//   duplicate           one value at two offsets
//   G1a                 a send that failed is read
//   phantom             a read returns a value nobody sent
// Each anomaly names the operations involved (history indexes).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "checkers/history.h"

namespace castle::checkers {

struct Anomaly {
  std::string type;
  std::string key;
  std::string description;
  std::vector<std::int64_t> ops;  // history indexes
};

struct LogCheckOptions {
  // (key, offset) pairs a server reported corrupt: an acknowledged write
  // there is reported as detected corruption, not as a silent loss.
  std::set<std::pair<std::string, std::int64_t>> reported_corrupt;
  // Whether a corrupt report excuses a loss (only when corruption was injected).
  bool corruption_injected = false;
};

struct CheckResult {
  std::vector<Anomaly> anomalies;
  std::map<std::string, std::int64_t> counts;  // by anomaly type
  std::int64_t acked_sends = 0;
  std::int64_t excused = 0;  // losses excused by reported corruption
  bool valid() const { return anomalies.empty(); }
  void add(Anomaly a);
};

CheckResult check_log_history(const history::History& h, const LogCheckOptions& options);

}  // namespace castle::checkers
