// The simulated network. The fault model is written down in sim/network.h.
//
// All state lives in SimNetwork::Impl, in std::maps keyed by ids, so every
// iteration runs in an order fixed by the seed. Each direction of a
// connection is a Flow: a queue of segments in flight (each with its due
// time) and a buffer of bytes that arrived but were not yet read. A segment
// is delivered by an event at its due time; only the head of a flow is ever
// delivered, so a flow never reorders. Control segments (SYN-ACK, FIN, RST)
// travel in the same queues as data, behind what was written before them.
//
// The handles given to node code (SimConnection, SimListener) hold shared
// pointers to their own small state plus a weak "alive" token of the
// network: a handle may outlive its node's crash and the whole world, and
// then its methods return errors instead of touching freed state.

#include "sim/network.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <string_view>
#include <utility>

#include "sim/node.h"
#include "sim/world.h"
#include "system/runtime/sync.h"

namespace castle::sim {

namespace netdetail {

// Large writes are cut into segments of at most this size, so that a reader
// sees the first bytes of a big write before the last ones arrive.
constexpr std::size_t segment_bytes_max = 64 * 1024;
// Connections delivered to a listener and not yet accepted; beyond this a
// SYN is dropped, as Linux does, and the connector retransmits it.
constexpr std::size_t backlog_max = 128;
// TCP's initial SYN retransmission timeout, doubled per loss up to the max.
constexpr Duration syn_rto_initial = std::chrono::seconds(1);
constexpr Duration syn_rto_max = std::chrono::seconds(16);
constexpr std::uint16_t ephemeral_port_first = 32768;
constexpr std::uint16_t ephemeral_port_last = 60999;
constexpr SimTime never = -1;

enum class SegmentKind : std::uint8_t { data, syn_ack, fin, rst };

struct Segment {
  SegmentKind kind = SegmentKind::data;
  SimTime due = 0;
  std::vector<std::uint8_t> bytes;
};

// One direction of a connection: flow[s] carries what side s sends.
struct Flow {
  std::deque<Segment> in_flight;  // sent, not yet arrived, in send order
  std::size_t in_flight_bytes = 0;
  std::deque<std::vector<std::uint8_t>> arrived;  // arrived, not yet read
  std::size_t arrived_head_bytes = 0;  // already read of arrived.front()
  std::size_t arrived_bytes = 0;
  bool fin_arrived = false;
  bool rst_sent = false;
  SimTime last_due = 0;
  SimTime stalled_since = never;  // head held on a cut link since then
  SimTime clog_wake = never;      // a delivery attempt is booked for then

  void drop_arrived() {
    arrived.clear();
    arrived_head_bytes = 0;
    arrived_bytes = 0;
  }
  void drop_in_flight() {
    in_flight.clear();
    in_flight_bytes = 0;
  }
};

// A connect() in progress: the SYN, its retransmissions and the answer.
struct ConnectAttempt {
  std::uint64_t id = 0;
  int from = 0;
  int to = 0;
  std::uint16_t port = 0;
  std::uint16_t client_port = 0;
  SimTime started = 0;
  Duration rto = syn_rto_initial;
  bool done = false;
  std::error_code error;
  std::uint64_t conn_id = 0;  // set once the server side exists
  WaitList waiters;
};

}  // namespace netdetail

using netdetail::ConnectAttempt;
using netdetail::Flow;
using netdetail::Segment;
using netdetail::SegmentKind;

struct SimConnState {
  std::uint64_t id = 0;
  std::uint64_t attempt_id = 0;
  int node[2] = {0, 0};  // side 0 connected, side 1 was accepted
  std::uint16_t port[2] = {0, 0};
  Flow flow[2];
  bool established = false;  // side 0 has seen the SYN-ACK
  bool closed[2] = {false, false};
  std::error_code error[2];
  WaitList waiters[2];  // fibers of each side blocked on this connection

  bool side_done(int s) const { return closed[s] || static_cast<bool>(error[s]); }
};

class SimListenerImpl {
 public:
  std::uint64_t id = 0;
  int node = 0;
  std::uint16_t port = 0;
  bool closed = false;
  std::deque<std::uint64_t> backlog;  // connection ids, oldest first
  WaitList waiters;
};

struct SimNetwork::Impl {
  explicit Impl(SimNetwork& n) : net(n), world(n.world()), rng(n.world().fork_rng("network")) {}

