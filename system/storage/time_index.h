#pragma once
// The sparse time index of one segment. An entry {T, r} is written beside
// an offset index entry and means: every batch up to and including the one
// at relative offset r has a max timestamp <= T. Entries grow strictly in
// T. On disk: {i64 timestamp, u32 relative offset}, big-endian (Kafka's
// layout). Storage and file handling are SparseIndex's (sparse_index.h).

#include <cstdint>
#include <optional>

#include "system/storage/sparse_index.h"

namespace castle::storage {

struct TimeEntry {
  std::int64_t timestamp = 0;
  std::uint32_t relative_offset = 0;

  static constexpr std::size_t bytes = 12;
  void encode(std::uint8_t* out) const;
  static TimeEntry decode(const std::uint8_t* in);
  // Timestamps grow strictly; offsets never go back.
  static bool follows(const TimeEntry& prev, const TimeEntry& next) {
    return next.timestamp > prev.timestamp && next.relative_offset >= prev.relative_offset;
  }
};

class TimeIndex : public SparseIndex<TimeEntry> {
 public:
  // Entries are made only beside offset index entries, which bound their number.
  TimeIndex() : SparseIndex(SIZE_MAX) {}

  // Appends {ts, r} if ts is larger than the last entry's; returns whether it did.
  bool maybe_append(TimeEntry e);
  // The last entry with a timestamp strictly below ts: every batch up to its
  // offset is older than ts, so a search for ts may start there.
  std::optional<TimeEntry> lookup_below(std::int64_t ts) const;
};

}  // namespace castle::storage
