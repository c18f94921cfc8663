#pragma once
// Per-process order checks over a log-shaped history, after Jepsen's Kafka
// workload:
//   nonmonotonic-poll  a process's successive polls of a key return offsets
//                      that go backwards or repeat (also within one poll)
//   poll-skip          a process's successive polls of a key jump over an
//                      offset that exists in the log, i.e. one known from any
//                      acknowledged send or any read, by any process
//   nonmonotonic-send  a process's successive acknowledged sends to a key get
//                      offsets that do not increase
// A process's poll and send positions reset when it invokes assign, subscribe
// or crash: a consumer that is reassigned may legitimately re-read or start
// elsewhere. An info poll also resets its process's poll positions, because
// the consumer may have advanced by records nobody saw.

#include "checkers/history.h"
#include "checkers/log_checks.h"

namespace castle::checkers {

// Adds the order anomalies of h to r (r.counts and r.anomalies).
void check_order(const history::History& h, CheckResult& r);

}  // namespace castle::checkers
