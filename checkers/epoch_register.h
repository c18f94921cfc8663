#pragma once
// Leader-election linearizability. Each key ("t-0" for a partition,
// "quorum" for the Raft metadata quorum) is a compare-and-set register
// holding (epoch, leader): an election writes it with a CAS that only
// succeeds for an epoch above the current one, and every observation of a
// leader (a node learning it, a client told it, a write acknowledged by
// it) reads it. The history of a key is linearizable when each operation
// can be placed at one instant within its interval so that, replayed in
// that order, every write succeeds and every read returns the latest write.
//
// As successful CAS writes strictly raise the epoch, they must take effect
// in epoch order, and a read of epoch e must fall after the write of e and
// before the write of the next epoch written. That makes the search a
// single pass: place every operation as early as its constraints allow, in
// epoch order; the earliest placement is feasible exactly when any
// placement is (each constraint only bounds later operations from below
// and every operation from above by its completion). A brute-force search
// over small histories checks this claim in the tests.
//
// Operation outcomes: an ok write took effect; an info write (unknown
// outcome) took effect only if some read saw its epoch, and then at any
// time after its invoke; reads are ok or not recorded.
//
// Anomalies (type, with the operations that show it):
//   split-brain      two writes of one epoch name different leaders
//   phantom-leader   a read of an (epoch, leader) nobody wrote
//   stale-leader     a read cannot fall between its epoch's write and the
//                    next write (it was still seen after a newer leader
//                    was in place), or writes complete out of epoch order

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "checkers/log_checks.h"

namespace castle::checkers {

struct EpochOp {
  enum class Kind { write, read };
  static constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

  Kind kind = Kind::read;
  std::string key;
  std::int64_t epoch = 0;
  std::int32_t leader = -1;
  // Positions in one total order (history or trace sequence numbers),
  // invoke <= complete; complete == never for an info write.
  std::int64_t invoke = 0;
  std::int64_t complete = 0;
  std::int64_t id = 0;  // reported in anomalies (a history index, an event number)
};

// Checks every key's operations; keys are independent registers. The
// register starts empty: a read of no leader is not an operation here.
std::vector<Anomaly> check_epoch_registers(const std::vector<EpochOp>& ops);

// The same, for operations built from trace events (ids are event
// numbers, not history indexes): the ids move into the description
// ("trace events #3, 7") and the anomalies name no history operations.
std::vector<Anomaly> check_trace_epoch_registers(const std::vector<EpochOp>& ops);

}  // namespace castle::checkers
