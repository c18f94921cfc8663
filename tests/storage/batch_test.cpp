// RecordBatch v2 header view: framing checks, the CRC covers attributes to
// the end, and the broker-owned fields can be rewritten without breaking it.
#include <gtest/gtest.h>

#include <vector>

#include "system/storage/batch.h"
#include "system/util/crc32c.h"

namespace castle::storage {
namespace {

void put(std::vector<std::uint8_t>& b, std::size_t at, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

// A header-only batch claiming `count` records and some opaque record bytes.
std::vector<std::uint8_t> raw_batch(int count, std::size_t record_bytes) {
  std::vector<std::uint8_t> b(batch_header_bytes + record_bytes, 0xAB);
  put(b, 0, 0, 8);
  put(b, 8, b.size() - batch_length_prefix_bytes, 4);
  put(b, 12, 0, 4);
  b[16] = 2;
  put(b, 21, 0, 2);
  put(b, 23, static_cast<std::uint64_t>(count - 1), 4);
  put(b, 27, 1000, 8);
  put(b, 35, 2000, 8);
  put(b, 43, static_cast<std::uint64_t>(-1), 8);
  put(b, 51, static_cast<std::uint64_t>(-1), 2);
  put(b, 53, static_cast<std::uint64_t>(-1), 4);
  put(b, 57, static_cast<std::uint64_t>(count), 4);
  put(b, 17, crc32c_extend(0, b.data() + 21, b.size() - 21), 4);
  return b;
}

TEST(Batch, ValidBatchReadsBack) {
  auto b = raw_batch(3, 40);
  BatchView v(b);
  ASSERT_EQ(v.validate(), BatchError::ok);
  EXPECT_EQ(v.record_count(), 3);
  EXPECT_EQ(v.size_bytes(), b.size());
  EXPECT_EQ(v.max_timestamp(), 2000);
  EXPECT_EQ(v.producer_id(), -1);
}

TEST(Batch, BrokerFieldsAreOutsideTheCrc) {
  auto b = raw_batch(3, 40);
  set_base_offset(b, 1234567);
  set_leader_epoch(b, 42);
  BatchView v(b);
  ASSERT_EQ(v.validate(), BatchError::ok);
  EXPECT_EQ(v.base_offset(), 1234567);
  EXPECT_EQ(v.last_offset(), 1234569);
  EXPECT_EQ(v.leader_epoch(), 42);
}

TEST(Batch, EveryBitFlipAfterTheCrcFieldIsDetected) {
  const auto good = raw_batch(2, 30);
  for (std::size_t byte = 21; byte < good.size(); ++byte) {
    auto b = good;
    b[byte] ^= 0x04;
    BatchView v(b);
    EXPECT_NE(v.validate(), BatchError::ok) << "byte " << byte;
  }
}

TEST(Batch, FramingErrors) {
  auto b = raw_batch(1, 10);
  EXPECT_EQ(BatchView({b.data(), 30}).validate(), BatchError::truncated);
  EXPECT_EQ(BatchView({b.data(), b.size() - 1}).validate(), BatchError::truncated);
  auto m = b;
  m[16] = 1;
  EXPECT_EQ(BatchView(m).validate(), BatchError::bad_magic);
  auto l = b;
  put(l, 8, 5, 4);
  EXPECT_EQ(BatchView(l).validate(), BatchError::bad_length);
}

}  // namespace
}  // namespace castle::storage
