#include "checkers/replication_invariants.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "checkers/trace_keys.h"

namespace castle::checkers {

namespace {

struct Batch {
  std::int64_t base = 0, last = 0, crc = 0;
  bool same(const Batch& o) const { return base == o.base && last == o.last && crc == o.crc; }
};

// A replica's batches by base offset. Appends come in offset order and a
// cut drops a tail, so a sorted vector serves where a tree allocated a node
// per batch.
using Batches = std::vector<Batch>;
using Committed = std::map<std::int64_t, Batch>;  // by base offset

std::string text(const Batch& b) {
  return "[" + std::to_string(b.base) + ".." + std::to_string(b.last) + " crc " +
         std::to_string(b.crc) + "]";
}

Batches::iterator first_from(Batches& batches, std::int64_t base) {
  return std::lower_bound(batches.begin(), batches.end(), base,
                          [](const Batch& b, std::int64_t o) { return b.base < o; });
}

// Drops every batch reaching offset or beyond (a cut inside a batch drops it).
void cut(Batches& batches, std::int64_t offset) {
  auto it = first_from(batches, offset);
  if (it != batches.begin() && std::prev(it)->last >= offset) --it;
  batches.erase(it, batches.end());
}

// The committed batch overlapping b that differs from it, if any.
const Batch* conflict(const Committed& committed, const Batch& b) {
  auto it = committed.upper_bound(b.last);
  while (it != committed.begin()) {
    --it;
    if (it->second.last < b.base) break;
    if (!it->second.same(b)) return &it->second;
  }
  return nullptr;
}

// Partitions and nodes go by id (trace_keys.h): this invariant sees every
// replica event of the run.
class Replication : public TraceInvariant {
 public:
  explicit Replication(ReplicationInvariantOptions o) : options_(o) {}
  std::string name() const override { return "replication"; }

  void observe(const TraceEvent& e) override {
    if (e.kind == "node.crash") return on_crash(e);
    if (e.kind == "broker.registered") {
      broker_nodes_[e.int_field("id")] = keys_.node(e.node);
      node_brokers_[keys_.node(e.node)] = e.int_field("id");
      return;
    }
    const bool election = e.kind == "metadata.partition";
    if (!election && e.kind.rfind("replica.", 0) != 0) return;
    const std::uint32_t key = keys_.partition(e);
    if (key >= partitions_.size()) partitions_.resize(key + 1);
    if (election || e.kind == "replica.leader") epoch_seen(partitions_[key], e.int_field("epoch"), e.time_ns);
    if (election) {
      deposed_by_record(key, e);
      return on_partition_record(key, e);
    }
    Replica& r = replica(key, keys_.node(e.node));
    if (e.kind == "replica.append") {
      const Batch b{e.int_field("base"), e.int_field("last"), e.int_field("crc")};
      cut(r.batches, b.base);
      r.batches.push_back(b);
      r.end = b.last + 1;
    } else if (e.kind == "replica.truncate") {
      truncate(r, e.int_field("offset"));
      // A follower's truncation below its high watermark lost what it had
      // committed (the loss checks judge that); the watermark it leads from
      // next starts there. A leader's own cut is what hw-went-back is for.
      if (!r.leading) r.hw = std::min(r.hw, e.int_field("offset"));
    } else if (e.kind == "replica.durable") {
      r.durable = e.int_field("end");
    } else if (e.kind == "replica.ack") {
      if (options_.every_write_synced) on_ack(key, e);
    } else if (e.kind == "replica.open") {
      reopened(key, e, r);
      witness_loss(key, e);
    } else if (e.kind == "replica.hw") {
      on_hw(key, e, r);
    } else if (e.kind == "replica.leader") {
      on_leader(key, e);
    } else if (e.kind == "replica.isr_expand") {
      on_expand(key, e, r);
    }
  }

  std::vector<Anomaly> finish() override { return std::move(anomalies_); }

 private:
  struct Replica {
    Batches batches;
    std::int64_t hw = 0;
    bool crashed = false;          // since its last high watermark
    std::int64_t crashed_ns = -1;  // when its node last crashed
    bool leading = false;          // led the partition since its last crash, no newer leader seen
    std::int64_t led_epoch = -1;   // the epoch it last took up leading
    std::int64_t checked_to = 0;   // batches below this were compared already
    std::int64_t durable = 0;      // its log's synced end (replica.durable)
    // Its log end. Past the last batch seen when a crash brought back what
    // a truncation had cut but not made durable: those batches' contents
    // are not known here.
    std::int64_t end = 0;
    std::int64_t lost_durable_ns = -1;  // when its log last came back shorter than synced
  };

