#include "checkers/raft_invariants.h"

#include <map>
#include <vector>


namespace castle::checkers {

namespace {

std::string at_event(std::int64_t pos, std::int64_t time_ns) {
  return "event #" + std::to_string(pos) + " at " + std::to_string(time_ns) + " ns";
}

// ------------------------------------------------------------ one leader

class OneLeaderPerTerm : public TraceInvariant {
 public:
  std::string name() const override { return "two-leaders-in-term"; }
  void observe(const TraceEvent& e) override {
    const std::int64_t pos = seen_++;
    if (e.kind != "raft.role" || e.str_field("role") != "leader") return;
    const std::int64_t term = e.int_field("term");
    auto [it, first] = leaders_.try_emplace(term, Claim{e.node, pos, e.time_ns});
    if (first || it->second.node == e.node) return;
    anomalies_.push_back({name(), e.node,
                          "term " + std::to_string(term) + " has two leaders: " + it->second.node +
                              " (" + at_event(it->second.pos, it->second.time_ns) + ") and " +
                              e.node + " (" + at_event(pos, e.time_ns) + ")",
                          {}});
  }
  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Claim {
    std::string node;
    std::int64_t pos;
    std::int64_t time_ns;
  };
  std::int64_t seen_ = 0;
  std::map<std::int64_t, Claim> leaders_;  // term -> first leader
  std::vector<Anomaly> anomalies_;
};

// ------------------------------------------------------------ terms

// Both raft.role and raft.vote carry the node's current term; a node's
// restart traces its recovered term in raft.role, so one per-node series
// over both kinds covers the term across restarts.
class TermNeverDecreases : public TraceInvariant {
 public:
  std::string name() const override { return "term-went-back"; }
  void observe(const TraceEvent& e) override {
    const std::int64_t pos = seen_++;
    if (e.kind != "raft.role" && e.kind != "raft.vote") return;
    const std::int64_t term = e.int_field("term");
    auto [it, first] = last_.try_emplace(e.node, Last{term, pos, e.time_ns});
    if (!first && term < it->second.term)
      anomalies_.push_back({name(), e.node,
                            e.node + "'s term went from " + std::to_string(it->second.term) + " (" +
                                at_event(it->second.pos, it->second.time_ns) + ") to " +
                                std::to_string(term) + " (" + e.kind + ", " +
                                at_event(pos, e.time_ns) + ")",
                            {}});
    it->second = {term, pos, e.time_ns};
  }
  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Last {
    std::int64_t term;
    std::int64_t pos;
    std::int64_t time_ns;
  };
  std::int64_t seen_ = 0;
  std::map<std::string, Last> last_;
  std::vector<Anomaly> anomalies_;
};

// ------------------------------------------------------------ commits

// raft.commit is traced as each node applies an entry, so a node traces an
// index again after a restart (it re-applies from its snapshot). Every
// trace of one index, anywhere and at any time, must name the same entry.
class CommittedEntriesAgree : public TraceInvariant {
 public:
  std::string name() const override { return "committed-entry-changed"; }
  void observe(const TraceEvent& e) override {
    const std::int64_t pos = seen_++;
    if (e.kind != "raft.commit") return;
    const Commit c{e.int_field("term"), e.int_field("hash"), e.node, pos, e.time_ns};
    const std::int64_t index = e.int_field("index");
    auto [it, first] = first_.try_emplace(index, c);
    if (first || (it->second.term == c.term && it->second.hash == c.hash)) return;
    if (++reported_[index] > 1) return;  // one report per index is enough
    anomalies_.push_back({name(), e.node,
                          "index " + std::to_string(index) + " was committed as term " +
                              std::to_string(it->second.term) + " on " + it->second.node + " (" +
                              at_event(it->second.pos, it->second.time_ns) + ") and as term " +
                              std::to_string(c.term) + " on " + c.node + " (" +
                              at_event(pos, e.time_ns) + ") with " +
                              (it->second.hash == c.hash ? "the same" : "a different") + " hash",
                          {}});
  }
  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Commit {
    std::int64_t term;
    std::int64_t hash;
    std::string node;
    std::int64_t pos;
    std::int64_t time_ns;
  };
  std::int64_t seen_ = 0;
  std::map<std::int64_t, Commit> first_;  // index -> first commit traced
  std::map<std::int64_t, int> reported_;
  std::vector<Anomaly> anomalies_;
};

}  // namespace

std::unique_ptr<TraceInvariant> raft_one_leader_per_term() {
  return std::make_unique<OneLeaderPerTerm>();
}
std::unique_ptr<TraceInvariant> raft_term_never_decreases() {
  return std::make_unique<TermNeverDecreases>();
}
std::unique_ptr<TraceInvariant> raft_committed_entries_agree() {
  return std::make_unique<CommittedEntriesAgree>();
}

void add_raft_invariants(InvariantSet& set) {
  set.add(raft_one_leader_per_term());
  set.add(raft_term_never_decreases());
  set.add(raft_committed_entries_agree());
  set.add(raft_leader_linearizable());
}

}  // namespace castle::checkers
