// The RecordBatch v2 builder and record decoder: batches round-trip, the
// bytes match a layout worked out by hand from the Kafka protocol, BatchView
// accepts what the builder makes, and malformed input (truncated, garbage,
// tampered records with a fixed-up CRC) is an error value, never a crash
// (the sanitizer build runs these too).
#include <gtest/gtest.h>

#include <boost/crc.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "system/runtime/random.h"
#include "system/storage/batch.h"
#include "system/storage/batch_builder.h"

namespace castle::storage {
namespace {

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// An independent CRC-32C (Castagnoli, reflected), so the layout test does
// not check the builder against its own checksum code.
std::uint32_t reference_crc32c(const std::uint8_t* p, std::size_t n) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(p, n);
  return crc.checksum();
}

// Rewrites the CRC so that a tampered batch passes the header check and the
// record decoder itself must catch the damage.
void fix_crc(Bytes& b) {
  const std::uint32_t c = reference_crc32c(b.data() + 21, b.size() - 21);
  for (int i = 0; i < 4; ++i) b[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c >> (24 - 8 * i));
}

Record make_record(Rng& rng, std::int64_t ts) {
  Record r;
  r.timestamp_ms = ts;
  auto blob = [&](std::size_t max) {
    Bytes b(rng.below(max + 1));
    for (auto& x : b) x = static_cast<std::uint8_t>(rng.below(256));
    return b;
  };
  if (rng.below(4) != 0) r.key = blob(20);
  if (rng.below(5) != 0) r.value = blob(300);
  for (std::uint64_t h = rng.below(3); h > 0; --h) {
    const Bytes k = blob(8);
    r.headers.push_back({std::string(k.begin(), k.end()),
                         rng.below(3) == 0 ? std::nullopt : std::optional<Bytes>(blob(16))});
  }
  return r;
}

// Proves the zigzag varint encoding on values whose bytes are known from the
// protocol: small positives and negatives, a two-byte value, and the widest.
TEST(BatchBuilder, VarintsAreZigzag) {
  auto enc = [](std::int64_t v, bool is_long) {
    Bytes out;
    if (is_long) put_varlong(out, v);
    else put_varint(out, static_cast<std::int32_t>(v));
    return out;
  };
  EXPECT_EQ(enc(0, false), (Bytes{0x00}));
  EXPECT_EQ(enc(-1, false), (Bytes{0x01}));
  EXPECT_EQ(enc(1, false), (Bytes{0x02}));
  EXPECT_EQ(enc(-65, false), (Bytes{0x81, 0x01}));
  EXPECT_EQ(enc(300, false), (Bytes{0xD8, 0x04}));
  EXPECT_EQ(enc(std::numeric_limits<std::int32_t>::min(), false),
            (Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  Bytes widest(9, 0xFF);
  widest.push_back(0x01);
  EXPECT_EQ(enc(std::numeric_limits<std::int64_t>::min(), true), widest);
}

// Proves the exact bytes of a two-record batch, worked out by hand: record 0
// has a null key, value "a"; record 1 has key "k", a null value, one header
// h=v, and a timestamp one later.
TEST(BatchBuilder, TinyBatchHasTheProtocolLayout) {
  std::vector<Record> records(2);
  records[0].value = bytes("a");
  records[0].timestamp_ms = 258;
  records[1].key = bytes("k");
  records[1].headers.push_back({"h", bytes("v")});
  records[1].timestamp_ms = 259;
  const Bytes got = build_batch(records);

  Bytes want = {
      0, 0, 0, 0, 0, 0, 0, 0,              // base offset 0
      0, 0, 0, 69,                         // batch length: 81 - 12
      0xFF, 0xFF, 0xFF, 0xFF,              // partition leader epoch -1
      2,                                   // magic
      0, 0, 0, 0,                          // crc, filled below
      0, 0,                                // attributes: none
      0, 0, 0, 1,                          // last offset delta
      0, 0, 0, 0, 0, 0, 0x01, 0x02,        // base timestamp 258
      0, 0, 0, 0, 0, 0, 0x01, 0x03,        // max timestamp 259
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // producer id -1
      0xFF, 0xFF,                          // producer epoch -1
      0xFF, 0xFF, 0xFF, 0xFF,              // base sequence -1
      0, 0, 0, 2,                          // record count
      // record 0: length 7, attrs, ts delta 0, offset delta 0, key -1,
      // value length 1 "a", no headers
      0x0E, 0x00, 0x00, 0x00, 0x01, 0x02, 'a', 0x00,
      // record 1: length 11, attrs, ts delta 1, offset delta 1, key "k",
      // value -1, one header: key "h", value "v"
      0x16, 0x00, 0x02, 0x02, 0x02, 'k', 0x01, 0x02, 0x02, 'h', 0x02, 'v'};
  ASSERT_EQ(want.size(), 81u);
  const std::uint32_t crc = reference_crc32c(want.data() + 21, want.size() - 21);
  for (int i = 0; i < 4; ++i) want[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  EXPECT_EQ(got, want);
}

// Proves that producer fields, attributes and the broker fields come out in
// the header, and that BatchView validates the result.
TEST(BatchBuilder, HeaderFieldsAndViewAgree) {
  std::vector<Record> records(3);
  for (int i = 0; i < 3; ++i) records[static_cast<std::size_t>(i)].timestamp_ms = 1000 - i * 10;
  BatchOptions o;
  o.base_offset = 77;
  o.leader_epoch = 5;
  o.producer_id = 123456789012;
  o.producer_epoch = 3;
  o.base_sequence = 42;
  o.transactional = true;
  const Bytes b = build_batch(records, o);
  BatchView v(b);
  ASSERT_EQ(v.validate(), BatchError::ok);
  EXPECT_EQ(v.base_offset(), 77);
  EXPECT_EQ(v.leader_epoch(), 5);
  EXPECT_EQ(v.producer_id(), 123456789012);
  EXPECT_EQ(v.producer_epoch(), 3);
  EXPECT_EQ(v.base_sequence(), 42);
  EXPECT_TRUE(v.transactional());
  EXPECT_FALSE(v.log_append_time());
  EXPECT_EQ(v.record_count(), 3);
  EXPECT_EQ(v.last_offset_delta(), 2);
  EXPECT_EQ(v.base_timestamp(), 1000);
  EXPECT_EQ(v.max_timestamp(), 1000);
  EXPECT_EQ(v.size_bytes(), b.size());
}

// Proves the round trip on many random batches (null and empty keys,
// values and header values; negative timestamp deltas), including after the
// broker rewrites the base offset.
TEST(BatchBuilder, RandomBatchesRoundTrip) {
  Rng rng(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<Record> records(1 + rng.below(20));
    for (auto& r : records) r = make_record(rng, 1'700'000'000'000 + static_cast<std::int64_t>(rng.below(10'000)) - 5000);
    Bytes b = build_batch(records);
    set_base_offset(b, 1000 + round);
    ASSERT_EQ(BatchView(b).validate(), BatchError::ok);
    auto decoded = decode_batch(b);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    ASSERT_EQ(decoded->size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ((*decoded)[i].offset, 1000 + round + static_cast<std::int64_t>(i));
      EXPECT_EQ((*decoded)[i].record, records[i]);
    }
  }
}

// Proves that split_batches cuts a log read into its batches and refuses a
// partial last batch.
TEST(BatchBuilder, SplitBatches) {
  Rng rng(8);
  Bytes all;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 5; ++i) {
    std::vector<Record> records{make_record(rng, i)};
    Bytes b = build_batch(records);
    sizes.push_back(b.size());
    all.insert(all.end(), b.begin(), b.end());
  }
  auto parts = split_batches(all);
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ((*parts)[i].size(), sizes[i]);
  auto partial = split_batches(std::span<const std::uint8_t>(all).first(all.size() - 1));
  EXPECT_EQ(partial.error(), make_error_code(RecordError::bad_batch));
  EXPECT_TRUE(split_batches({}).ok());
}

// Proves that every truncation of a batch is an error, not a crash.
TEST(BatchBuilder, TruncatedInputIsAnError) {
  Rng rng(9);
  std::vector<Record> records{make_record(rng, 1), make_record(rng, 2)};
  const Bytes b = build_batch(records);
  for (std::size_t n = 0; n < b.size(); ++n) {
    auto d = decode_batch(std::span<const std::uint8_t>(b).first(n));
    EXPECT_FALSE(d.ok()) << n;
  }
}

// Proves that a record-level lie inside a batch whose CRC was fixed up is
// caught by the decoder: a wrong record count, a record length past the
// batch, an overlong varint, a negative length, a wrong offset delta.
TEST(BatchBuilder, TamperedRecordsAreErrors) {
  std::vector<Record> records(2);
  records[0].value = bytes("a");
  records[1].key = bytes("k");
  const Bytes good = build_batch(records);
  ASSERT_TRUE(decode_batch(good).ok());
  auto tampered = [&](std::size_t at, std::uint8_t v) {
    Bytes b = good;
    b[at] = v;
    fix_crc(b);
    return decode_batch(b).error();
  };
  const std::size_t r0 = batch_header_bytes;  // record 0's length varint
  EXPECT_EQ(tampered(60, 3), make_error_code(RecordError::bad_batch));  // count 3 > delta + 1
  EXPECT_EQ(tampered(60, 1), make_error_code(RecordError::count_mismatch));  // count 1
  EXPECT_EQ(tampered(r0, 0x7E), make_error_code(RecordError::truncated));  // length 63
  EXPECT_EQ(tampered(r0, 0x03), make_error_code(RecordError::bad_length));  // length -2
  EXPECT_EQ(tampered(r0 + 3, 0x06), make_error_code(RecordError::bad_offset_delta));
  EXPECT_EQ(tampered(r0 + 4, 0x03), make_error_code(RecordError::bad_length));  // key -2
  EXPECT_EQ(tampered(r0 + 5, 0x06), make_error_code(RecordError::truncated));  // value 3
  Bytes overlong = good;  // a varint with its continuation bit on to the end
  for (std::size_t i = r0 + 1; i < r0 + 8; ++i) overlong[i] = 0xFF;
  fix_crc(overlong);
  EXPECT_EQ(decode_batch(overlong).error(), make_error_code(RecordError::bad_varint));
  Bytes bad_crc = good;
  bad_crc.back() ^= 1;
  EXPECT_EQ(decode_batch(bad_crc).error(), make_error_code(RecordError::bad_batch));
}

// Proves that random garbage, with and without a valid-looking header,
// never decodes by accident and never reads out of bounds.
TEST(BatchBuilder, GarbageIsAnError) {
  Rng rng(10);
  std::vector<Record> records{make_record(rng, 1), make_record(rng, 2), make_record(rng, 3)};
  const Bytes good = build_batch(records);
  int decoded_ok = 0;
  for (int round = 0; round < 2000; ++round) {
    Bytes b = good;
    // Scramble some record bytes, then fix the CRC so the decoder must judge.
    for (std::uint64_t k = 1 + rng.below(4); k > 0; --k)
      b[batch_header_bytes + rng.below(b.size() - batch_header_bytes)] = static_cast<std::uint8_t>(rng.below(256));
    fix_crc(b);
    auto d = decode_batch(b);
    if (d.ok()) ++decoded_ok;  // a scramble may still be well formed; it must not crash
    Bytes junk(rng.below(200));
    for (auto& x : junk) x = static_cast<std::uint8_t>(rng.below(256));
    EXPECT_FALSE(decode_batch(junk).ok());
  }
  EXPECT_LT(decoded_ok, 2000);
}

}  // namespace
}  // namespace castle::storage
