// The real TCP network on loopback only (127.0.0.1 and ::1): listen on port
// 0 reports the bound port, fibers ping-pong over a real connection, errors
// come back as std::errc values (refused, timed out, cancelled by close, EOF
// on peer close, a broken pipe instead of SIGPIPE), and multi-megabyte
// writes arrive whole.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <numeric>

#include "real/real_runtime.h"
#include "tests/real/real_test_util.h"

namespace castle::real {
namespace {

using namespace std::chrono_literals;
using testing::bytes_of;
using testing::config_for;
using testing::run_fiber;
using testing::string_of;
using testing::TempDir;

class RealNet : public ::testing::Test {
 protected:
  RealNet() : rt_(config_for(dir_)) {}

  std::unique_ptr<Listener> listen_loopback() {
    auto l = rt_.net().listen(Address{"127.0.0.1", 0});
    CASTLE_ASSERT(l.ok(), "listen on loopback failed");
    return std::move(l).value();
  }
  std::unique_ptr<Connection> connect_to(const Address& a) {
    auto c = rt_.net().connect(a, 2s);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  TempDir dir_;
  RealRuntime rt_;
};

TEST_F(RealNet, ListenOnPortZeroReportsTheBoundPort) {
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    EXPECT_EQ(l->local_address().host, "127.0.0.1");
    EXPECT_NE(l->local_address().port, 0);
  });
}

TEST_F(RealNet, TwoFibersPingPongOverLoopback) {
  constexpr int rounds = 200;
  int pongs = 0;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    Task server = rt_.spawn("server", [&] {
      auto c = l->accept();
      ASSERT_TRUE(c.ok());
      std::uint8_t buf[4];
      for (int i = 0; i < rounds; ++i) {
        ASSERT_TRUE(read_exact(**c, buf).status.ok());
        ASSERT_EQ(string_of(buf), "ping");
        ASSERT_TRUE((*c)->write(bytes_of("pong")).ok());
      }
    });
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->peer_address(), l->local_address());
    std::uint8_t buf[4];
    for (int i = 0; i < rounds; ++i) {
      ASSERT_TRUE(c->write(bytes_of("ping")).ok());
      ASSERT_TRUE(read_exact(*c, buf, rt_.deadline_after(2s)).status.ok());
      ASSERT_EQ(string_of(buf), "pong");
      ++pongs;
    }
    server.join();
  });
  EXPECT_EQ(pongs, rounds);
}

TEST_F(RealNet, ConnectToAClosedPortIsRefused) {
  std::error_code ec;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    const Address a = l->local_address();
    l->close();
    auto c = rt_.net().connect(a, 2s);
    ASSERT_FALSE(c.ok());
    ec = c.error();
  });
  EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

TEST_F(RealNet, HostnameLocalhostResolves) {
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    // "localhost" may resolve to ::1 first, which refuses; connect must then
    // try 127.0.0.1.
    auto c = connect_to(Address{"localhost", l->local_address().port});
    ASSERT_NE(c, nullptr);
    auto s = l->accept();
    EXPECT_TRUE(s.ok());
  });
}

TEST_F(RealNet, ReadDeadlineGivesTimedOut) {
  std::error_code ec;
  Duration waited{};
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    auto s = l->accept();  // accepted, never written to
    ASSERT_TRUE(s.ok());
    std::uint8_t buf[16];
    const Instant t0 = rt_.now();
    auto r = c->read(buf, rt_.deadline_after(50ms));
    waited = rt_.now() - t0;
    ASSERT_FALSE(r.ok());
    ec = r.error();
  });
  EXPECT_EQ(ec, std::errc::timed_out);
  EXPECT_GE(waited, 50ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(RealNet, ConnectTimeoutWhenTheBacklogIsFull) {
  // A listener with backlog 0 that never accepts: once its accept queue is
  // full, Linux drops further SYNs, so connect hangs and must time out.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t len = sizeof sa;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const Address target{"127.0.0.1", ntohs(sa.sin_port)};
  bool saw_timeout = false;
  Duration waited{};
  run_fiber(rt_, [&] {
    std::vector<std::unique_ptr<Connection>> held;
    for (int i = 0; i < 8 && !saw_timeout; ++i) {
      const Instant t0 = rt_.now();
      auto c = rt_.net().connect(target, 150ms);
      if (c.ok()) {
        held.push_back(std::move(c).value());
        continue;
      }
      ASSERT_EQ(c.error(), std::errc::timed_out) << c.error().message();
      saw_timeout = true;
      waited = rt_.now() - t0;
    }
  });
  ::close(fd);
  if (!saw_timeout) GTEST_SKIP() << "this kernel accepted every connection; cannot force a timeout";
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(RealNet, CloseWakesABlockedReaderWithOperationCanceled) {
  std::error_code ec;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    auto s = l->accept();
    ASSERT_TRUE(s.ok());
    Task reader = rt_.spawn("reader", [&] {
      std::uint8_t buf[16];
      auto r = c->read(buf);  // no deadline: only close() can end it
      ec = r.ok() ? std::error_code{} : r.error();
    });
    rt_.sleep_for(10ms);
    c->close();
    reader.join();
  });
  EXPECT_EQ(ec, std::errc::operation_canceled);
}

