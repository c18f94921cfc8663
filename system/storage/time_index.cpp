#include "system/storage/time_index.h"

#include <algorithm>

#include "system/storage/index_codec.h"

namespace castle::storage {

using detail::load_be;
using detail::store_be;

bool TimeIndex::maybe_append(TimeEntry e) {
  if (!entries_.empty() && e.timestamp <= entries_.back().timestamp) return false;
  CASTLE_ASSERT(entries_.empty() || e.relative_offset >= entries_.back().relative_offset,
                "time index offsets must not go back");
  entries_.push_back(e);
  return true;
}

std::optional<TimeEntry> TimeIndex::lookup_below(std::int64_t ts) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), ts,
                             [](const TimeEntry& e, std::int64_t t) { return e.timestamp < t; });
  if (it == entries_.begin()) return std::nullopt;
  return *std::prev(it);
}

void TimeIndex::truncate_from(std::uint32_t relative_offset) {
  auto it = std::lower_bound(
      entries_.begin(), entries_.end(), relative_offset,
      [](const TimeEntry& e, std::uint32_t r) { return e.relative_offset < r; });
  entries_.erase(it, entries_.end());
  if (file_entries_ > entries_.size()) {
    file_entries_ = entries_.size();
    file_dirty_ = true;
  }
}

bool TimeIndex::decode(std::span<const std::uint8_t> bytes) {
  entries_.clear();
  file_entries_ = 0;
  file_dirty_ = true;
  if (bytes.size() % entry_bytes != 0) return false;
  for (std::size_t at = 0; at < bytes.size(); at += entry_bytes) {
    TimeEntry e{static_cast<std::int64_t>(load_be(&bytes[at], 8)),
                static_cast<std::uint32_t>(load_be(&bytes[at + 8], 4))};
    if (!entries_.empty() && (e.timestamp <= entries_.back().timestamp ||
                              e.relative_offset < entries_.back().relative_offset)) {
      entries_.clear();
      return false;
    }
    entries_.push_back(e);
  }
  file_entries_ = entries_.size();
  file_dirty_ = false;
  return true;
}

Result<void> TimeIndex::persist(File& file) {
  CASTLE_ASSERT(file_entries_ <= entries_.size(), "index file ahead of memory");
  std::vector<std::uint8_t> tail((entries_.size() - file_entries_) * entry_bytes);
  for (std::size_t i = file_entries_, at = 0; i < entries_.size(); ++i, at += entry_bytes) {
    store_be(&tail[at], static_cast<std::uint64_t>(entries_[i].timestamp), 8);
    store_be(&tail[at + 8], entries_[i].relative_offset, 4);
  }
  return detail::sync_index_file(file, entry_bytes, entries_.size(), &file_entries_, &file_dirty_,
                                 tail);
}

}  // namespace castle::storage
