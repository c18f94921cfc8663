#include "checkers/replication_invariants.h"

#include <algorithm>
#include <map>
#include <set>

namespace castle::checkers {

namespace {

struct Batch {
  std::int64_t base = 0, last = 0, crc = 0;
  bool same(const Batch& o) const { return base == o.base && last == o.last && crc == o.crc; }
};

using Batches = std::map<std::int64_t, Batch>;  // by base offset

std::string text(const Batch& b) {
  return "[" + std::to_string(b.base) + ".." + std::to_string(b.last) + " crc " +
         std::to_string(b.crc) + "]";
}

// Drops every batch reaching offset or beyond (a cut inside a batch drops it).
void cut(Batches& batches, std::int64_t offset) {
  auto it = batches.lower_bound(offset);
  if (it != batches.begin() && std::prev(it)->second.last >= offset) --it;
  batches.erase(it, batches.end());
}

// The committed batch overlapping b that differs from it, if any.
const Batch* conflict(const Batches& committed, const Batch& b) {
  auto it = committed.upper_bound(b.last);
  while (it != committed.begin()) {
    --it;
    if (it->second.last < b.base) break;
    if (!it->second.same(b)) return &it->second;
  }
  return nullptr;
}

class Replication : public TraceInvariant {
 public:
  explicit Replication(ReplicationInvariantOptions o) : options_(o) {}
  std::string name() const override { return "replication"; }

  void observe(const TraceEvent& e) override {
    if (e.kind == "node.crash") return on_crash(e.node);
    const bool election = e.kind == "metadata.partition";
    if (!election && e.kind.rfind("replica.", 0) != 0) return;
    const std::string key = e.str_field("topic") + "-" + std::to_string(e.int_field("partition"));
    if (election || e.kind == "replica.leader") epoch_seen(key, e.int_field("epoch"));
    if (election) return;
    Replica& r = replicas_[{key, e.node}];
    if (e.kind == "replica.append") {
      const Batch b{e.int_field("base"), e.int_field("last"), e.int_field("crc")};
      cut(r.batches, b.base);
      r.batches[b.base] = b;
    } else if (e.kind == "replica.truncate") {
      truncate(r, e.int_field("offset"));
    } else if (e.kind == "replica.open") {
      truncate(r, e.int_field("leo"));
      witness_loss(key, e);
    } else if (e.kind == "replica.hw") {
      on_hw(key, e, r);
    } else if (e.kind == "replica.leader") {
      on_leader(key, e);
    }
  }

  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Replica {
    Batches batches;
    std::int64_t hw = 0;
    bool crashed = false;          // since its last high watermark
    bool leading = false;          // led the partition since its last crash, no newer leader seen
    std::int64_t checked_to = 0;   // batches below this were compared already
  };

  void report(const char* type, const std::string& key, std::string description) {
    anomalies_.push_back({type, key, std::move(description), {}});
  }

  void truncate(Replica& r, std::int64_t offset) {
    cut(r.batches, offset);
    r.checked_to = std::min(r.checked_to, offset);
  }

  // A log reopened after a crash may have lost its unsynced tail. Once no
  // replica holds an offset below the highest high watermark published,
  // crashes (or disk damage) took a committed record from every copy: the
  // evidence the durability contract needs before it allows losses.
  void witness_loss(const std::string& key, const TraceEvent& e) {
    const std::int64_t committed = committed_hw_[key];
    std::int64_t held = 0;
    for (const auto& [id, r] : replicas_)
      if (id.first == key && !r.batches.empty()) held = std::max(held, r.batches.rbegin()->second.last + 1);
    if (held >= committed || witnessed_.count(key) != 0) return;
    witnessed_.insert(key);
    report("committed-lost-in-crashes", key,
           "after node " + e.node + " reopened its log at " + std::to_string(e.time_ns) +
               " ns no replica holds offsets " + std::to_string(held) + ".." +
               std::to_string(committed - 1) + ", below the high watermark " + std::to_string(committed));
  }

  void on_crash(const std::string& node) {
    for (auto& [id, r] : replicas_)
      if (id.second == node) {
        r.crashed = true;
        r.leading = false;
      }
  }

