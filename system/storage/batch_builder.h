#pragma once
// Building and decoding uncompressed Kafka RecordBatch v2 batches.
//
// A record inside a batch is encoded with zigzag varints exactly as the
// Kafka protocol has it:
//
//   length          varint    bytes of the record after this field
//   attributes      int8      unused, 0
//   timestampDelta  varlong   from the batch's base timestamp
//   offsetDelta     varint    from the batch's base offset
//   keyLength       varint    -1 for a null key
//   key             bytes
//   valueLength     varint    -1 for a null value
//   value           bytes
//   headers count   varint
//   headers         each: keyLength varint, key, valueLength varint (-1 null), value
//
// The builder fills the 61-byte header (see batch.h) with the base
// timestamp of the first record, the largest timestamp, the producer
// fields, and the CRC-32C. The decoder checks the header with BatchView and
// then every record's bounds; malformed input is an error value, never a
// read outside the buffer.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "system/runtime/result.h"
#include "system/storage/batch.h"

namespace castle::storage {

using Bytes = std::vector<std::uint8_t>;

struct RecordHeader {
  std::string key;
  std::optional<Bytes> value;
  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct Record {
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
  std::int64_t timestamp_ms = 0;
  friend bool operator==(const Record&, const Record&) = default;
};

struct BatchOptions {
  std::int64_t base_offset = 0;  // the broker overwrites it on append
  std::int32_t leader_epoch = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  bool log_append_time = false;  // attributes bit 3
  bool transactional = false;    // attributes bit 4
};

// Errors of record decoding, as std::error_code values (category
// record_category()).
enum class RecordError {
  ok = 0,
  bad_batch = 1,       // the header fails BatchView::validate (framing or CRC)
  compressed = 2,      // not uncompressed; this decoder does not inflate
  bad_varint = 3,      // a varint runs past its record or past its width
  truncated = 4,       // a field runs past its record or the batch
  bad_length = 5,      // a negative length other than -1 (null)
  count_mismatch = 6,  // fewer or more records than the header states
  trailing_bytes = 7,  // bytes left inside a record after its last field
  bad_offset_delta = 8,  // an offset delta outside the batch's range
};
const std::error_category& record_category();
std::error_code make_error_code(RecordError e);

// The encoded size of one record, length prefix included.
std::size_t encoded_record_bytes(const Record& r, std::int64_t timestamp_delta,
                                 std::int32_t offset_delta);

// Builds one batch holding `records` (at least one) in order.
Bytes build_batch(std::span<const Record> records, const BatchOptions& options = {});

struct DecodedRecord {
  std::int64_t offset = 0;  // base offset + offset delta
  Record record;            // timestamp_ms is absolute (base + delta)
};

// Decodes every record of one uncompressed batch (the whole span must be one
// batch's bytes or begin with one; bytes after it are ignored).
Result<std::vector<DecodedRecord>> decode_batch(std::span<const std::uint8_t> batch);
// The same for a batch the caller has validated (BatchView::validate(),
// CRC included): a consumer checks each fetched batch before it decodes it,
// and a second CRC pass over every record read was a sizeable share of
// reading.
Result<std::vector<DecodedRecord>> decode_validated_batch(const BatchView& view);

// Splits bytes holding whole batches back to back (a log read) into one span
// per batch, each validated with its CRC. A partial or corrupt batch is an
// error (bad_batch).
Result<std::vector<std::span<const std::uint8_t>>> split_batches(
    std::span<const std::uint8_t> bytes);

// Zigzag varints, exposed for tests.
void put_varint(Bytes& out, std::int32_t v);
void put_varlong(Bytes& out, std::int64_t v);

}  // namespace castle::storage

template <>
struct std::is_error_code_enum<castle::storage::RecordError> : std::true_type {};
