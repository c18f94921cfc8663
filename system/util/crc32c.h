#pragma once
// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. Uses the
// SSE4.2 crc32 instruction when the CPU has it, a table otherwise.

#include <cstddef>
#include <cstdint>
#include <span>

namespace castle {

// Continues a CRC: pass the previous result as `crc` (0 to start).
std::uint32_t crc32c_extend(std::uint32_t crc, const std::uint8_t* data, std::size_t size);
inline std::uint32_t crc32c(std::span<const std::uint8_t> data) {
  return crc32c_extend(0, data.data(), data.size());
}
// The portable path alone, for tests that compare both.
std::uint32_t crc32c_extend_portable(std::uint32_t crc, const std::uint8_t* data,
                                     std::size_t size);
bool crc32c_hardware_available();

}  // namespace castle
