#pragma once
// A partition on its leader: the leader epoch and the replicas and ISR the
// controller committed, what the leader knows of each follower (its log end
// offset and when it last caught up), the high watermark, pending ISR
// changes and the acks=all waiters.
//
// The rules (Kafka's, DESIGN.md "Kafka semantics to honour"):
// - High watermark = min log end offset over the ISR, leader included
//   (its durable end when every write is synced), using the maximal ISR
//   (committed ∪ proposed) while an AlterPartition is in flight. It never
//   moves back within an epoch, and it moves only to offsets at or past
//   the leader epoch start offset (the log end when
//   this broker became leader): until every ISR member holds everything
//   the new leader inherited, the high watermark stays where it was.
//   Nor does it move while the committed ISR is below min.insync.replicas
//   (capped at the replica count; KIP-966): the replicas dropped from such
//   an ISR then hold every committed record, and the controller keeps them
//   eligible to lead (its ELR).
// - A follower is caught up when its fetch offset reached the leader's log
//   end as of its previous fetch (Kafka's lastCaughtUpTimeMs); one not
//   caught up for replica.lag.time.max.ms leaves the ISR, and one outside
//   the ISR rejoins once its log end is at or past both the high watermark
//   and the leader epoch start offset. Both are requests to the controller,
//   effective when it commits them (on_partition_state).
// - A follower fetch with an older leader epoch is fenced
//   (FENCED_LEADER_EPOCH), a newer one is UNKNOWN_LEADER_EPOCH.
//
// Used from the fibers of one broker. Calls that touch the disk
// (become_leader, append, serve_fetch) may suspend; the others do not.
// Fibers waiting on the object (await_ack, wait_for_data) must keep it
// alive (the broker holds it in a shared_ptr) until they return.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "system/replication/ack_waiters.h"
#include "system/replication/bugs.h"
#include "system/replication/types.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"
#include "system/storage/log.h"

namespace castle::replication {

struct LeaderConfig {
  std::int64_t replica_lag_time_max_ms = 30000;  // replica.lag.time.max.ms
  std::int32_t min_insync_replicas = 1;          // min.insync.replicas
};

// A partition as the controller committed it.
struct PartitionState {
  std::int32_t leader_epoch = 0;
  std::int32_t partition_epoch = 0;
  std::vector<std::int32_t> replicas;  // broker ids, leader included
  std::vector<std::int32_t> isr;       // broker ids, leader included
};

// What the leader knows of one follower in the current leader epoch.
struct FollowerState {
  std::int64_t log_end_offset = offset_unknown;
  Instant last_fetch_time{};
  Instant last_caught_up_time{};
  std::int64_t leader_end_at_last_fetch = offset_unknown;
};

class LeaderPartition {
 public:
  // Takes the lead at state.leader_epoch: the epoch enters the log's epoch
  // cache at the log end (the leader epoch start offset). state must name
  // self_id in its replicas and ISR. Disk errors as they come;
  // invalid_argument for a state that does not make this broker leader.
  // `adopted`: a proposal that a previous leadership of the same leader
  // and partition epochs sent and never saw settled (its replica went
  // offline and came back). The controller may still commit it, so it
  // counts toward the maximal ISR from the first high watermark on, as in
  // the leadership that sent it, and is sent again until the answer or
  // the metadata settles it. (Taken up after construction, it came too
  // late: an ISR of the leader alone had committed its whole log at once.)
  static Result<std::unique_ptr<LeaderPartition>> become_leader(
      Runtime& rt, storage::Log& log, std::int32_t self_id, PartitionState state,
      LeaderConfig config, Bugs bugs = {},
      std::optional<std::vector<std::int32_t>> adopted = std::nullopt);

  // ---- controller updates
  // A newer partition epoch in the same leader epoch (ISR or replicas
  // changed): the committed ISR replaces the old one and any in-flight
  // change ends. invalid_argument for another leader epoch or a state
  // without this broker; a stale partition epoch is ignored.
  Result<void> on_partition_state(const PartitionState& state, Instant now);
  // An AlterPartition goes out with `proposed` as the new ISR.
  void begin_isr_change(std::vector<std::int32_t> proposed);
  // The controller fenced `id` (or it registered again with a new broker
  // epoch): what we knew of its log belongs to an incarnation whose
  // unsynced tail may be gone, so it must fetch again before it can count
  // for the high watermark or rejoin the ISR (the hazard of KIP-903).
  void on_follower_fenced(std::int32_t id);
  // The controller rejected it: back to the committed ISR.
  void abort_isr_change(Instant now);
  // No answer, or one that does not say the change was never made (the
  // entry may still commit under a new controller, or an attempt the
  // channel retried may have committed it already): the proposal keeps
  // counting in the maximal ISR until the metadata shows a newer partition
  // epoch (on_partition_state) or leadership ends, and goes out again if
  // `resend`. Dropping it instead let the high watermark pass records an
  // added member lacked while its addition committed after all.
  void keep_isr_change(bool resend);
  // The in-flight proposal to send again, if keep_isr_change asked so.
  std::optional<std::vector<std::int32_t>> isr_change_to_resend() const;
  bool isr_change_in_flight() const { return proposed_isr_.has_value(); }
  // The proposal in flight, if any, for a successor leadership to adopt.
  const std::optional<std::vector<std::int32_t>>& proposed_isr() const { return proposed_isr_; }
  // Leadership moved away (or the partition is going): every acks=all
  // waiter fails with NOT_LEADER_OR_FOLLOWER, fetches are refused.
  void resign();
  bool is_leader() const { return leader_; }
  // The replica went offline (a disk error left its log in doubt) and
  // keeps the role until the broker releases it: meanwhile the high
  // watermark stays where it is, as the log past it may be cut when it
  // comes back, and every acks=all waiter fails. The proposal in flight
  // stays, for the broker to hand to the next leadership.
  void go_offline();
  bool offline() const { return offline_; }

