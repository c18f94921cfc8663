#pragma once
// The durability contract of the Kafka system: given a scenario's
// configuration (acks, idempotence, flush policy) and the faults actually
// injected, which anomalies the checkers may report without the run
// failing. Written out in README.md ("Durability contract"); this is its
// one implementation. A scenario with `"durability": "strict"` allows none.
//
// One broker holds every partition (replication comes later), so:
// - acks=0 sends may be lost at any time: lost-write and unseen are allowed;
// - a broker crash loses what was not synced, unless every write is synced
//   (log.flush.interval.messages=1): then acknowledged writes may be lost,
//   their offsets given to later writes, and consumers that read the lost
//   tail see offsets go back, and a retry may write a value they read in
//   the lost tail again elsewhere: lost-write, unseen, inconsistent-offsets,
//   nonmonotonic-poll, poll-skip, nonmonotonic-send and duplicate are
//   allowed;
// - a bit flip or an EIO on the broker's disk allows the same (a corrupt
//   tail is cut; a failed fsync is not yet handled as Kafka does);
// - without idempotence a retried send may be stored twice: duplicate is
//   allowed;
// - a history with any of the losses or duplicates above is not a
//   linearizable log either: nonlinearizable is allowed with them;
// - never allowed: G1a (a failed send read), phantom (a value nobody
//   sent), and anything the configuration and faults above don't explain.

#include <set>
#include <string>
#include <vector>

#include "scenarios/scenario.h"

namespace castle::scenarios {

struct Contract {
  std::set<std::string> allowed;  // anomaly types the run may report
  std::string summary;            // one line: why, for the report
};

Contract kafka_contract(const Scenario& s, const std::vector<FaultSpec>& injected);

}  // namespace castle::scenarios
