#include "system/storage/batch.h"

#include "system/util/crc32c.h"
#include "system/util/endian.h"

namespace castle::storage {

const char* to_string(BatchError e) {
  switch (e) {
    case BatchError::ok: return "ok";
    case BatchError::truncated: return "truncated batch";
    case BatchError::bad_length: return "bad batch length";
    case BatchError::bad_magic: return "unsupported magic (not a v2 record batch)";
    case BatchError::bad_crc: return "CRC-32C mismatch";
    case BatchError::bad_count: return "record count disagrees with last offset delta";
  }
  return "?";
}

std::uint32_t BatchView::compute_crc() const {
  const std::size_t size = size_bytes();
  return crc32c_extend(0, b_.data() + 21, size - 21);
}

void set_base_offset(std::span<std::uint8_t> batch, std::int64_t base_offset) {
  CASTLE_ASSERT(batch.size() >= batch_header_bytes, "set_base_offset on a short batch");
  store_be(batch.data(), static_cast<std::uint64_t>(base_offset), 8);
}

void set_leader_epoch(std::span<std::uint8_t> batch, std::int32_t epoch) {
  CASTLE_ASSERT(batch.size() >= batch_header_bytes, "set_leader_epoch on a short batch");
  store_be(batch.data() + 12, static_cast<std::uint32_t>(epoch), 4);
}

}  // namespace castle::storage
