// The controller port's framing: well-formed calls are answered by the
// handler of their type, and garbage (a negative, tiny or oversized size,
// an unknown type, a body the handler rejects, a frame cut short) closes
// that one connection while the server keeps serving everyone else.
#include <gtest/gtest.h>

#include "sim/network.h"
#include "system/raft/rpc.h"
#include "system/runtime/sync.h"
#include "system/util/endian.h"
#include "tests/sim/node_rig.h"

namespace castle::raft {
namespace {

using sim::testing::run_step;

struct RpcRig {
  sim::World world{7};
  sim::SimNode& server_node = world.add_node("srv");
  sim::SimNode& client_node = world.add_node("cli");
  RpcServer* server = nullptr;

  RpcRig() {
    server_node.set_main([this](Runtime& rt) {
      RpcServerConfig cfg;
      cfg.frame_bytes_max = 1024;
      RpcServer s(rt, cfg);
      // Type 1 echoes; type 2 rejects every body as undecodable.
      s.handle(1, [](std::span<const std::uint8_t> b) -> Result<std::vector<std::uint8_t>> {
        return std::vector<std::uint8_t>(b.begin(), b.end());
      });
      s.handle(2, [](std::span<const std::uint8_t>) -> Result<std::vector<std::uint8_t>> {
        return std::errc::bad_message;
      });
      ASSERT_TRUE(s.start(Address{"srv", 9093}).ok());
      server = &s;
      for (;;) rt.sleep_for(seconds(3600));
    });
    server_node.start();
    world.run_for(milliseconds(1));
  }

  // Sends raw bytes on a fresh connection; returns whether the server then
  // closed it (a read ends) rather than answering.
  bool closed_after(std::vector<std::uint8_t> bytes) {
    bool closed = false;
    run_step(world, client_node, [&](Runtime& rt) {
      auto c = rt.net().connect(Address{"srv", 9093}, milliseconds(100));
      ASSERT_TRUE(c.ok());
      ASSERT_TRUE((*c)->write(bytes).ok());
      std::uint8_t buf[64];
      auto n = (*c)->read(buf, rt.now() + milliseconds(500));
      closed = !n.ok() || *n == 0;
    }, seconds(5));
    return closed;
  }

  bool echo_works() {
    bool ok = false;
    run_step(world, client_node, [&](Runtime& rt) {
      RpcClient client(rt, Address{"srv", 9093});
      const std::vector<std::uint8_t> body{1, 2, 3};
      auto r = client.call(1, body, milliseconds(200));
      ok = r.ok() && *r == body;
    }, seconds(5));
    return ok;
  }
};

std::vector<std::uint8_t> with_size(std::int32_t size, std::size_t extra = 6) {
  std::vector<std::uint8_t> b(4 + extra, 0);
  store_be(b.data(), static_cast<std::uint32_t>(size), 4);
  if (extra >= 2) store_be(b.data() + 4, 1, 2);  // type 1
  return b;
}

TEST(RaftRpc, FrameRoundTrip) {
  const std::vector<std::uint8_t> body{9, 8, 7};
  auto f = encode_frame(21, 77, body);
  ASSERT_EQ(f.size(), 4u + 6u + 3u);
  EXPECT_EQ(load_be(f.data(), 4), 9u);
  EXPECT_EQ(load_be(f.data() + 4, 2), 21u);
  EXPECT_EQ(load_be(f.data() + 6, 4), 77u);
}

TEST(RaftRpc, CallsAreAnsweredByTheirTypesHandler) {
  RpcRig rig;
  EXPECT_TRUE(rig.echo_works());
  EXPECT_EQ(rig.server->stats().bad_frames, 0u);
}

TEST(RaftRpc, GarbageClosesTheConnectionAndTheServerServesOn) {
  RpcRig rig;
  EXPECT_TRUE(rig.closed_after(with_size(-5)));          // negative size
  EXPECT_TRUE(rig.closed_after(with_size(3)));           // smaller than the header
  EXPECT_TRUE(rig.closed_after(with_size(1 << 20)));     // over frame_bytes_max
  auto unknown = encode_frame(55, 1, std::vector<std::uint8_t>{1});
  EXPECT_TRUE(rig.closed_after(unknown));                // no handler for the type
  auto rejected = encode_frame(2, 1, std::vector<std::uint8_t>{1});
  EXPECT_TRUE(rig.closed_after(rejected));               // the handler rejects the body
  EXPECT_GE(rig.server->stats().bad_frames, 5u);
  // A frame cut short: the peer goes away mid-frame.
  run_step(rig.world, rig.client_node, [](Runtime& rt) {
    auto c = rt.net().connect(Address{"srv", 9093}, milliseconds(100));
    ASSERT_TRUE(c.ok());
    auto f = encode_frame(1, 1, std::vector<std::uint8_t>(100, 1));
    f.resize(30);
    ASSERT_TRUE((*c)->write(f).ok());
    (*c)->close();
  }, seconds(1));
  rig.world.run_for(milliseconds(50));
  EXPECT_TRUE(rig.echo_works());
}

TEST(RaftRpc, ClientTimesOutAndReconnects) {
  RpcRig rig;
  bool timed_out = false;
  bool recovered = false;
  run_step(rig.world, rig.client_node, [&](Runtime& rt) {
    RpcClient client(rt, Address{"srv", 9093});
    const std::vector<std::uint8_t> body{1};
    ASSERT_TRUE(client.call(1, body, milliseconds(200)).ok());
    rig.world.network().cut_both(0, 1);
    timed_out = client.call(1, body, milliseconds(200)).error() == std::errc::timed_out;
    rig.world.network().heal_all();
    for (int i = 0; i < 20 && !recovered; ++i) recovered = client.call(1, body, milliseconds(200)).ok();
  }, seconds(30));
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(recovered);
}

}  // namespace
}  // namespace castle::raft
