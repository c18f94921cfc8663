#pragma once
// One Kafka connection to one broker, over the runtime's network.
//
// open() connects, negotiates API versions with ApiVersions (for each API
// the highest version both sides support) and starts two fibers: a writer
// that sends queued request frames in order, and a reader that matches
// response frames to requests. Kafka answers the requests of a connection
// strictly in order, so responses are matched to the oldest outstanding
// request and its correlation id must agree; anything else breaks the
// connection.
//
// Requests are pipelined, up to max.in.flight.requests.per.connection at a
// time. Each has a deadline (request.timeout.ms unless told otherwise); when
// the oldest one passes it, the connection is closed, as Kafka's
// NetworkClient does, because nothing after it can be answered in time
// either. Whenever the connection breaks (reset, end of stream, timeout,
// undecodable frame, close()), every outstanding request fails with the
// error at once, and the connection stays broken: open a new one.
//
// An acks=0 Produce gets no response at all: its handler runs once the
// frame is written.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "system/client/versions.h"
#include "system/protocol/messages.h"
#include "system/runtime/runtime.h"
#include "system/runtime/sync.h"

namespace castle::client {

struct ConnectionOptions {
  std::string client_id = "castle";
  Duration connect_timeout = std::chrono::seconds(10);
  Duration request_timeout = std::chrono::seconds(30);
  std::size_t in_flight_max = 5;
  std::int32_t response_bytes_max = 256 << 20;  // a larger size prefix breaks the connection
};

// Runs exactly once with the response or the error. It runs on the
// connection's fibers (or on whichever fiber breaks the connection), so it
// must not block.
using ResponseHandler = std::function<void(Result<protocol::Response>)>;

class BrokerConnection {
 public:
  static Result<std::shared_ptr<BrokerConnection>> open(Runtime& rt, const Address& address,
                                                        const ConnectionOptions& options);
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  // The version negotiated for an API, nullopt if there is none in common.
  std::optional<std::int16_t> version(protocol::ApiKey key) const;

  // Queues a request at the negotiated version. Blocks while the in-flight
  // limit is reached. An error (broken connection, no common version) is
  // returned and the handler is not called; otherwise the handler runs once.
  // Without a response (acks=0) the handler gets an empty ProduceResponse.
  Result<void> send(protocol::Request body, ResponseHandler on_done,
                    std::optional<Duration> timeout = std::nullopt, bool expect_response = true);
  // Sends and waits for the response.
  Result<protocol::Response> call(protocol::Request body,
                                  std::optional<Duration> timeout = std::nullopt);

  bool broken() const;
  std::error_code failure() const;
  std::size_t in_flight() const;
  const Address& address() const;
  // Breaks the connection: outstanding requests fail with operation_canceled.
  void close();

  struct State;

 private:
  explicit BrokerConnection(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Unwraps a response variant, or reports bad_response when the API differs.
template <class T>
Result<T> response_as(Result<protocol::Response> r);

}  // namespace castle::client

#include "system/client/errors.h"

namespace castle::client {
template <class T>
Result<T> response_as(Result<protocol::Response> r) {
  if (!r) return r.error();
  if (T* m = std::get_if<T>(&r.value())) return std::move(*m);
  return client_error(ClientError::bad_response);
}
}  // namespace castle::client
