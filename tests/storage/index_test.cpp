// The sparse indexes on their own: Kafka's on-disk layouts byte for byte,
// lookups, truncation, rejection of malformed files, and persist() writing
// only what changed. A small in-memory File stands in for the disk.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "system/storage/offset_index.h"
#include "system/storage/time_index.h"

namespace castle::storage {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A file in memory that counts the bytes written to it.
class MemFile final : public File {
 public:
  Bytes data;
  std::size_t bytes_written = 0;

  Result<std::size_t> pread(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    const std::size_t n = offset >= data.size() ? 0 : std::min(buf.size(), data.size() - offset);
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), n, buf.begin());
    return n;
  }
  Result<void> pwrite(std::uint64_t offset, std::span<const std::uint8_t> in) override {
    if (data.size() < offset + in.size()) data.resize(offset + in.size());
    std::copy(in.begin(), in.end(), data.begin() + static_cast<std::ptrdiff_t>(offset));
    bytes_written += in.size();
    return {};
  }
  Result<std::uint64_t> append(std::span<const std::uint8_t> in) override {
    const std::uint64_t at = data.size();
    if (auto r = pwrite(at, in); !r) return r.error();
    return at;
  }
  Result<std::uint64_t> size() override { return data.size(); }
  Result<void> truncate(std::uint64_t length) override {
    data.resize(length);
    return {};
  }
  Result<void> datasync() override { return {}; }
  void close() override {}
};

// Proves the offset index file is Kafka's {u32 relative offset, u32
// position} big-endian, and that persist() appends only new entries.
TEST(OffsetIndex, LayoutIsKafkasAndPersistWritesOnlyNewEntries) {
  OffsetIndex index(100);
  index.append({1, 0x100});
  index.append({0x01020304, 0x0A0B0C0D});
  MemFile f;
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.data, (Bytes{0, 0, 0, 1, 0, 0, 1, 0, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D}));
  index.append({0x01020305, 0x0A0B0C0E});
  f.bytes_written = 0;
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.bytes_written, 8u);
  EXPECT_EQ(f.data.size(), 24u);
  f.bytes_written = 0;
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.bytes_written, 0u);
}

// Proves the time index file is Kafka's {i64 timestamp, u32 relative
// offset} big-endian, and that only strictly newer timestamps are kept.
TEST(TimeIndex, LayoutIsKafkasAndTimestampsOnlyGrow) {
  TimeIndex index;
  EXPECT_TRUE(index.maybe_append({0x0102030405060708, 7}));
  EXPECT_FALSE(index.maybe_append({0x0102030405060708, 9}));
  EXPECT_FALSE(index.maybe_append({5, 9}));
  MemFile f;
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.data, (Bytes{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 7}));
}

// Proves lookups find the last entry at or below the target (offsets) and
// strictly below it (timestamps), and the segment start when there is none.
TEST(SparseIndex, Lookups) {
  OffsetIndex offsets(100);
  offsets.append({10, 1000});
  offsets.append({20, 2000});
  EXPECT_EQ(offsets.lookup(5).position, 0u);
  EXPECT_EQ(offsets.lookup(10).position, 1000u);
  EXPECT_EQ(offsets.lookup(19).position, 1000u);
  EXPECT_EQ(offsets.lookup(25).position, 2000u);
  TimeIndex times;
  times.maybe_append({100, 10});
  times.maybe_append({200, 20});
  EXPECT_FALSE(times.lookup_below(100).has_value());
  EXPECT_EQ(times.lookup_below(101)->relative_offset, 10u);
  EXPECT_EQ(times.lookup_below(1000)->relative_offset, 20u);
}

// Proves a truncation cuts the file at the next persist, and that entries
// appended after it land where the dropped ones were.
TEST(SparseIndex, TruncationCutsTheFileOnPersist) {
  OffsetIndex index(100);
  for (std::uint32_t i = 1; i <= 4; ++i) index.append({i * 10, i * 100});
  MemFile f;
  ASSERT_TRUE(index.persist(f).ok());
  index.truncate_from(25);  // drops 30 and 40
  ASSERT_EQ(index.size(), 2u);
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.data.size(), 16u);
  index.truncate_from_position(200);  // drops 20 (at position 200)
  index.append({21, 210});
  ASSERT_TRUE(index.persist(f).ok());
  ASSERT_EQ(f.data.size(), 16u);
  EXPECT_EQ(OffsetEntry::decode(&f.data[8]).relative_offset, 21u);
  OffsetIndex reloaded(100);
  ASSERT_TRUE(reloaded.decode(f.data));
  EXPECT_EQ(reloaded.size(), 2u);
  EXPECT_EQ(reloaded.entries().back().position, 210u);
}

// Proves malformed files are refused and leave an empty index whose next
// persist rewrites the file whole.
TEST(SparseIndex, MalformedFilesAreRefused) {
  OffsetIndex index(2);
  EXPECT_FALSE(index.decode(Bytes{0, 0, 0, 1, 0, 0, 0}));                          // a partial entry
  EXPECT_FALSE(index.decode(Bytes{0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 10}));  // offsets go back
  EXPECT_FALSE(index.decode(Bytes{0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 9}));   // position stalls
  EXPECT_FALSE(index.decode(Bytes(24, 0)));                                         // more than entries_max
  EXPECT_EQ(index.size(), 0u);
  TimeIndex times;
  EXPECT_FALSE(times.decode(Bytes{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2}));
  MemFile f;
  f.data = Bytes(40, 0xFF);
  index.append({3, 30});
  ASSERT_TRUE(index.persist(f).ok());
  EXPECT_EQ(f.data, (Bytes{0, 0, 0, 3, 0, 0, 0, 30}));
}

}  // namespace
}  // namespace castle::storage
