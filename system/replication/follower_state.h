#pragma once
// A partition on a follower: the local log, whom it follows (leader id and
// leader epoch) and where it stands in Kafka's follower protocol:
//
//   truncating  ask the leader OffsetForLeaderEpoch for the latest epoch of
//               the local log and cut the local log where it diverges
//               (KIP-101, KIP-279); repeat while the answer names an epoch
//               this log does not have. Never to the local high watermark:
//               that may cut committed records or keep divergent ones.
//   fetching    Fetch from the log end; append what comes with
//               append_as_follower; local high watermark = min(leader's,
//               local log end); follow the leader's log start.
//   awaiting_metadata  the leader fenced our epoch: nothing to do until the
//               controller names a new leader or epoch (on_new_leader).
//   failed      an append failed in a way that could not be undone (a sync
//               failed, or cutting the append back did): the log end may
//               hold records that are not durably here, and a fetch from it
//               would tell the leader they are. Nothing more is asked; the
//               broker takes the replica offline (failure()) and reopens
//               its log.
//
// The object does no I/O of its own beyond the Log and keeps no clock: the
// fetcher (fetcher.h) sends what it asks and hands back the answers. Used
// from one fiber at a time.

#include <cstdint>
#include <memory>
#include <optional>

#include "system/replication/bugs.h"
#include "system/replication/types.h"
#include "system/runtime/result.h"
#include "system/storage/log.h"

namespace castle::replication {

enum class FollowerPhase { truncating, fetching, awaiting_metadata, failed };
const char* to_string(FollowerPhase p);

// What the fetcher should do next with a partition after an answer.
enum class FollowerAction {
  proceed,          // go on at once (next truncation step or next fetch)
  backoff,          // a transient error: retry after the fetcher's backoff
  await_metadata,   // stop until on_new_leader
  failed,           // stop for good: the replica must go offline
};

// Why a follower failed: where its log must be cut back to when reopened
// (the log end before the append), and whether a sync failed (then the
// disk may have given up writes below that too, which reads still return).
struct FollowerFailure {
  std::int64_t end_before = -1;
  bool sync_failed = false;
  bool damaged = false;  // the log failed a CRC: salvaged, not reopened as it is
};

class FollowerPartition {
 public:
  // Follows leader_id at leader_epoch over `log` (the planted bug
  // replication-truncate-to-hw truncates to the local high watermark here
  // and skips the epoch protocol). Disk errors as they come.
  static Result<std::unique_ptr<FollowerPartition>> become_follower(
      storage::Log& log, TopicPartition tp, std::int32_t leader_id, std::int32_t leader_epoch,
      Bugs bugs = {});
  // The controller named a leader or epoch again: truncation starts over.
  // A stale epoch (below the current one) is ignored.
  Result<void> on_new_leader(std::int32_t leader_id, std::int32_t leader_epoch);

  // From fetching back to truncating, as a new leader epoch would start it:
  // the log is checked against the leader's again, which is legal at any
  // time (buggify's replication.revalidate). Disk errors as they come.
  Result<void> revalidate();

  // ---- truncating
  // The question for the leader: the latest epoch in the local log.
  EpochQuery epoch_query() const;
  Result<FollowerAction> apply_epoch_answer(const EpochAnswer& a);

  // ---- fetching
  PartitionFetch fetch_request(std::int32_t partition_max_bytes) const;
  // Applies one partition of the leader's Fetch reply. Errors from the
  // leader map to actions; a disk error is returned (and the fetcher
  // backs off).
  Result<FollowerAction> apply_fetch(const PartitionData& d);

  FollowerPhase phase() const { return phase_; }
  const TopicPartition& tp() const { return tp_; }
  std::int32_t leader_id() const { return leader_id_; }
  std::int32_t leader_epoch() const { return leader_epoch_; }
  ErrorCode last_error() const { return last_error_; }
  // Set once the phase is failed.
  const std::optional<FollowerFailure>& failure() const { return failure_; }
  storage::Log& log() { return log_; }

 private:
  FollowerPartition(storage::Log& log, TopicPartition tp, std::int32_t leader_id,
                    std::int32_t leader_epoch, Bugs bugs);
  Result<void> start_truncation();
  Result<FollowerAction> on_fetch_error(const PartitionData& d);
  Result<FollowerAction> append_records(const PartitionData& d);
  Result<FollowerAction> undo_failed_append(std::int64_t end_before, std::error_code error);
  Result<FollowerAction> stop_if_unrecoverable(std::error_code error);
  FollowerAction stop(FollowerFailure why);
  Result<void> follow_watermarks(const PartitionData& d);
  // The truncation point for an answer, and whether truncation is complete.
  std::pair<std::int64_t, bool> truncation_point(const EpochAnswer& a) const;

  storage::Log& log_;
  TopicPartition tp_;
  std::int32_t leader_id_;
  std::int32_t leader_epoch_;
  Bugs bugs_;
  FollowerPhase phase_ = FollowerPhase::truncating;
  ErrorCode last_error_ = ErrorCode::NONE;
  std::optional<FollowerFailure> failure_;
};

}  // namespace castle::replication
