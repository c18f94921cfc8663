#pragma once
// Kafka RecordBatch v2, as it travels on the wire and sits in a segment.
// A batch is a 61-byte header followed by its records (or their compressed
// form); all integers are big-endian:
//
//   offset  size  field
//        0     8  base offset              set by the broker (outside the CRC)
//        8     4  batch length             bytes after this field
//       12     4  partition leader epoch   set by the broker (outside the CRC)
//       16     1  magic                    2
//       17     4  crc                      CRC-32C of bytes 21 .. end
//       21     2  attributes               bits 0-2 compression, 3 timestamp type,
//                                          4 transactional, 5 control
//       23     4  last offset delta
//       27     8  base timestamp
//       35     8  max timestamp
//       43     8  producer id
//       51     2  producer epoch
//       53     4  base sequence
//       57     4  record count
//       61     .. records
//
// BatchView reads a header in place without copying; set_base_offset and
// set_leader_epoch rewrite the two fields the broker owns, which the CRC
// does not cover, so a batch stays valid through them.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "system/runtime/result.h"

namespace castle::storage {

inline constexpr std::size_t batch_header_bytes = 61;
inline constexpr std::size_t batch_length_prefix_bytes = 12;  // base offset + length
inline constexpr std::int8_t batch_magic_v2 = 2;
// A batch larger than this is framing garbage, not data.
inline constexpr std::int64_t batch_bytes_max = std::int64_t{1} << 30;

enum class BatchError {
  ok = 0,
  truncated,      // fewer bytes than the header or the stated length
  bad_length,     // a length field smaller than a header or absurdly large
  bad_magic,      // not magic 2
  bad_crc,        // the checksum does not match
  bad_count,      // record count and last offset delta disagree
};
const char* to_string(BatchError e);

class BatchView {
 public:
  // The view does not own the bytes; they must outlive it.
  explicit BatchView(std::span<const std::uint8_t> bytes) : b_(bytes) {}

  // Checks the framing (length, magic) and, if verify_crc, the checksum.
  // Every accessor below is valid only after validate() returned ok.
  // Inline: a read frames every batch it returns with it.
  BatchError validate(bool verify_crc = true) const {
    if (b_.size() < batch_header_bytes) return BatchError::truncated;
    const std::size_t size = size_from_prefix(b_);
    if (size == 0) return BatchError::bad_length;
    if (size > b_.size()) return BatchError::truncated;
    if (magic() != batch_magic_v2) return BatchError::bad_magic;
    if (verify_crc && compute_crc() != crc()) return BatchError::bad_crc;
    if (record_count() < 0 || last_offset_delta() < 0 ||
        (record_count() > 0 && last_offset_delta() < record_count() - 1))
      return BatchError::bad_count;
    return BatchError::ok;
  }
  // The whole batch's size from its length field, or 0 if too short to say
  // or if the length is out of range.
  static std::size_t size_from_prefix(std::span<const std::uint8_t> prefix) {
    if (prefix.size() < batch_length_prefix_bytes) return 0;
    const auto len = static_cast<std::int32_t>(load<std::uint32_t>(prefix.data() + 8));
    if (len < static_cast<std::int32_t>(batch_header_bytes - batch_length_prefix_bytes) ||
        len > batch_bytes_max)
      return 0;
    return batch_length_prefix_bytes + static_cast<std::size_t>(len);
  }

  std::int64_t base_offset() const { return i64(0); }
  std::int32_t batch_length() const { return i32(8); }
  std::size_t size_bytes() const { return batch_length_prefix_bytes + static_cast<std::size_t>(batch_length()); }
  std::int32_t leader_epoch() const { return i32(12); }
  std::int8_t magic() const { return static_cast<std::int8_t>(b_[16]); }
  std::uint32_t crc() const { return static_cast<std::uint32_t>(i32(17)); }
  std::int16_t attributes() const { return i16(21); }
  int compression() const { return attributes() & 0x7; }
  bool log_append_time() const { return (attributes() & 0x8) != 0; }
  bool transactional() const { return (attributes() & 0x10) != 0; }
  bool control() const { return (attributes() & 0x20) != 0; }
  std::int32_t last_offset_delta() const { return i32(23); }
  std::int64_t base_timestamp() const { return i64(27); }
  std::int64_t max_timestamp() const { return i64(35); }
  std::int64_t producer_id() const { return i64(43); }
  std::int16_t producer_epoch() const { return i16(51); }
  std::int32_t base_sequence() const { return i32(53); }
  std::int32_t record_count() const { return i32(57); }
  std::int64_t last_offset() const { return base_offset() + last_offset_delta(); }
  std::int64_t next_offset() const { return last_offset() + 1; }
  std::uint32_t compute_crc() const;
  std::span<const std::uint8_t> bytes() const { return b_.first(size_bytes()); }

 private:
  // Fixed-width big-endian loads, inline: reads and appends run them several
  // times per batch, and a byte loop there costs as much as the CRC of a
  // small batch.
  template <typename U>
  static U load(const std::uint8_t* p) {
    U v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little) {
      if constexpr (sizeof v == 8) v = __builtin_bswap64(v);
      if constexpr (sizeof v == 4) v = __builtin_bswap32(v);
      if constexpr (sizeof v == 2) v = __builtin_bswap16(v);
    }
    return v;
  }
  std::int64_t i64(std::size_t at) const {
    return static_cast<std::int64_t>(load<std::uint64_t>(b_.data() + at));
  }
  std::int32_t i32(std::size_t at) const {
    return static_cast<std::int32_t>(load<std::uint32_t>(b_.data() + at));
  }
  std::int16_t i16(std::size_t at) const {
    return static_cast<std::int16_t>(load<std::uint16_t>(b_.data() + at));
  }
  std::span<const std::uint8_t> b_;
};

// Rewrites the broker-owned fields of a batch in place.
void set_base_offset(std::span<std::uint8_t> batch, std::int64_t base_offset);
void set_leader_epoch(std::span<std::uint8_t> batch, std::int32_t epoch);

}  // namespace castle::storage
