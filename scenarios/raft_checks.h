#pragma once
// The Raft scenario's end-of-run checks over what every server applied,
// beside the log checks of the history (checkers/log_checks.h, which find
// acknowledged values never read, values at two indexes, reads of failed
// proposals and values nobody sent):
//
//   log-divergence   two servers' applied logs are not prefixes of one
//                    another: up to the shorter one's applied index, they
//                    hold different values, or a value where the other
//                    holds a Raft entry of its own (no client value)
//   wrong-index      an acknowledged value is not at its acknowledged index
//                    in the final committed log (the longest applied log)

#include <cstdint>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "checkers/log_checks.h"

namespace castle::scenarios {

struct AppliedLog {
  std::string node;
  std::int64_t applied_index = 0;  // Raft's, counting its own (empty) entries
  std::vector<std::pair<std::int64_t, std::int64_t>> values;  // (index, value), by index
  std::int64_t op = -1;  // the history index of the read that recorded it
};

void check_applied_logs(const history::History& h, const std::vector<AppliedLog>& logs,
                        checkers::CheckResult& r);

}  // namespace castle::scenarios
