#pragma once
// The carry-less-multiply CRC-32C path (internal to crc32c.cpp and its tests).

#include <cstddef>
#include <cstdint>

namespace castle::detail {

// True when the CPU has AVX-512 with VPCLMULQDQ (and SSE4.2).
bool crc32c_fold_available();

// Consumes every whole 16-byte chunk of [p, p+n) (n must be >= 64),
// advancing p and n, and returns the raw CRC register (no inversions)
// that started as `raw`. Only when crc32c_fold_available().
std::uint32_t crc32c_fold(std::uint32_t raw, const std::uint8_t*& p, std::size_t& n);

}  // namespace castle::detail
