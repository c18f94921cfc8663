// ISR maintenance on the leaders of this broker: the shrinks and expansions
// LeaderPartition asks for go to the controller as one AlterPartition;
// each becomes effective only when the controller committed it.

#include <algorithm>

#include "system/broker/replica_manager.h"
#include "system/broker/replica_trace.h"
#include "system/runtime/trace.h"

namespace castle::broker {

namespace repl = replication;
using controller::raw;

namespace {

struct Asked {
  std::string topic;
  controller::TopicId topic_id;
  std::int32_t index = 0;
  std::shared_ptr<repl::LeaderPartition> partition;
};

// The ISR to propose: the current one less the laggards, plus the caught up.
// Buggify: a caught-up follower taken for a laggard now and then (as a
// slow fetch would make it), so shrinks, expansions and the ELR are common.
std::vector<std::int32_t> proposed_isr(Runtime& rt, const repl::LeaderPartition& p, Instant now) {
  auto shrink = p.isr_to_shrink(now);
  if (shrink.empty() && p.maximal_isr().size() > 1 && rt.buggify("broker.isr_shrink_spurious"))
    for (std::int32_t id : p.maximal_isr())
      if (id != p.self_id()) {
        shrink = {id};
        break;
      }
  const auto expand = p.isr_to_expand(now);
  if (shrink.empty() && expand.empty()) return {};
  std::vector<std::int32_t> isr;
  for (std::int32_t id : p.maximal_isr())
    if (!repl::contains(shrink, id)) isr.push_back(id);
  for (std::int32_t id : expand)
    if (!repl::contains(isr, id)) isr.push_back(id);
  std::sort(isr.begin(), isr.end());
  return isr;
}

// Each member an expansion adds, with the log end the leader knew of it
// when it asked: the state invariants check that a member joins only once
// it holds everything committed (checkers/replication_invariants.h),
// which its own log no longer shows once the answer has come back.
void trace_expansion(Runtime& rt, const Asked& a, const std::vector<std::int32_t>& isr) {
  if (!rt.tracer().enabled()) return;
  const repl::LeaderPartition& p = *a.partition;
  const auto before = p.maximal_isr();
  for (std::int32_t id : isr) {
    const repl::FollowerState* f = p.follower(id);
    if (repl::contains(before, id) || f == nullptr) continue;
    CASTLE_TRACE(rt.tracer(), "replica.isr_expand",
                 {{"topic", a.topic}, {"partition", std::int64_t{a.index}},
                  {"epoch", std::int64_t{p.leader_epoch()}}, {"broker", std::int64_t{id}},
                  {"leo", f->log_end_offset}});
  }
}

void add_to_request(controller::AlterPartitionRequest& req, const Asked& a,
                    const std::vector<std::int32_t>& isr) {
  if (req.topics.empty() || req.topics.back().topic_id != a.topic_id) req.topics.push_back({a.topic_id, {}});
  controller::AlterPartitionRequest::Partition part;
  part.partition = controller::PartitionId{a.index};
  part.leader_epoch = controller::LeaderEpoch{a.partition->leader_epoch()};
  for (std::int32_t id : isr) part.new_isr.push_back(controller::BrokerId{id});
  part.partition_epoch = controller::PartitionEpoch{a.partition->partition_epoch()};
  req.topics.back().partitions.push_back(std::move(part));
}

// What the controller answered to one partition's change: why an ISR does
// not grow back is otherwise invisible in a trace.
void trace_answer(Runtime& rt, const std::string& topic, const Asked& a,
                  const controller::AlterPartitionResponse::Partition* answer) {
  std::vector<std::int32_t> isr;
  if (answer != nullptr)
    for (auto id : answer->isr) isr.push_back(raw(id));
  const auto error = answer == nullptr ? -1 : static_cast<std::int64_t>(answer->error);
  CASTLE_TRACE(rt.tracer(), "broker.isr_change",
               {{"topic", topic}, {"partition", std::int64_t{a.index}},
                {"asked", trace_id_list(a.partition->maximal_isr())}, {"error", error}, {"isr", trace_id_list(isr)}});
}

// Adopts, drops or keeps one partition's change as the controller
// answered it. Only an answer that says the change was never made drops
// it: the checks the controller makes after the leader and partition
// epochs matched (so no earlier attempt of this change committed, and the
// controller that answered is the one whose log decides). Without an
// answer (a timeout, NOT_CONTROLLER after the entry was appended), the
// change may still commit: it is kept and sent again. After an epoch
// check failed, something committed meanwhile, maybe this very change
// under an attempt the channel retried: it is kept until the metadata says.
void settle(const Asked& a, const controller::AlterPartitionResponse::Partition* answer, Instant now) {
  repl::LeaderPartition& p = *a.partition;
  using controller::ErrorCode;
  if (answer == nullptr) {
    p.keep_isr_change(/*resend=*/true);
    return;
  }
  switch (answer->error) {
    case ErrorCode::NONE:
      break;
    case ErrorCode::INVALID_REQUEST:
    case ErrorCode::INELIGIBLE_REPLICA:
    case ErrorCode::UNKNOWN_TOPIC_ID:
    case ErrorCode::UNKNOWN_TOPIC_OR_PARTITION:
      p.abort_isr_change(now);
      return;
    default:
      p.keep_isr_change(/*resend=*/false);
      return;
  }
  repl::PartitionState state;
  state.leader_epoch = raw(answer->leader_epoch);
  state.partition_epoch = static_cast<std::int32_t>(answer->partition_epoch);
  state.replicas = p.replicas();
  for (auto id : answer->isr) state.isr.push_back(raw(id));
  // A state of another leader epoch is not ours to adopt: the image will
  // say what happened.
  if (!p.on_partition_state(state, now)) p.abort_isr_change(now);
}

const controller::AlterPartitionResponse::Partition* find_answer(
    const controller::AlterPartitionResponse& resp, const Asked& a) {
  for (const auto& t : resp.topics) {
    if (t.topic_id != a.topic_id) continue;
    for (const auto& p : t.partitions)
      if (raw(p.partition) == a.index) return &p;
  }
  return nullptr;
}

}  // namespace

void ReplicaManager::isr_round(ControllerChannel& channel, controller::BrokerEpoch broker_epoch) {
  controller::AlterPartitionRequest req;
  req.broker_id = controller::BrokerId{self_};
  req.broker_epoch = broker_epoch;
  std::vector<Asked> asked;
  const Instant now = b_.rt.now();
  for (auto& [tp, led] : led_) {
    repl::LeaderPartition& p = *led.partition;
    if (!p.is_leader() || p.offline()) continue;
    if (p.isr_change_in_flight()) {
      // A change whose outcome is unknown goes out again as it was.
      auto again = p.isr_change_to_resend();
      if (!again) continue;
      asked.push_back({tp.topic, led.topic_id, tp.partition, led.partition});
      add_to_request(req, asked.back(), *again);
      continue;
    }
    auto isr = proposed_isr(b_.rt, p, now);
    if (isr.empty()) continue;
    asked.push_back({tp.topic, led.topic_id, tp.partition, led.partition});
    trace_expansion(b_.rt, asked.back(), isr);
    p.begin_isr_change(isr);
    add_to_request(req, asked.back(), isr);
  }
  if (asked.empty()) return;
  CASTLE_TRACE(b_.rt.tracer(), "broker.alter_partition",
               {{"id", std::int64_t{self_}}, {"partitions", static_cast<std::uint64_t>(asked.size())}});
  auto resp = channel.call<controller::AlterPartitionResponse>(req);
  const Instant after = b_.rt.now();
  const bool failed = !resp || resp->error != controller::ErrorCode::NONE;
  for (const Asked& a : asked) {
    const auto* answer = failed ? nullptr : find_answer(*resp, a);
    trace_answer(b_.rt, a.topic, a, answer);
    settle(a, answer, after);
  }
}

}  // namespace castle::broker