  struct Partition {
    std::vector<Replica> replicas;  // by node id
    std::vector<bool> present;      // by node id: whether that node has a replica
    Committed committed;            // the reference batches
    std::int64_t committed_hw = 0;  // the highest high watermark
    bool witnessed = false;         // a loss was witnessed
    std::map<std::int64_t, std::string> leaders;  // epoch -> node
    std::map<std::int64_t, std::int64_t> epoch_start_hw;  // epoch -> highest hw when it began
    std::map<std::int64_t, std::int64_t> epoch_start_ns;  // epoch -> when it began
    // The newest partition record applied anywhere (every node applies
    // every record; the first to apply one is the controller committing it).
    std::int64_t record_epoch = -1;  // its partition epoch
    std::int64_t record_leader = -1, record_leader_epoch = -1;
    std::vector<std::int64_t> isr;
  };

  // An epoch begins when a node first applies its election (the active
  // controller does so as it commits it).
  static void epoch_seen(Partition& p, std::int64_t epoch, std::int64_t time_ns) {
    p.epoch_start_hw.try_emplace(epoch, p.committed_hw);
    p.epoch_start_ns.try_emplace(epoch, time_ns);
  }

  // What a leader of epoch must hold: everything committed before any
  // later epoch began. A broker replaying the metadata log (it was cut off
  // while the elections happened) takes up an epoch long superseded, for
  // a moment; records committed since by newer leaders are not its to have.
  static std::int64_t committed_before_epoch_after(const Partition& p, std::int64_t epoch) {
    auto later = p.epoch_start_hw.upper_bound(epoch);
    return later == p.epoch_start_hw.end() ? p.committed_hw : later->second;
  }

  Replica& replica(std::uint32_t key, std::uint32_t node) {
    Partition& p = partitions_[key];
    if (node >= p.replicas.size()) {
      p.replicas.resize(node + 1);
      p.present.resize(node + 1, false);
    }
    p.present[node] = true;
    return p.replicas[node];
  }

  const std::string& name_of(std::uint32_t key) const { return keys_.partition_name(key); }

  void report(const char* type, std::uint32_t key, std::string description) {
    anomalies_.push_back({type, name_of(key), std::move(description), {}});
  }

  void truncate(Replica& r, std::int64_t offset) {
    cut(r.batches, offset);
    r.end = std::min(r.end, offset);
    r.checked_to = std::min(r.checked_to, offset);
    r.durable = std::min(r.durable, offset);
  }

  // A log is opened synced to its end. One that comes back shorter than it
  // was synced lost durable records to disk damage (a salvage).
  // A leader's log reopened without a crash (offline and back) shorter
  // than its high watermark lost records it had committed: reported as its
  // own kind, which the durability contract judges (damage on enough
  // brokers allows it), and the high watermark it leads from next starts
  // there. Within one opening, hw-went-back still judges every step.
  void reopened(std::uint32_t key, const TraceEvent& e, Replica& r) {
    const std::int64_t leo = e.int_field("leo");
    if (leo < r.durable) r.lost_durable_ns = e.time_ns;
    if (r.leading && !r.crashed && leo < r.hw) {
      report("reopen-below-hw", key,
             "node " + e.node + ": log reopened at " + std::to_string(leo) + " below its high watermark " +
                 std::to_string(r.hw) + " at " + std::to_string(e.time_ns) + " ns");
      r.hw = leo;
    }
    // A follower's high watermark is its leader's, copied: reopened, it
    // starts again from the log's own (a salvage may have cut below the
    // old one), and if it leads next it leads from there.
    if (!r.leading) r.hw = std::min(r.hw, e.int_field("hw", r.hw));
    truncate(r, leo);
    r.durable = leo;
    r.end = leo;
  }

  // With every write synced, a follower fetches again only once what it
  // appended is synced, so the ISR members this leader counted toward the
  // high watermark hold an acknowledged batch durably: each member of the
  // epoch's committed ISR (a subset of what the leader counts) must have
  // synced past it. A member whose disk gave up synced records during the
  // epoch (reopened shorter) may still be counted on its last fetch: not
  // checked, as the durability contract counts it among the amnesiac.
  void on_ack(std::uint32_t key, const TraceEvent& e) {
    Partition& p = partitions_[key];
    const std::int64_t epoch = e.int_field("epoch"), end = e.int_field("last") + 1;
    if (epoch != p.record_leader_epoch) return;  // the ISR of that epoch is not the one known
    auto began = p.epoch_start_ns.find(epoch);
    const std::int64_t started = began == p.epoch_start_ns.end() ? 0 : began->second;
    for (std::int64_t member : p.isr) {
      auto node = broker_nodes_.find(member);
      if (node == broker_nodes_.end()) continue;
      const Replica& r = replica(key, node->second);
      if (r.durable >= end || r.lost_durable_ns >= started) continue;
      report("acked-not-durable", key,
             "node " + e.node + ", leader of epoch " + std::to_string(epoch) + ", acknowledged [" +
                 std::to_string(e.int_field("base")) + ".." + std::to_string(end - 1) + "] at " +
                 std::to_string(e.time_ns) + " ns while ISR member broker " + std::to_string(member) +
                 " had synced only below " + std::to_string(r.durable) +
                 " (every write is synced: log.flush.interval.messages=1)");
    }
  }

