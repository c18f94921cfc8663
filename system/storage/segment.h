#pragma once
// One segment of a partition log: the .log file (batches back to back, each
// exactly as received but for the broker-owned base offset and leader
// epoch), its sparse offset index (.index) and time index (.timeindex).
//
// Invariants: batches in a segment have contiguous offsets starting at the
// segment's base offset (its file name); size_bytes() is the end of the last
// whole batch; index entries point at batch starts below size_bytes().
// Index entries are kept in memory and written to their files by sync()
// (or by persist_indexes()); an append costs exactly one write.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "system/runtime/disk.h"
#include "system/runtime/time.h"
#include "system/storage/batch.h"
#include "system/storage/offset_index.h"
#include "system/storage/time_index.h"

namespace castle::storage {

// Where a batch sits and what the log needs of its header.
struct BatchInfo {
  std::int64_t base_offset = 0;
  std::int64_t next_offset = 0;
  std::int64_t max_timestamp = -1;
  std::uint64_t position = 0;  // in the segment (or in an append buffer)
  std::uint32_t size_bytes = 0;
};

struct SegmentOptions {
  std::int64_t index_interval_bytes = 4096;
  std::size_t index_entries_max = 1 << 20;
};

// How a scan of batch headers ended.
enum class ScanStop { end_of_file, bad_batch, discontiguous, stopped_by_caller };

struct ScanOutcome {
  std::uint64_t end_position = 0;  // after the last good batch
  std::int64_t next_offset = 0;    // after the last good batch
  ScanStop stop = ScanStop::end_of_file;
  BatchError error = BatchError::ok;  // for bad_batch
};

// The error a segment reports for data that must be intact and is not.
inline constexpr std::errc segment_corrupt = std::errc::illegal_byte_sequence;

class Segment {
 public:
  static std::string file_name(std::int64_t base_offset, const char* suffix);
  // Creates (or empties) the three files of a new segment.
  static Result<std::unique_ptr<Segment>> create(Disk& disk, const std::string& dir,
                                                 std::int64_t base_offset, SegmentOptions options);
  // Opens the files of an existing segment without reading its contents;
  // call recover() or load_clean() next.
  static Result<std::unique_ptr<Segment>> open(Disk& disk, const std::string& dir,
                                               std::int64_t base_offset, SegmentOptions options);
  ~Segment();

  // Recovery of a segment at or after the recovery point: validates every
  // batch (framing, CRC, contiguous offsets) and rebuilds both indexes from
  // the scan. The outcome says where valid data ends; nothing is cut yet.
  Result<ScanOutcome> recover();
  // Cuts the file after the last valid batch found by recover() and syncs it.
  Result<void> cut_tail(const ScanOutcome& outcome);
  // Writes the whole file again as it reads now and marks it dirty: after a
  // failed sync the disk may have given up writes that reads still return,
  // and only a new write makes the next sync carry them.
  Result<void> rewrite();
  // Opening of a segment wholly below the recovery point, which must end at
  // end_offset: loads the index files, checks them against the segment and
  // rebuilds them from a header scan if missing or inconsistent. Returns
  // whether it rebuilt. A segment whose framing is broken is segment_corrupt.
  Result<bool> load_clean(std::int64_t end_offset);

  // Appends batches whose offsets are assigned; infos give each batch's
  // position within `bytes`. One write; on failure nothing changes.
  Result<void> append(std::span<const std::uint8_t> bytes, std::span<const BatchInfo> infos);
  // The first batch with next_offset > offset (the one holding it), or
  // nullopt if the segment ends at or before offset.
  Result<std::optional<BatchInfo>> locate(std::int64_t offset);
  // Whole batches from the one holding offset: at most max_bytes but at
  // least one, none reaching max_offset. Every batch returned passed its CRC
  // (checked on every read: the disk may have rotted since the append).
  // Usually one pread (see read_from).
  // `buf` is memory to read into (reused, not zero-filled when large enough).
  Result<std::vector<std::uint8_t>> read(std::vector<std::uint8_t> buf, std::int64_t offset,
                                         std::size_t max_bytes,
                                         std::optional<std::int64_t> max_offset,
                                         std::int64_t* next_offset);
  // Base offset of the first batch with max timestamp >= ts, if any.
  Result<std::optional<std::int64_t>> find_timestamp(std::int64_t ts);
  // Removes the batch holding offset and everything after; syncs the file.
  Result<void> truncate_to(std::int64_t offset);
  // Writes pending index entries and syncs all three files.
  Result<void> sync();
  Result<void> persist_indexes();
  // Closes and removes the three files (the caller syncs the directory).
  Result<void> remove_files();

