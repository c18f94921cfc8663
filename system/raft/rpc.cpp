#include "system/raft/rpc.h"

#include "system/runtime/sync.h"
#include "system/util/endian.h"

namespace castle::raft {

namespace {

constexpr std::size_t size_prefix_bytes = 4;

// Runs a function when the scope ends, also when a fiber unwinds through it
// (a cancelled or killed fiber must not leave a flag set).
template <class F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F f_;
};

// A flag-based lock whose wait takes a deadline (Mutex's does not).
struct WriteLock {
  bool held = false;
  WaitList waiters;
  bool acquire(Runtime& rt, std::optional<Instant> deadline) {
    while (held) {
      if (!waiters.wait(rt, deadline) && held) return false;
    }
    held = true;
    return true;
  }
  void release() {
    held = false;
    waiters.notify_all();
  }
};

}  // namespace

std::vector<std::uint8_t> encode_frame(std::int16_t type, std::int32_t correlation,
                                       std::span<const std::uint8_t> body) {
  CASTLE_ASSERT(body.size() <= static_cast<std::size_t>(INT32_MAX - rpc_header_bytes),
                "a frame body fits an i32 size");
  std::vector<std::uint8_t> out(size_prefix_bytes + rpc_header_bytes + body.size());
  store_be(out.data(), rpc_header_bytes + body.size(), 4);
  store_be(out.data() + 4, static_cast<std::uint16_t>(type), 2);
  store_be(out.data() + 6, static_cast<std::uint32_t>(correlation), 4);
  std::copy(body.begin(), body.end(), out.begin() + size_prefix_bytes + rpc_header_bytes);
  return out;
}

Result<Frame> read_frame(Connection& conn, std::optional<Instant> deadline, bool* end_of_stream,
                         std::int32_t frame_bytes_max) {
  *end_of_stream = false;
  std::uint8_t prefix[size_prefix_bytes + rpc_header_bytes];
  auto head = read_exact(conn, std::span(prefix).first(size_prefix_bytes), deadline);
  if (head.end_of_stream) *end_of_stream = true;
  if (!head.status) return head.status.error();
  const auto size = static_cast<std::int32_t>(load_be(prefix, 4));
  // A negative, too small or too large size is garbage: never allocate it.
  if (size < rpc_header_bytes || size > frame_bytes_max) return std::errc::message_size;
  auto rest = read_exact(conn, std::span(prefix).subspan(size_prefix_bytes), deadline);
  if (!rest.status) return rest.status.error();
  Frame f;
  f.type = static_cast<std::int16_t>(load_be(prefix + 4, 2));
  f.correlation = static_cast<std::int32_t>(load_be(prefix + 6, 4));
  f.body.resize(static_cast<std::size_t>(size - rpc_header_bytes));
  if (!f.body.empty()) {
    auto body = read_exact(conn, f.body, deadline);
    if (!body.status) return body.status.error();
  }
  return f;
}

// ------------------------------------------------------------------ server

namespace {
struct ServerConn {
  std::unique_ptr<Connection> conn;
  WriteLock write;
  std::size_t in_flight = 0;
  WaitList slot_free;
  bool closed = false;
  void close() {
    if (closed) return;
    closed = true;
    conn->close();
  }
};
}  // namespace

struct RpcServer::Impl {
  Impl(Runtime& r, RpcServerConfig c) : rt(r), config(c) {}
  Runtime& rt;
  RpcServerConfig config;
  std::map<std::int16_t, RpcHandler> handlers;
  std::unique_ptr<Listener> listener;
  RpcServerStats stats;
  std::map<std::uint64_t, std::weak_ptr<ServerConn>> conns;  // by accept order
  std::uint64_t next_conn = 0;
  bool stopped = false;

  static void accept_loop(const std::shared_ptr<Impl>& self);
  static void read_loop(const std::shared_ptr<Impl>& self, const std::shared_ptr<ServerConn>& c,
                        std::uint64_t id);
  void serve(ServerConn& c, const Frame& f);
};

void RpcServer::Impl::accept_loop(const std::shared_ptr<Impl>& self) {
  while (!self->stopped) {
    auto conn = self->listener->accept();
    if (!conn) {
      if (self->stopped) return;
      self->rt.sleep_for(self->config.accept_retry);
      continue;
    }
    ++self->stats.connections;
    auto c = std::make_shared<ServerConn>();
    c->conn = std::move(*conn);
    const std::uint64_t id = self->next_conn++;
    self->conns[id] = c;
    self->rt.spawn("rpc.conn", [self, c, id] { read_loop(self, c, id); });
  }
}