  // A log reopened after a crash may have lost its unsynced tail. Once no
  // replica holds an offset below the highest high watermark published,
  // crashes (or disk damage) took a committed record from every copy: the
  // evidence the durability contract needs before it allows losses.
  void witness_loss(std::uint32_t key, const TraceEvent& e) {
    Partition& p = partitions_[key];
    const std::int64_t committed = p.committed_hw;
    std::int64_t held = 0;
    for (std::size_t n = 0; n < p.replicas.size(); ++n)
      if (p.present[n] && !p.replicas[n].batches.empty())
        held = std::max(held, p.replicas[n].batches.back().last + 1);
    if (held >= committed || p.witnessed) return;
    p.witnessed = true;
    report("committed-lost-in-crashes", key,
           "after node " + e.node + " reopened its log at " + std::to_string(e.time_ns) +
               " ns no replica holds offsets " + std::to_string(held) + ".." +
               std::to_string(committed - 1) + ", below the high watermark " + std::to_string(committed));
  }

  void on_crash(const TraceEvent& e) {
    const std::uint32_t n = keys_.node(e.node);
    for (Partition& p : partitions_)
      if (n < p.replicas.size() && p.present[n]) {
        p.replicas[n].crashed = true;
        p.replicas[n].crashed_ns = e.time_ns;
        p.replicas[n].leading = false;
      }
  }

  // A committed ISR change by the same leader in the same epoch is an
  // AlterPartition expansion or shrink (elections change the epoch). Each
  // member it adds must hold every committed record: the leader adds a
  // follower only once it reached the high watermark and the epoch's start
  // (which is at or past everything committed before the epoch), and while
  // the change is pending the leader counts the follower for its high
  // watermark. Members whose node crashed during the epoch may have lost
  // an unsynced tail since the leader looked (the amnesia KIP-966's
  // unclean-restart rule deals with): not checked.
  // A leader that applies an election of another broker at its epoch or
  // later resigns: from then on it does not lead, though the new leader's
  // replica.leader may come later (a damaged replica salvages its log once
  // its own image no longer counts on it, before the new leader takes up).
  void deposed_by_record(std::uint32_t key, const TraceEvent& e) {
    const std::uint32_t node = keys_.node(e.node);
    auto self = node_brokers_.find(node);
    if (self == node_brokers_.end() || e.int_field("leader") == self->second) return;
    Partition& p = partitions_[key];
    if (node >= p.replicas.size() || !p.present[node]) return;
    Replica& r = p.replicas[node];
    if (r.leading && e.int_field("epoch") >= r.led_epoch) r.leading = false;
  }

  void on_partition_record(std::uint32_t key, const TraceEvent& e) {
    Partition& p = partitions_[key];
    const std::int64_t record_epoch = e.int_field("partition_epoch");
    if (e.find("isr") == nullptr || record_epoch <= p.record_epoch) return;
    std::vector<std::int64_t> isr = parse_id_list(e.str_field("isr"));
    const std::int64_t leader = e.int_field("leader"), epoch = e.int_field("epoch");
    const bool expansion = p.record_epoch >= 0 && leader == p.record_leader && epoch == p.record_leader_epoch &&
                           !from_snapshot(e) && !options_.committed_may_be_lost;
    const std::vector<std::int64_t> before = std::exchange(p.isr, isr);
    p.record_epoch = record_epoch;
    p.record_leader = leader;
    p.record_leader_epoch = epoch;
    if (!expansion) return;
    for (std::int64_t m : isr)
      if (std::find(before.begin(), before.end(), m) == before.end()) check_added_member(key, m, epoch, e);
  }

  void check_added_member(std::uint32_t key, std::int64_t broker, std::int64_t epoch, const TraceEvent& e) {
    auto node = broker_nodes_.find(broker);
    if (node == broker_nodes_.end()) return;  // isr-member-not-alive's to report
    Partition& p = partitions_[key];
    const Replica& r = replica(key, node->second);
    if (r.crashed_ns >= p.epoch_start_ns[epoch]) return;
    const std::int64_t end = r.end;
    if (end >= p.committed_hw) return;
    report("isr-member-missing-committed", key,
           "ISR {" + e.str_field("isr") + "} of leader epoch " + std::to_string(epoch) + ", partition epoch " +
               std::to_string(e.int_field("partition_epoch")) + " (committed at " + std::to_string(e.time_ns) +
               " ns) adds broker " + std::to_string(broker) + ", whose log ends at " + std::to_string(end) +
               ", below the committed offset " + std::to_string(p.committed_hw));
  }