TEST_F(RealNet, CloseWakesABlockedAccept) {
  std::error_code ec;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    Task acceptor = rt_.spawn("acceptor", [&] {
      auto c = l->accept();
      ec = c.ok() ? std::error_code{} : c.error();
    });
    rt_.sleep_for(5ms);
    l->close();
    acceptor.join();
  });
  EXPECT_EQ(ec, std::errc::operation_canceled);
}

TEST_F(RealNet, ShutdownUnwindsFibersBlockedOnSockets) {
  // A crash-style shutdown unwinds fibers blocked in accept and read; the
  // sockets on their stacks leave the epoll set as they are destroyed.
  Task acceptor;
  Task reader;
  rt_.spawn("main", [&] {
    auto l = std::make_shared<std::unique_ptr<Listener>>(listen_loopback());
    acceptor = rt_.spawn("acceptor", [l] {
      std::vector<std::unique_ptr<Connection>> held;  // keeps peers open
      for (;;) {
        auto c = (*l)->accept();
        if (c.ok()) held.push_back(std::move(c).value());
      }
    });
    auto c = connect_to((*l)->local_address());
    ASSERT_NE(c, nullptr);
    reader = rt_.spawn("reader", [c = std::shared_ptr<Connection>(std::move(c))] {
      std::uint8_t buf[8];
      (void)c->read(buf);
    });
    rt_.sleep_for(5ms);
    rt_.stop();
  });
  rt_.run();
  EXPECT_GT(rt_.loop().watches(), 0u);
  rt_.shutdown();
  EXPECT_EQ(rt_.loop().watches(), 0u);
  EXPECT_EQ(acceptor.outcome(), TaskOutcome::killed);
  EXPECT_EQ(reader.outcome(), TaskOutcome::killed);
}

TEST_F(RealNet, EmptyReadReturnsZeroAtOnce) {
  std::size_t n = 99;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    auto r = c->read({});
    ASSERT_TRUE(r.ok());
    n = *r;
  });
  EXPECT_EQ(n, 0u);
}

TEST_F(RealNet, LargeWriteIsReadFullyOnTheOtherSide) {
  constexpr std::size_t total_bytes = 8u << 20;
  std::vector<std::uint8_t> sent(total_bytes);
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<std::uint8_t>(i * 131 + i / 7);
  std::vector<std::uint8_t> received;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    Task writer = rt_.spawn("writer", [&] {
      auto c = connect_to(l->local_address());
      ASSERT_NE(c, nullptr);
      // One call: it must loop over partial writes and wait for EPOLLOUT.
      EXPECT_TRUE(c->write(sent).ok());
      c->close();
    });
    auto s = l->accept();
    ASSERT_TRUE(s.ok());
    std::vector<std::uint8_t> buf(64 * 1024);
    for (;;) {
      auto n = (*s)->read(buf, rt_.deadline_after(2s));
      ASSERT_TRUE(n.ok()) << n.error().message();
      if (*n == 0) break;
      received.insert(received.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    writer.join();
  });
  ASSERT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent);
}

TEST_F(RealNet, PeerCloseGivesEndOfStream) {
  std::string got;
  std::size_t last_read = 99;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    auto s = l->accept();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->write(bytes_of("bye")).ok());
    (*s)->close();
    std::uint8_t buf[3];
    ASSERT_TRUE(read_exact(*c, buf, rt_.deadline_after(2s)).status.ok());
    got = string_of(buf);
    auto n = c->read(buf, rt_.deadline_after(2s));
    ASSERT_TRUE(n.ok());
    last_read = *n;
  });
  EXPECT_EQ(got, "bye");
  EXPECT_EQ(last_read, 0u);
}

TEST_F(RealNet, WritingToAVanishedPeerIsAnErrorNotASignal) {
  std::error_code ec;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto c = connect_to(l->local_address());
    ASSERT_NE(c, nullptr);
    auto s = l->accept();
    ASSERT_TRUE(s.ok());
    (*s)->close();
    std::vector<std::uint8_t> chunk(64 * 1024, 0xab);
    // The first writes may be accepted before the RST comes back.
    for (int i = 0; i < 100 && !ec; ++i) {
      auto r = c->write(chunk);
      if (!r.ok()) ec = r.error();
      rt_.sleep_for(1ms);
    }
  });
  EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

TEST_F(RealNet, Ipv6LoopbackWorksWhereAvailable) {
  bool available = true;
  std::string echoed;
  run_fiber(rt_, [&] {
    auto l = rt_.net().listen(Address{"::1", 0});
    if (!l.ok()) {
      available = false;
      return;
    }
    EXPECT_EQ((*l)->local_address().host, "::1");
    auto c = connect_to((*l)->local_address());
    ASSERT_NE(c, nullptr);
    auto s = (*l)->accept();
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(c->write(bytes_of("six")).ok());
    std::uint8_t buf[3];
    ASSERT_TRUE(read_exact(**s, buf, rt_.deadline_after(2s)).status.ok());
    echoed = string_of(buf);
  });
  if (!available) GTEST_SKIP() << "no IPv6 loopback here";
  EXPECT_EQ(echoed, "six");
}

TEST_F(RealNet, ListenOnABusyPortFails) {
  std::error_code ec;
  run_fiber(rt_, [&] {
    auto l = listen_loopback();
    auto again = rt_.net().listen(l->local_address());
    ASSERT_FALSE(again.ok());
    ec = again.error();
  });
  EXPECT_EQ(ec, std::errc::address_in_use);
}

}  // namespace
}  // namespace castle::real