void RpcServer::Impl::read_loop(const std::shared_ptr<Impl>& self,
                                const std::shared_ptr<ServerConn>& c, std::uint64_t id) {
  ScopeExit forget([&] {
    c->close();
    self->conns.erase(id);
  });
  while (!c->closed) {
    bool eos = false;
    auto frame = read_frame(*c->conn, std::nullopt, &eos, self->config.frame_bytes_max);
    if (!frame) {
      if (frame.error() == std::errc::message_size) ++self->stats.bad_frames;
      return;
    }
    if (self->handlers.find(frame->type) == self->handlers.end()) {
      ++self->stats.bad_frames;
      return;
    }
    while (c->in_flight >= self->config.in_flight_max && !c->closed) c->slot_free.wait(self->rt);
    ++c->in_flight;
    ++self->stats.requests;
    auto f = std::make_shared<Frame>(std::move(*frame));
    self->rt.spawn("rpc.request", [self, c, f] {
      ScopeExit done([&] {
        --c->in_flight;
        c->slot_free.notify_one();
      });
      self->serve(*c, *f);
    });
  }
}

void RpcServer::Impl::serve(ServerConn& c, const Frame& f) {
  auto reply = handlers.at(f.type)(f.body);
  if (c.closed) return;
  if (!reply) {
    ++stats.bad_frames;
    c.close();
    return;
  }
  if (reply->size() > static_cast<std::size_t>(config.frame_bytes_max - rpc_header_bytes)) {
    c.close();  // a handler's bug, not the peer's: still never send an oversized frame
    return;
  }
  const auto bytes = encode_frame(f.type, f.correlation, *reply);
  if (!c.write.acquire(rt, std::nullopt)) return;
  ScopeExit unlock([&] { c.write.release(); });
  if (!c.conn->write(bytes)) c.close();
}

RpcServer::RpcServer(Runtime& rt, RpcServerConfig config)
    : impl_(std::make_shared<Impl>(rt, config)) {}

RpcServer::~RpcServer() { stop(); }

void RpcServer::handle(std::int16_t type, RpcHandler handler) {
  CASTLE_ASSERT(impl_->listener == nullptr, "handlers are registered before start");
  CASTLE_ASSERT(!impl_->handlers.count(type), "one handler per request type");
  impl_->handlers[type] = std::move(handler);
}

Result<void> RpcServer::start(const Address& listen) {
  CASTLE_ASSERT(impl_->listener == nullptr, "start once");
  auto l = impl_->rt.net().listen(listen);
  if (!l) return l.error();
  impl_->listener = std::move(*l);
  auto self = impl_;
  impl_->rt.spawn("rpc.accept", [self] { Impl::accept_loop(self); });
  return {};
}

void RpcServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->listener) impl_->listener->close();
  // Copy first: closing wakes readers, which erase themselves from the map.
  std::vector<std::shared_ptr<ServerConn>> open;
  for (auto& [id, w] : impl_->conns)
    if (auto c = w.lock()) open.push_back(c);
  for (auto& c : open) c->close();
}

Address RpcServer::local_address() const {
  CASTLE_ASSERT(impl_->listener != nullptr, "local_address after start");
  return impl_->listener->local_address();
}

const RpcServerStats& RpcServer::stats() const { return impl_->stats; }

// ------------------------------------------------------------------ client

namespace {
struct CallSlot {
  std::optional<std::vector<std::uint8_t>> value;
  std::error_code error;
  Event ready;
  void fail(std::error_code ec) {
    if (ready.is_set()) return;
    error = ec;
    ready.set();
  }
};
}  // namespace

struct RpcClient::Impl {
  Impl(Runtime& r, Address p, RpcClientConfig c) : rt(r), peer(std::move(p)), config(c) {}
  Runtime& rt;
  Address peer;
  RpcClientConfig config;
  std::shared_ptr<Connection> conn;
  std::uint64_t generation = 0;  // bumped per connection, so a late failure of an old one is ignored
  WriteLock connect_lock;
  WriteLock write;
  std::int32_t next_correlation = 1;
  std::map<std::int32_t, std::shared_ptr<CallSlot>> pending;

