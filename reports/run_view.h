#pragma once
// What the report's pictures draw, gathered once from a run: the nodes, the
// faults as intervals, node down times and leadership seen in the trace,
// and the history's operations paired invoke -> completion. Every picture
// reads this view rather than the RunResult, so that the pictures agree with
// each other and know nothing of the system under test: a system is free to
// trace whatever it likes, and the view only reads the conventions below.
//
// Trace conventions read (all optional):
//   node.crash / node.start      a node goes down / comes up (the simulator)
//   kind containing "leader"     a leadership claim by the event's node, or by
//                                the node named in a string field "leader";
//                                its subject is the field "partition", "key",
//                                "topic" or "group" (first found); kinds that
//                                also contain "resign", "lost" or "step"
//                                end the claim
//   string field "to" / "peer"   a message or connection to that node

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::reports {

// A fault as drawn: kind, targets and when it was in force. Instant faults
// (reset, bit flip, clock jump) have end_ns == start_ns.
struct FaultInterval {
  std::string kind;
  std::vector<std::string> nodes;
  std::vector<std::string> others;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::string label;  // e.g. "split s0 | s1,s2 (500 ms)"
};

// The family a fault kind belongs to, which decides its colour everywhere:
// node, partition, network, clock or disk.
std::string fault_family(const std::string& kind);

struct DownInterval {
  std::string node;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

struct LeaderSpan {
  std::string node;     // the leader
  std::string subject;  // what it leads ("" when the event names nothing)
  std::string epoch;    // epoch or term if the event carries one
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

struct TracePoint {
  std::string node;
  std::int64_t time_ns = 0;
  std::string kind;
  std::string peer;     // the "to"/"peer" field, when it names a node
  std::string details;  // the other fields, as compact JSON
};

// One client operation: its invoke and (if it completed) its completion.
struct OpPair {
  std::int64_t invoke_index = -1;
  std::int64_t complete_index = -1;  // -1: never completed
  std::int64_t process = 0;
  std::string f;
  std::int64_t invoke_ns = 0;
  std::int64_t complete_ns = 0;  // == end of run when never completed
  history::OpType outcome = history::OpType::info;
  std::vector<std::string> keys;  // the keys it touched
  std::string request;            // e.g. "send s0-0 42"
  std::string reply;              // e.g. "ok @17", "fail: timeout"
  bool completed() const { return complete_index >= 0; }
  std::int64_t latency_ns() const { return complete_ns - invoke_ns; }
};

struct RunView {
  std::vector<std::string> servers;
  std::vector<std::string> clients;
  std::vector<std::string> nodes;  // servers, clients, then others seen in the trace
  std::int64_t end_ns = 0;         // simulated time at the end of the run
  // When the nemesis stopped; none for a bare history, where no scenario says.
  std::optional<std::int64_t> faults_end_ns;
  std::vector<FaultInterval> faults;
  std::vector<DownInterval> down;
  std::vector<LeaderSpan> leaders;
  std::vector<TracePoint> trace;
  std::vector<OpPair> ops;                   // ordered by invoke time
  std::map<std::int64_t, std::size_t> op_of_index;  // history index -> ops position
  std::vector<std::int64_t> violation_ops;   // history indexes of the first anomaly
  std::string violation_title;               // "lost-write s0-0: ..." or ""
};

// What the view is made of, whichever way the run is known: a RunResult in
// memory (castle sim) or a run folder's files (castle report).
struct ViewInputs {
  std::vector<std::string> servers;
  std::vector<std::string> clients;
  std::int64_t sim_time_ns = 0;
  std::optional<std::int64_t> faults_stop_ns;  // the scenario's duration: the nemesis stops there
  const std::vector<scenarios::FaultSpec>& planned_faults;
  const std::vector<std::string>& trace_lines;
  const history::History& history;
  const checkers::CheckResult& check;
};

RunView make_run_view(const ViewInputs& in);
RunView make_run_view(const scenarios::Scenario& s, const scenarios::RunResult& r);

// Steps of make_run_view (run_view_ops.cpp): pair every invoke with its
// process's next completion; name the first anomaly's operations.
void add_ops(RunView& v, const history::History& h);
void add_violation(RunView& v, const checkers::CheckResult& c);

// "12.345 s", "87.2 ms", "410 us": simulated time for labels.
std::string format_time(std::int64_t ns);
// "12.345678 s": to the microsecond, for rows that may be close together.
std::string format_time_fine(std::int64_t ns);
// "2 s", "1.5 s", "200 ms": round values, for axis ticks.
std::string format_time_tick(std::int64_t ns);
// A round step (1, 2 or 5 times a power of ten) that cuts span into about
// ticks_target pieces; at least 1.
std::int64_t round_step(double span, double ticks_target);

}  // namespace castle::reports
