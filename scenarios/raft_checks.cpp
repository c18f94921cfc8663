#include "scenarios/raft_checks.h"

#include <algorithm>
#include <map>

namespace castle::scenarios {

namespace {

using Values = std::vector<std::pair<std::int64_t, std::int64_t>>;

// The values of a log at indexes up to `through`.
Values prefix(const Values& v, std::int64_t through) {
  Values out;
  for (const auto& p : v)
    if (p.first <= through) out.push_back(p);
  return out;
}

// The first index at which two value lists differ (both sorted by index).
std::int64_t first_difference(const Values& a, const Values& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return std::min(a[i].first, b[i].first);
  return n < a.size() ? a[n].first : b[n].first;
}

void check_prefixes(const std::vector<AppliedLog>& logs, const AppliedLog& longest,
                    checkers::CheckResult& r) {
  for (const auto& log : logs) {
    if (&log == &longest) continue;
    const Values mine = prefix(log.values, log.applied_index);
    const Values theirs = prefix(longest.values, log.applied_index);
    if (mine == theirs) continue;
    r.add({"log-divergence", "raft",
           log.node + " (applied through " + std::to_string(log.applied_index) + ") and " +
               longest.node + " (through " + std::to_string(longest.applied_index) +
               ") first differ at index " + std::to_string(first_difference(mine, theirs)),
           {log.op, longest.op}});
  }
}

void check_acked_indexes(const history::History& h, const AppliedLog& longest,
                         checkers::CheckResult& r) {
  std::map<std::int64_t, std::int64_t> at(longest.values.begin(), longest.values.end());
  for (const auto& op : h.ops()) {
    if (op.f != "send" || op.type != history::OpType::ok) continue;
    for (const auto& s : op.sends) {
      // Beyond the final log's end it is a loss, which the log checks report.
      if (!s.offset || *s.offset > longest.applied_index) continue;
      auto it = at.find(*s.offset);
      if (it != at.end() && it->second == s.value) continue;
      r.add({"wrong-index", s.key,
             "value " + std::to_string(s.value) + " was acknowledged at index " +
                 std::to_string(*s.offset) + " but the committed log (" + longest.node + ") holds " +
                 (it == at.end() ? std::string("no client value") : std::to_string(it->second)) +
                 " there",
             {op.index, longest.op}});
    }
  }
}

}  // namespace

void check_applied_logs(const history::History& h, const std::vector<AppliedLog>& logs,
                        checkers::CheckResult& r) {
  if (logs.empty()) return;
  const AppliedLog* longest = &logs.front();
  for (const auto& log : logs)
    if (log.applied_index > longest->applied_index) longest = &log;
  check_prefixes(logs, *longest, r);
  check_acked_indexes(h, *longest, r);
}

}  // namespace castle::scenarios
