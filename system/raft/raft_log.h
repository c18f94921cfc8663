#pragma once
// Raft's log on a storage::Log. One entry is one RecordBatch holding one
// record whose value is the entry's bytes; the batch's partition leader
// epoch is the entry's term, so the log's epoch cache is the term -> first
// index map and a term lookup never reads the disk. Index i lives at log
// offset i - 1; entries at or below `base_index()` were compacted into a
// snapshot (the log start offset is the base index).
//
// Nothing here syncs on its own: callers flush() before acknowledging.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "system/raft/codec.h"
#include "system/storage/log.h"

namespace castle::raft {

struct LogEntry {
  std::int64_t index = 0;
  std::int64_t term = 0;
  Bytes data;
};

class RaftLog {
 public:
  static Result<std::unique_ptr<RaftLog>> open(Runtime& rt, const std::string& dir);
  // After a failed write or sync: what lies past the last flush is cut
  // (storage::Log::open_cutting_unsynced).
  static Result<std::unique_ptr<RaftLog>> open_cutting_unsynced(Runtime& rt, const std::string& dir);
  // A log damaged below its recovery point: cut at the first entry that
  // fails its CRC (storage::Log::open_salvaging). Only with the repair
  // marker written first (Core::begin_repair).
  static Result<std::unique_ptr<RaftLog>> open_salvaging(Runtime& rt, const std::string& dir);

  // The index just before the first entry held (0, or a snapshot's index).
  std::int64_t base_index() const { return log_->log_start_offset(); }
  std::int64_t last_index() const { return log_->log_end_offset(); }
  // Entries up to this index are on durable storage.
  std::int64_t synced_index() const { return log_->recovery_point(); }
  // Whether the open cut anything from the log (storage::Log::cut_on_open).
  bool cut_on_open() const { return log_->cut_on_open(); }
  // The term of an entry held (base_index() < index <= last_index()); 0 for
  // index 0; nullopt otherwise (the caller knows the snapshot's term).
  std::optional<std::int64_t> term_at(std::int64_t index) const;
  std::int64_t last_term_or(std::int64_t base_term) const;
  // The first held index whose entry has `term` (for a follower's hint of
  // where the leader should back up to); nullopt if none.
  std::optional<std::int64_t> first_index_of_term(std::int64_t term) const;

  // Appends one entry at last_index() + 1 with the given term.
  Result<std::int64_t> append(std::span<const std::uint8_t> data, std::int64_t term);
  // Appends a leader's batches, which must start at last_index() + 1.
  Result<void> append_batches(std::span<const std::uint8_t> batches);
  // Removes every entry after `index`.
  Result<void> truncate_after(std::int64_t index);
  // Drops entries up to and including `index` (held in a snapshot now).
  Result<void> compact_through(std::int64_t index);
  // Empties the log; the next entry will be index + 1.
  Result<void> reset_to(std::int64_t index);
  Result<void> flush() { return log_->flush(); }

  // Raw batches from `from` (inclusive) to at most `to`, about max_bytes.
  Result<Bytes> read_batches(std::int64_t from, std::int64_t to, std::size_t max_bytes);
  // Decoded entries in [from, to], about max_bytes.
  Result<std::vector<LogEntry>> read_entries(std::int64_t from, std::int64_t to,
                                             std::size_t max_bytes);

 private:
  explicit RaftLog(std::unique_ptr<storage::Log> log) : log_(std::move(log)) {}
  template <class Opener>
  static Result<std::unique_ptr<RaftLog>> open_with(Runtime& rt, const std::string& dir, Opener open);
  std::unique_ptr<storage::Log> log_;
};

// Splits raw batches into entries (index, term, value). nullopt if any batch
// is malformed, fails its CRC, or does not hold exactly one record.
std::optional<std::vector<LogEntry>> decode_entries(std::span<const std::uint8_t> batches);

// FNV-1a of an entry's term and bytes: what raft.commit reports, so the
// invariants compare entries without shipping them.
std::uint64_t entry_hash(std::int64_t term, std::span<const std::uint8_t> data);

}  // namespace castle::raft
