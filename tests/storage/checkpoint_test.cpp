// Checkpoint files: what is written reads back, every single-bit flip of a
// written file is corruption (not a different number), and Kafka's
// version 0 files, without the checksum line, are still read.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "system/storage/checkpoint.h"
#include "tests/sim/node_rig.h"

namespace castle::storage {
namespace {

using Rig = sim::testing::NodeRig;

const std::string path = "cp";

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(Checkpoint, WhatIsWrittenReadsBack) {
  Rig rig(1);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    const std::vector<CheckpointEntry> entries = {{0, 0}, {3, 17}, {9, 1234567890123}};
    ASSERT_TRUE(write_checkpoint(rt.disk(), path, entries).ok());
    auto back = read_checkpoint(rt.disk(), path);
    ASSERT_TRUE(back.ok() && back->has_value());
    EXPECT_EQ(**back, entries);
    EXPECT_FALSE(read_checkpoint(rt.disk(), "absent").value().has_value());
  }));
}

// A flipped digit of a version 0 file parses as another number; with the
// checksum line each of the file's bits, flipped alone, is detected.
TEST(Checkpoint, EverySingleBitFlipIsCorruption) {
  Rig rig(2);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& disk = rt.disk();
    ASSERT_TRUE(write_checkpoint(disk, path, {{7, 1}, {12, 4096}}).ok());
    const Bytes good = read_whole_file(disk, path).value();
    int flips = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes bad = good;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        ASSERT_TRUE(write_file_atomic(disk, path, bad).ok());
        auto r = read_checkpoint(disk, path);
        ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit << " still parses";
        EXPECT_EQ(r.error(), std::errc::illegal_byte_sequence);
        ++flips;
      }
    }
    EXPECT_EQ(flips, static_cast<int>(good.size()) * 8);
  }));
}

TEST(Checkpoint, KafkasVersionZeroWithoutChecksumIsRead) {
  Rig rig(3);
  ASSERT_TRUE(rig.run([](Runtime& rt) {
    Disk& disk = rt.disk();
    ASSERT_TRUE(write_file_atomic(disk, path, bytes_of("0\n2\n0 0\n5 40\n")).ok());
    auto r = read_checkpoint(disk, path);
    ASSERT_TRUE(r.ok() && r->has_value());
    EXPECT_EQ(**r, (std::vector<CheckpointEntry>{{0, 0}, {5, 40}}));
    // Trailing bytes, an unknown version, a wrong checksum: corruption.
    for (const char* text : {"0\n1\n5\n9\n", "2\n1\n5\n", "1\n1\n5\n12345\n", "1\n1\n5\n"}) {
      ASSERT_TRUE(write_file_atomic(disk, path, bytes_of(text)).ok());
      auto bad = read_checkpoint(disk, path);
      ASSERT_FALSE(bad.ok()) << text;
      EXPECT_EQ(bad.error(), std::errc::illegal_byte_sequence) << text;
    }
  }));
}

}  // namespace
}  // namespace castle::storage