  std::int64_t base_offset() const { return base_offset_; }
  std::int64_t next_offset() const { return next_offset_; }
  std::uint64_t size_bytes() const { return size_bytes_; }
  bool empty() const { return size_bytes_ == 0; }
  // -1 when empty or when no batch carries a timestamp.
  std::int64_t max_timestamp() const { return max_timestamp_; }
  bool index_full() const { return index_.full(); }
  bool dirty() const { return log_dirty_ || indexes_dirty_; }
  // A sync of the segment's data failed: the disk may have given up writes
  // that reads still return (see Log::sync_failed).
  bool sync_failed() const { return sync_failed_; }
  const OffsetIndex& offset_index() const { return index_; }
  const TimeIndex& time_index() const { return time_index_; }
  // Wall time of the first append in this process (roll by age).
  std::optional<WallTime> first_append_wall;

 private:
  // A batch's base offset and its position in the segment.
  struct BatchStart {
    std::int64_t offset = 0;
    std::uint64_t position = 0;
  };

  Segment(Disk& disk, std::string dir, std::int64_t base_offset, SegmentOptions options);
  Result<void> open_files(OpenMode mode);
  std::string path(const char* suffix) const;
  std::uint32_t relative(std::int64_t offset) const;
  void reset_indexes();
  void index_batch(const BatchInfo& b);
  Result<ScanOutcome> scan(std::uint64_t from, std::int64_t from_offset, bool verify_crc,
                           std::size_t chunk_bytes,
                           const std::function<bool(const BatchInfo&)>& on_batch);
  Result<bool> indexes_match(std::int64_t end_offset);
  Result<void> rebuild_indexes(std::int64_t end_offset);
  Result<bool> recompute_tail();
  BatchStart nearest_start(std::int64_t offset) const;
  void note_read_end(BatchStart end);
  void forget_read_ends();
  Result<void> pread_into(std::vector<std::uint8_t>& buf, std::uint64_t pos, std::size_t n);
  Result<BatchStart> read_from(BatchStart from, std::int64_t offset, std::size_t max_bytes,
                               std::vector<std::uint8_t>& buf);
  static Result<std::size_t> valid_prefix(std::span<const std::uint8_t> buf,
                                          std::int64_t first_offset, std::size_t max_bytes,
                                          std::optional<std::int64_t> max_offset,
                                          std::int64_t* next_offset);

  Disk& disk_;
  std::string dir_;
  std::int64_t base_offset_;
  SegmentOptions options_;
  std::unique_ptr<File> log_;
  std::unique_ptr<File> index_file_;
  std::unique_ptr<File> time_file_;
  std::uint64_t size_bytes_ = 0;
  std::int64_t next_offset_;
  std::int64_t max_timestamp_ = -1;
  std::uint64_t bytes_since_index_ = 0;
  OffsetIndex index_;
  TimeIndex time_index_;
  bool log_dirty_ = false;      // data written since the last sync
  bool sync_failed_ = false;
  bool indexes_dirty_ = false;  // index entries changed since the last sync
  // Where the last few reads ended: batch starts that the next reads of
  // consumers reading on begin at, found without the index or a scan.
  // Forgotten whenever positions change (truncation, recovery).
  std::array<BatchStart, 4> read_ends_;
  std::size_t next_read_end_ = 0;
};

}  // namespace castle::storage
