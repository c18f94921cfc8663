#pragma once
// The shared file-sync step of the two indexes.

#include <cstdint>
#include <vector>

#include "system/runtime/disk.h"
#include "system/util/endian.h"

namespace castle::storage::detail {

using castle::load_be;
using castle::store_be;

// Makes an index file hold `count` entries: cuts it if it holds entries
// dropped from memory (dirty), then writes `tail`, the encoded entries
// [*file_entries, count), at their place.
inline Result<void> sync_index_file(File& file, std::size_t entry_bytes, std::size_t count,
                                    std::size_t* file_entries, bool* dirty,
                                    const std::vector<std::uint8_t>& tail) {
  if (*dirty) {
    if (auto r = file.truncate(*file_entries * entry_bytes); !r) return r;
    *dirty = false;
  }
  if (!tail.empty()) {
    if (auto r = file.pwrite(*file_entries * entry_bytes, tail); !r) return r;
  }
  *file_entries = count;
  return ok_result();
}

}  // namespace castle::storage::detail
