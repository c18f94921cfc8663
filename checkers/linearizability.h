#pragma once
// Linearizability of per-partition logs. Each key is a log: a send appends a
// value and its acknowledgement names the offset; a poll observes a
// contiguous segment of the log (all the log holds between the first and the
// last offset it returned, nothing else). A key's history is linearizable
// when every acknowledged operation can be placed at one instant between its
// invoke and its completion so that the log, replayed in that order, gives
// every acknowledgement and every poll its recorded result.
//
// Outcomes: ok operations must take effect; failed ones did not; info ones
// may have taken effect any time after their invoke, or never. Keys are
// checked independently (a log per key; a Kafka poll is not atomic across
// partitions), each with a budget: when a key's search exceeds it the key is
// `unknown`, which is neither valid nor invalid.
//
// The search is Wing and Gong's, with Lowe's memoisation of the
// configurations already explored (see lin_search.h).

#include <cstdint>
#include <string>
#include <vector>

#include "checkers/history.h"

namespace castle::checkers {

enum class LinVerdict { valid, invalid, unknown };
const char* to_string(LinVerdict v);

struct LinOptions {
  // Budget per key; the first bound reached makes the key unknown.
  std::int64_t steps_max = 20'000'000;
  std::int64_t time_ms_max = 10'000;
  std::int64_t cache_bytes_max = std::int64_t{512} << 20;
  // Shrinking a failing key to a witness: attempts, and the step budget of each.
  std::int64_t witness_attempts_max = 400;
  std::int64_t witness_steps_max = 200'000;
};

struct KeyLinResult {
  std::string key;
  LinVerdict verdict = LinVerdict::valid;
  std::int64_t ops = 0;    // operations of this key that took part
  std::int64_t steps = 0;  // search steps spent
  double elapsed_ms = 0;
  std::string reason;                // why invalid or unknown
  // History indexes of the operations that show the failure: for a poll that
  // is no segment of the appends' log, the poll and the appends at the
  // offset where it departs; otherwise a small subset of the key's
  // operations that is itself not linearizable.
  std::vector<std::int64_t> witness;
};

struct LinResult {
  LinVerdict verdict = LinVerdict::valid;  // invalid if any key is, else unknown if any is
  std::vector<KeyLinResult> keys;
  std::int64_t steps = 0;
  double elapsed_ms = 0;
};

LinResult check_log_linearizability(const history::History& h, const LinOptions& options);

}  // namespace castle::checkers
