#include "real/net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "real/loop.h"
#include "real/os_error.h"
#include "real/polled_fd.h"
#include "system/runtime/assert.h"

namespace castle::real {

namespace {

// A getaddrinfo result list, freed on scope exit.
struct AddrInfoList {
  addrinfo* head = nullptr;
  AddrInfoList() = default;
  AddrInfoList(const AddrInfoList&) = delete;
  AddrInfoList& operator=(const AddrInfoList&) = delete;
  ~AddrInfoList() {
    if (head != nullptr) ::freeaddrinfo(head);
  }
};

// Resolves host and port. getaddrinfo blocks the loop for a name lookup;
// that is accepted because Castle resolves only at startup and on connect
// to configured peers, normally numeric addresses or "localhost".
Result<void> resolve(const Address& addr, bool passive, AddrInfoList& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  const std::string port = std::to_string(addr.port);
  const char* host = addr.host.empty() ? nullptr : addr.host.c_str();
  const int rc = ::getaddrinfo(host, port.c_str(), &hints, &out.head);
  if (rc == 0) return {};
  if (rc == EAI_SYSTEM) return last_errno_code();
  // Name-service failures have no errno; an unknown or unresolvable host is
  // as good as unreachable to the caller.
  return std::errc::host_unreachable;
}

Address address_of(const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return Address{text, ntohs(in6->sin6_port)};
  }
  CASTLE_ASSERT(sa->sa_family == AF_INET, "a socket address of an unknown family");
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
  ::inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
  return Address{text, ntohs(in4->sin_port)};
}

Result<int> new_socket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_errno_code();
  return fd;
}

void set_nodelay(int fd) {
  const int one = 1;
  // Best effort: a socket without it still works, only with more latency.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

class RealConnection final : public Connection {
 public:
  RealConnection(Loop& loop, int fd, Address peer) : sock_(loop, fd), peer_(std::move(peer)) {}

  Result<std::size_t> read(std::span<std::uint8_t> buf,
                           std::optional<Instant> deadline) override;
  Result<void> write(std::span<const std::uint8_t> data) override;
  void close() override { sock_.close(); }
  Address peer_address() const override { return peer_; }

  // After a non-blocking connect() said EINPROGRESS: waits for the outcome.
  Result<void> await_connected(Instant deadline);

 private:
  PolledFd sock_;
  Address peer_;
};

Result<std::size_t> RealConnection::read(std::span<std::uint8_t> buf,
                                         std::optional<Instant> deadline) {
  for (;;) {
    if (sock_.closed()) return std::errc::operation_canceled;
    // As in the simulator: an empty read returns at once, with 0.
    if (buf.empty()) return std::size_t{0};
    const ssize_t n = ::recv(sock_.fd(), buf.data(), buf.size(), 0);
    if (n >= 0) {
      CASTLE_ASSERT(static_cast<std::size_t>(n) <= buf.size(), "recv overran the buffer");
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno_code();
    if (!sock_.wait(PolledFd::Want::read, deadline)) {
      return sock_.closed() ? std::errc::operation_canceled : std::errc::timed_out;
    }
  }
}

Result<void> RealConnection::write(std::span<const std::uint8_t> data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (sock_.closed()) return std::errc::operation_canceled;
    const ssize_t n = ::send(sock_.fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno_code();
    sock_.wait(PolledFd::Want::write, std::nullopt);
  }
  CASTLE_ASSERT(sent == data.size(), "a write ended short");
  return {};
}

Result<void> RealConnection::await_connected(Instant deadline) {
  for (;;) {
    if (sock_.closed()) return std::errc::operation_canceled;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(sock_.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return last_errno_code();
    if (err != 0) return errno_code(err);
    // No error and a peer: connected. No error and no peer: still going.
    sockaddr_storage ss{};
    socklen_t ss_len = sizeof ss;
    if (::getpeername(sock_.fd(), reinterpret_cast<sockaddr*>(&ss), &ss_len) == 0) return {};
    if (errno != ENOTCONN) return last_errno_code();
    if (!sock_.wait(PolledFd::Want::write, deadline)) {
      return sock_.closed() ? std::errc::operation_canceled : std::errc::timed_out;
    }
  }
}

class RealListener final : public Listener {
 public:
  RealListener(Loop& loop, int fd, Address local) : sock_(loop, fd), local_(std::move(local)) {}

  Result<std::unique_ptr<Connection>> accept() override;
  void close() override { sock_.close(); }
  Address local_address() const override { return local_; }

 private:
  PolledFd sock_;
  Address local_;  // as bound, with the real port when 0 was asked for
};

Result<std::unique_ptr<Connection>> RealListener::accept() {
  for (;;) {
    if (sock_.closed()) return std::errc::operation_canceled;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(sock_.fd(), reinterpret_cast<sockaddr*>(&ss), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);
      return std::unique_ptr<Connection>(
          std::make_unique<RealConnection>(sock_.loop(), fd, address_of(reinterpret_cast<sockaddr*>(&ss))));
    }
    // A connection that died in the queue is the client's problem, not ours.
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return last_errno_code();
    sock_.wait(PolledFd::Want::read, std::nullopt);
  }
}

// A bound, listening socket for one resolved address.
Result<int> bind_listener(const addrinfo& ai) {
  auto fd = new_socket(ai.ai_family);
  if (!fd) return fd.error();
  const int one = 1;
  ::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(*fd, ai.ai_addr, ai.ai_addrlen) != 0 ||
      ::listen(*fd, RealNetwork::listen_backlog) != 0) {
    const std::error_code ec = last_errno_code();
    ::close(*fd);
    return ec;
  }
  return fd;
}

Result<Address> bound_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return last_errno_code();
  return address_of(reinterpret_cast<sockaddr*>(&ss));
}

Result<std::unique_ptr<Connection>> connect_one(Loop& loop, const addrinfo& ai, Instant deadline) {
  auto fd = new_socket(ai.ai_family);
  if (!fd) return fd.error();
  set_nodelay(*fd);
  auto conn = std::make_unique<RealConnection>(loop, *fd, address_of(ai.ai_addr));
  if (::connect(*fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return last_errno_code();
    if (auto r = conn->await_connected(deadline); !r) return r.error();
  }
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace

Result<std::unique_ptr<Listener>> RealNetwork::listen(const Address& addr) {
  AddrInfoList list;
  if (auto r = resolve(addr, true, list); !r) return r.error();
  std::error_code last = std::make_error_code(std::errc::address_not_available);
  for (const addrinfo* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    auto fd = bind_listener(*ai);
    if (!fd) {
      last = fd.error();
      continue;
    }
    auto local = bound_address(*fd);
    if (!local) {
      ::close(*fd);
      return local.error();
    }
    return std::unique_ptr<Listener>(std::make_unique<RealListener>(loop_, *fd, *local));
  }
  return last;
}

Result<std::unique_ptr<Connection>> RealNetwork::connect(const Address& addr, Duration timeout) {
  CASTLE_ASSERT(loop_.scheduler().in_fiber(), "connect outside a fiber");
  const Instant deadline = Loop::now() + timeout;
  AddrInfoList list;
  if (auto r = resolve(addr, false, list); !r) return r.error();
  std::error_code last = std::make_error_code(std::errc::host_unreachable);
  for (const addrinfo* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    auto conn = connect_one(loop_, *ai, deadline);
    if (conn) return conn;
    last = conn.error();
    if (last == std::errc::timed_out) break;  // the whole budget is spent
  }
  return last;
}

}  // namespace castle::real
