#include "system/storage/time_index.h"

#include <algorithm>

#include "system/util/endian.h"

namespace castle::storage {

void TimeEntry::encode(std::uint8_t* out) const {
  store_be(out, static_cast<std::uint64_t>(timestamp), 8);
  store_be(out + 8, relative_offset, 4);
}

TimeEntry TimeEntry::decode(const std::uint8_t* in) {
  return {static_cast<std::int64_t>(load_be(in, 8)), static_cast<std::uint32_t>(load_be(in + 8, 4))};
}

bool TimeIndex::maybe_append(TimeEntry e) {
  if (!entries_.empty() && e.timestamp <= entries_.back().timestamp) return false;
  push(e);
  return true;
}

std::optional<TimeEntry> TimeIndex::lookup_below(std::int64_t ts) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), ts,
                             [](const TimeEntry& e, std::int64_t t) { return e.timestamp < t; });
  if (it == entries_.begin()) return std::nullopt;
  return *std::prev(it);
}

}  // namespace castle::storage
