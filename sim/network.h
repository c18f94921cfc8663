#pragma once
// The simulated network.
//
// Fault model (network): connections are byte streams between nodes with
// TCP's guarantees: bytes arrive in order, without loss or duplication, or
// the connection fails. Each write becomes a segment delivered after a
// seeded latency (never reordered within a direction). Faults:
// - partitions: a directed link between two nodes can be cut (isolate a
//   node, split two sides, one-way cuts, bridges). Segments on a cut link
//   are held, as TCP retransmission would, and flow again when it heals; a
//   connect() across a cut link times out. A link cut for longer than
//   `stall_reset_after` resets the connections stalled on it, as TCP's
//   retransmission timeout would.
// - clogging: a link delivers nothing until the clog ends, then everything
//   (delay without loss).
// - latency spikes: extra latency on every link for a while.
// - resets: a connection fails on both sides with connection_reset.
// - crash of a node: its connections reset for its peers, its listeners go.
// Flow control: a direction holds at most `window_bytes` not yet read by the
// receiver; writers block beyond that.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "sim/event_queue.h"
#include "system/runtime/net.h"

namespace castle::sim {

class World;
class SimNode;
struct SimConnState;
class SimListenerImpl;

struct NetworkConfig {
  Duration latency_min = std::chrono::microseconds(50);
  Duration latency_max = std::chrono::microseconds(500);
  Duration connect_refused_after = std::chrono::microseconds(200);
  Duration stall_reset_after = std::chrono::seconds(30);
  std::size_t window_bytes = 1 << 20;
};

struct NetworkStats {
  std::uint64_t segments_delivered = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reset = 0;
};

class SimNetwork {
 public:
  explicit SimNetwork(World& world);
  ~SimNetwork();

  void set_config(const NetworkConfig& c) { config_ = c; }
  const NetworkConfig& config() const { return config_; }
  const NetworkStats& stats() const { return stats_; }

  // Partitions. Node ids are SimNode::id().
  void cut(int from, int to);         // one direction
  void cut_both(int a, int b);
  void isolate(int node);             // from every other node, both ways
  void split(const std::vector<int>& side_a, const std::vector<int>& side_b);
  void heal(int from, int to);
  void heal_all();
  bool link_up(int from, int to) const;

  void clog(int from, int to, Duration d);
  void latency_spike(Duration extra, Duration d);
  // Resets every connection of a node; returns how many.
  std::size_t reset_connections(int node);
  // Resets one connection chosen by the rng; false if none is open.
  bool reset_random_connection();

  // Called by SimNode::crash().
  void on_crash(int node);

  // Internal plumbing used by SimNodeNet and the connection objects.
  World& world() { return world_; }
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  World& world_;
  NetworkConfig config_;
  NetworkStats stats_;
  std::unique_ptr<Impl> impl_;
};

// One node's view of the network: what its Runtime::net() returns.
class SimNodeNet final : public Network {
 public:
  SimNodeNet(SimNetwork& net, SimNode& node) : net_(net), node_(node) {}
  Result<std::unique_ptr<Listener>> listen(const Address& addr) override;
  Result<std::unique_ptr<Connection>> connect(const Address& addr, Duration timeout) override;

 private:
  SimNetwork& net_;
  SimNode& node_;
};

}  // namespace castle::sim
