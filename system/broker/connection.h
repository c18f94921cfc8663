#pragma once
// One client connection: a reader fiber that frames requests into a
// bounded queue (queued.max.requests), and a handler fiber that answers
// them strictly in order. Either side ending closes both.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "system/broker/broker_core.h"

namespace castle::broker {

// A request frame's bytes, left uninitialised before they are read (a
// zero-filled vector cost a pass over every produced byte).
struct Frame {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
  std::span<std::uint8_t> bytes() { return {data.get(), size}; }
};

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
  bool handle_frame(Frame& frame);
  bool write(std::span<const std::uint8_t> bytes);
  void finished_one_side();

  std::shared_ptr<Broker::Impl> broker_;
  std::uint64_t id_;
  std::unique_ptr<Connection> conn_;
  Channel<Frame> queue_;
  Task reader_;
  Task handler_;
  int sides_running_ = 2;
  bool closed_ = false;
};

}  // namespace castle::broker
