#pragma once
// The partition log: a directory of segments holding RecordBatch v2 bytes
// exactly as on the wire, with a sparse offset index and a time index per
// segment, checkpoints written atomically, and recovery on open.
//
// Files in the partition directory (Kafka's names and layouts):
//   00000000000000000000.log        segment: batches back to back
//   00000000000000000000.index      offset index: {u32 relative offset, u32 position}
//   00000000000000000000.timeindex  time index: {i64 timestamp, u32 relative offset}
//   recovery-point-offset-checkpoint, replication-offset-checkpoint (high
//   watermark), log-start-offset-checkpoint, leader-epoch-checkpoint:
//   Kafka's text format ("0\n<count>\n<entries>\n"), written with
//   write-temp, sync, rename, sync-directory.
//
// Durability: nothing is synced per append unless the flush policy says so
// (Kafka's default); flush() syncs everything up to the log end and moves
// the recovery point. On open, every batch after the recovery point is
// validated (CRC, offsets) and a torn or corrupt tail is cut at the last
// valid batch; indexes that are missing or disagree with the segment are
// rebuilt. A batch before the recovery point that fails validation is an
// error (data_corrupt), never silently dropped. A read never returns a
// batch that fails its CRC.
//
// All I/O goes through the runtime's Disk; the Log is used from fibers of
// one node and is not shared across nodes.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "system/runtime/runtime.h"
#include "system/storage/log_config.h"

namespace castle::storage {

struct AppendResult {
  std::int64_t base_offset = 0;   // first offset assigned to the appended batches
  std::int64_t last_offset = 0;   // last offset assigned
  std::int64_t log_append_time_ms = -1;
  std::int32_t batches = 0;
};

struct ReadResult {
  std::vector<std::uint8_t> bytes;  // whole batches, back to back
  std::int64_t next_offset = 0;     // offset after the last batch returned
  std::int64_t log_start_offset = 0;
  std::int64_t log_end_offset = 0;
};

struct EpochEntry {
  std::int32_t epoch = 0;
  std::int64_t start_offset = 0;
};

// One segment as the log tracks it (for tests, tools and metrics).
struct SegmentInfo {
  std::int64_t base_offset = 0;
  std::int64_t next_offset = 0;    // after its last batch
  std::int64_t size_bytes = 0;
  std::int64_t max_timestamp = -1;  // -1: empty, or no batch carries a timestamp
};

// Told of every change to what the log holds, as it happens: the broker
// traces them for the replication invariants (docs/cluster.md). Called
// under the log's lock, from the fiber making the change; must not call
// back into the log.
class LogObserver {
 public:
  virtual ~LogObserver() = default;
  // One appended batch: offsets [base, last], its CRC field.
  virtual void on_append(std::int64_t base, std::int64_t last, std::uint32_t crc) = 0;
  // Every batch from offset on is gone (offset 0 after a full truncation).
  virtual void on_truncate(std::int64_t offset) = 0;
  virtual void on_high_watermark(std::int64_t hw) = 0;
  // A sync made everything below end durable (the new recovery point).
  virtual void on_durable(std::int64_t /*end*/) {}
};

class Log {
 public:
  // Opens (creating if needed) the log in directory `dir` and recovers it.
  static Result<std::unique_ptr<Log>> open(Runtime& rt, std::string dir, LogConfig config);
  // Opens the log trusting none of it: every batch is validated, as if
  // nothing had been synced, and read back, and the log is cut at the
  // first that fails (its CRC, or a leader epoch, which the CRC does not
  // cover, that the epoch cache contradicts); everything after it goes. For a replica whose log a read found
  // damaged, once nobody counts on what it held: it keeps the intact
  // prefix and fetches the rest again.
  static Result<std::unique_ptr<Log>> open_salvaging(Runtime& rt, std::string dir, LogConfig config);
  // Opens the log after a write or sync of this process failed on it: what
  // lies past the recovery point is cut (and the cut synced) instead of
  // recovered, since a failed sync may have given up writes that reads
  // still return (Linux since 4.13) and no later sync would write them
  // (see flush()). Every checkpoint is written again (as after salvaging):
  // one whose rename a failed directory sync left undurable reads as new
  // though a crash may bring back the old.
  static Result<std::unique_ptr<Log>> open_cutting_unsynced(Runtime& rt, std::string dir,
                                                            LogConfig config);
  // Opens the log after an operation of this process failed on its disk in
  // a way that may have been a sync whose writes the disk gave up (an
  // earlier open, a checkpoint): recovers as open() does, then writes
  // every segment past the recovery point and every checkpoint again, so
  // that the sync ending recovery makes what reads show durable instead of
  // moving the recovery point past writes no later sync would carry.
  // (Cutting there instead loses the whole unflushed tail of a log that,
  // under Kafka's default flush policy, is rarely synced.)
  static Result<std::unique_ptr<Log>> open_rewriting_unsynced(Runtime& rt, std::string dir,
                                                              LogConfig config);
  // What the checkpoints of the log in `dir` say its last flush covered:
  // the last epoch of its epoch cache (0 for none) and its recovery point.
  // Read before a salvage, which may cut below them; nullopt when a
  // checkpoint is damaged (or an epoch cache is missing from a log that
  // flushed records).
  struct FlushedSummary {
    std::int32_t last_epoch = 0;
    std::int64_t recovery_point = 0;
  };
  static Result<std::optional<FlushedSummary>> flushed_summary(Runtime& rt, const std::string& dir);
  // Whether the open that made this Log cut anything (a torn or damaged
  // tail, batches a salvage could not read back, segments after a gap).
  bool cut_on_open() const;
  ~Log();

