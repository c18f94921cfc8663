#include "system/client/connection.h"

#include <array>
#include <utility>

#include "system/util/endian.h"

namespace castle::client {

using protocol::ApiKey;
using protocol::Bytes;

namespace {

struct Pending {
  std::int32_t correlation_id = 0;
  ApiKey api_key = ApiKey::produce;
  std::int16_t version = 0;
  Instant deadline;
  ResponseHandler on_done;
};

struct Outgoing {
  Bytes frame;
  ResponseHandler on_written;  // set only for requests without a response
};

constexpr std::size_t frame_size_bytes = 4;

}  // namespace

struct BrokerConnection::State {
  State(Runtime& rt_, std::unique_ptr<Connection> conn_, Address address_, ConnectionOptions opts)
      : rt(rt_), conn(std::move(conn_)), address(std::move(address_)), options(std::move(opts)) {}

  Runtime& rt;
  std::unique_ptr<Connection> conn;
  Address address;
  ConnectionOptions options;
  ApiVersionTable versions;
  std::int32_t next_correlation_id = 1;
  std::deque<Pending> in_flight;  // in send order, which is the answer order
  std::deque<Outgoing> outbox;
  WaitList outbox_ready;
  WaitList in_flight_ready;
  WaitList slot_free;
  std::error_code failed;
  Task reader;
  Task writer;

  std::int32_t take_correlation_id() {
    const std::int32_t id = next_correlation_id;
    // Correlation ids are positive int32s; wrapping is harmless because at
    // most in_flight_max of them are outstanding.
    next_correlation_id = id == 0x7fffffff ? 1 : id + 1;
    return id;
  }

  // Breaks the connection once; every outstanding handler gets ec.
  void fail(std::error_code ec) {
    CASTLE_ASSERT(ec, "a connection fails with a real error");
    if (failed) return;
    failed = ec;
    conn->close();
    std::deque<Pending> pending;
    pending.swap(in_flight);
    std::deque<Outgoing> queued;
    queued.swap(outbox);
    for (Outgoing& o : queued)
      if (o.on_written) o.on_written(ec);
    for (Pending& p : pending) p.on_done(ec);
    outbox_ready.notify_all();
    in_flight_ready.notify_all();
    slot_free.notify_all();
  }

  Result<Bytes> read_frame(std::optional<Instant> deadline) {
    std::array<std::uint8_t, frame_size_bytes> size_buf{};
    ReadExact head = read_exact(*conn, size_buf, deadline);
    if (head.end_of_stream) return std::errc::connection_aborted;
    if (!head.status) return head.status.error();
    const auto size = static_cast<std::int32_t>(load_be(size_buf.data(), 4));
    if (size < 0 || size > options.response_bytes_max)
      return client_error(ClientError::bad_response);
    Bytes body(static_cast<std::size_t>(size));
    ReadExact rest = read_exact(*conn, body, deadline);
    if (rest.end_of_stream) return std::errc::connection_aborted;
    if (!rest.status) return rest.status.error();
    return body;
  }

  // Matches one response frame to the oldest request and hands it over.
  Result<void> dispatch(const Bytes& frame) {
    CASTLE_ASSERT(!in_flight.empty(), "a response is read only for a pending request");
    Pending p = std::move(in_flight.front());
    in_flight.pop_front();
    slot_free.notify_one();
    auto parsed = protocol::decode_response(p.api_key, p.version, frame);
    if (!parsed || parsed->header.correlation_id != p.correlation_id) {
      const std::error_code ec = client_error(ClientError::bad_response);
      p.on_done(ec);
      return ec;
    }
    p.on_done(std::move(parsed->body));
    return {};
  }

  void read_loop() {
    while (!failed) {
      if (in_flight.empty()) {
        in_flight_ready.wait(rt);
        continue;
      }
      // The oldest request's deadline bounds the read: later requests can
      // only be answered after it.
      const Instant deadline = in_flight.front().deadline;
      Result<Bytes> frame = read_frame(deadline);
      if (failed) return;
      if (!frame) return fail(frame.error());
      if (auto r = dispatch(*frame); !r) return fail(r.error());
    }
  }

  void write_loop() {
    while (!failed) {
      if (outbox.empty()) {
        outbox_ready.wait(rt);
        continue;
      }
      Outgoing o = std::move(outbox.front());
      outbox.pop_front();
      Result<void> w = conn->write(o.frame);
      if (!w) {
        if (o.on_written) o.on_written(w.error());
        return fail(w.error());
      }
      if (o.on_written) o.on_written(protocol::Response{protocol::ProduceResponse{}});
      // Buggify: the connection breaks with a request written and its
      // answer unread, as a network can break it at any moment: the
      // outcome is unknown and the caller must retry without harm.
      if (rt.buggify("client.reset_after_write", 0.2)) return fail(std::make_error_code(std::errc::connection_reset));
    }
  }
};

namespace {

Bytes request_frame(const ConnectionOptions& o, ApiKey key, std::int16_t version,
                    std::int32_t correlation_id, const protocol::Request& body) {
  protocol::RequestHeader h;
  h.api_key = key;
  h.api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = o.client_id;
  return protocol::encode_request_frame(h, body);
}

ApiKey key_of(const protocol::Request& body) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::api_key; }, body);
}

