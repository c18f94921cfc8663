// Leader-election linearizability of the Raft quorum: its (term, leader)
// history, built from trace events, checked as one compare-and-set register
// (checkers/epoch_register.h, key "quorum").
//
// Which events are operations, and why a correct Raft is linearizable with
// these intervals (positions are event numbers, one total order):
//
// Writes. Node L winning term T is a write (T, L) over [L's raft.role
// candidate of T, L's raft.role leader of T]. The election takes effect when
// the last vote of L's majority is granted, which lies inside that interval
// (votes are requested after the candidate event and counted before the
// leader event). A single point at the leader event would not do: L may
// learn it won T only after another node already won T+1 (a voter can grant
// L's term-T vote and then M's term-T+1 vote before L counts its replies);
// that stale leader is legal Raft. With intervals, terms T < T' with leaders
// always admit an order: some voter v is in both majorities and voted in T
// before T', so candidate(T) < vote_v(T) < vote_v(T') < leader(T').
// Candidates that never lead write nothing.
//
// Reads. Only a leader's commit of an entry of its own term, with the
// interval [the entry's raft.append at the leader, the leader's raft.commit
// of it], and only while the leader still leads that term (its last
// raft.role said so). While L leads T its commit index only moves by its
// own count of acknowledgements sent in term T (a follower acknowledges
// only at term T, L counts itself only once synced), so a majority held the
// entry at term T. Any later leader M of T' > T has a majority sharing a
// voter v with it, and v acknowledged the entry before it moved to T' to
// vote for M: append(L, e) < ack_v < vote_v(T') < leader(M, T'). So the
// read fits before every later election, and after L's own election, as
// the register requires.
//
// Observations that are not linearizable in a correct Raft, and so are not
// used: a follower accepting AppendEntries from a deposed leader it has not
// yet heard is deposed; any node applying an entry of term T (it may have
// been committed later, by a leader of a higher term, after which a deposed
// L's own commit of it also proves nothing about T being current); a
// leader's commit after it stepped down (the commit may have come from the
// next leader). The planted commit-without-majority bug is caught here: a
// minority leader commits its own entries appended after the majority
// elected a newer leader, a read of (T, L) after the write of T + 1.
#include <map>
#include <vector>

#include "checkers/epoch_register.h"
#include "checkers/raft_invariants.h"

namespace castle::checkers {

namespace {

class LeaderRegister : public TraceInvariant {
 public:
  std::string name() const override { return "leader-linearizability"; }

  void observe(const TraceEvent& e) override {
    const std::int64_t pos = seen_++;
    if (e.kind == "raft.role") on_role(e, pos);
    if (e.kind == "raft.append") on_append(e, pos);
    if (e.kind == "raft.commit") on_commit(e, pos);
    if (e.kind == "node.crash") nodes_.erase(e.node);  // its leadership ends with it
  }

  std::vector<Anomaly> finish() override { return check_trace_epoch_registers(ops_); }

 private:
  struct NodeState {
    std::string role;
    std::int64_t term = 0;
    std::int64_t candidate_pos = -1;  // this term's candidate event
    std::int32_t id = -1;
    // The leader's own appends of its term, index -> event; cleared when
    // it stops leading, and each dropped once committed.
    std::map<std::int64_t, std::int64_t> appends;
  };

  void on_role(const TraceEvent& e, std::int64_t pos) {
    NodeState& n = nodes_[e.node];
    const std::string role = e.str_field("role");
    const std::int64_t term = e.int_field("term");
    if (role != "leader" || term != n.term) n.appends.clear();
    if (role == "candidate") n.candidate_pos = pos;
    if (role == "leader") {
      const auto leader = static_cast<std::int32_t>(e.int_field("leader"));
      // A leader of T was a candidate of T first; without the candidate
      // event (not traced) its interval is the leader event alone.
      const bool campaigned = n.role == "candidate" && n.term == term && n.candidate_pos >= 0;
      add(EpochOp::Kind::write, term, leader, campaigned ? n.candidate_pos : pos, pos);
      n.id = leader;
    }
    n.role = role;
    n.term = term;
  }

  void on_append(const TraceEvent& e, std::int64_t pos) {
    auto it = nodes_.find(e.node);
    if (it == nodes_.end() || it->second.role != "leader") return;
    NodeState& n = it->second;
    if (e.int_field("term") != n.term) return;
    for (std::int64_t i = e.int_field("first"); i <= e.int_field("last"); ++i) n.appends[i] = pos;
  }

  void on_commit(const TraceEvent& e, std::int64_t pos) {
    auto it = nodes_.find(e.node);
    if (it == nodes_.end() || it->second.role != "leader") return;
    NodeState& n = it->second;
    if (e.int_field("term") != n.term) return;
    auto a = n.appends.find(e.int_field("index"));
    if (a == n.appends.end()) return;
    add(EpochOp::Kind::read, n.term, n.id, a->second, pos);
    n.appends.erase(a);
  }

  void add(EpochOp::Kind kind, std::int64_t term, std::int32_t leader, std::int64_t invoke,
           std::int64_t complete) {
    EpochOp op;
    op.kind = kind;
    op.key = quorum_key_;
    op.epoch = term;
    op.leader = leader;
    op.invoke = invoke;
    op.complete = complete;
    op.id = complete;
    ops_.push_back(std::move(op));
  }

  const std::string quorum_key_ = "quorum";
  std::int64_t seen_ = 0;
  std::map<std::string, NodeState> nodes_;
  std::vector<EpochOp> ops_;
};

}  // namespace

std::unique_ptr<TraceInvariant> raft_leader_linearizable() {
  return std::make_unique<LeaderRegister>();
}

}  // namespace castle::checkers
