#include "system/replication/fetcher.h"

#include <algorithm>

namespace castle::replication {

ReplicaFetcher::ReplicaFetcher(Runtime& rt, std::int32_t self_id, std::int32_t leader_id,
                               LeaderEndpoint& endpoint, FetcherConfig config)
    : rt_(rt), self_id_(self_id), leader_id_(leader_id), endpoint_(endpoint), config_(config) {
  CASTLE_ASSERT(self_id >= 0 && leader_id >= 0 && self_id != leader_id,
                "a fetcher links two distinct brokers");
}

ReplicaFetcher::~ReplicaFetcher() {
  // The fiber must not outlive us: stop() joins it; after a crash it is
  // already gone. A cancel here is the last resort.
  if (!task_.done()) task_.cancel();
}

void ReplicaFetcher::add_partition(std::shared_ptr<FollowerPartition> p) {
  CASTLE_ASSERT(p != nullptr && p->leader_id() == leader_id_, "a partition of this leader");
  delayed_until_.erase(p->tp());
  partitions_[p->tp()] = std::move(p);
  wake();
}

void ReplicaFetcher::remove_partition(const TopicPartition& tp) {
  partitions_.erase(tp);
  delayed_until_.erase(tp);
  while (applying_ && *applying_ == tp) applied_.wait(rt_);
}

void ReplicaFetcher::wake() {
  delayed_until_.clear();
  changed_.notify_all();
}

void ReplicaFetcher::start() {
  CASTLE_ASSERT(!task_.valid() || task_.done(), "a fetcher runs one fiber");
  task_ = rt_.spawn("replica-fetcher-" + std::to_string(leader_id_), [this] { run(); });
}

void ReplicaFetcher::stop() {
  if (!task_.valid() || task_.done()) return;
  task_.cancel();
  task_.join();
}

void ReplicaFetcher::run() {
  for (;;) {
    if (run_once()) continue;
    changed_.wait(rt_, next_wakeup());
  }
}

// The end of the earliest partition backoff still ahead, or one backoff
// from now. A backoff already over (its partition may even be gone) must
// not count, or the fetcher would wake at once forever without time passing.
Instant ReplicaFetcher::next_wakeup() const {
  const Instant now = rt_.now();
  Instant t = now + milliseconds(std::max<std::int64_t>(config_.backoff_ms, 1));
  for (const auto& [tp, until] : delayed_until_)
    if (until > now) t = std::min(t, until);
  return t;
}

ReplicaFetcher::Snapshot ReplicaFetcher::ready(FollowerPhase phase) const {
  Snapshot out;
  const Instant now = rt_.now();
  for (const auto& [tp, p] : partitions_) {
    if (p->phase() != phase) continue;
    auto d = delayed_until_.find(tp);
    if (d != delayed_until_.end() && d->second > now) continue;
    if (out.empty()) out.reserve(partitions_.size());  // one allocation, and none when empty
    out.push_back(p);
  }
  return out;
}

bool ReplicaFetcher::still_ours(const std::shared_ptr<FollowerPartition>& p) const {
  auto it = partitions_.find(p->tp());
  return it != partitions_.end() && it->second == p;
}

bool ReplicaFetcher::run_once() {
  ++stats_.rounds;
  bool worked = truncation_round(ready(FollowerPhase::truncating));
  worked = fetch_round(ready(FollowerPhase::fetching)) || worked;
  maybe_revalidate();
  return worked;
}

// Buggify: the fetching partitions checked against the leader's log again,
// so that the epoch protocol runs often, not only on leader changes. One
// evaluation per round: the round's other work is per partition already.
void ReplicaFetcher::maybe_revalidate() {
  if (!rt_.buggify("replication.revalidate", 0.2)) return;
  for (const auto& [tp, p] : partitions_) {
    if (p->phase() != FollowerPhase::fetching) continue;
    if (auto r = p->revalidate(); !r) apply_action(p, Result<FollowerAction>(r.error()));
  }
}

void ReplicaFetcher::apply_action(const std::shared_ptr<FollowerPartition>& p,
                                  Result<FollowerAction> action) {
  if (action && *action == FollowerAction::proceed) {
    delayed_until_.erase(p->tp());
    return;
  }
  ++stats_.partition_errors;
  if (action && (*action == FollowerAction::await_metadata || *action == FollowerAction::failed))
    return;  // its phase keeps it out
  delayed_until_[p->tp()] = rt_.now() + milliseconds(config_.backoff_ms);
}

namespace {

// The answer for tp, the i-th partition asked: a leader answers in the
// order asked, so answer i is tried first; a search over all of them made
// a round over n partitions cost n^2 comparisons.
template <class Answer>
typename std::vector<Answer>::const_iterator answer_for(const std::vector<Answer>& answers,
                                                        std::size_t i, const TopicPartition& tp) {
  if (i < answers.size() && answers[i].tp == tp)
    return answers.begin() + static_cast<std::ptrdiff_t>(i);
  return std::find_if(answers.begin(), answers.end(), [&](const Answer& x) { return x.tp == tp; });
}

}  // namespace

bool ReplicaFetcher::truncation_round(const Snapshot& parts) {
  if (parts.empty()) return false;
  std::vector<EpochQuery> queries;
  for (const auto& p : parts) queries.push_back(p->epoch_query());
  ++stats_.epoch_requests;
  auto answers = endpoint_.offset_for_leader_epoch(queries);
  if (!answers) {
    ++stats_.transport_errors;
    for (const auto& p : parts) apply_action(p, FollowerAction::backoff);
    return false;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    auto a = answer_for(*answers, i, p->tp());
    if (!still_ours(p) || p->phase() != FollowerPhase::truncating) continue;
    if (a == answers->end()) {
      apply_action(p, FollowerAction::backoff);
      continue;
    }
    applying_ = p->tp();
    auto action = p->apply_epoch_answer(*a);
    applying_.reset();
    applied_.notify_all();
    apply_action(p, action);
  }
  return true;
}

bool ReplicaFetcher::fetch_round(const Snapshot& parts) {
  if (parts.empty()) return false;
  FetchQuery q;
  q.replica_id = self_id_;
  q.max_wait_ms = config_.max_wait_ms;
  q.min_bytes = config_.min_bytes;
  q.max_bytes = config_.max_bytes;
  q.partitions.reserve(parts.size());
  for (const auto& p : parts) q.partitions.push_back(p->fetch_request(config_.partition_max_bytes));
  ++stats_.fetch_requests;
  auto reply = endpoint_.fetch(q);
  if (!reply || reply->error != ErrorCode::NONE) {
    ++stats_.transport_errors;
    for (const auto& p : parts) apply_action(p, FollowerAction::backoff);
    return false;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    auto d = answer_for(reply->partitions, i, p->tp());
    // A partition whose leader or epoch changed during the request asks
    // again under the new state instead of applying an old answer.
    if (!still_ours(p) || p->phase() != FollowerPhase::fetching ||
        p->leader_epoch() != q.partitions[i].current_leader_epoch)
      continue;
    if (d == reply->partitions.end()) {
      apply_action(p, FollowerAction::backoff);
      continue;
    }
    applying_ = p->tp();
    auto action = p->apply_fetch(*d);
    applying_.reset();
    applied_.notify_all();
    apply_action(p, action);
  }
  return true;
}

}  // namespace castle::replication