// One ApiVersions exchange before the pipeline starts. A broker that does
// not know our version answers UNSUPPORTED_VERSION in the v0 layout with its
// own range, and we ask again at the highest version it lists.
Result<protocol::ApiVersionsResponse> exchange_api_versions(BrokerConnection::State& s,
                                                            std::int16_t version) {
  const std::int32_t id = s.take_correlation_id();
  const Bytes frame = request_frame(s.options, ApiKey::api_versions, version, id,
                                    protocol::ApiVersionsRequest{});
  if (auto w = s.conn->write(frame); !w) return w.error();
  Result<Bytes> body = s.read_frame(s.rt.now() + s.options.request_timeout);
  if (!body) return body.error();
  auto parsed = protocol::decode_response(ApiKey::api_versions, version, *body);
  if (!parsed) parsed = protocol::decode_response(ApiKey::api_versions, 0, *body);
  if (!parsed || parsed->header.correlation_id != id)
    return client_error(ClientError::bad_response);
  return std::get<protocol::ApiVersionsResponse>(std::move(parsed->body));
}

Result<ApiVersionTable> negotiate(BrokerConnection::State& s) {
  const std::int16_t ours = client_versions(ApiKey::api_versions)->max;
  auto first = exchange_api_versions(s, ours);
  if (!first) return first.error();
  if (first->error_code == protocol::ErrorCode::UNSUPPORTED_VERSION) {
    std::optional<std::int16_t> theirs =
        ApiVersionTable::from_response(*first).pick(ApiKey::api_versions);
    if (!theirs || *theirs >= ours) return client_error(ClientError::no_common_version);
    first = exchange_api_versions(s, *theirs);
    if (!first) return first.error();
  }
  if (first->error_code != protocol::ErrorCode::NONE) return kafka_error(first->error_code);
  return ApiVersionTable::from_response(*first);
}

}  // namespace

Result<std::shared_ptr<BrokerConnection>> BrokerConnection::open(Runtime& rt, const Address& address,
                                                                 const ConnectionOptions& options) {
  CASTLE_ASSERT(options.in_flight_max > 0, "at least one request in flight");
  auto conn = rt.net().connect(address, options.connect_timeout);
  if (!conn) return conn.error();
  auto state = std::make_shared<State>(rt, std::move(*conn), address, options);
  Result<ApiVersionTable> table = negotiate(*state);
  if (!table) {
    state->fail(table.error());
    return table.error();
  }
  state->versions = std::move(*table);
  const std::string name = "kafka-conn " + address.to_string();
  state->reader = rt.spawn(name + " reader", [state] { state->read_loop(); });
  state->writer = rt.spawn(name + " writer", [state] { state->write_loop(); });
  return std::shared_ptr<BrokerConnection>(new BrokerConnection(std::move(state)));
}

BrokerConnection::~BrokerConnection() { close(); }

std::optional<std::int16_t> BrokerConnection::version(ApiKey key) const {
  return state_->versions.pick(key);
}

Result<void> BrokerConnection::send(protocol::Request body, ResponseHandler on_done,
                                    std::optional<Duration> timeout, bool expect_response) {
  State& s = *state_;
  CASTLE_ASSERT(on_done != nullptr, "a request needs a handler");
  // Hold the state: a handler run by fail() may drop the last owner.
  const std::shared_ptr<State> hold = state_;
  while (!s.failed && expect_response && s.in_flight.size() >= s.options.in_flight_max)
    s.slot_free.wait(s.rt);
  if (s.failed) return s.failed;
  const ApiKey key = key_of(body);
  const std::optional<std::int16_t> version = s.versions.pick(key);
  if (!version) return client_error(ClientError::no_common_version);
  const std::int32_t id = s.take_correlation_id();
  Outgoing o{request_frame(s.options, key, *version, id, body), nullptr};
  if (expect_response) {
    const Instant deadline = s.rt.now() + timeout.value_or(s.options.request_timeout);
    s.in_flight.push_back(Pending{id, key, *version, deadline, std::move(on_done)});
    s.in_flight_ready.notify_one();
  } else {
    o.on_written = std::move(on_done);
  }
  s.outbox.push_back(std::move(o));
  s.outbox_ready.notify_one();
  return {};
}

Result<protocol::Response> BrokerConnection::call(protocol::Request body,
                                                  std::optional<Duration> timeout) {
  auto promise = std::make_shared<Promise<Result<protocol::Response>>>();
  Future<Result<protocol::Response>> future = promise->future();
  auto sent = send(
      std::move(body), [promise](Result<protocol::Response> r) { promise->set(std::move(r)); },
      timeout);
  if (!sent) return sent.error();
  // The connection enforces the deadline itself and fails the request.
  if (future.wait(state_->rt) != FutureStatus::ready) return std::errc::operation_canceled;
  return std::move(future.value());
}

bool BrokerConnection::broken() const { return static_cast<bool>(state_->failed); }
std::error_code BrokerConnection::failure() const { return state_->failed; }
std::size_t BrokerConnection::in_flight() const { return state_->in_flight.size(); }
const Address& BrokerConnection::address() const { return state_->address; }

void BrokerConnection::close() {
  if (!state_->failed) state_->fail(std::make_error_code(std::errc::operation_canceled));
}

}  // namespace castle::client
