#pragma once
// One client connection: a reader fiber that frames requests into a
// bounded queue (queued.max.requests), and a handler fiber that answers
// them strictly in order. Either side ending closes both.

#include <cstdint>
#include <memory>
#include <vector>

#include "system/broker/broker_core.h"

namespace castle::broker {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(std::shared_ptr<Broker::Impl> broker, std::uint64_t id,
                   std::unique_ptr<Connection> conn);
  void start();
  // Closes the socket; both fibers end soon after.
  void close();
  void join();

 private:
  void read_loop();
  void handle_loop();
  // False when the connection must be closed.
  bool handle_frame(std::vector<std::uint8_t>& frame);
  bool write(std::span<const std::uint8_t> bytes);
  void finished_one_side();

  std::shared_ptr<Broker::Impl> broker_;
  std::uint64_t id_;
  std::unique_ptr<Connection> conn_;
  Channel<std::vector<std::uint8_t>> queue_;
  Task reader_;
  Task handler_;
  int sides_running_ = 2;
  bool closed_ = false;
};

}  // namespace castle::broker
