#pragma once
// The pieces of the log linearizability checker (linearizability.h):
//   lin_ops.cpp     turns a history into per-key operations (LinOp)
//   lin_search.cpp  Wing–Gong search with Lowe's cache for one key
//   lin_witness.cpp shrinks a failing key's operations to a small witness
//
// The log model. The state of a key is its log: the appends taken effect so
// far, each with its offset. An append of offset o is legal when o exceeds
// every offset in the log; a poll is legal when the log's entries between
// its first and last offset are exactly the entries it returned.
//
// Every append that reaches the search must take effect: an ok one by
// definition, and an info one only reaches the search when some ok poll read
// its value (an info send nobody read can be dropped: taking effect could
// only make polls harder to place). As offsets only grow, the appends must
// therefore take effect in offset order, so the search only offers the next
// append in that order — a pruning, not a change of meaning. Then the log is
// the first m appends of that order, and a poll is legal exactly when its
// segment matches (a static property) and m has reached its last offset.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "checkers/history.h"

namespace castle::checkers::lin {

constexpr std::int64_t return_never = std::numeric_limits<std::int64_t>::max();

struct LinOp {
  enum class Kind { append, poll };
  Kind kind = Kind::append;
  std::int64_t call = 0;            // history index of the invoke
  std::int64_t ret = return_never;  // of the ok completion; never for info
  std::int64_t process = 0;
  std::int64_t offset = 0;  // append
  std::int64_t value = 0;   // append
  std::vector<std::pair<std::int64_t, std::int64_t>> observed;  // poll: (offset, value)
  bool required() const { return ret != return_never; }
};

using KeyOps = std::map<std::string, std::vector<LinOp>>;

// The operations of each key, as the search sees them.
KeyOps lin_ops(const history::History& h);

struct Budget {
  std::int64_t steps_max = 0;
  std::int64_t cache_bytes_max = 0;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

enum class Outcome { linearizable, not_linearizable, budget_exceeded };

struct SearchResult {
  Outcome outcome = Outcome::linearizable;
  std::int64_t steps = 0;
  std::string reason;
  // When no timing at all could work (a poll that is no segment of the
  // appends' log, two appends at one offset): the operations that show it,
  // as indexes into ops. Empty for failures found by the search itself.
  std::vector<std::size_t> culprits;
};

SearchResult search(const std::vector<LinOp>& ops, const Budget& budget);

struct WitnessBudget {
  std::int64_t attempts_max = 0;
  std::int64_t steps_max = 0;
};

// A subset of ops, closed under "a poll keeps the appends of the values it
// read", that is still not linearizable: since dropping polls and unread
// appends only relaxes a log history, it proves the whole key is not.
// Returns indexes into ops.
std::vector<std::size_t> shrink_witness(const std::vector<LinOp>& ops, const WitnessBudget& budget);

}  // namespace castle::checkers::lin