  // Only a leader's high watermark is the partition's: a follower copies
  // its leader's (Kafka's follower sets, not raises, its high watermark),
  // and a new leader may know a lower one than the old leader published,
  // so a follower's may go back. A leader's never does while it leads.
  void on_hw(const std::string& key, const TraceEvent& e, Replica& r) {
    const std::int64_t hw = e.int_field("hw");
    if (hw < r.hw && !r.crashed && r.leading)
      report("hw-went-back", key,
             "node " + e.node + ": high watermark " + std::to_string(r.hw) + " -> " +
                 std::to_string(hw) + " at " + std::to_string(e.time_ns) + " ns");
    r.hw = hw;
    r.crashed = false;
    committed_hw_[key] = std::max(committed_hw_[key], hw);
    if (!options_.committed_may_be_lost && !options_.corruption_injected) compare(key, e.node, r);
  }

  // Every batch of r wholly below its high watermark must be the one the
  // first replica to commit that offset held.
  void compare(const std::string& key, const std::string& node, Replica& r) {
    Batches& committed = committed_[key];
    for (auto it = r.batches.lower_bound(r.checked_to); it != r.batches.end(); ++it) {
      const Batch& b = it->second;
      if (b.last >= r.hw) break;
      if (const Batch* other = conflict(committed, b)) {
        report("replica-divergence", key,
               "node " + node + " holds " + text(b) + " below its high watermark " +
                   std::to_string(r.hw) + " where a replica committed " + text(*other));
      } else {
        committed.emplace(b.base, b);
      }
      r.checked_to = b.last + 1;
    }
  }

  // An epoch begins when a node first applies its election (the active
  // controller does so as it commits it).
  void epoch_seen(const std::string& key, std::int64_t epoch) {
    epoch_start_hw_[key].try_emplace(epoch, committed_hw_[key]);
  }

  // What a leader of epoch must hold: everything committed before any
  // later epoch began. A broker replaying the metadata log (it was cut off
  // while the elections happened) takes up an epoch long superseded, for
  // a moment; records committed since by newer leaders are not its to have.
  std::int64_t committed_before_epoch_after(const std::string& key, std::int64_t epoch) {
    const auto& starts = epoch_start_hw_[key];
    auto later = starts.upper_bound(epoch);
    return later == starts.end() ? committed_hw_[key] : later->second;
  }

  void on_leader(const std::string& key, const TraceEvent& e) {
    const std::int64_t epoch = e.int_field("epoch");
    for (auto& [id, r] : replicas_)
      if (id.first == key) r.leading = id.second == e.node;
    auto [it, fresh] = leaders_.try_emplace({key, epoch}, e.node);
    if (!fresh && it->second != e.node)
      report("partition-split-brain", key,
             "leader epoch " + std::to_string(epoch) + " led by " + it->second + " and " + e.node);
    const std::int64_t leo = e.int_field("leo");
    const std::int64_t committed = committed_before_epoch_after(key, epoch);
    if (!options_.committed_may_be_lost && leo < committed)
      report("leader-missing-committed", key,
             "node " + e.node + " became leader of epoch " + std::to_string(epoch) +
                 " with log end " + std::to_string(leo) + " below the committed offset " +
                 std::to_string(committed));
  }

  ReplicationInvariantOptions options_;
  std::map<std::pair<std::string, std::string>, Replica> replicas_;  // (key, node)
  std::map<std::string, Batches> committed_;                        // key -> reference
  std::map<std::string, std::int64_t> committed_hw_;                // key -> highest hw
  // key -> epoch -> the highest hw when that epoch began
  std::map<std::string, std::map<std::int64_t, std::int64_t>> epoch_start_hw_;
  std::set<std::string> witnessed_;                                 // keys with a loss witnessed
  std::map<std::pair<std::string, std::int64_t>, std::string> leaders_;  // (key, epoch) -> node
  std::vector<Anomaly> anomalies_;
};

}  // namespace

std::unique_ptr<TraceInvariant> replication_invariants(ReplicationInvariantOptions options) {
  return std::make_unique<Replication>(options);
}

}  // namespace castle::checkers
