#pragma once
// The sparse time index of one segment. An entry {T, r} is written beside
// an offset index entry and means: every batch up to and including the one
// at relative offset r has a max timestamp <= T. Entries grow strictly in
// T. On disk: {i64 timestamp, u32 relative offset}, big-endian (Kafka's
// layout). Like the offset index, entries live in memory and reach the file
// in bulk through persist().

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "system/runtime/disk.h"

namespace castle::storage {

struct TimeEntry {
  std::int64_t timestamp = 0;
  std::uint32_t relative_offset = 0;
};

class TimeIndex {
 public:
  static constexpr std::size_t entry_bytes = 12;

  const std::vector<TimeEntry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  // Appends {ts, r} if ts is larger than the last entry's; returns whether it did.
  bool maybe_append(TimeEntry e);
  // The last entry with a timestamp strictly below ts: every batch up to its
  // offset is older than ts, so a search for ts may start there.
  std::optional<TimeEntry> lookup_below(std::int64_t ts) const;
  void truncate_from(std::uint32_t relative_offset);
  void clear() { entries_.clear(); }

  bool decode(std::span<const std::uint8_t> bytes);
  Result<void> persist(File& file);
  void mark_file_empty() { file_entries_ = 0; file_dirty_ = true; }

 private:
  std::vector<TimeEntry> entries_;
  std::size_t file_entries_ = 0;
  bool file_dirty_ = false;
};

}  // namespace castle::storage