  // Leader path: `batches` holds one or more client batches (validated here:
  // framing and CRC). The log assigns base offsets from the log end and sets
  // the partition leader epoch, then appends. invalid_argument for a
  // malformed batch (nothing appended); disk errors as they come.
  Result<AppendResult> append_as_leader(std::span<const std::uint8_t> batches,
                                        std::int32_t leader_epoch);
  // The same, rewriting the broker-owned fields in the caller's buffer
  // instead of a copy (as Kafka does with the request buffer): the broker's
  // produce path, where the bytes are its own. On an error the buffer may
  // already carry assigned offsets; nothing was appended.
  Result<AppendResult> append_as_leader_in_place(std::span<std::uint8_t> batches,
                                                 std::int32_t leader_epoch);
  // Follower path: offsets and epochs already assigned; the first batch must
  // start at the log end offset.
  Result<AppendResult> append_as_follower(std::span<const std::uint8_t> batches);

  // Whole batches starting with the one containing `offset`, up to
  // max_bytes (but at least one batch, as Kafka does, so a consumer always
  // progresses), and none at or beyond max_offset if given (the high
  // watermark). offset_out_of_range semantics: an offset below the log
  // start or above the log end is std::errc::result_out_of_range.
  // `reuse` is memory to read into: a reader that hands back its previous
  // result's bytes saves an allocation and a zero fill per read.
  Result<ReadResult> read(std::int64_t offset, std::size_t max_bytes,
                          std::optional<std::int64_t> max_offset = std::nullopt,
                          std::vector<std::uint8_t> reuse = {});

  // The first offset whose batch has max timestamp >= ts (ListOffsets by
  // time); nullopt if none.
  Result<std::optional<std::int64_t>> offset_for_timestamp(std::int64_t ts);

  // Removes every batch from offset on (replication's truncation), and every
  // leader epoch starting there or later, even one with no records yet.
  // Offsets inside a batch truncate the whole batch.
  Result<void> truncate_to(std::int64_t offset);
  // Takes back an append that failed (it may have left its batches: the
  // write went through, the flush the policy asked for did not), leaving
  // the log ending at end_before. Fails when the log cannot be trusted
  // that far: a sync failed (nothing can be promised durable until the log
  // is reopened without its unsynced tail), or the cut itself failed.
  Result<void> undo_append(std::int64_t end_before);
  // Empties the log and restarts it at offset, forgetting every epoch (a
  // follower whose log ends below the leader's log start, or that installs
  // a snapshot past its log; Kafka's truncateFullyAndStartAt). The offset
  // may lie beyond the log end.
  Result<void> truncate_fully_and_start_at(std::int64_t offset);
  // Advances the log start offset; deletes whole segments wholly below it.
  Result<void> delete_records_before(std::int64_t offset);
  // Rolls to a new active segment now.
  Result<void> roll();
  // Syncs every segment up to the log end; the recovery point becomes the log end.
  // Once a segment's sync has failed, every later flush fails too (io_error)
  // until the log is reopened with open_cutting_unsynced(): the disk may
  // have given up the unsynced writes while reads still return them, and a
  // sync that then succeeds would promise them durable without writing them.
  Result<void> flush();
  // Deletes whole segments past log.retention.ms / log.retention.bytes,
  // oldest first, never the active one, and (as Kafka) only segments wholly
  // below the high watermark: retention never deletes uncommitted records.
  // Returns how many segments went.
  Result<int> enforce_retention();

  // Checkpointed state.
  std::int64_t log_start_offset() const;
  std::int64_t log_end_offset() const;
  std::int64_t recovery_point() const;
  // Whether a segment's sync failed (every flush fails from then on).
  bool sync_failed() const;
  // Where this replica's log may count toward a high watermark: its end,
  // or, when the flush policy syncs every message, its durable end (the
  // recovery point as checkpointed). A tail not yet synced and
  // checkpointed is what a failed sync cuts (open_cutting_unsynced) or a
  // failed append undoes, and with every write synced a committed record
  // must not be lost to either.
  std::int64_t committable_end() const;
  std::int64_t high_watermark() const;
  Result<void> set_high_watermark(std::int64_t hw);  // checkpointed on flush()
  // Leader epoch cache: epoch -> start offset. A new leader's epoch starts
  // at the log end (or past it); an earlier start is invalid_argument.
  Result<void> assign_epoch(std::int32_t epoch, std::int64_t start_offset);
  const std::vector<EpochEntry>& epochs() const;
  // (epoch, end offset) for OffsetForLeaderEpoch: the largest epoch <= the
  // requested one and the start offset of the next epoch (or the log end).
  std::optional<std::pair<std::int32_t, std::int64_t>> end_offset_for_epoch(std::int32_t epoch) const;

  // Null to stop. The observer must outlive the log or be unset first.
  void set_observer(LogObserver* observer);

  std::size_t segment_count() const;
  std::vector<SegmentInfo> segment_infos() const;
  std::int64_t size_bytes() const;

  struct Impl;

 private:
  explicit Log(std::unique_ptr<Impl> impl);
  enum class OpenMode { recover, salvage, cut_unsynced, rewrite_unsynced };
  static Result<std::unique_ptr<Log>> open_with(Runtime& rt, std::string dir, LogConfig config,
                                                OpenMode mode);
  std::unique_ptr<Impl> impl_;
};

}  // namespace castle::storage