  // Drops connection `gen` (if still current) and fails its calls.
  void fail_connection(std::uint64_t gen, std::error_code ec) {
    if (gen != generation || !conn) return;
    conn->close();
    conn.reset();
    ++generation;
    auto calls = std::move(pending);
    pending.clear();
    for (auto& [corr, slot] : calls) slot->fail(ec);
  }
  static Result<void> ensure_connected(const std::shared_ptr<Impl>& self, Instant deadline);
  static void read_loop(const std::shared_ptr<Impl>& self, std::shared_ptr<Connection> c,
                        std::uint64_t gen);
};

Result<void> RpcClient::Impl::ensure_connected(const std::shared_ptr<Impl>& self,
                                               Instant deadline) {
  if (!self->connect_lock.acquire(self->rt, deadline)) return std::errc::timed_out;
  ScopeExit unlock([&] { self->connect_lock.release(); });
  if (self->conn) return {};
  const Duration left = deadline - self->rt.now();
  if (left <= Duration::zero()) return std::errc::timed_out;
  auto c = self->rt.net().connect(self->peer, std::min(left, self->config.connect_timeout));
  if (!c) return c.error();
  self->conn = std::shared_ptr<Connection>(std::move(*c));
  const std::uint64_t gen = ++self->generation;
  auto conn = self->conn;
  self->rt.spawn("rpc.client.read", [self, conn, gen] { read_loop(self, conn, gen); });
  return {};
}

void RpcClient::Impl::read_loop(const std::shared_ptr<Impl>& self, std::shared_ptr<Connection> c,
                                std::uint64_t gen) {
  for (;;) {
    bool eos = false;
    auto frame = read_frame(*c, std::nullopt, &eos, self->config.frame_bytes_max);
    if (!frame) {
      self->fail_connection(gen, eos ? std::make_error_code(std::errc::connection_reset)
                                     : frame.error());
      return;
    }
    if (gen != self->generation) return;
    auto it = self->pending.find(frame->correlation);
    if (it == self->pending.end()) continue;  // a call that already timed out
    auto slot = it->second;
    self->pending.erase(it);
    slot->value = std::move(frame->body);
    slot->ready.set();
  }
}

RpcClient::RpcClient(Runtime& rt, Address peer, RpcClientConfig config)
    : impl_(std::make_shared<Impl>(rt, std::move(peer), config)) {}

RpcClient::~RpcClient() { close(); }

void RpcClient::close() {
  impl_->fail_connection(impl_->generation, std::make_error_code(std::errc::operation_canceled));
}

const Address& RpcClient::peer() const { return impl_->peer; }

Result<std::vector<std::uint8_t>> RpcClient::call(std::int16_t type,
                                                  std::span<const std::uint8_t> body,
                                                  Duration timeout) {
  if (body.size() > static_cast<std::size_t>(impl_->config.frame_bytes_max - rpc_header_bytes))
    return std::errc::message_size;
  auto self = impl_;
  const Instant deadline = self->rt.now() + timeout;
  if (auto r = Impl::ensure_connected(self, deadline); !r) return r.error();
  const std::uint64_t gen = self->generation;
  const std::int32_t corr = self->next_correlation;
  self->next_correlation = corr == INT32_MAX ? 1 : corr + 1;
  auto slot = std::make_shared<CallSlot>();
  self->pending[corr] = slot;
  ScopeExit forget([&] {
    if (gen == self->generation) self->pending.erase(corr);
  });
  if (!self->write.acquire(self->rt, deadline)) {
    self->fail_connection(gen, std::make_error_code(std::errc::timed_out));
    return std::errc::timed_out;
  }
  {
    ScopeExit unlock([&] { self->write.release(); });
    if (gen != self->generation) return slot->error ? slot->error : std::make_error_code(std::errc::connection_reset);
    auto c = self->conn;
    if (auto w = c->write(encode_frame(type, corr, body)); !w) {
      self->fail_connection(gen, w.error());
      return w.error();
    }
  }
  if (!slot->ready.wait(self->rt, deadline)) {
    self->fail_connection(gen, std::make_error_code(std::errc::timed_out));
    return std::errc::timed_out;
  }
  if (!slot->value) return slot->error;
  return std::move(*slot->value);
}

}  // namespace castle::raft
