#pragma once
// The sparse offset index of one segment: an entry every
// log.index.interval.bytes of log, mapping the relative base offset of a
// batch to its byte position in the segment. On disk each entry is
// {u32 relative offset, u32 position}, big-endian (Kafka's layout; note that
// Kafka indexes a batch's last offset, Castle its base offset, so a lookup
// lands exactly on a batch boundary).
//
// Entries live in memory; new ones are written to the file in bulk by
// persist(), so an append costs no index I/O. A file that does not decode
// (odd size, entries out of order) is rejected and the segment rebuilds it.

#include <cstdint>
#include <span>
#include <vector>

#include "system/runtime/disk.h"

namespace castle::storage {

struct OffsetEntry {
  std::uint32_t relative_offset = 0;
  std::uint32_t position = 0;
};

class OffsetIndex {
 public:
  static constexpr std::size_t entry_bytes = 8;

  explicit OffsetIndex(std::size_t entries_max) : entries_max_(entries_max) {
    CASTLE_ASSERT(entries_max > 0, "an offset index needs room for an entry");
  }

  bool full() const { return entries_.size() >= entries_max_; }
  std::size_t size() const { return entries_.size(); }
  const std::vector<OffsetEntry>& entries() const { return entries_; }
  // Entries must grow in both offset and position.
  void append(OffsetEntry e);
  // The last entry at or below relative_offset; {0, 0} (the segment start)
  // if there is none.
  OffsetEntry lookup(std::uint32_t relative_offset) const;
  // Drops every entry at or above relative_offset.
  void truncate_from(std::uint32_t relative_offset);
  // Drops every entry at or beyond position.
  void truncate_from_position(std::uint64_t position);
  void clear() { entries_.clear(); }

  // Replaces the entries with a file's contents; false if malformed (the
  // index is then empty and must be rebuilt).
  bool decode(std::span<const std::uint8_t> bytes);
  // Makes the file hold exactly the in-memory entries (cuts dropped ones,
  // writes new ones). Does not sync.
  Result<void> persist(File& file);
  // Forgets what the file holds, so that the next persist rewrites it whole.
  void mark_file_empty() { file_entries_ = 0; file_dirty_ = true; }

 private:
  std::size_t entries_max_;
  std::vector<OffsetEntry> entries_;
  std::size_t file_entries_ = 0;  // entries [0, file_entries_) are in the file
  bool file_dirty_ = false;       // the file holds entries no longer in memory
};

}  // namespace castle::storage
