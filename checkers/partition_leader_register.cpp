// Leader-election linearizability of Kafka partitions: each partition's
// (leader epoch, leader broker) history, built from the brokers' trace
// events, checked as a compare-and-set register (checkers/epoch_register.h)
// under the key "topic-partition", e.g. "t-0".
//
// Which events are operations, and why a correct Kafka is linearizable
// with these intervals (positions are event numbers, one total order):
//
// Writes. The controller electing L at leader epoch e is a write (e, L).
// It takes effect when its partition record commits in the metadata log.
// No node can apply a record before it commits, and L acts on it only after
// applying it, so the commit lies before both ends of [the first
// metadata.partition of (e, L) on any node, L's first replica.leader of e].
// Using the first application as the start is still sound: every later
// observation of e (L's own acks) follows L's application of the record.
// Nodes replay the same record once each and again after restarts; only
// the first counts. Should L never lead e the write is info (it may never
// have been acted on). A record with no leader (-1) names nobody to
// observe; it is not a write. L's first replica.leader of e completes the
// write and is not also a read: a broker lagging on metadata may still
// take up an epoch after the next one was elected, which is legal as long
// as it cannot get an acks=all produce acknowledged.
//
// Reads. An acks=all produce acknowledged by the leader of epoch e (broker
// id L) is a read of (e, L) over [L's latest replica.append of the batch's
// base before the ack, the ack]. The high watermark reached past the batch
// only once every member of the leader's view of the ISR had fetched past
// it, each such fetch sent after the append. The next leader G is chosen
// from the controller's ISR, which is a subset of the leader's view: the
// controller shrinks the ISR on its own (fencing) but grows it only when
// the leader asks, and the leader counts a member it asked for from the
// moment it asks (the maximal ISR) and keeps counting a member it asked to
// drop until the controller commits the drop. So G fetched past the batch
// before it stopped following and took up e + 1:
//   append < fetch_G < replica.leader(G, e + 1),
// and a point of the read's interval lies before the next write completes,
// however late the ack itself is traced. If that node's append was not seen
// the read is the ack alone. A later replica.leader of an epoch on the node
// that already took it up is a read at that one point when the node
// restarted in between (a restart re-taking the same leadership: it caught
// up on metadata first, so it must not take up a deposed epoch). Taking it
// up again in the same incarnation (a replica back from offline, while
// that node's metadata lags) is the lagging take-up above, legal for the
// same reason, and no operation: its acks are still reads.
//
// Not used, because a correct Kafka is not linearizable with them: what
// clients are told by Metadata (it is eventually consistent; a broker may
// name a leader that was already replaced; what does hold of it, no
// phantom leaders and no client going back an epoch, is checked by
// client_leader_invariant.cpp), a follower's view of its leader
// (it learns of elections late), and acks=1 or acks=0 completions (no ISR
// is involved: a deposed leader may still acknowledge them after the next
// election, which is how acks=1 loses data in Kafka). Crashes need no
// handling: no operation ends with a leadership, a restarted broker's
// re-lead is a read, and an append from before a crash is still a sound
// start for an ack after it (it is earlier than the fetch that counted).
//
// Anomalies (check_epoch_registers): split-brain, two records of one epoch
// naming different leaders (a controller bug); phantom-leader, a broker
// leading or acknowledging at an (epoch, id) no record wrote; stale-leader,
// an acks=all answered where the next leader's write must already have
// happened (acknowledged before the ISR had the batch, or a produce taken
// at a deposed epoch).
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "checkers/dense_map.h"
#include "checkers/epoch_register.h"
#include "checkers/replication_invariants.h"
#include "checkers/trace_keys.h"

namespace castle::checkers {

namespace {

// Partitions and nodes go by id (trace_keys.h): this register sees every
// replica.append and replica.ack of the run.
class PartitionLeaderRegister : public TraceInvariant {
 public:
  std::string name() const override { return "partition-leader-linearizability"; }

  void observe(const TraceEvent& e) override {
    const std::int64_t pos = seen_++;
    if (e.kind == "node.crash" || e.kind == "node.start") {
      const std::uint32_t node = keys_.node(e.node);
      if (node < led_now_.size()) led_now_[node].clear();
    }
    if (e.kind == "metadata.partition") on_record(e, pos);
    if (e.kind == "replica.leader") on_leader(e, pos);
    if (e.kind == "replica.append")
      appends(keys_.partition(e), keys_.node(e.node)).get(e.int_field("base")) = pos;
    if (e.kind == "replica.ack") on_ack(e, pos);
  }

