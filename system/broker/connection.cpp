#include "system/broker/connection.h"

#include "system/util/endian.h"

namespace castle::broker {

using protocol::ApiKey;

ClientConnection::ClientConnection(std::shared_ptr<Broker::Impl> broker, std::uint64_t id,
                                   std::unique_ptr<Connection> conn)
    : broker_(std::move(broker)),
      id_(id),
      conn_(std::move(conn)),
      queue_(static_cast<std::size_t>(std::max(1, broker_->config.queued_max_requests))) {}

void ClientConnection::start() {
  auto self = shared_from_this();
  reader_ = broker_->rt.spawn("broker.conn.read", [self] { self->read_loop(); });
  handler_ = broker_->rt.spawn("broker.conn.handle", [self] { self->handle_loop(); });
}

void ClientConnection::close() {
  if (closed_) return;
  closed_ = true;
  conn_->close();
  queue_.close();
}

void ClientConnection::join() {
  reader_.join();
  handler_.join();
}

void ClientConnection::finished_one_side() {
  close();
  if (--sides_running_ == 0) broker_->connections.erase(id_);
}

void ClientConnection::read_loop() {
  Broker::Impl& b = *broker_;
  for (;;) {
    std::uint8_t prefix[4];
    const auto idle = b.rt.now() + milliseconds(b.config.connections_max_idle_ms);
    auto got = read_exact(*conn_, prefix, idle);
    if (got.end_of_stream || !got.status) break;
    const auto size = static_cast<std::int32_t>(load_be(prefix, 4));
    // Kafka closes a connection whose frame is empty, negative or over
    // socket.request.max.bytes: there is no way to resynchronise.
    if (size <= 0 || size > b.config.socket_request_max_bytes) {
      ++b.stats.bad_frames;
      CASTLE_TRACE(b.rt.tracer(), "broker.bad_frame_size",
                   {{"connection", id_}, {"size", std::int64_t{size}}});
      break;
    }
    Frame frame{std::unique_ptr<std::uint8_t[]>(new std::uint8_t[static_cast<std::size_t>(size)]),
                static_cast<std::size_t>(size)};
    if (auto body = read_exact(*conn_, frame.bytes()); !body.status || body.end_of_stream) break;
    if (queue_.send(b.rt, std::move(frame)) != ChannelStatus::ok) break;
  }
  // Requests already queued are still answered: the client may have shut
  // its sending side only.
  queue_.close();
  if (--sides_running_ == 0) broker_->connections.erase(id_);
}

void ClientConnection::handle_loop() {
  for (;;) {
    auto [status, frame] = queue_.recv(broker_->rt);
    if (status != ChannelStatus::ok) break;
    if (!handle_frame(*frame)) break;
  }
  finished_one_side();
}

bool ClientConnection::write(std::span<const std::uint8_t> bytes) {
  return static_cast<bool>(conn_->write(bytes));
}

bool ClientConnection::handle_frame(Frame& frame) {
  Broker::Impl& b = *broker_;
  ++b.stats.requests;
  auto decoded = protocol::decode_request(frame.bytes());
  if (!decoded) {
    const protocol::RequestFailure& f = decoded.error();
    ++b.stats.bad_frames;
    CASTLE_TRACE(b.rt.tracer(), "broker.bad_request",
                 {{"connection", id_}, {"header_ok", f.header_ok},
                  {"api_key", std::int64_t{static_cast<std::int16_t>(f.header.api_key)}},
                  {"api_version", std::int64_t{f.header.api_version}}});
    // A newer client's first ApiVersions is answered in the v0 format so it
    // can retry with a version we speak; anything else we cannot parse
    // closes the connection, as Kafka does.
    if (f.header_ok && f.header.api_key == ApiKey::api_versions)
      return write(protocol::encode_api_versions_fallback_frame(f.header.correlation_id));
    return false;
  }
  protocol::ParsedRequest& req = decoded.value();
  RequestContext ctx{b, req.header};
  std::optional<protocol::Response> response =
      std::visit([&](auto& body) { return handle(ctx, body); }, req.body);
  if (!response) return !ctx.close_connection;
  const auto bytes = protocol::encode_response_frame(req.header.correlation_id,
                                                     req.header.api_version, *response);
  return write(bytes) && !ctx.close_connection;
}

}  // namespace castle::broker
