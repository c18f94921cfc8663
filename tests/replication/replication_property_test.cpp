// A property over random histories of one partition on three replicas:
// appends with acks=all, partial follower fetches (truncation steps
// included), ISR changes as the leader proposes them, time passing, leader
// elections from the live ISR, and crashes that lose unsynced tails (a
// crashed broker is fenced out of the ISR, as the controller would; the
// last live ISR member is never crashed, since no replication survives
// that without a flush). A test "controller" plays the metadata side.
// After every step:
// - replicas agree, byte for byte, on every batch below the smaller of
//   their high watermarks;
// - the leader's high watermark never decreases within an epoch;
// - every record acknowledged under acks=all (its waiter decided NONE) is
//   present, identical, on every replica elected leader afterwards.
// RC_PARAMS="seed=..." replays a failure.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <set>

#include "tests/replication/repl_rig.h"

namespace castle::replication {
namespace {

using testing::ReplRig;

enum class OpKind { append, fetch, isr, tick, elect, crash, restart };

struct Op {
  OpKind kind = OpKind::append;
  int a = 0;
  int b = 0;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  return os << "{" << static_cast<int>(op.kind) << "," << op.a << "," << op.b << "}";
}

rc::Gen<Op> gen_op() {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::weightedElement<OpKind>({{6, OpKind::append},
                                                                {10, OpKind::fetch},
                                                                {2, OpKind::isr},
                                                                {1, OpKind::tick},
                                                                {1, OpKind::elect},
                                                                {1, OpKind::crash},
                                                                {2, OpKind::restart}})),
      rc::gen::set(&Op::a, rc::gen::inRange(0, 1000)),
      rc::gen::set(&Op::b, rc::gen::inRange(0, 1000)));
}

struct PendingAck {
  std::shared_ptr<LeaderPartition> leader;
  AckWaiters::Id id = 0;
  Bytes stored;  // the batch as the leader stored it
};

// The history's state and the checks.
class Model {
 public:
  Model(std::uint64_t seed, Bugs bugs) : rig_(seed), bugs_(std::move(bugs)) {
    rig_.open_all();
    rig_.run([&](Runtime&) {
      rig_.make_leader(0, epoch_, isr_, config(), bugs_);
      for (int id : {1, 2}) rig_.make_follower(id, 0, epoch_, bugs_);
    });
  }

  void apply(const Op& op) {
    switch (op.kind) {
      case OpKind::append: return step([&](Runtime& rt) { append(rt, op.a % 3 + 1); });
      case OpKind::fetch: return step([&](Runtime&) { fetch(op.a % 3, 100 + op.b * 4); });
      case OpKind::isr: return step([&](Runtime&) { change_isr(); });
      case OpKind::tick: return rig_.run_for(milliseconds(op.a * 40));
      case OpKind::elect: return step([&](Runtime&) { elect(op.a); });
      case OpKind::crash: return crash(op.a % 3);
      case OpKind::restart: return restart(op.a % 3);
    }
  }

  void check_all() {
    step([&](Runtime&) {
      settle_acks();
      check_agreement();
      check_leader_hw();
    });
  }

 private:
  static LeaderConfig config() { return LeaderConfig{1000, 2}; }

  void step(sim::testing::Body body) { rig_.run(std::move(body), seconds(60)); }
  bool up(int id) { return rig_.b(id).node->up(); }
  std::shared_ptr<LeaderPartition> leader() { return leader_ >= 0 ? rig_.b(leader_).leader : nullptr; }

  void append(Runtime& rt, int records) {
    auto l = leader();
    if (!l || l->check_append(-1) != ErrorCode::NONE) return;
    Bytes b = testing::client_batch("v" + std::to_string(next_value_++), records);
    auto r = l->append(b, rt.now());
    RC_ASSERT(r.ok());
    auto id = l->ack_waiters().add(r->last_offset, Instant::max());
    pending_.push_back(PendingAck{l, *id, std::move(b)});
  }

