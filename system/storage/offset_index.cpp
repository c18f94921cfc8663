#include "system/storage/offset_index.h"

#include <algorithm>

#include "system/util/endian.h"

namespace castle::storage {

void OffsetEntry::encode(std::uint8_t* out) const {
  store_be(out, relative_offset, 4);
  store_be(out + 4, position, 4);
}

OffsetEntry OffsetEntry::decode(const std::uint8_t* in) {
  return {static_cast<std::uint32_t>(load_be(in, 4)), static_cast<std::uint32_t>(load_be(in + 4, 4))};
}

OffsetEntry OffsetIndex::lookup(std::uint32_t relative_offset) const {
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), relative_offset,
      [](std::uint32_t r, const OffsetEntry& e) { return r < e.relative_offset; });
  if (it == entries_.begin()) return OffsetEntry{};
  return *std::prev(it);
}

void OffsetIndex::truncate_from_position(std::uint64_t position) {
  drop_from(std::lower_bound(
      entries_.cbegin(), entries_.cend(), position,
      [](const OffsetEntry& e, std::uint64_t p) { return e.position < p; }));
}

}  // namespace castle::storage