  SimNetwork& net;
  World& world;
  Rng rng;
  // Handles hold a weak pointer to this: expired means the network is gone.
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  std::uint64_t next_conn_id = 1;
  std::uint64_t next_listener_id = 1;
  std::uint64_t next_attempt_id = 1;
  std::map<std::uint64_t, std::shared_ptr<SimConnState>> conns;
  std::map<std::uint64_t, std::shared_ptr<SimListenerImpl>> listeners;
  std::map<std::pair<int, std::uint16_t>, std::uint64_t> listener_by_port;
  std::map<std::uint64_t, std::shared_ptr<ConnectAttempt>> attempts;
  std::map<int, std::uint16_t> next_port;  // per node
  std::set<std::pair<int, int>> cuts;     // directed (from, to)
  std::map<std::pair<int, int>, SimTime> clog_until;
  Duration spike_extra{0};
  SimTime spike_until = 0;

  SimTime now() const { return world.now(); }
  const NetworkConfig& config() const { return net.config_; }
  NetworkStats& stats() { return net.stats_; }
  SimNode& node(int id) { return world.node(static_cast<std::size_t>(id)); }

  // Links.
  bool link_up(int from, int to) const { return cuts.count({from, to}) == 0; }
  SimTime clogged_until(int from, int to) const;
  Duration draw_latency();
  void heal_link(int from, int to);

  // Segments.
  void send(SimConnState& c, int s, Segment seg);
  void pump(std::uint64_t conn_id, int s);
  void pump_flow(SimConnState& c, int s);
  void arrive(SimConnState& c, int s, Segment seg);
  void mark_stalled(SimConnState& c, int s);
  void stall_check(std::uint64_t conn_id, int s);
  void resend_held(SimConnState& c, int s);

  // Connection state changes.
  void notify(SimConnState& c, int s);
  void fail_side(SimConnState& c, int s, std::error_code ec);
  void reset_conn(SimConnState& c, const char* why);
  void crash_conn(SimConnState& c, int node_id);
  void maybe_erase(const SimConnState& c);
  SimConnState* find_conn(std::uint64_t id);

  // Connection setup.
  SimNode* resolve(SimNode& from, const std::string& host);
  std::uint16_t allocate_port(int node_id);
  void send_syn(std::uint64_t attempt_id, SimTime at);
  void syn_arrive(std::uint64_t attempt_id);
  void syn_lost(ConnectAttempt& a);
  void refuse(ConnectAttempt& a);
  void open_conn(ConnectAttempt& a, SimListenerImpl& l);
  void finish_attempt(std::uint64_t attempt_id);
  Result<std::unique_ptr<Connection>> connect(SimNode& from, const Address& addr,
                                              Duration timeout);
  Result<std::unique_ptr<Connection>> connect_wait(SimNode& from, ConnectAttempt& a,
                                                   Instant deadline, const Address& addr);
  Result<std::unique_ptr<Listener>> listen(SimNode& n, const Address& addr);

  // Operations behind the handles.
  std::error_code side_error(const SimConnState& c, int s) const;
  Result<std::size_t> read(SimConnState& c, int s, std::span<std::uint8_t> buf,
                           std::optional<Instant> deadline);
  std::size_t take(SimConnState& c, int s, std::span<std::uint8_t> buf);
  Result<void> write(SimConnState& c, int s, std::span<const std::uint8_t> data);
  void close(SimConnState& c, int s);
  Result<std::unique_ptr<Connection>> accept(SimListenerImpl& l);
  void close_listener(SimListenerImpl& l);
};

// ---------------------------------------------------------------- handles

namespace {

class SimConnection final : public Connection {
 public:
  SimConnection(SimNetwork::Impl& impl, std::shared_ptr<SimConnState> st, int side, Address peer)
      : impl_(&impl), alive_(impl.alive), st_(std::move(st)), side_(side), peer_(std::move(peer)) {
    CASTLE_ASSERT(side_ == 0 || side_ == 1, "a connection has two sides");
  }
  ~SimConnection() override { close(); }

  Result<std::size_t> read(std::span<std::uint8_t> buf,
                           std::optional<Instant> deadline) override {
    if (alive_.expired()) return std::errc::connection_reset;
    return impl_->read(*st_, side_, buf, deadline);
  }
  Result<void> write(std::span<const std::uint8_t> data) override {
    if (alive_.expired()) return std::errc::connection_reset;
    return impl_->write(*st_, side_, data);
  }
  void close() override {
    if (!alive_.expired()) impl_->close(*st_, side_);
  }
  Address peer_address() const override { return peer_; }

