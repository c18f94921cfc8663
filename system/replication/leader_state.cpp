#include "system/replication/leader_state.h"

#include <algorithm>

#include "system/replication/min_insync.h"

namespace castle::replication {

bool contains(const std::vector<std::int32_t>& ids, std::int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

namespace {

bool names_leader(const PartitionState& s, std::int32_t self_id) {
  return s.leader_epoch >= 0 && contains(s.replicas, self_id) && contains(s.isr, self_id);
}

}  // namespace

Result<std::unique_ptr<LeaderPartition>> LeaderPartition::become_leader(
    Runtime& rt, storage::Log& log, std::int32_t self_id, PartitionState state,
    LeaderConfig config, Bugs bugs, std::optional<std::vector<std::int32_t>> adopted) {
  if (!names_leader(state, self_id)) return std::errc::invalid_argument;
  if (adopted && !contains(*adopted, self_id)) return std::errc::invalid_argument;
  const auto& epochs = log.epochs();
  // An older leader epoch than the log already holds is a stale decision.
  if (!epochs.empty() && epochs.back().epoch > state.leader_epoch)
    return std::errc::invalid_argument;
  // The epoch is written to the cache now, as Kafka does, so that
  // OffsetForLeaderEpoch answers for it before the first append.
  if (auto r = log.assign_epoch(state.leader_epoch, log.log_end_offset()); !r) return r.error();
  std::unique_ptr<LeaderPartition> p(new LeaderPartition(log, self_id, std::move(state), config,
                                                         std::move(bugs), rt.now(), std::move(adopted)));
  return p;
}

LeaderPartition::LeaderPartition(storage::Log& log, std::int32_t self_id, PartitionState state,
                                 LeaderConfig config, Bugs bugs, Instant now,
                                 std::optional<std::vector<std::int32_t>> adopted)
    : log_(log), self_id_(self_id), state_(std::move(state)), config_(config),
      bugs_(std::move(bugs)), epoch_start_offset_(log.log_end_offset()),
      proposed_isr_(std::move(adopted)), resend_isr_change_(proposed_isr_.has_value()) {
  reset_followers(now);
  // A single-replica ISR commits what the log holds at once.
  maybe_advance_high_watermark();
}

// Kafka resets follower state on becoming leader: log end offsets are
// unknown until each follower fetches, and ISR members count as caught up
// now so that they are not shrunk before they had a chance to fetch.
void LeaderPartition::reset_followers(Instant now) {
  for (std::int32_t id : state_.replicas) {
    if (id == self_id_ || followers_.count(id)) continue;
    FollowerState f;
    if (contains(state_.isr, id)) f.last_caught_up_time = now;
    followers_.emplace(id, f);
  }
  std::erase_if(followers_, [this](const auto& kv) { return !contains(state_.replicas, kv.first); });
}

Result<void> LeaderPartition::on_partition_state(const PartitionState& state, Instant now) {
  if (state.leader_epoch != state_.leader_epoch || !names_leader(state, self_id_))
    return std::errc::invalid_argument;
  if (state.partition_epoch < state_.partition_epoch) return ok_result();
  // A member the controller took out of the ISR may have lost its log
  // since its last fetch (its replica went offline and was salvaged, cut
  // short, without a restart): what that fetch said no longer counts, and
  // only a fetch from now on can bring it back (cluster-swarm-disk 9462:
  // re-added on a log end from before the cut, holding nothing).
  for (std::int32_t id : state_.isr)
    if (id != self_id_ && !contains(state.isr, id)) on_follower_fenced(id);
  state_ = state;
  proposed_isr_.reset();
  resend_isr_change_ = false;
  reset_followers(now);
  state_changed(now);
  return ok_result();
}

void LeaderPartition::begin_isr_change(std::vector<std::int32_t> proposed) {
  CASTLE_ASSERT(contains(proposed, self_id_), "a proposed ISR keeps its leader");
  proposed_isr_ = std::move(proposed);
}

void LeaderPartition::on_follower_fenced(std::int32_t id) {
  auto it = followers_.find(id);
  if (it != followers_.end()) it->second = FollowerState{};
}

void LeaderPartition::abort_isr_change(Instant now) {
  proposed_isr_.reset();
  resend_isr_change_ = false;
  state_changed(now);
}

void LeaderPartition::keep_isr_change(bool resend) {
  if (!proposed_isr_) return;  // the metadata settled it meanwhile
  resend_isr_change_ = resend;
}

std::optional<std::vector<std::int32_t>> LeaderPartition::isr_change_to_resend() const {
  if (!proposed_isr_ || !resend_isr_change_) return std::nullopt;
  return proposed_isr_;
}

void LeaderPartition::resign() {
  leader_ = false;
  proposed_isr_.reset();
  resend_isr_change_ = false;
  state_changed(Instant::max());  // commits nothing now: fails every waiter
}

void LeaderPartition::go_offline() {
  offline_ = true;
  state_changed(Instant::max());  // commits nothing now: fails every waiter
}

std::vector<std::int32_t> LeaderPartition::maximal_isr() const {
  std::vector<std::int32_t> out = state_.isr;
  if (proposed_isr_)
    for (std::int32_t id : *proposed_isr_)
      if (!contains(out, id)) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

const FollowerState* LeaderPartition::follower(std::int32_t id) const {
  auto it = followers_.find(id);
  return it == followers_.end() ? nullptr : &it->second;
}

// ------------------------------------------------------------ high watermark

std::int64_t LeaderPartition::high_watermark_candidate() const {
  // Our own log counts without a tail still being synced when every write
  // is synced (Log::committable_end).
  std::int64_t hw = log_.committable_end();
  if (bugs_.on(bug_hw_ignores_isr)) return hw;
  // Over the maximal ISR (the ISR and any proposed addition), without
  // building it: this runs on every follower fetch.
  auto holds_back = [&](std::int32_t id) {
    if (id == self_id_) return false;
    const FollowerState* f = follower(id);
    // A member we know nothing of in this epoch holds the watermark back.
    if (f == nullptr || f->log_end_offset == offset_unknown) return true;
    hw = std::min(hw, f->log_end_offset);
    return false;
  };
  for (std::int32_t id : state_.isr)
    if (holds_back(id)) return log_.high_watermark();
  if (proposed_isr_)
    for (std::int32_t id : *proposed_isr_)
      if (!contains(state_.isr, id) && holds_back(id)) return log_.high_watermark();
  return hw;
}

// KIP-966: below min.insync.replicas (capped at the replica count) nothing
// commits, so every replica that left the ISR while it was that small holds
// everything committed: the controller's eligible leader replicas.
bool LeaderPartition::isr_can_commit() const {
  return state_.isr.size() >= effective_min_insync(config_.min_insync_replicas, state_.replicas.size());
}

bool LeaderPartition::maybe_advance_high_watermark() {
  if (!leader_ || offline_) return false;
  const std::int64_t candidate = high_watermark_candidate();
  const std::int64_t current = log_.high_watermark();
  if (candidate <= current) return false;
  if (!bugs_.on(bug_hw_ignores_isr) && (candidate < epoch_start_offset_ || !isr_can_commit()))
    return false;
  const auto r = log_.set_high_watermark(candidate);
  CASTLE_ASSERT(r.ok(), "a high watermark within the log is accepted");
  return true;
}

void LeaderPartition::state_changed(Instant now) {
  maybe_advance_high_watermark();
  waiters_.update(ack_state(), now);
  acks_changed_.notify_all();
  notify_data();
}

void LeaderPartition::notify_data() {
  data_arrived_.notify_all();
  if (data_listener_ != nullptr) data_listener_->notify_all();
}

// ------------------------------------------------------------ produce

AckState LeaderPartition::ack_state() const {
  AckState s;
  s.leader = leader_ && !offline_;
  // A resigned leader's waiters fail on leadership alone, and its log may
  // be gone by the time they wake (the broker reopens an offline one).
  if (!s.leader) return s;
  s.high_watermark = log_.high_watermark();
  s.log_end_offset = log_.log_end_offset();
  s.isr_size = state_.isr.size();
  s.min_insync_replicas = config_.min_insync_replicas;
  s.ack_on_append = bugs_.on(bug_ack_before_isr);
  return s;
}

ErrorCode LeaderPartition::check_append(std::int16_t required_acks) const {
  if (!leader_) return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  if (required_acks == -1 &&
      state_.isr.size() < static_cast<std::size_t>(std::max(config_.min_insync_replicas, 1)))
    return ErrorCode::NOT_ENOUGH_REPLICAS;
  return ErrorCode::NONE;
}

Result<storage::AppendResult> LeaderPartition::append(std::span<std::uint8_t> batches,
                                                      Instant now) {
  if (!leader_) return std::errc::operation_not_permitted;
  auto r = log_.append_as_leader_in_place(batches, state_.leader_epoch);
  if (!r) return r;
  // Leadership may have moved while the append waited for the disk; the
  // records stay (a later leader truncates them) but count for nothing here.
  if (leader_) state_changed(now);
  return r;
}

ErrorCode LeaderPartition::await_ack(Runtime& rt, std::int64_t last_offset, Instant deadline) {
  const auto id = waiters_.add(last_offset, deadline);
  if (!id) return ErrorCode::REQUEST_TIMED_OUT;
  // Forget the waiter however this fiber leaves (a crash or a
  // cancellation unwinds through here).
  struct Forget {
    AckWaiters& w;
    AckWaiters::Id id;
    ~Forget() { w.forget(id); }
  } forget{waiters_, *id};
  for (;;) {
    waiters_.update(ack_state(), rt.now());
    if (auto done = waiters_.result(*id)) return *done;
    acks_changed_.wait(rt, deadline);
  }
}

// ------------------------------------------------------------ follower fetch

ErrorCode LeaderPartition::validate_fetch(std::int32_t replica_id,
                                          std::int32_t current_leader_epoch) const {
  if (!leader_) return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  if (replica_id == self_id_ || !contains(state_.replicas, replica_id))
    return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  if (current_leader_epoch < state_.leader_epoch && !bugs_.on(bug_accept_stale_epoch))
    return ErrorCode::FENCED_LEADER_EPOCH;
  if (current_leader_epoch > state_.leader_epoch) return ErrorCode::UNKNOWN_LEADER_EPOCH;
  return ErrorCode::NONE;
}

// Kafka's Replica.updateFetchState: caught up now if the fetch reached the
// leader's current end, or caught up as of the previous fetch if it reached
// the end the leader had then.
bool LeaderPartition::on_follower_fetch(std::int32_t replica_id, std::int64_t fetch_offset,
                                        Instant now) {
  auto it = followers_.find(replica_id);
  if (it == followers_.end() || !leader_) return false;
  FollowerState& f = it->second;
  const std::int64_t leader_end = log_.log_end_offset();
  if (fetch_offset >= leader_end)
    f.last_caught_up_time = std::max(f.last_caught_up_time, now);
  else if (f.leader_end_at_last_fetch != offset_unknown && fetch_offset >= f.leader_end_at_last_fetch)
    f.last_caught_up_time = std::max(f.last_caught_up_time, f.last_fetch_time);
  f.log_end_offset = fetch_offset;
  f.leader_end_at_last_fetch = leader_end;
  f.last_fetch_time = now;
  const bool moved = maybe_advance_high_watermark();
  if (moved) state_changed(now);
  return moved;
}

PartitionData LeaderPartition::serve_fetch(std::int32_t replica_id, const PartitionFetch& in,
                                           Instant now) {
  PartitionData out;
  out.tp = in.tp;
  out.error = validate_fetch(replica_id, in.current_leader_epoch);
  out.log_start_offset = log_.log_start_offset();
  out.high_watermark = log_.high_watermark();
  if (out.error != ErrorCode::NONE) return out;
  if (in.fetch_offset < log_.log_start_offset() || in.fetch_offset > log_.log_end_offset()) {
    out.error = ErrorCode::OFFSET_OUT_OF_RANGE;
    return out;
  }
  const std::int32_t epoch = state_.leader_epoch;
  if (in.fetch_offset < log_.log_end_offset() && in.partition_max_bytes > 0) {
    auto r = log_.read(in.fetch_offset, static_cast<std::size_t>(in.partition_max_bytes));
    if (!r) {
      out.error = r.error() == std::errc::result_out_of_range ? ErrorCode::OFFSET_OUT_OF_RANGE
                                                               : ErrorCode::KAFKA_STORAGE_ERROR;
      out.log_damaged = r.error() == std::errc::illegal_byte_sequence;
      return out;
    }
    out.records = std::move(r->bytes);
  }
  // The read may have suspended in the disk while leadership moved.
  if (!leader_ || state_.leader_epoch != epoch) {
    out.error = ErrorCode::NOT_LEADER_OR_FOLLOWER;
    out.records.clear();
    return out;
  }
  on_follower_fetch(replica_id, in.fetch_offset, now);
  out.high_watermark = log_.high_watermark();
  out.log_start_offset = log_.log_start_offset();
  return out;
}

EpochAnswer LeaderPartition::end_offset_for_epoch(const EpochQuery& q) const {
  EpochAnswer a;
  a.tp = q.tp;
  if (!leader_) return a.error = ErrorCode::NOT_LEADER_OR_FOLLOWER, a;
  if (q.current_leader_epoch >= 0 && q.current_leader_epoch < state_.leader_epoch)
    return a.error = ErrorCode::FENCED_LEADER_EPOCH, a;
  if (q.current_leader_epoch > state_.leader_epoch) return a.error = ErrorCode::UNKNOWN_LEADER_EPOCH, a;
  if (q.leader_epoch < 0) return a;  // undefined in, undefined out
  if (auto found = log_.end_offset_for_epoch(q.leader_epoch)) {
    a.leader_epoch = found->first;
    a.end_offset = found->second;
  } else if (!log_.epochs().empty()) {
    // Older than every epoch we know: it ended where our first one starts.
    a.leader_epoch = q.leader_epoch;
    a.end_offset = log_.epochs().front().start_offset;
  }
  return a;
}

// ------------------------------------------------------------ ISR

bool LeaderPartition::follower_caught_up(const FollowerState& f, Instant now) const {
  if (f.log_end_offset != offset_unknown && f.log_end_offset >= log_.log_end_offset()) return true;
  return now - f.last_caught_up_time <= milliseconds(config_.replica_lag_time_max_ms);
}

std::vector<std::int32_t> LeaderPartition::isr_to_shrink(Instant now) const {
  std::vector<std::int32_t> out;
  if (!leader_ || proposed_isr_) return out;
  for (std::int32_t id : state_.isr) {
    if (id == self_id_) continue;
    const FollowerState* f = follower(id);
    if (f == nullptr || !follower_caught_up(*f, now)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A follower joins once it has reached the high watermark in this epoch
// and is fetching (its last fetch within replica.lag.time.max.ms): Kafka
// expands the ISR on the follower's fetch. One that stopped fetching keeps
// the log end it last reported, which a high watermark held back (an ISR
// below min.insync.replicas) never passes, and re-adding it would only
// have it shrunk out again one lag time later, round after round.
std::vector<std::int32_t> LeaderPartition::isr_to_expand(Instant now) const {
  std::vector<std::int32_t> out;
  if (!leader_ || proposed_isr_) return out;
  const std::vector<std::int32_t> isr = maximal_isr();
  for (const auto& [id, f] : followers_) {
    if (contains(isr, id) || f.log_end_offset == offset_unknown) continue;
    if (f.log_end_offset < log_.high_watermark()) continue;
    if (now - f.last_fetch_time > milliseconds(config_.replica_lag_time_max_ms)) continue;
    if (f.log_end_offset < epoch_start_offset_ && !bugs_.on(bug_isr_expand_early)) continue;
    out.push_back(id);
  }
  return out;
}

}  // namespace castle::replication