  // ---- produce path
  // Whether a produce with these acks may be appended now:
  // NOT_LEADER_OR_FOLLOWER, or NOT_ENOUGH_REPLICAS for acks=all with the
  // ISR below min.insync.replicas.
  ErrorCode check_append(std::int16_t required_acks) const;
  // Appends client batches in the leader epoch (offsets assigned in place).
  // operation_not_permitted after resign(); the Log's errors otherwise.
  Result<storage::AppendResult> append(std::span<std::uint8_t> batches, Instant now);
  // Blocks the calling fiber until an acks=all produce ending at
  // last_offset is decided (decide_ack).
  ErrorCode await_ack(Runtime& rt, std::int64_t last_offset, Instant deadline);
  AckWaiters& ack_waiters() { return waiters_; }

  // ---- follower fetch path
  // NONE, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH or
  // NOT_LEADER_OR_FOLLOWER (not leader, or not a replica).
  ErrorCode validate_fetch(std::int32_t replica_id, std::int32_t current_leader_epoch) const;
  // A follower fetched at fetch_offset (its log end): updates its state
  // and the high watermark. Returns whether the high watermark moved.
  bool on_follower_fetch(std::int32_t replica_id, std::int64_t fetch_offset, Instant now);
  // One partition of a follower's Fetch: validates, reads from
  // fetch_offset up to the log end (nothing if partition_max_bytes <= 0),
  // records the fetch. Never throws on bad
  // input; errors are in the reply.
  PartitionData serve_fetch(std::int32_t replica_id, const PartitionFetch& in, Instant now);
  // OffsetForLeaderEpoch: the largest epoch <= leader_epoch in this log and
  // where it ends (Kafka's LeaderEpochFileCache.endOffsetFor).
  EpochAnswer end_offset_for_epoch(const EpochQuery& q) const;
  // Wakes fibers waiting for new data (long-polling fetches) at an append
  // or a high watermark move; returns false at the deadline.
  bool wait_for_data(Runtime& rt, Instant deadline) { return data_arrived_.wait(rt, deadline); }
  // Another wait list to wake along with our own (a LeaderService serving
  // several partitions); null to stop.
  void set_data_listener(WaitList* listener) { data_listener_ = listener; }

  // ---- ISR maintenance (each a proposal for the controller)
  std::vector<std::int32_t> isr_to_shrink(Instant now) const;
  std::vector<std::int32_t> isr_to_expand(Instant now) const;

  // ---- state
  std::int32_t self_id() const { return self_id_; }
  std::int32_t leader_epoch() const { return state_.leader_epoch; }
  std::int32_t partition_epoch() const { return state_.partition_epoch; }
  const std::vector<std::int32_t>& replicas() const { return state_.replicas; }
  const std::vector<std::int32_t>& isr() const { return state_.isr; }
  std::vector<std::int32_t> maximal_isr() const;
  std::int64_t high_watermark() const { return log_.high_watermark(); }
  std::int64_t log_end_offset() const { return log_.log_end_offset(); }
  std::int64_t epoch_start_offset() const { return epoch_start_offset_; }
  const FollowerState* follower(std::int32_t id) const;
  storage::Log& log() { return log_; }

 private:
  LeaderPartition(storage::Log& log, std::int32_t self_id, PartitionState state,
                  LeaderConfig config, Bugs bugs, Instant now,
                  std::optional<std::vector<std::int32_t>> adopted);
  bool maybe_advance_high_watermark();
  bool isr_can_commit() const;
  std::int64_t high_watermark_candidate() const;
  bool follower_caught_up(const FollowerState& f, Instant now) const;
  void reset_followers(Instant now);
  AckState ack_state() const;
  // After anything that can decide waiters or feed long polls.
  void state_changed(Instant now);
  void notify_data();

  storage::Log& log_;
  std::int32_t self_id_;
  PartitionState state_;
  LeaderConfig config_;
  Bugs bugs_;
  bool leader_ = true;
  bool offline_ = false;
  std::int64_t epoch_start_offset_ = 0;
  std::optional<std::vector<std::int32_t>> proposed_isr_;
  bool resend_isr_change_ = false;
  std::map<std::int32_t, FollowerState> followers_;  // every replica but self
  AckWaiters waiters_;
  WaitList acks_changed_;
  WaitList data_arrived_;
  WaitList* data_listener_ = nullptr;
};

bool contains(const std::vector<std::int32_t>& ids, std::int32_t id);

}  // namespace castle::replication
