#pragma once
// Big-endian helpers and the shared file-sync step of the two indexes.

#include <cstdint>
#include <vector>

#include "system/runtime/disk.h"

namespace castle::storage::detail {

inline std::uint64_t load_be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

inline void store_be(std::uint8_t* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

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
