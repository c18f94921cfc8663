#include "system/storage/batch_builder.h"

#include <algorithm>
#include <limits>

#include "system/storage/batch.h"
#include "system/util/crc32c.h"
#include "system/util/endian.h"

namespace castle::storage {

namespace {

// Widths of a zigzag varint for 32 and 64 bits: more bytes is malformed.
constexpr int varint_bytes_max = 5;
constexpr int varlong_bytes_max = 10;
// The smallest record: length, attributes, three one-byte varints, two
// null lengths, a zero header count. Bounds reservations on hostile counts.
constexpr std::size_t record_bytes_min = 7;

class RecordCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "castle.record"; }
  std::string message(int e) const override {
    switch (static_cast<RecordError>(e)) {
      case RecordError::ok: return "ok";
      case RecordError::bad_batch: return "batch header fails validation";
      case RecordError::compressed: return "compressed batch";
      case RecordError::bad_varint: return "malformed varint";
      case RecordError::truncated: return "record field runs past its end";
      case RecordError::bad_length: return "negative length";
      case RecordError::count_mismatch: return "record count disagrees with the header";
      case RecordError::trailing_bytes: return "bytes left over inside a record";
      case RecordError::bad_offset_delta: return "offset delta out of range";
    }
    return "?";
  }
};