  // The leader asks to add a member only once the log end it knows of it
  // reached its high watermark and its epoch's start, which is at or past
  // everything committed before the epoch: so the member held every
  // committed record when it was asked for. Checked here, at the asking,
  // because by the time the change commits the member has fetched what it
  // lacked. A leader whose own node crashed during the epoch may be a
  // restarted one acting on a superseded epoch with a shorter log (its
  // AlterPartition is refused): not checked.
  void on_expand(std::uint32_t key, const TraceEvent& e, const Replica& leader) {
    if (options_.committed_may_be_lost) return;
    Partition& p = partitions_[key];
    const std::int64_t epoch = e.int_field("epoch");
    auto started = p.epoch_start_ns.find(epoch);
    if (started == p.epoch_start_ns.end() || leader.crashed_ns >= started->second) return;
    const std::int64_t leo = e.int_field("leo");
    const std::int64_t committed = committed_before_epoch_after(p, epoch);
    if (leo >= committed) return;
    report("isr-expand-missing-committed", key,
           "node " + e.node + ", leader of epoch " + std::to_string(epoch) + ", asked at " +
               std::to_string(e.time_ns) + " ns to add broker " + std::to_string(e.int_field("broker")) +
               " to the ISR, whose log end it knew as " + std::to_string(leo) +
               ", below the committed offset " + std::to_string(committed));
  }

  // Only a leader's high watermark is the partition's: a follower copies
  // its leader's (Kafka's follower sets, not raises, its high watermark),
  // and a new leader may know a lower one than the old leader published,
  // so a follower's may go back. A leader's never does while it leads.
  void on_hw(std::uint32_t key, const TraceEvent& e, Replica& r) {
    const std::int64_t hw = e.int_field("hw");
    if (hw < r.hw && !r.crashed && r.leading)
      report("hw-went-back", key,
             "node " + e.node + ": high watermark " + std::to_string(r.hw) + " -> " +
                 std::to_string(hw) + " at " + std::to_string(e.time_ns) + " ns");
    r.hw = hw;
    r.crashed = false;
    Partition& p = partitions_[key];
    p.committed_hw = std::max(p.committed_hw, hw);
    if (!options_.committed_may_be_lost && !options_.corruption_injected) compare(key, e.node, r);
  }

  // Every batch of r wholly below its high watermark must be the one the
  // first replica to commit that offset held.
  void compare(std::uint32_t key, const std::string& node, Replica& r) {
    Committed& committed = partitions_[key].committed;
    for (auto it = first_from(r.batches, r.checked_to); it != r.batches.end(); ++it) {
      const Batch& b = *it;
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

  void on_leader(std::uint32_t key, const TraceEvent& e) {
    const std::int64_t epoch = e.int_field("epoch");
    Partition& p = partitions_[key];
    const std::uint32_t leader = keys_.node(e.node);
    // A broker whose image lags takes up an epoch already superseded, for a
    // moment: that does not end the newer leadership, nor make it the
    // leader whose high watermark must not go back (its followers' may).
    const bool newest = p.leaders.empty() || epoch >= p.leaders.rbegin()->first;
    for (std::size_t n = 0; n < p.replicas.size() && newest; ++n)
      if (p.present[n]) p.replicas[n].leading = n == leader;
    if (newest) replica(key, leader).led_epoch = epoch;
    auto [it, fresh] = p.leaders.try_emplace(epoch, e.node);
    if (!fresh && it->second != e.node)
      report("partition-split-brain", key,
             "leader epoch " + std::to_string(epoch) + " led by " + it->second + " and " + e.node);
    const std::int64_t leo = e.int_field("leo");
    const std::int64_t committed = committed_before_epoch_after(p, epoch);
    if (!options_.committed_may_be_lost && leo < committed)
      report("leader-missing-committed", key,
             "node " + e.node + " became leader of epoch " + std::to_string(epoch) +
                 " with log end " + std::to_string(leo) + " below the committed offset " +
                 std::to_string(committed));
  }

  ReplicationInvariantOptions options_;
  TraceKeys keys_;
  std::vector<Partition> partitions_;  // by partition id
  std::map<std::int64_t, std::uint32_t> broker_nodes_;  // broker id -> node id, as registered
  std::map<std::uint32_t, std::int64_t> node_brokers_;  // node id -> broker id, as registered
  std::vector<Anomaly> anomalies_;
};

}  // namespace

std::unique_ptr<TraceInvariant> replication_invariants(ReplicationInvariantOptions options) {
  return std::make_unique<Replication>(options);
}

}  // namespace castle::checkers
