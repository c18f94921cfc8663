// ProducerIdAllocator: ids are never handed out twice across restarts,
// even when a bit flip damages the file holding the block's end.
#include <gtest/gtest.h>

#include "system/broker/producer_ids.h"
#include "tests/sim/node_rig.h"

namespace castle::broker {
namespace {

using sim::testing::NodeRig;

const std::string path = "castle-producer-ids";

std::int64_t next_ok(ProducerIdAllocator& a) {
  auto id = a.next();
  EXPECT_TRUE(id.ok());
  return id.ok() ? *id : -1;
}

TEST(ProducerIds, ARestartStartsANewBlockEvenWithTheFileDamaged) {
  NodeRig rig(1);
  std::int64_t last = -1;
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ProducerIdAllocator a(rt, path);
    ASSERT_TRUE(a.load().ok());
    for (int i = 0; i < 3; ++i) last = next_ok(a);
    EXPECT_EQ(last, 2);
  }));
  rig.crash();
  // "1\n1\n1000\n<crc>\n": byte 4 is the block end's leading digit.
  ASSERT_TRUE(rig.disk().flip_bit(path, 4, 0));
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ProducerIdAllocator a(rt, path);
    ASSERT_TRUE(a.load().ok());
    const std::int64_t id = next_ok(a);
    EXPECT_GE(id, ProducerIdAllocator::block_size) << "an id of the block before the crash again";
    last = id;
  }));
  rig.crash();
  ASSERT_TRUE(rig.disk().flip_bit(path, 4, 1));
  ASSERT_TRUE(rig.disk().flip_bit(path + ".mirror", 4, 1));
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    ProducerIdAllocator a(rt, path);
    auto r = a.load();
    ASSERT_FALSE(r.ok()) << "both copies damaged: refuse rather than guess";
    EXPECT_EQ(r.error(), std::errc::illegal_byte_sequence);
  }));
}

TEST(ProducerIds, TheFileOfAnEarlierVersionIsRead) {
  NodeRig rig(2);
  ASSERT_TRUE(rig.run([&](Runtime& rt) {
    const std::string legacy = "3000\n";
    ASSERT_TRUE(write_file_atomic(rt.disk(), path,
                                  std::span(reinterpret_cast<const std::uint8_t*>(legacy.data()), legacy.size()))
                    .ok());
    ProducerIdAllocator a(rt, path);
    ASSERT_TRUE(a.load().ok());
    EXPECT_EQ(next_ok(a), 3000);
  }));
}

}  // namespace
}  // namespace castle::broker
