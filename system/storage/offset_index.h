#pragma once
// The sparse offset index of one segment: an entry every
// log.index.interval.bytes of log, mapping the relative base offset of a
// batch to its byte position in the segment. On disk each entry is
// {u32 relative offset, u32 position}, big-endian (Kafka's layout; note that
// Kafka indexes a batch's last offset, Castle its base offset, so a lookup
// lands exactly on a batch boundary). Storage and file handling are
// SparseIndex's (sparse_index.h).

#include <cstdint>

#include "system/storage/sparse_index.h"

namespace castle::storage {

struct OffsetEntry {
  std::uint32_t relative_offset = 0;
  std::uint32_t position = 0;

  static constexpr std::size_t bytes = 8;
  void encode(std::uint8_t* out) const;
  static OffsetEntry decode(const std::uint8_t* in);
  // Entries grow in both offset and position.
  static bool follows(const OffsetEntry& prev, const OffsetEntry& next) {
    return next.relative_offset > prev.relative_offset && next.position > prev.position;
  }
};

class OffsetIndex : public SparseIndex<OffsetEntry> {
 public:
  explicit OffsetIndex(std::size_t entries_max) : SparseIndex(entries_max) {}

  void append(OffsetEntry e) { push(e); }
  // The last entry at or below relative_offset; {0, 0} (the segment start)
  // if there is none.
  OffsetEntry lookup(std::uint32_t relative_offset) const;
  // Drops every entry at or beyond position.
  void truncate_from_position(std::uint64_t position);
};

}  // namespace castle::storage
