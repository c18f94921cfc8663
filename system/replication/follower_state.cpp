#include "system/replication/follower_state.h"

#include <algorithm>

#include "system/storage/batch.h"

namespace castle::replication {

const char* to_string(FollowerPhase p) {
  switch (p) {
    case FollowerPhase::truncating: return "truncating";
    case FollowerPhase::fetching: return "fetching";
    case FollowerPhase::awaiting_metadata: return "awaiting_metadata";
    case FollowerPhase::failed: return "failed";
  }
  return "?";
}

namespace {

// The prefix of `bytes` made of whole batches (a leader may cut the last
// one at its byte limit, as Kafka does).
std::size_t whole_batches_bytes(std::span<const std::uint8_t> bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t size = storage::BatchView::size_from_prefix(bytes.subspan(at));
    if (size == 0 || at + size > bytes.size()) break;
    at += size;
  }
  return at;
}

}  // namespace

FollowerPartition::FollowerPartition(storage::Log& log, TopicPartition tp, std::int32_t leader_id,
                                     std::int32_t leader_epoch, Bugs bugs)
    : log_(log), tp_(std::move(tp)), leader_id_(leader_id), leader_epoch_(leader_epoch),
      bugs_(std::move(bugs)) {}

Result<std::unique_ptr<FollowerPartition>> FollowerPartition::become_follower(
    storage::Log& log, TopicPartition tp, std::int32_t leader_id, std::int32_t leader_epoch,
    Bugs bugs) {
  if (leader_id < 0 || leader_epoch < 0) return std::errc::invalid_argument;
  std::unique_ptr<FollowerPartition> f(
      new FollowerPartition(log, std::move(tp), leader_id, leader_epoch, std::move(bugs)));
  if (auto r = f->start_truncation(); !r) return r.error();
  return f;
}

Result<void> FollowerPartition::on_new_leader(std::int32_t leader_id, std::int32_t leader_epoch) {
  if (leader_id < 0 || leader_epoch < leader_epoch_) return ok_result();
  if (phase_ == FollowerPhase::failed) return ok_result();  // only a reopen brings it back
  leader_id_ = leader_id;
  leader_epoch_ = leader_epoch;
  return start_truncation();
}

Result<void> FollowerPartition::start_truncation() {
  last_error_ = ErrorCode::NONE;
  if (bugs_.on(bug_truncate_to_hw)) {
    // The pre-KIP-101 rule this project must never follow.
    phase_ = FollowerPhase::fetching;
    return log_.truncate_to(log_.high_watermark());
  }
  // A log without epochs has nothing that could diverge.
  phase_ = log_.epochs().empty() ? FollowerPhase::fetching : FollowerPhase::truncating;
  return ok_result();
}

Result<void> FollowerPartition::revalidate() {
  if (phase_ != FollowerPhase::fetching) return ok_result();
  return start_truncation();
}

EpochQuery FollowerPartition::epoch_query() const {
  EpochQuery q;
  q.tp = tp_;
  q.current_leader_epoch = leader_epoch_;
  q.leader_epoch = log_.epochs().empty() ? epoch_undefined : log_.epochs().back().epoch;
  return q;
}

// Kafka's AbstractFetcherThread.getOffsetTruncationState.
std::pair<std::int64_t, bool> FollowerPartition::truncation_point(const EpochAnswer& a) const {
  const std::int64_t end = log_.log_end_offset();
  const auto mine = log_.end_offset_for_epoch(a.leader_epoch);
  // We hold no epoch at or below the leader's: every record of ours from
  // our first epoch on is of an epoch the leader never had. (Kafka keeps
  // up to the leader's end offset here, which is right only for records
  // written before epochs were tracked; found by the replication property.)
  if (!mine) {
    const std::int64_t first = log_.epochs().empty() ? end : log_.epochs().front().start_offset;
    return {std::min({first, a.end_offset, end}), true};
  }
  // The leader answered an epoch we never had: cut where our last epoch
  // below it ended and ask again with the epoch that is then our latest.
  if (mine->first != a.leader_epoch) return {std::min(mine->second, end), false};
  return {std::min({mine->second, a.end_offset, end}), true};
}

Result<FollowerAction> FollowerPartition::apply_epoch_answer(const EpochAnswer& a) {
  if (phase_ != FollowerPhase::truncating) return FollowerAction::proceed;
  last_error_ = a.error;
  if (a.error == ErrorCode::FENCED_LEADER_EPOCH) {
    phase_ = FollowerPhase::awaiting_metadata;
    return FollowerAction::await_metadata;
  }
  if (a.error != ErrorCode::NONE) return FollowerAction::backoff;
  // A truncation that cut the log's only epoch and then failed to write
  // its checkpoint left nothing that could diverge; asking on with an
  // undefined epoch would be answered undefined forever (cluster-swarm
  // seed 149919).
  if (log_.epochs().empty()) {
    phase_ = FollowerPhase::fetching;
    return FollowerAction::proceed;
  }
  // An undefined answer means the leader knows none of our epochs; we
  // retry rather than guess (never the high watermark).
  if (a.leader_epoch < 0 || a.end_offset < 0) {
    last_error_ = ErrorCode::UNKNOWN_LEADER_EPOCH;
    return FollowerAction::backoff;
  }
  const auto [offset, complete] = truncation_point(a);
  // At the log end too: an epoch of ours that starts there and that the
  // leader never had must go, or the next question would be the same.
  if (offset <= log_.log_end_offset()) {
    if (auto r = log_.truncate_to(std::max(offset, log_.log_start_offset())); !r)
      return stop_if_unrecoverable(r.error());
  }
  if (complete || log_.epochs().empty()) phase_ = FollowerPhase::fetching;
  return FollowerAction::proceed;
}

