// Per-key linearizability of the logs: one search per key (a log's history
// is linearizable when each key's is, as keys share no state), each with
// its own budget, and a shrunk witness for a key that fails.
#include "checkers/linearizability.h"

#include <algorithm>
#include <set>

#include "checkers/lin_search.h"

namespace castle::checkers {

const char* to_string(LinVerdict v) {
  switch (v) {
    case LinVerdict::valid: return "valid";
    case LinVerdict::invalid: return "invalid";
    case LinVerdict::unknown: return "unknown";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// History indexes of the witness: each operation's invoke and completion.
std::vector<std::int64_t> witness_indexes(const std::vector<lin::LinOp>& ops,
                                          const std::vector<std::size_t>& chosen) {
  std::set<std::int64_t> out;
  for (std::size_t i : chosen) {
    out.insert(ops[i].call);
    if (ops[i].required()) out.insert(ops[i].ret);
  }
  return {out.begin(), out.end()};
}

KeyLinResult check_key(const std::string& key, const std::vector<lin::LinOp>& ops,
                       const LinOptions& options) {
  const auto start = Clock::now();
  KeyLinResult r;
  r.key = key;
  r.ops = static_cast<std::int64_t>(ops.size());
  lin::Budget budget;
  budget.steps_max = options.steps_max;
  budget.cache_bytes_max = options.cache_bytes_max;
  // Capped at a day so that "no limit" does not overflow the clock's nanoseconds.
  const std::int64_t day_ms = 24LL * 3600 * 1000;
  budget.deadline = start + std::chrono::milliseconds(std::min(options.time_ms_max, day_ms));
  const lin::SearchResult s = lin::search(ops, budget);
  r.steps = s.steps;
  r.reason = s.reason;
  if (s.outcome == lin::Outcome::budget_exceeded) r.verdict = LinVerdict::unknown;
  if (s.outcome == lin::Outcome::not_linearizable) {
    r.verdict = LinVerdict::invalid;
    // A static failure names its operations; a timing failure is shrunk.
    const lin::WitnessBudget wb{options.witness_attempts_max, options.witness_steps_max};
    r.witness = witness_indexes(ops, s.culprits.empty() ? lin::shrink_witness(ops, wb) : s.culprits);
  }
  r.elapsed_ms = ms_since(start);
  return r;
}

}  // namespace

LinResult check_log_linearizability(const history::History& h, const LinOptions& options) {
  const auto start = Clock::now();
  LinResult result;
  for (const auto& [key, ops] : lin::lin_ops(h)) {
    KeyLinResult k = check_key(key, ops, options);
    result.steps += k.steps;
    if (k.verdict == LinVerdict::invalid) result.verdict = LinVerdict::invalid;
    if (k.verdict == LinVerdict::unknown && result.verdict == LinVerdict::valid)
      result.verdict = LinVerdict::unknown;
    result.keys.push_back(std::move(k));
  }
  result.elapsed_ms = ms_since(start);
  return result;
}

}  // namespace castle::checkers
