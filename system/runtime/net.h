#pragma once
// Byte-stream connections with TCP semantics. Reads return what has arrived
// (0 means the peer closed its side); writes block until every byte is
// accepted by the stack. Errors are values: connection_refused, timed_out,
// connection_reset, broken_pipe, operation_canceled (closed locally).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "system/runtime/result.h"
#include "system/runtime/time.h"

namespace castle {

struct Address {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const { return host + ":" + std::to_string(port); }
  // Parses "host:port".
  static Result<Address> parse(std::string_view text);
  friend bool operator==(const Address&, const Address&) = default;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Reads up to buf.size() bytes; 0 means end of stream. A deadline bounds
  // the wait and yields timed_out.
  virtual Result<std::size_t> read(std::span<std::uint8_t> buf,
                                   std::optional<Instant> deadline = std::nullopt) = 0;
  // Writes all of data or fails.
  virtual Result<void> write(std::span<const std::uint8_t> data) = 0;
  // Closes both directions; blocked readers and writers get operation_canceled.
  virtual void close() = 0;
  virtual Address peer_address() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Result<std::unique_ptr<Connection>> accept() = 0;
  virtual void close() = 0;
  virtual Address local_address() const = 0;
};

class Network {
 public:
  virtual ~Network() = default;
  virtual Result<std::unique_ptr<Listener>> listen(const Address& addr) = 0;
  virtual Result<std::unique_ptr<Connection>> connect(const Address& addr, Duration timeout) = 0;
};

// Reads exactly buf.size() bytes. An end of stream partway is
// connection_aborted; at the very start it is end_of_stream()==true.
struct ReadExact {
  Result<void> status;
  bool end_of_stream = false;
};
ReadExact read_exact(Connection& conn, std::span<std::uint8_t> buf,
                     std::optional<Instant> deadline = std::nullopt);

}  // namespace castle