PartitionFetch FollowerPartition::fetch_request(std::int32_t partition_max_bytes) const {
  PartitionFetch p;
  p.tp = tp_;
  p.current_leader_epoch = leader_epoch_;
  p.fetch_offset = log_.log_end_offset();
  p.log_start_offset = log_.log_start_offset();
  p.partition_max_bytes = partition_max_bytes;
  return p;
}

Result<FollowerAction> FollowerPartition::apply_fetch(const PartitionData& d) {
  if (phase_ != FollowerPhase::fetching) return FollowerAction::proceed;
  last_error_ = d.error;
  if (d.error != ErrorCode::NONE) return on_fetch_error(d);
  auto appended = append_records(d);
  if (!appended || *appended != FollowerAction::proceed) return appended;
  if (auto r = follow_watermarks(d); !r) return stop_if_unrecoverable(r.error());
  return FollowerAction::proceed;
}

Result<FollowerAction> FollowerPartition::on_fetch_error(const PartitionData& d) {
  switch (d.error) {
    case ErrorCode::FENCED_LEADER_EPOCH:
      phase_ = FollowerPhase::awaiting_metadata;
      return FollowerAction::await_metadata;
    case ErrorCode::OFFSET_OUT_OF_RANGE:
      // Below the leader's log start: start over at it. Otherwise our end
      // is past the leader's: find the divergence again.
      if (d.log_start_offset >= 0 && log_.log_end_offset() < d.log_start_offset) {
        auto r = log_.truncate_fully_and_start_at(d.log_start_offset);
        if (!r) return stop_if_unrecoverable(r.error());
        return FollowerAction::proceed;
      }
      if (auto r = start_truncation(); !r) return stop_if_unrecoverable(r.error());
      return FollowerAction::proceed;
    default:
      // NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH (the leader has not
      // learned the epoch yet), storage errors: transient.
      return FollowerAction::backoff;
  }
}

Result<FollowerAction> FollowerPartition::append_records(const PartitionData& d) {
  const std::span<const std::uint8_t> bytes(d.records.data(), whole_batches_bytes(d.records));
  if (bytes.empty()) return FollowerAction::proceed;
  const storage::BatchView first(bytes);
  if (first.base_offset() != log_.log_end_offset()) {
    // Not what we asked for: our view of the leader's log is off.
    last_error_ = ErrorCode::OFFSET_OUT_OF_RANGE;
    if (auto r = start_truncation(); !r) return stop_if_unrecoverable(r.error());
    return FollowerAction::backoff;
  }
  const std::int64_t end_before = log_.log_end_offset();
  auto r = log_.append_as_follower(bytes);
  if (!r) {
    if (r.error() != std::errc::invalid_argument) return undo_failed_append(end_before, r.error());
    last_error_ = ErrorCode::CORRUPT_MESSAGE;
    return FollowerAction::backoff;
  }
  return FollowerAction::proceed;
}

// A failed append may have left its batches in the log (written, but the
// flush the policy asked for failed). The next fetch asks from the log
// end, which tells the leader they are here, and the leader counts them
// toward the high watermark: they must go first. Once a sync failed, the
// log can promise nothing durable until reopened, so the follower stops
// and the broker takes the replica offline, as it does for a leader.
Result<FollowerAction> FollowerPartition::undo_failed_append(std::int64_t end_before,
                                                             std::error_code error) {
  if (bugs_.on(bug_follower_keeps_failed_append)) return error;
  if (log_.undo_append(end_before)) return error;
  return stop(FollowerFailure{end_before, log_.sync_failed()});
}

// Once a sync failed, the log fails every flush until it is reopened
// (Log::sync_failed), so a retry could never succeed: the follower stops.
// Damage a truncation met on its way (Segment::locate checks CRCs) stops
// the follower too: asked again, it would fail the same way forever
// (cluster-swarm-disk 40769: a follower truncating to the leader's epoch
// end never rejoined the ISR).
Result<FollowerAction> FollowerPartition::stop_if_unrecoverable(std::error_code error) {
  if (error == std::errc::illegal_byte_sequence) return stop(FollowerFailure{-1, log_.sync_failed(), true});
  if (!log_.sync_failed() || bugs_.on(bug_follower_keeps_failed_append)) return error;
  return stop(FollowerFailure{-1, true});
}

FollowerAction FollowerPartition::stop(FollowerFailure why) {
  phase_ = FollowerPhase::failed;
  failure_ = why;
  return FollowerAction::failed;
}

Result<void> FollowerPartition::follow_watermarks(const PartitionData& d) {
  // Most partitions of a fetch round are idle: nothing below changes them,
  // and the log end (three dependent loads per partition, each missing the
  // cache at hundreds of partitions) need not be read.
  if (d.high_watermark == log_.high_watermark() && d.log_start_offset <= log_.log_start_offset())
    return ok_result();
  const std::int64_t end = log_.log_end_offset();
  const std::int64_t hw = std::clamp(d.high_watermark, log_.log_start_offset(), end);
  if (d.high_watermark >= 0) {
    if (auto r = log_.set_high_watermark(hw); !r) return r;
  }
  // The leader deleted records: follow, but never past what is committed here.
  if (d.log_start_offset > log_.log_start_offset()) {
    const std::int64_t start = std::min(d.log_start_offset, log_.high_watermark());
    if (start > log_.log_start_offset()) return log_.delete_records_before(start);
  }
  return ok_result();
}

}  // namespace castle::replication
