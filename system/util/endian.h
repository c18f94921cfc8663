#pragma once
// Big-endian integers in byte buffers: Kafka's wire format, its on-disk
// batches and indexes, and the proof service's frames all use them.

#include <cstdint>

namespace castle {

// Reads an n-byte (n <= 8) big-endian unsigned integer at p.
inline std::uint64_t load_be(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// Writes the low n bytes (n <= 8) of v at p, big-endian.
inline void store_be(std::uint8_t* p, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace castle