  std::vector<Anomaly> finish() override { return check_trace_epoch_registers(ops_); }

 private:
  using WriteKey = std::tuple<std::uint32_t, std::int64_t, std::int32_t>;  // partition, epoch, leader
  static constexpr std::int32_t no_id = -1;

  // The node's latest replica.append of each base offset of the partition.
  DenseMap<std::int64_t>& appends(std::uint32_t key, std::uint32_t node) {
    if (key >= appends_.size()) appends_.resize(key + 1);
    auto& by_node = appends_[key];
    if (node >= by_node.size()) by_node.resize(node + 1);
    return by_node[node];
  }

  void on_record(const TraceEvent& e, std::int64_t pos) {
    const auto leader = static_cast<std::int32_t>(e.int_field("leader", -1));
    if (leader < 0) return;
    const std::uint32_t key = keys_.partition(e);
    const std::int64_t epoch = e.int_field("epoch");
    // Only the first node to apply the record opens the write.
    if (writes_.try_emplace({key, epoch, leader}, ops_.size()).second)
      add(EpochOp::Kind::write, key, epoch, leader, pos, EpochOp::never, pos);
  }

  void on_leader(const TraceEvent& e, std::int64_t pos) {
    const auto id = static_cast<std::int32_t>(e.int_field("id", -1));
    const std::uint32_t node = keys_.node(e.node);
    if (node >= ids_.size()) ids_.resize(node + 1, std::nullopt);
    ids_[node] = id;
    const std::uint32_t key = keys_.partition(e);
    const std::int64_t epoch = e.int_field("epoch");
    if (node >= led_now_.size()) led_now_.resize(node + 1);
    const bool again = !led_now_[node].insert({key, epoch}).second;
    auto w = writes_.find({key, epoch, id});
    if (w != writes_.end() && ops_[w->second].complete == EpochOp::never) {
      ops_[w->second].complete = pos;  // the elected leader took it up
      return;
    }
    if (again) return;  // taken up before in this incarnation
    // A re-lead after a restart, or an epoch no record wrote (yet).
    add(EpochOp::Kind::read, key, epoch, id, pos, pos, pos);
  }

  void on_ack(const TraceEvent& e, std::int64_t pos) {
    const std::uint32_t key = keys_.partition(e);
    const std::uint32_t node = keys_.node(e.node);
    // A node that never led anything acknowledges as nobody: phantom.
    const std::int32_t leader = node < ids_.size() && ids_[node] ? *ids_[node] : no_id;
    std::int64_t invoke = pos;
    if (const std::int64_t* a = appends(key, node).find(e.int_field("base"))) invoke = *a;
    add(EpochOp::Kind::read, key, e.int_field("epoch"), leader, invoke, pos, pos);
  }

  void add(EpochOp::Kind kind, std::uint32_t key, std::int64_t epoch, std::int32_t leader,
           std::int64_t invoke, std::int64_t complete, std::int64_t id) {
    EpochOp op;
    op.kind = kind;
    op.key = keys_.partition_name(key);
    op.epoch = epoch;
    op.leader = leader;
    op.invoke = invoke;
    op.complete = complete;
    op.id = id;
    ops_.push_back(std::move(op));
  }

  TraceKeys keys_;
  std::int64_t seen_ = 0;
  std::vector<EpochOp> ops_;
  std::map<WriteKey, std::size_t> writes_;           // -> index in ops_
  std::vector<std::optional<std::int32_t>> ids_;     // node -> broker id (from replica.leader)
  // node -> (partition, epoch) it took up since it last (re)started.
  std::vector<std::set<std::pair<std::uint32_t, std::int64_t>>> led_now_;
  std::vector<std::vector<DenseMap<std::int64_t>>> appends_;  // partition -> node -> base -> event
};

}  // namespace

std::unique_ptr<TraceInvariant> partition_leader_linearizable() {
  return std::make_unique<PartitionLeaderRegister>();
}

void add_replication_invariants(InvariantSet& set, ReplicationInvariantOptions options) {
  set.add(replication_invariants(options));
  set.add(partition_leader_linearizable());
  set.add(isr_members_alive());
  set.add(client_leaders_consistent());
}

}  // namespace castle::checkers
