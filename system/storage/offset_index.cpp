#include "system/storage/offset_index.h"

#include <algorithm>

#include "system/storage/index_codec.h"

namespace castle::storage {

using detail::load_be;
using detail::store_be;

void OffsetIndex::append(OffsetEntry e) {
  CASTLE_ASSERT(!full(), "append to a full offset index");
  CASTLE_ASSERT(entries_.empty() || (e.relative_offset > entries_.back().relative_offset &&
                                     e.position > entries_.back().position),
                "offset index entries must grow");
  entries_.push_back(e);
}

OffsetEntry OffsetIndex::lookup(std::uint32_t relative_offset) const {
  auto it = std::upper_bound(
      entries_.begin(), entries_.end(), relative_offset,
      [](std::uint32_t r, const OffsetEntry& e) { return r < e.relative_offset; });
  if (it == entries_.begin()) return OffsetEntry{};
  return *std::prev(it);
}

void OffsetIndex::truncate_from(std::uint32_t relative_offset) {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), relative_offset,
      [](const OffsetEntry& e, std::uint32_t r) { return e.relative_offset < r; });
  entries_.erase(it, entries_.end());
  if (file_entries_ > entries_.size()) {
    file_entries_ = entries_.size();
    file_dirty_ = true;
  }
}

void OffsetIndex::truncate_from_position(std::uint64_t position) {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), position,
      [](const OffsetEntry& e, std::uint64_t p) { return e.position < p; });
  if (it != entries_.end()) truncate_from(it->relative_offset);
}

bool OffsetIndex::decode(std::span<const std::uint8_t> bytes) {
  entries_.clear();
  file_entries_ = 0;
  file_dirty_ = true;  // whatever is in the file now, rewrite it on persist
  if (bytes.size() % entry_bytes != 0 || bytes.size() / entry_bytes > entries_max_) return false;
  for (std::size_t at = 0; at < bytes.size(); at += entry_bytes) {
    OffsetEntry e{static_cast<std::uint32_t>(load_be(&bytes[at], 4)),
                  static_cast<std::uint32_t>(load_be(&bytes[at + 4], 4))};
    if (!entries_.empty() && (e.relative_offset <= entries_.back().relative_offset ||
                              e.position <= entries_.back().position)) {
      entries_.clear();
      return false;
    }
    entries_.push_back(e);
  }
  file_entries_ = entries_.size();
  file_dirty_ = false;
  return true;
}

Result<void> OffsetIndex::persist(File& file) {
  CASTLE_ASSERT(file_entries_ <= entries_.size(), "index file ahead of memory");
  std::vector<std::uint8_t> tail((entries_.size() - file_entries_) * entry_bytes);
  for (std::size_t i = file_entries_, at = 0; i < entries_.size(); ++i, at += entry_bytes) {
    store_be(&tail[at], entries_[i].relative_offset, 4);
    store_be(&tail[at + 4], entries_[i].position, 4);
  }
  return detail::sync_index_file(file, entry_bytes, entries_.size(), &file_entries_, &file_dirty_,
                                 tail);
}

}  // namespace castle::storage
