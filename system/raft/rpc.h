#pragma once
// Framed RPC on the runtime's connections: the controller port.
//
// Every frame is `i32 size | i16 type | i32 correlation | body`, big-endian,
// where size counts the bytes after itself (so at least 6). A response
// carries its request's type and correlation. Types 1-19 are Raft's, 20-39
// the controller's; a server dispatches by type to registered handlers, so
// both share one port.
//
// Server: one reader fiber per connection; each request runs in its own
// fiber (at most `in_flight_max` per connection, the reader waits beyond
// that), and replies are written whole under a per-connection lock, so
// they may leave out of order. A frame with a size out of bounds, an
// unknown type, or a body its handler rejects closes the connection: the
// peer is broken or hostile and nothing it sends next can be trusted.
//
// Client: one connection per peer, multiplexed by correlation. A call that
// times out closes the connection (a stalled peer is as good as dead; the
// next call reconnects), and so does any read or write error, failing every
// call in flight on it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "system/runtime/runtime.h"

namespace castle::raft {

inline constexpr std::int32_t rpc_header_bytes = 6;  // type + correlation
inline constexpr std::int32_t rpc_frame_bytes_max = 8 << 20;

struct Frame {
  std::int16_t type = 0;
  std::int32_t correlation = 0;
  std::vector<std::uint8_t> body;
};

// One frame, size prefix included.
std::vector<std::uint8_t> encode_frame(std::int16_t type, std::int32_t correlation,
                                       std::span<const std::uint8_t> body);
// Reads one frame. *end_of_stream is set at a clean boundary; a size out of
// [rpc_header_bytes, frame_bytes_max] is std::errc::message_size.
Result<Frame> read_frame(Connection& conn, std::optional<Instant> deadline, bool* end_of_stream,
                         std::int32_t frame_bytes_max = rpc_frame_bytes_max);

// A handler answers a request body with a response body, or an error for a
// body it cannot decode (the server then closes the connection).
using RpcHandler = std::function<Result<std::vector<std::uint8_t>>(std::span<const std::uint8_t>)>;

struct RpcServerConfig {
  std::int32_t frame_bytes_max = rpc_frame_bytes_max;
  std::size_t in_flight_max = 32;  // requests per connection being handled at once
  Duration accept_retry = milliseconds(50);
};

struct RpcServerStats {
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t bad_frames = 0;  // connections closed for garbage
};

class RpcServer {
 public:
  RpcServer(Runtime& rt, RpcServerConfig config = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers the handler of one request type; before start().
  void handle(std::int16_t type, RpcHandler handler);
  // Listens and spawns the acceptor. Returns once listening.
  Result<void> start(const Address& listen);
  // Stops accepting and closes every connection.
  void stop();
  Address local_address() const;
  const RpcServerStats& stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with its fibers, which may outlive it in a crash
};

struct RpcClientConfig {
  std::int32_t frame_bytes_max = rpc_frame_bytes_max;
  Duration connect_timeout = milliseconds(200);
};

class RpcClient {
 public:
  RpcClient(Runtime& rt, Address peer, RpcClientConfig config = {});
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Sends one request and waits for its response until timeout. Errors:
  // timed_out, connection errors, message_size for an oversized request.
  Result<std::vector<std::uint8_t>> call(std::int16_t type, std::span<const std::uint8_t> body,
                                         Duration timeout);
  // Closes the connection; calls in flight fail, the next call reconnects.
  void close();
  const Address& peer() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace castle::raft
