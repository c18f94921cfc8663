#pragma once
// State invariants of the Raft quorum, read from its trace events
// (docs/cluster.md: raft.role, raft.vote, raft.append, raft.commit). A
// node is named by its trace node; a leader by the id in raft.role's
// `leader` field. Positions are event numbers: the n-th event the
// invariant saw, which is line n+1 of the run's trace.jsonl. Anomalies
// carry no history operations (events are not operations); their
// descriptions name the events.
//
//   two-leaders-in-term      two nodes became leader of one term
//   term-went-back           a node's term decreased (the term is durable,
//                            so also across its restarts)
//   committed-entry-changed  two commits of one index (on any nodes, at any
//                            time, also after restarts and snapshots) with
//                            different terms or entry hashes
//   split-brain, phantom-leader, stale-leader
//                            the quorum's (term, leader) history is not
//                            linearizable as a compare-and-set register
//                            (checkers/epoch_register.h; raft_invariants.cpp
//                            says which events count as which operations)

#include <memory>

#include "checkers/invariants.h"

namespace castle::checkers {

std::unique_ptr<TraceInvariant> raft_one_leader_per_term();
std::unique_ptr<TraceInvariant> raft_term_never_decreases();
std::unique_ptr<TraceInvariant> raft_committed_entries_agree();
std::unique_ptr<TraceInvariant> raft_leader_linearizable();

// All four, for a Raft run.
void add_raft_invariants(InvariantSet& set);

}  // namespace castle::checkers