 private:
  SimNetwork::Impl* impl_;  // valid only while alive_ has not expired
  std::weak_ptr<int> alive_;
  std::shared_ptr<SimConnState> st_;
  int side_;
  Address peer_;
};

class SimListener final : public Listener {
 public:
  SimListener(SimNetwork::Impl& impl, std::shared_ptr<SimListenerImpl> st, Address local)
      : impl_(&impl), alive_(impl.alive), st_(std::move(st)), local_(std::move(local)) {}
  ~SimListener() override { close(); }

  Result<std::unique_ptr<Connection>> accept() override {
    if (alive_.expired()) return std::errc::operation_canceled;
    return impl_->accept(*st_);
  }
  void close() override {
    if (!alive_.expired()) impl_->close_listener(*st_);
  }
  Address local_address() const override { return local_; }

 private:
  SimNetwork::Impl* impl_;  // valid only while alive_ has not expired
  std::weak_ptr<int> alive_;
  std::shared_ptr<SimListenerImpl> st_;
  Address local_;
};

std::uint64_t pair_key(int a, int b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}

}  // namespace

// ------------------------------------------------------------------ links

SimTime SimNetwork::Impl::clogged_until(int from, int to) const {
  auto it = clog_until.find({from, to});
  return it == clog_until.end() ? 0 : it->second;
}

Duration SimNetwork::Impl::draw_latency() {
  const NetworkConfig& cfg = config();
  CASTLE_ASSERT(cfg.latency_min.count() > 0 && cfg.latency_min <= cfg.latency_max,
                "network latency range must be positive and ordered");
  Duration d(rng.between(cfg.latency_min.count(), cfg.latency_max.count()));
  if (now() < spike_until) d += spike_extra;
  return d;
}

void SimNetwork::Impl::heal_link(int from, int to) {
  if (cuts.erase({from, to}) == 0) return;
  world.note("net.heal", pair_key(from, to));
  // Held segments flow again: TCP's next retransmission gets through.
  std::vector<std::shared_ptr<SimConnState>> stalled;
  for (auto& [id, c] : conns)
    for (int s = 0; s < 2; ++s)
      if (c->node[s] == from && c->node[1 - s] == to && c->flow[s].stalled_since != netdetail::never)
        stalled.push_back(c);
  for (auto& c : stalled)
    for (int s = 0; s < 2; ++s)
      if (c->node[s] == from && c->node[1 - s] == to && c->flow[s].stalled_since != netdetail::never)
        resend_held(*c, s);
}

// --------------------------------------------------------------- segments

void SimNetwork::Impl::send(SimConnState& c, int s, Segment seg) {
  Flow& f = c.flow[s];
  // Never reordered: a segment is due strictly after the one before it.
  seg.due = std::max(now() + draw_latency().count(), f.last_due + 1);
  f.last_due = seg.due;
  f.in_flight_bytes += seg.bytes.size();
  const SimTime due = seg.due;
  f.in_flight.push_back(std::move(seg));
  world.at(due, [this, id = c.id, s] { pump(id, s); });
}

void SimNetwork::Impl::pump(std::uint64_t conn_id, int s) {
  auto it = conns.find(conn_id);
  if (it == conns.end()) return;
  std::shared_ptr<SimConnState> keep = it->second;  // arrive() may erase it
  pump_flow(*keep, s);
}

// Delivers every segment of the flow that is due, in order, unless the link
// is cut (the head is held) or clogged (retry when the clog ends). Pumping
// is idempotent: stale events of re-timed segments find nothing to do.
void SimNetwork::Impl::pump_flow(SimConnState& c, int s) {
  Flow& f = c.flow[s];
  const int from = c.node[s];
  const int to = c.node[1 - s];
  while (!f.in_flight.empty() && f.in_flight.front().due <= now()) {
    if (!link_up(from, to)) {
      mark_stalled(c, s);
      return;
    }
    const SimTime clog_end = clogged_until(from, to);
    if (clog_end > now()) {
      if (f.clog_wake != clog_end) {
        f.clog_wake = clog_end;
        world.at(clog_end, [this, id = c.id, s] { pump(id, s); });
      }
      return;
    }
    Segment seg = std::move(f.in_flight.front());
    f.in_flight.pop_front();
    CASTLE_ASSERT(f.in_flight_bytes >= seg.bytes.size(), "in-flight byte count underflow");
    f.in_flight_bytes -= seg.bytes.size();
    arrive(c, s, std::move(seg));
  }
}

// A segment of flow s arrives at side r = 1 - s.
void SimNetwork::Impl::arrive(SimConnState& c, int s, Segment seg) {
  const int r = 1 - s;
  Flow& f = c.flow[s];
  if (c.side_done(r)) {
    // Nobody reads any more: the bytes vanish and free the sender's window.
    notify(c, s);
    return;
  }
  switch (seg.kind) {
    case SegmentKind::data: {
      const std::size_t n = seg.bytes.size();
      CASTLE_ASSERT(n > 0, "an empty data segment");
      f.arrived_bytes += n;
      f.arrived.push_back(std::move(seg.bytes));
      ++stats().segments_delivered;
      stats().bytes_delivered += n;
      world.note("net.deliver", c.id, (static_cast<std::uint64_t>(s) << 32) | n);
      break;
    }
    case SegmentKind::syn_ack:
      CASTLE_ASSERT(r == 0 && !c.established, "SYN-ACK goes to the connector once");
      c.established = true;
      world.note("net.established", c.id);
      break;
    case SegmentKind::fin:
      f.fin_arrived = true;
      world.note("net.fin", c.id, static_cast<std::uint64_t>(s));
      break;
    case SegmentKind::rst:
      world.note("net.rst", c.id, static_cast<std::uint64_t>(s));
      fail_side(c, r, std::make_error_code(std::errc::connection_reset));
      maybe_erase(c);
      return;
  }
  notify(c, r);
}

void SimNetwork::Impl::mark_stalled(SimConnState& c, int s) {
  Flow& f = c.flow[s];
  if (f.stalled_since != netdetail::never) return;
  f.stalled_since = now();
  world.note("net.stall", c.id, static_cast<std::uint64_t>(s));
  world.at(now() + config().stall_reset_after.count(),
           [this, id = c.id, s] { stall_check(id, s); });
}

// TCP gives up retransmitting after a while and resets the connection.
void SimNetwork::Impl::stall_check(std::uint64_t conn_id, int s) {
  SimConnState* c = find_conn(conn_id);
  if (c == nullptr) return;
  const Flow& f = c->flow[s];
  if (f.stalled_since == netdetail::never) return;
  if (now() - f.stalled_since < config().stall_reset_after.count()) return;  // re-stalled since
  if (link_up(c->node[s], c->node[1 - s])) return;
  auto keep = conns.at(conn_id);
  reset_conn(*keep, "net.stall_reset");
}

// The link healed: held segments are retransmitted with a fresh latency;
// those still on their way keep their due time, order is kept throughout.
void SimNetwork::Impl::resend_held(SimConnState& c, int s) {
  Flow& f = c.flow[s];
  f.stalled_since = netdetail::never;
  SimTime prev = 0;
  for (Segment& seg : f.in_flight) {
    SimTime due = seg.due <= now() ? now() + draw_latency().count() : seg.due;
    due = std::max(due, prev + 1);
    if (due != seg.due) {
      seg.due = due;
      world.at(due, [this, id = c.id, s] { pump(id, s); });
    }
    prev = due;
  }
  f.last_due = std::max(f.last_due, prev);
}

// ------------------------------------------------------ connection state

SimConnState* SimNetwork::Impl::find_conn(std::uint64_t id) {
  auto it = conns.find(id);
  return it == conns.end() ? nullptr : it->second.get();
}

void SimNetwork::Impl::notify(SimConnState& c, int s) {
  c.waiters[s].notify_all();
  // Before the SYN-ACK, side 0's only waiter is its connect().
  if (s == 0 && c.attempt_id != 0) {
    auto it = attempts.find(c.attempt_id);
    if (it != attempts.end()) it->second->waiters.notify_all();
  }
}

void SimNetwork::Impl::fail_side(SimConnState& c, int s, std::error_code ec) {
  if (c.side_done(s)) return;
  CASTLE_ASSERT(ec, "a side fails with a real error");
  c.error[s] = ec;
  // TCP discards the receive queue on a reset.
  c.flow[1 - s].drop_arrived();
  notify(c, s);
  notify(c, 1 - s);
}

// Both sides fail at once: a nemesis reset or a retransmission timeout.
void SimNetwork::Impl::reset_conn(SimConnState& c, const char* why) {
  world.note(why, c.id);
  ++stats().connections_reset;
  fail_side(c, 0, std::make_error_code(std::errc::connection_reset));
  fail_side(c, 1, std::make_error_code(std::errc::connection_reset));
  c.flow[0].drop_in_flight();
  c.flow[1].drop_in_flight();
  maybe_erase(c);
}

// The crashed side fails now; the peer learns by an RST that travels like
// any segment, behind the data the crashed node had already sent.
void SimNetwork::Impl::crash_conn(SimConnState& c, int node_id) {
  bool reset_any = false;
  for (int s = 0; s < 2; ++s) {
    if (c.node[s] != node_id || c.side_done(s)) continue;
    reset_any = true;
    fail_side(c, s, std::make_error_code(std::errc::connection_reset));
    const int p = 1 - s;
    if (c.node[p] != node_id && !c.side_done(p) && !c.flow[s].rst_sent) {
      c.flow[s].rst_sent = true;
      send(c, s, Segment{SegmentKind::rst, 0, {}});
    }
  }
  if (reset_any) {
    ++stats().connections_reset;
    world.note("net.crash_reset", c.id, static_cast<std::uint64_t>(node_id));
  }
  maybe_erase(c);
}

// A connection is forgotten once neither side can use it any more; handles
// keep their own reference to its state.
void SimNetwork::Impl::maybe_erase(const SimConnState& c) {
  if (c.side_done(0) && c.side_done(1)) conns.erase(c.id);
}

// -------------------------------------------------------- connection setup

SimNode* SimNetwork::Impl::resolve(SimNode& from, const std::string& host) {
  if (host == "localhost" || host == "127.0.0.1" || host == "::1") return &from;
  return world.find_node(host);
}

std::uint16_t SimNetwork::Impl::allocate_port(int node_id) {
  auto [it, fresh] = next_port.try_emplace(node_id, netdetail::ephemeral_port_first);
  const int range = netdetail::ephemeral_port_last - netdetail::ephemeral_port_first + 1;
  for (int tries = 0; tries < range; ++tries) {
    const std::uint16_t p = it->second;
    it->second = p == netdetail::ephemeral_port_last ? netdetail::ephemeral_port_first
                                                     : static_cast<std::uint16_t>(p + 1);
    if (listener_by_port.count({node_id, p}) == 0) return p;
  }
  CASTLE_UNREACHABLE("every ephemeral port of a node is listening");
}

void SimNetwork::Impl::send_syn(std::uint64_t attempt_id, SimTime at) {
  world.at(at, [this, attempt_id] { syn_arrive(attempt_id); });
}

void SimNetwork::Impl::syn_arrive(std::uint64_t attempt_id) {
  auto it = attempts.find(attempt_id);
  if (it == attempts.end() || it->second->done || it->second->conn_id != 0) return;
  ConnectAttempt& a = *it->second;
  const SimTime clog_end = clogged_until(a.from, a.to);
  if (clog_end > now()) return send_syn(a.id, clog_end);
  // The handshake needs both directions; a SYN to a dead host goes nowhere.
  if (!link_up(a.from, a.to) || !link_up(a.to, a.from) || !node(a.to).up()) return syn_lost(a);
  auto lit = listener_by_port.find({a.to, a.port});
  if (lit == listener_by_port.end()) return refuse(a);
  SimListenerImpl& l = *listeners.at(lit->second);
  if (l.backlog.size() >= netdetail::backlog_max) return syn_lost(a);
  open_conn(a, l);
}

void SimNetwork::Impl::syn_lost(ConnectAttempt& a) {
  world.note("net.syn_lost", a.id, pair_key(a.from, a.to));
  send_syn(a.id, now() + a.rto.count() + draw_latency().count());
  a.rto = std::min(a.rto * 2, netdetail::syn_rto_max);
}

// The RST answering a SYN takes a trip back, and never less than the
// configured refusal time after connect() began.
void SimNetwork::Impl::refuse(ConnectAttempt& a) {
  world.note("net.refused", a.id, pair_key(a.from, a.to));
  const SimTime at =
      std::max(now() + draw_latency().count(), a.started + config().connect_refused_after.count());
  world.at(at, [this, id = a.id] {
    auto it = attempts.find(id);
    if (it == attempts.end() || it->second->done) return;
    it->second->done = true;
    it->second->error = std::make_error_code(std::errc::connection_refused);
    it->second->waiters.notify_all();
  });
}

void SimNetwork::Impl::open_conn(ConnectAttempt& a, SimListenerImpl& l) {
  auto c = std::make_shared<SimConnState>();
  c->id = next_conn_id++;
  c->attempt_id = a.id;
  c->node[0] = a.from;
  c->node[1] = a.to;
  c->port[0] = a.client_port;
  c->port[1] = a.port;
  conns.emplace(c->id, c);
  a.conn_id = c->id;
  ++stats().connections_opened;
  world.note("net.open", c->id, pair_key(a.from, a.to));
  l.backlog.push_back(c->id);
  l.waiters.notify_all();
  send(*c, 1, Segment{SegmentKind::syn_ack, 0, {}});
}

void SimNetwork::Impl::finish_attempt(std::uint64_t attempt_id) {
  auto it = attempts.find(attempt_id);
  if (it == attempts.end()) return;
  std::shared_ptr<ConnectAttempt> a = it->second;
  attempts.erase(it);
  SimConnState* c = a->conn_id != 0 ? find_conn(a->conn_id) : nullptr;
  if (c == nullptr) return;
  c->attempt_id = 0;
  if (c->established && !c->side_done(0)) return;  // handed to the caller
  auto keep = conns.at(c->id);
  if (!keep->side_done(0)) {
    // The connector gave up on a half-open connection (its timeout): nobody
    // will ever hold side 0, so the accepted side is reset.
    reset_conn(*keep, "net.connect_abandoned");
    return;
  }
  // Side 0 already failed, and whatever failed it (a reset, a crash's RST)
  // takes care of side 1; no handle of side 0 exists to close it later.
  keep->closed[0] = true;
  maybe_erase(*keep);
}

Result<std::unique_ptr<Connection>> SimNetwork::Impl::connect(SimNode& from, const Address& addr,
                                                              Duration timeout) {
  SimNode* to = resolve(from, addr.host);
  if (to == nullptr) return std::errc::host_unreachable;
  if (addr.port == 0) return std::errc::connection_refused;
  const Instant deadline = from.now() + timeout;
  auto a = std::make_shared<ConnectAttempt>();
  a->id = next_attempt_id++;
  a->from = from.id();
  a->to = to->id();
  a->port = addr.port;
  a->client_port = allocate_port(from.id());
  a->started = now();
  attempts.emplace(a->id, a);
  world.note("net.connect", a->id, pair_key(a->from, a->to));
  send_syn(a->id, now() + draw_latency().count());
  // Whatever way connect() ends, even unwound by a crash, the attempt goes.
  struct Finish {
    Impl* impl;
    std::uint64_t id;
    ~Finish() { impl->finish_attempt(id); }
  } finish{this, a->id};
  return connect_wait(from, *a, deadline, addr);
}

Result<std::unique_ptr<Connection>> SimNetwork::Impl::connect_wait(SimNode& from,
                                                                   ConnectAttempt& a,
                                                                   Instant deadline,
                                                                   const Address& addr) {
  bool timed_out = false;
  for (;;) {
    if (a.error) return a.error;
    if (a.conn_id != 0) {
      auto it = conns.find(a.conn_id);
      if (it == conns.end()) return std::errc::connection_reset;
      SimConnState& c = *it->second;
      if (c.error[0]) return c.error[0];
      if (c.established) {
        Address peer{addr.host, addr.port};
        return std::unique_ptr<Connection>(
            std::make_unique<SimConnection>(*this, it->second, 0, std::move(peer)));
      }
    }
    if (timed_out) return std::errc::timed_out;
    timed_out = !a.waiters.wait(from, deadline);
  }
}

Result<std::unique_ptr<Listener>> SimNetwork::Impl::listen(SimNode& n, const Address& addr) {
  const std::string& h = addr.host;
  if (h != n.node_name() && h != "0.0.0.0" && h != "::" && !h.empty() && h != "localhost" &&
      h != "127.0.0.1")
    return std::errc::address_not_available;
  const std::uint16_t port = addr.port != 0 ? addr.port : allocate_port(n.id());
  if (listener_by_port.count({n.id(), port}) != 0) return std::errc::address_in_use;
  auto l = std::make_shared<SimListenerImpl>();
  l->id = next_listener_id++;
  l->node = n.id();
  l->port = port;
  listeners.emplace(l->id, l);
  listener_by_port.emplace(std::pair{n.id(), port}, l->id);
  world.note("net.listen", static_cast<std::uint64_t>(n.id()), port);
  return std::unique_ptr<Listener>(
      std::make_unique<SimListener>(*this, l, Address{n.node_name(), port}));
}

// ------------------------------------------------- operations of handles

std::error_code SimNetwork::Impl::side_error(const SimConnState& c, int s) const {
  if (c.closed[s]) return std::make_error_code(std::errc::operation_canceled);
  return c.error[s];
}

Result<std::size_t> SimNetwork::Impl::read(SimConnState& c, int s, std::span<std::uint8_t> buf,
                                           std::optional<Instant> deadline) {
  SimNode& n = node(c.node[s]);
  bool timed_out = false;
  for (;;) {
    if (std::error_code ec = side_error(c, s)) return ec;
    const Flow& in = c.flow[1 - s];
    if (in.arrived_bytes > 0 && !buf.empty()) return take(c, s, buf);
    if (in.fin_arrived || buf.empty()) return std::size_t{0};
    if (timed_out) return std::errc::timed_out;
    timed_out = !c.waiters[s].wait(n, deadline);
  }
}

std::size_t SimNetwork::Impl::take(SimConnState& c, int s, std::span<std::uint8_t> buf) {
  Flow& in = c.flow[1 - s];
  std::size_t n = 0;
  while (n < buf.size() && !in.arrived.empty()) {
    std::vector<std::uint8_t>& chunk = in.arrived.front();
    const std::size_t k = std::min(buf.size() - n, chunk.size() - in.arrived_head_bytes);
    std::memcpy(buf.data() + n, chunk.data() + in.arrived_head_bytes, k);
    n += k;
    in.arrived_head_bytes += k;
    if (in.arrived_head_bytes == chunk.size()) {
      in.arrived.pop_front();
      in.arrived_head_bytes = 0;
    }
  }
  CASTLE_ASSERT(n > 0 && in.arrived_bytes >= n, "read more than arrived");
  in.arrived_bytes -= n;
  notify(c, 1 - s);  // the sender's window opened
  return n;
}

Result<void> SimNetwork::Impl::write(SimConnState& c, int s, std::span<const std::uint8_t> data) {
  SimNode& n = node(c.node[s]);
  const std::size_t window = config().window_bytes;
  CASTLE_ASSERT(window > 0, "a flow control window must be positive");
  std::size_t written = 0;
  while (written < data.size()) {
    if (std::error_code ec = side_error(c, s)) return ec;
    if (c.flow[1 - s].fin_arrived) return std::errc::broken_pipe;  // the peer closed
    const Flow& out = c.flow[s];
    const std::size_t used = out.in_flight_bytes + out.arrived_bytes;
    if (used >= window) {
      c.waiters[s].wait(n);
      continue;
    }
    const std::size_t k =
        std::min({data.size() - written, window - used, netdetail::segment_bytes_max});
    Segment seg{SegmentKind::data, 0, {data.begin() + written, data.begin() + written + k}};
    send(c, s, std::move(seg));
    written += k;
  }
  return {};
}

void SimNetwork::Impl::close(SimConnState& c, int s) {
  if (c.closed[s]) return;
  const bool was_open = !c.error[s];
  c.closed[s] = true;
  c.flow[1 - s].drop_arrived();
  // The FIN follows the data already written: the peer drains, then EOF.
  if (was_open) {
    world.note("net.close", c.id, static_cast<std::uint64_t>(s));
    send(c, s, Segment{SegmentKind::fin, 0, {}});
  }
  notify(c, s);
  notify(c, 1 - s);
  maybe_erase(c);
}

Result<std::unique_ptr<Connection>> SimNetwork::Impl::accept(SimListenerImpl& l) {
  SimNode& n = node(l.node);
  for (;;) {
    if (l.closed) return std::errc::operation_canceled;
    while (!l.backlog.empty()) {
      const std::uint64_t id = l.backlog.front();
      l.backlog.pop_front();
      auto it = conns.find(id);
      // Reset before it was accepted: Linux drops those silently.
      if (it == conns.end() || it->second->side_done(1)) continue;
      const SimConnState& c = *it->second;
      Address peer{node(c.node[0]).node_name(), c.port[0]};
      world.note("net.accept", id, l.port);
      return std::unique_ptr<Connection>(
          std::make_unique<SimConnection>(*this, it->second, 1, std::move(peer)));
    }
    l.waiters.wait(n);
  }
}

void SimNetwork::Impl::close_listener(SimListenerImpl& l) {
  if (l.closed) return;
  l.closed = true;
  listener_by_port.erase({l.node, l.port});
  listeners.erase(l.id);
  world.note("net.unlisten", static_cast<std::uint64_t>(l.node), l.port);
  // Connections never accepted are reset, as closing a listening socket does.
  while (!l.backlog.empty()) {
    SimConnState* c = find_conn(l.backlog.front());
    l.backlog.pop_front();
    if (c != nullptr) {
      auto keep = conns.at(c->id);
      reset_conn(*keep, "net.backlog_reset");
    }
  }
  l.waiters.notify_all();
}

// ------------------------------------------------------------- SimNetwork

SimNetwork::SimNetwork(World& world) : world_(world), impl_(std::make_unique<Impl>(*this)) {}
SimNetwork::~SimNetwork() = default;

void SimNetwork::cut(int from, int to) {
  CASTLE_ASSERT(from != to, "a node cannot be cut from itself");
  if (impl_->cuts.insert({from, to}).second) world_.note("net.cut", pair_key(from, to));
}

void SimNetwork::cut_both(int a, int b) {
  cut(a, b);
  cut(b, a);
}

void SimNetwork::isolate(int node) {
  for (std::size_t i = 0; i < world_.node_count(); ++i)
    if (static_cast<int>(i) != node) cut_both(node, static_cast<int>(i));
}

void SimNetwork::split(const std::vector<int>& side_a, const std::vector<int>& side_b) {
  for (int a : side_a)
    for (int b : side_b) {
      CASTLE_ASSERT(a != b, "a node on both sides of a split");
      cut_both(a, b);
    }
}

void SimNetwork::heal(int from, int to) { impl_->heal_link(from, to); }

void SimNetwork::heal_all() {
  const std::set<std::pair<int, int>> all = impl_->cuts;
  for (auto [from, to] : all) impl_->heal_link(from, to);
}

bool SimNetwork::link_up(int from, int to) const { return impl_->link_up(from, to); }

void SimNetwork::clog(int from, int to, Duration d) {
  CASTLE_ASSERT(d.count() >= 0, "a clog lasts a non-negative time");
  SimTime& until = impl_->clog_until[{from, to}];
  until = std::max(until, world_.now() + d.count());
  world_.note("net.clog", pair_key(from, to), static_cast<std::uint64_t>(until));
}

void SimNetwork::latency_spike(Duration extra, Duration d) {
  CASTLE_ASSERT(extra.count() >= 0 && d.count() >= 0, "a spike adds non-negative latency");
  impl_->spike_extra = extra;
  impl_->spike_until = world_.now() + d.count();
  world_.note("net.spike", static_cast<std::uint64_t>(extra.count()),
              static_cast<std::uint64_t>(d.count()));
}

std::size_t SimNetwork::reset_connections(int node) {
  std::vector<std::shared_ptr<SimConnState>> victims;
  for (auto& [id, c] : impl_->conns)
    if ((c->node[0] == node || c->node[1] == node) && !(c->side_done(0) && c->side_done(1)))
      victims.push_back(c);
  for (auto& c : victims) impl_->reset_conn(*c, "net.reset");
  return victims.size();
}

bool SimNetwork::reset_random_connection() {
  std::vector<std::shared_ptr<SimConnState>> open;
  for (auto& [id, c] : impl_->conns)
    if (!c->side_done(0) || !c->side_done(1)) open.push_back(c);
  if (open.empty()) return false;
  auto victim = open[impl_->rng.below(open.size())];
  impl_->reset_conn(*victim, "net.reset");
  return true;
}

void SimNetwork::on_crash(int node) {
  world_.note("net.node_crash", static_cast<std::uint64_t>(node));
  std::vector<std::shared_ptr<SimListenerImpl>> ls;
  for (auto& [id, l] : impl_->listeners)
    if (l->node == node) ls.push_back(l);
  for (auto& l : ls) impl_->close_listener(*l);
  std::vector<std::shared_ptr<SimConnState>> cs;
  for (auto& [id, c] : impl_->conns)
    if (c->node[0] == node || c->node[1] == node) cs.push_back(c);
  for (auto& c : cs) impl_->crash_conn(*c, node);
}

// ------------------------------------------------------------- SimNodeNet

Result<std::unique_ptr<Listener>> SimNodeNet::listen(const Address& addr) {
  CASTLE_ASSERT(node_.up(), "listen on a node that is down");
  return net_.impl().listen(node_, addr);
}

Result<std::unique_ptr<Connection>> SimNodeNet::connect(const Address& addr, Duration timeout) {
  CASTLE_ASSERT(node_.up(), "connect from a node that is down");
  CASTLE_ASSERT(timeout.count() >= 0, "a connect timeout is non-negative");
  return net_.impl().connect(node_, addr, timeout);
}

}  // namespace castle::sim
