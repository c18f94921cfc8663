#pragma once
// The durability contract of the Kafka system: given a scenario's
// configuration (acks, idempotence, flush policy) and the faults actually
// injected, which anomalies the checkers may report without the run
// failing. Written out in README.md ("Durability contract"); this is its
// one implementation. A scenario with `"durability": "strict"` allows none.
//
// One broker (cluster.servers = 1) holds every partition, so:
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
//
// A cluster (servers > 1, replication factor RF, min.insync.replicas M):
// an acks=all write is acknowledged once every ISR member holds it, the ISR
// has at least M members, and unclean election is off, so:
// - a broker "may lose records" when it crashes with unsynced writes, or
//   its disk flips a bit or fails (the faults as applied, with "leader" and
//   "controller" resolved to the nodes they hit). A restarted broker is
//   fenced and leaves the ISRs, but the last ISR member stays (as in Kafka
//   before KIP-966's eligible leader replicas) and is elected again with
//   what it kept; so only once at least M distinct brokers may have lost
//   records can an acknowledged write be lost, and then the losses above
//   are allowed (and the replication invariants that assume committed
//   records survive are off). The trace may also show a loss directly
//   (committed-lost-in-crashes: after crashes no replica holds a record
//   below the high watermark), which allows the same;
// - with unclean.leader.election.enable=true any fault allows them;
// - acks=1 is answered by the leader alone: any fault allows the losses
//   (committed records, those below the high watermark, still survive);
// - acks=0 and idempotence as for one broker; partitions, pauses, clock
//   faults and latency alone never allow a loss.

#include <set>
#include <string>
#include <vector>

#include "checkers/log_checks.h"
#include "scenarios/scenario.h"

namespace castle::scenarios {

struct Contract {
  std::set<std::string> allowed;  // anomaly types the run may report
  std::string summary;            // one line: why, for the report
  // For the state invariants: records below a high watermark may be lost
  // (skip leader-missing-committed, replica-divergence); a bit flipped;
  // unclean election on (skip partition leader linearizability).
  bool committed_may_be_lost = false;
  bool corruption = false;
  bool unclean = false;
};

// Whether the brokers sync every write (log.flush.interval.messages=1).
bool syncs_every_write(const KafkaSpec& k);

// `injected`: the faults as applied. `loss_witnessed`: a cluster run's trace
// showed committed records lost from every replica.
Contract kafka_contract(const Scenario& s, const std::vector<FaultSpec>& injected,
                        bool loss_witnessed = false);

// The history checkers' anomalies of a Kafka run, sorted by what they mean:
// failing (a safety violation), allowed (the contract permits it), or
// unverified: an acknowledged value never read while the final read did not
// complete, which may be lost or only out of reach (a partition left
// without a leader), so the run fails for liveness instead. A value a read
// went past is a lost-write and fails whatever the final read did.
struct SortedAnomalies {
  std::vector<checkers::Anomaly> failing, allowed, unverified;
};
SortedAnomalies sort_history_anomalies(std::vector<checkers::Anomaly> anomalies, const Contract& c,
                                       bool final_read_done);

}  // namespace castle::scenarios
