#pragma once
// TCP on the OS, behind castle::Network. Sockets are non-blocking and
// registered with the loop; a fiber that would block suspends until epoll
// reports the socket ready. Accepted and connected sockets set TCP_NODELAY
// (Kafka requests are small and latency-bound); listeners set SO_REUSEADDR
// so a restarted broker can bind its port again at once. Writes use
// MSG_NOSIGNAL: a peer that went away is broken_pipe, never a SIGPIPE.
//
// Connections and listeners must be destroyed before the loop they run on.

#include <memory>

#include "system/runtime/net.h"

namespace castle::real {

class Loop;

class RealNetwork final : public Network {
 public:
  static constexpr int listen_backlog = 1024;

  explicit RealNetwork(Loop& loop) : loop_(loop) {}

  // Binds the first address host resolves to; port 0 picks a free port,
  // which local_address() reports. An empty host binds every interface.
  Result<std::unique_ptr<Listener>> listen(const Address& addr) override;
  // Tries each address host resolves to in turn, all within timeout.
  Result<std::unique_ptr<Connection>> connect(const Address& addr, Duration timeout) override;

 private:
  Loop& loop_;
};

}  // namespace castle::real
