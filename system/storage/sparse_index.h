#pragma once
// What the two sparse indexes of a segment (offset_index.h, time_index.h)
// share: entries kept in memory in file order, each a fixed-size big-endian
// record on disk, new ones written to the file in bulk by persist(), so an
// append costs no index I/O. A file that does not decode (a partial record,
// entries out of order, too many) is rejected and the segment rebuilds it.
//
// An Entry type supplies its layout and order:
//   static constexpr std::size_t bytes;            // record size on disk
//   void encode(std::uint8_t* out) const;           // exactly `bytes` bytes
//   static Entry decode(const std::uint8_t* in);
//   static bool follows(const Entry& prev, const Entry& next);  // order rule
//   std::uint32_t relative_offset;                  // non-decreasing in file order

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "system/runtime/assert.h"
#include "system/runtime/disk.h"

namespace castle::storage {

template <typename Entry>
class SparseIndex {
 public:
  static constexpr std::size_t entry_bytes = Entry::bytes;

  explicit SparseIndex(std::size_t entries_max) : entries_max_(entries_max) {
    CASTLE_ASSERT(entries_max > 0, "an index needs room for an entry");
  }

  bool full() const { return entries_.size() >= entries_max_; }
  std::size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  void clear() { entries_.clear(); }

  // Drops every entry at or above relative_offset.
  void truncate_from(std::uint32_t relative_offset) {
    drop_from(std::lower_bound(
        entries_.begin(), entries_.end(), relative_offset,
        [](const Entry& e, std::uint32_t r) { return e.relative_offset < r; }));
  }

  // Replaces the entries with a file's contents; false if malformed (the
  // index is then empty and must be rebuilt).
  bool decode(std::span<const std::uint8_t> bytes) {
    entries_.clear();
    file_entries_ = 0;
    file_dirty_ = true;  // whatever is in the file now, rewrite it on persist
    if (bytes.size() % entry_bytes != 0 || bytes.size() / entry_bytes > entries_max_) return false;
    entries_.reserve(bytes.size() / entry_bytes);
    for (std::size_t at = 0; at < bytes.size(); at += entry_bytes) {
      const Entry e = Entry::decode(&bytes[at]);
      if (!entries_.empty() && !Entry::follows(entries_.back(), e)) {
        entries_.clear();
        return false;
      }
      entries_.push_back(e);
    }
    file_entries_ = entries_.size();
    file_dirty_ = false;
    return true;
  }

  // Makes the file hold exactly the in-memory entries: cuts it if it holds
  // entries since dropped, then writes the new ones at their place. Does
  // not sync.
  Result<void> persist(File& file) {
    CASTLE_ASSERT(file_entries_ <= entries_.size(), "index file ahead of memory");
    if (file_dirty_) {
      if (auto r = file.truncate(file_entries_ * entry_bytes); !r) return r;
      file_dirty_ = false;
    }
    if (file_entries_ == entries_.size()) return ok_result();
    std::vector<std::uint8_t> tail((entries_.size() - file_entries_) * entry_bytes);
    for (std::size_t i = file_entries_, at = 0; i < entries_.size(); ++i, at += entry_bytes)
      entries_[i].encode(&tail[at]);
    if (auto r = file.pwrite(file_entries_ * entry_bytes, tail); !r) return r;
    file_entries_ = entries_.size();
    return ok_result();
  }

  // Forgets what the file holds, so that the next persist rewrites it whole.
  void mark_file_empty() {
    file_entries_ = 0;
    file_dirty_ = true;
  }

 protected:
  void push(const Entry& e) {
    CASTLE_ASSERT(!full(), "append to a full index");
    CASTLE_ASSERT(entries_.empty() || Entry::follows(entries_.back(), e),
                  "index entries must follow the index's order");
    entries_.push_back(e);
  }

  // Drops the entries from `from` on; the file then holds too many.
  void drop_from(typename std::vector<Entry>::const_iterator from) {
    entries_.erase(from, entries_.cend());
    if (file_entries_ > entries_.size()) {
      file_entries_ = entries_.size();
      file_dirty_ = true;
    }
  }

  std::vector<Entry> entries_;

 private:
  std::size_t entries_max_;
  std::size_t file_entries_ = 0;  // entries [0, file_entries_) are in the file
  bool file_dirty_ = false;       // the file holds entries no longer in memory
};

}  // namespace castle::storage