void put_be(Bytes& out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_unsigned_varint(Bytes& out, std::uint64_t u) {
  while (u >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(u | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(u));
}

std::size_t unsigned_varint_bytes(std::uint64_t u) {
  std::size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++n;
  }
  return n;
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::size_t varlong_bytes(std::int64_t v) { return unsigned_varint_bytes(zigzag(v)); }

std::size_t nullable_bytes(const std::optional<Bytes>& b) {
  const auto len = b ? static_cast<std::int64_t>(b->size()) : -1;
  return varlong_bytes(len) + (b ? b->size() : 0);
}

void put_nullable(Bytes& out, const std::optional<Bytes>& b) {
  CASTLE_ASSERT(!b || b->size() <= std::numeric_limits<std::int32_t>::max(), "field too large");
  put_varint(out, b ? static_cast<std::int32_t>(b->size()) : -1);
  if (b) out.insert(out.end(), b->begin(), b->end());
}

// The record after its length prefix.
std::size_t record_body_bytes(const Record& r, std::int64_t timestamp_delta,
                              std::int32_t offset_delta) {
  std::size_t n = 1 + varlong_bytes(timestamp_delta) + varlong_bytes(offset_delta);
  n += nullable_bytes(r.key) + nullable_bytes(r.value);
  n += varlong_bytes(static_cast<std::int64_t>(r.headers.size()));
  for (const RecordHeader& h : r.headers) {
    n += varlong_bytes(static_cast<std::int64_t>(h.key.size())) + h.key.size();
    n += nullable_bytes(h.value);
  }
  return n;
}

void put_record(Bytes& out, const Record& r, std::int64_t timestamp_delta,
                std::int32_t offset_delta) {
  const std::size_t body = record_body_bytes(r, timestamp_delta, offset_delta);
  CASTLE_ASSERT(body <= std::numeric_limits<std::int32_t>::max(), "record too large");
  const std::size_t start = out.size();
  put_varint(out, static_cast<std::int32_t>(body));
  const std::size_t body_start = out.size();
  out.push_back(0);  // attributes
  put_varlong(out, timestamp_delta);
  put_varint(out, offset_delta);
  put_nullable(out, r.key);
  put_nullable(out, r.value);
  put_varint(out, static_cast<std::int32_t>(r.headers.size()));
  for (const RecordHeader& h : r.headers) {
    put_varint(out, static_cast<std::int32_t>(h.key.size()));
    out.insert(out.end(), h.key.begin(), h.key.end());
    put_nullable(out, h.value);
  }
  CASTLE_ASSERT(out.size() - body_start == body, "record size disagrees with its encoding");
  CASTLE_ASSERT(out.size() > start, "empty record");
}

void put_header(Bytes& out, std::span<const Record> records, const BatchOptions& o,
                std::int64_t max_timestamp) {
  std::int16_t attributes = 0;
  if (o.log_append_time) attributes |= 0x8;
  if (o.transactional) attributes |= 0x10;
  put_be(out, static_cast<std::uint64_t>(o.base_offset), 8);
  put_be(out, 0, 4);  // batch length, patched once the records are in
  put_be(out, static_cast<std::uint32_t>(o.leader_epoch), 4);
  out.push_back(static_cast<std::uint8_t>(batch_magic_v2));
  put_be(out, 0, 4);  // crc, patched last
  put_be(out, static_cast<std::uint16_t>(attributes), 2);
  put_be(out, static_cast<std::uint32_t>(records.size() - 1), 4);
  put_be(out, static_cast<std::uint64_t>(records.front().timestamp_ms), 8);
  put_be(out, static_cast<std::uint64_t>(max_timestamp), 8);
  put_be(out, static_cast<std::uint64_t>(o.producer_id), 8);
  put_be(out, static_cast<std::uint16_t>(o.producer_epoch), 2);
  put_be(out, static_cast<std::uint32_t>(o.base_sequence), 4);
  put_be(out, static_cast<std::uint32_t>(records.size()), 4);
  CASTLE_ASSERT(out.size() == batch_header_bytes, "header size");
}

// A cursor over one record's bytes that never reads past its end.
class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n) : p_(p), end_(p + n) {}
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  const std::uint8_t* pos() const { return p_; }
  void skip(std::size_t n) {
    CASTLE_ASSERT(n <= left(), "skip past the end");
    p_ += n;
  }

  RecordError varlong(std::int64_t* out, int width_max) {
    std::uint64_t u = 0;
    for (int i = 0; i < width_max; ++i) {
      if (p_ == end_) return RecordError::bad_varint;
      const std::uint8_t byte = *p_++;
      u |= static_cast<std::uint64_t>(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) {
        *out = static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
        return RecordError::ok;
      }
    }
    return RecordError::bad_varint;
  }
  RecordError varint(std::int32_t* out) {
    std::int64_t v = 0;
    if (auto e = varlong(&v, varint_bytes_max); e != RecordError::ok) return e;
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
      return RecordError::bad_varint;
    *out = static_cast<std::int32_t>(v);
    return RecordError::ok;
  }
  RecordError u8(std::uint8_t* out) {
    if (p_ == end_) return RecordError::truncated;
    *out = *p_++;
    return RecordError::ok;
  }
  // A length-prefixed field; -1 is null.
  RecordError nullable(std::optional<Bytes>* out) {
    std::int32_t len = 0;
    if (auto e = varint(&len); e != RecordError::ok) return e;
    if (len == -1) {
      out->reset();
      return RecordError::ok;
    }
    if (len < 0) return RecordError::bad_length;
    if (static_cast<std::size_t>(len) > left()) return RecordError::truncated;
    *out = Bytes(p_, p_ + len);
    p_ += len;
    return RecordError::ok;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

#define CASTLE_TRY_RECORD(expr)                          \
  do {                                                   \
    if (auto e_ = (expr); e_ != RecordError::ok) return e_; \
  } while (0)

RecordError read_headers(Reader& r, std::vector<RecordHeader>* headers) {
  std::int32_t count = 0;
  CASTLE_TRY_RECORD(r.varint(&count));
  if (count < 0) return RecordError::bad_length;
  // Each header takes at least two bytes; a larger count cannot fit.
  if (static_cast<std::size_t>(count) > r.left() / 2) return RecordError::truncated;
  headers->resize(static_cast<std::size_t>(count));
  for (RecordHeader& h : *headers) {
    std::optional<Bytes> key;
    CASTLE_TRY_RECORD(r.nullable(&key));
    if (!key) return RecordError::bad_length;  // header keys are never null
    h.key.assign(key->begin(), key->end());
    CASTLE_TRY_RECORD(r.nullable(&h.value));
  }
  return RecordError::ok;
}

// Decodes the record body (after its length prefix) that fills `r` exactly.
RecordError read_record_body(Reader& r, const BatchView& batch, DecodedRecord* out) {
  std::uint8_t attributes = 0;
  std::int64_t timestamp_delta = 0;
  std::int32_t offset_delta = 0;
  CASTLE_TRY_RECORD(r.u8(&attributes));
  CASTLE_TRY_RECORD(r.varlong(&timestamp_delta, varlong_bytes_max));
  CASTLE_TRY_RECORD(r.varint(&offset_delta));
  if (offset_delta < 0 || offset_delta > batch.last_offset_delta())
    return RecordError::bad_offset_delta;
  CASTLE_TRY_RECORD(r.nullable(&out->record.key));
  CASTLE_TRY_RECORD(r.nullable(&out->record.value));
  CASTLE_TRY_RECORD(read_headers(r, &out->record.headers));
  if (r.left() != 0) return RecordError::trailing_bytes;
  // Unsigned arithmetic: a hostile delta wraps instead of overflowing.
  out->record.timestamp_ms = static_cast<std::int64_t>(
      static_cast<std::uint64_t>(batch.base_timestamp()) + static_cast<std::uint64_t>(timestamp_delta));
  out->offset = batch.base_offset() + offset_delta;
  return RecordError::ok;
}

RecordError read_records(Reader& all, const BatchView& batch, std::vector<DecodedRecord>* out) {
  const auto count = static_cast<std::size_t>(batch.record_count());
  out->reserve(std::min(count, all.left() / record_bytes_min));
  for (std::size_t i = 0; i < count; ++i) {
    if (all.left() == 0) return RecordError::count_mismatch;
    std::int32_t len = 0;
    CASTLE_TRY_RECORD(all.varint(&len));
    if (len < 0) return RecordError::bad_length;
    if (static_cast<std::size_t>(len) > all.left()) return RecordError::truncated;
    Reader one(all.pos(), static_cast<std::size_t>(len));
    DecodedRecord rec;
    CASTLE_TRY_RECORD(read_record_body(one, batch, &rec));
    out->push_back(std::move(rec));
    all.skip(static_cast<std::size_t>(len));
  }
  if (all.left() != 0) return RecordError::count_mismatch;
  return RecordError::ok;
}

#undef CASTLE_TRY_RECORD

}  // namespace

const std::error_category& record_category() {
  static const RecordCategory category;
  return category;
}

std::error_code make_error_code(RecordError e) {
  return {static_cast<int>(e), record_category()};
}

void put_varint(Bytes& out, std::int32_t v) { put_unsigned_varint(out, zigzag(v)); }
void put_varlong(Bytes& out, std::int64_t v) { put_unsigned_varint(out, zigzag(v)); }

std::size_t encoded_record_bytes(const Record& r, std::int64_t timestamp_delta,
                                 std::int32_t offset_delta) {
  const std::size_t body = record_body_bytes(r, timestamp_delta, offset_delta);
  return varlong_bytes(static_cast<std::int64_t>(body)) + body;
}

Bytes build_batch(std::span<const Record> records, const BatchOptions& options) {
  CASTLE_ASSERT(!records.empty(), "a batch holds at least one record");
  CASTLE_ASSERT(records.size() <= std::numeric_limits<std::int32_t>::max(), "too many records");
  const std::int64_t base_ts = records.front().timestamp_ms;
  std::int64_t max_ts = base_ts;
  std::size_t size = batch_header_bytes;
  for (std::size_t i = 0; i < records.size(); ++i) {
    max_ts = std::max(max_ts, records[i].timestamp_ms);
    size += encoded_record_bytes(records[i], records[i].timestamp_ms - base_ts, static_cast<std::int32_t>(i));
  }
  Bytes out;
  out.reserve(size);
  put_header(out, records, options, max_ts);
  for (std::size_t i = 0; i < records.size(); ++i)
    put_record(out, records[i], records[i].timestamp_ms - base_ts, static_cast<std::int32_t>(i));
  CASTLE_ASSERT(out.size() == size, "batch size disagrees with its encoding");
  store_be(out.data() + 8, out.size() - batch_length_prefix_bytes, 4);
  store_be(out.data() + 17, crc32c_extend(0, out.data() + 21, out.size() - 21), 4);
  CASTLE_ASSERT(BatchView(out).validate() == BatchError::ok, "built batch must validate");
  return out;
}

Result<std::vector<DecodedRecord>> decode_batch(std::span<const std::uint8_t> batch) {
  const BatchView view(batch);
  if (view.validate() != BatchError::ok) return make_error_code(RecordError::bad_batch);
  return decode_validated_batch(view);
}

Result<std::vector<DecodedRecord>> decode_validated_batch(const BatchView& view) {
  CASTLE_ASSERT(view.validate(false) == BatchError::ok, "decode of a batch nobody validated");
  if (view.compression() != 0) return make_error_code(RecordError::compressed);
  Reader all(view.bytes().data() + batch_header_bytes, view.size_bytes() - batch_header_bytes);
  std::vector<DecodedRecord> records;
  if (auto e = read_records(all, view, &records); e != RecordError::ok) return make_error_code(e);
  return records;
}

Result<std::vector<std::span<const std::uint8_t>>> split_batches(
    std::span<const std::uint8_t> bytes) {
  std::vector<std::span<const std::uint8_t>> out;
  while (!bytes.empty()) {
    const BatchView view(bytes);
    if (view.validate() != BatchError::ok) return make_error_code(RecordError::bad_batch);
    out.push_back(bytes.first(view.size_bytes()));
    bytes = bytes.subspan(view.size_bytes());
  }
  return out;
}

}  // namespace castle::storage