  void fetch(int id, std::int32_t max_bytes) {
    auto& f = rig_.b(id).follower;
    if (!f || leader_ < 0 || id == leader_ || !up(id)) return;
    LeaderService& svc = *rig_.b(leader_).service;
    if (f->phase() == FollowerPhase::truncating) {
      RC_ASSERT(f->apply_epoch_answer(svc.offset_for_leader_epoch({f->epoch_query()}).at(0)).ok());
    } else if (f->phase() == FollowerPhase::fetching) {
      FetchQuery q;
      q.replica_id = id;
      q.partitions.push_back(f->fetch_request(max_bytes));
      RC_ASSERT(f->apply_fetch(svc.fetch(q).partitions.at(0)).ok());
    }
  }

  // The controller commits whatever the leader proposes, at once.
  void change_isr() {
    auto l = leader();
    if (!l) return;
    std::set<std::int32_t> isr(isr_.begin(), isr_.end());
    for (auto id : l->isr_to_shrink(rig_.b(leader_).node->now())) isr.erase(id);
    // The controller admits only live (unfenced) brokers.
    for (auto id : l->isr_to_expand(rig_.b(leader_).node->now()))
      if (up(id)) isr.insert(id);
    isr_.assign(isr.begin(), isr.end());
    ++partition_epoch_;
    RC_ASSERT(l->on_partition_state(state(), rig_.b(leader_).node->now()).ok());
  }

  PartitionState state() const { return PartitionState{epoch_, partition_epoch_, {0, 1, 2}, isr_}; }

  void elect(int pick) {
    std::vector<std::int32_t> candidates;
    for (auto id : isr_)
      if (up(id)) candidates.push_back(id);
    if (candidates.empty()) return;
    const int next = candidates[static_cast<std::size_t>(pick) % candidates.size()];
    ++epoch_;
    ++partition_epoch_;
    if (leader_ >= 0 && up(leader_)) rig_.b(leader_).service->remove(testing::tp0);
    leader_ = next;
    check_holds_acked(next);
    rig_.make_leader(next, epoch_, isr_, config(), bugs_);
    hw_epoch_ = epoch_;
    hw_last_ = rig_.b(next).leader->high_watermark();
    for (int id = 0; id < 3; ++id)
      if (id != next && up(id)) rig_.make_follower(id, next, epoch_, bugs_);
  }

  // A crash fences the broker out of the ISR (and the leader forgets what
// it knew of its log); never the last live member.
  void crash(int id) {
    if (!up(id)) return;
    int live_isr = 0;
    for (auto m : isr_) live_isr += (m != id && up(m)) ? 1 : 0;
    if (live_isr == 0) return;
    step([&](Runtime&) { settle_acks(); });
    rig_.crash(id);
    std::erase(isr_, id);
    ++partition_epoch_;
    if (id == leader_) leader_ = -1;
    if (leader_ < 0) return;
    auto l = leader();
    step([&](Runtime&) {
      l->on_follower_fenced(id);
      RC_ASSERT(l->on_partition_state(state(), rig_.b(leader_).node->now()).ok());
    });
  }

  void restart(int id) {
    if (up(id)) return;
    rig_.restart(id);
    step([&](Runtime&) {
      rig_.open_log(id);
      if (leader_ >= 0) rig_.make_follower(id, leader_, epoch_, bugs_);
    });
  }

  // Acks decided NONE become "acknowledged"; the others are dropped.
  void settle_acks() {
    std::vector<PendingAck> still;
    for (auto& p : pending_) {
      auto r = p.leader->ack_waiters().result(p.id);
      if (r && *r == ErrorCode::NONE) {
        acked_.emplace(storage::BatchView(p.stored).base_offset(), p.stored);
      } else if (!r && p.leader == leader()) {
        still.push_back(std::move(p));
      }
    }
    pending_ = std::move(still);
  }

  void check_holds_acked(int id) {
    std::map<std::int64_t, Bytes> mine;
    for (auto& b : rig_.batches(id)) mine.emplace(storage::BatchView(b).base_offset(), b);
    for (const auto& [offset, bytes] : acked_) {
      auto it = mine.find(offset);
      RC_ASSERT(it != mine.end());
      RC_ASSERT(it->second == bytes);
    }
  }

  void check_agreement() {
    std::vector<std::vector<Bytes>> logs(3);
    for (int id = 0; id < 3; ++id)
      if (up(id)) logs[static_cast<std::size_t>(id)] = rig_.batches(id);
    for (int i = 0; i < 3; ++i)
      for (int j = i + 1; j < 3; ++j)
        if (up(i) && up(j)) agree_below_hw(i, j, logs[static_cast<std::size_t>(i)], logs[static_cast<std::size_t>(j)]);
  }

  void agree_below_hw(int i, int j, const std::vector<Bytes>& a, const std::vector<Bytes>& b) {
    const std::int64_t hw = std::min(rig_.log(i).high_watermark(), rig_.log(j).high_watermark());
    std::map<std::int64_t, const Bytes*> in_b;
    for (const auto& x : b) in_b.emplace(storage::BatchView(x).base_offset(), &x);
    for (const auto& x : a) {
      const storage::BatchView v(x);
      if (v.next_offset() > hw) break;
      auto it = in_b.find(v.base_offset());
      if (it == in_b.end()) continue;  // below the other's log start
      RC_ASSERT(*it->second == x);
    }
  }

  void check_leader_hw() {
    auto l = leader();
    if (!l || !up(leader_)) return;
    RC_ASSERT(l->high_watermark() >= hw_last_ || epoch_ != hw_epoch_);
    hw_last_ = l->high_watermark();
    if (!acked_.empty()) check_holds_acked(leader_);
  }

  ReplRig rig_;
  Bugs bugs_;
  int leader_ = 0;
  std::int32_t epoch_ = 1;
  std::int32_t partition_epoch_ = 0;
  std::vector<std::int32_t> isr_{0, 1, 2};
  std::int32_t hw_epoch_ = 1;
  std::int64_t hw_last_ = 0;
  int next_value_ = 0;
  std::vector<PendingAck> pending_;
  std::map<std::int64_t, Bytes> acked_;  // base offset -> stored batch
};

// Runs the property over at least `cases` histories (RC_PARAMS may ask
// for more, or give the seed of a replay); true if it held for all.
bool holds(const char* name, Bugs bugs, int cases) {
  rc::detail::TestMetadata metadata;
  metadata.id = std::string("ReplicationProperty/") + name;
  metadata.description = name;
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(params.maxSuccess, cases);
  const auto result = rc::detail::checkTestable(
      [bugs] {
        const auto seed = *rc::gen::arbitrary<std::uint64_t>();
        const auto ops = *rc::gen::scale(2.0, rc::gen::container<std::vector<Op>>(gen_op()));
        Model m(seed, bugs);
        for (const Op& op : ops) {
          m.apply(op);
          m.check_all();
        }
      },
      metadata, params);
  rc::detail::printResultMessage(result, std::cout);
  std::cout << std::endl;
  return result.template is<rc::detail::SuccessResult>();
}

TEST(ReplicationProperty, ReplicasAgreeAndAcknowledgedRecordsSurviveElections) {
  EXPECT_TRUE(holds("replicas agree below their high watermarks; acked records survive", {}, 500));
}

// The property is not vacuous: the planted bugs that commit or acknowledge
// too early break it (each within a few dozen cases; 2000 leaves a wide
// margin). replication-truncate-to-hw needs a rarer history (a follower
// behind the leader's high watermark elected right after it re-follows);
// follower_state_test shows it.
TEST(ReplicationProperty, PlantedBugsBreakIt) {
  for (const char* bug : {bug_hw_ignores_isr, bug_ack_before_isr}) {
    EXPECT_FALSE(holds(bug, Bugs{{bug}}, 2000)) << bug << " went unnoticed";
  }
}

}  // namespace
}  // namespace castle::replication
