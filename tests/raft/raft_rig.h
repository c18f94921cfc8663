#pragma once
// A simulated Raft cluster for tests: voters n0..n{N-1} (and observers
// after them), each running an RpcServer and a RaftNode over a small state
// machine that records every applied entry. The nodes live on their main
// fiber's stack, so a crash destroys them as a real crash would; the rig
// reaches them through a pointer the node clears when it unwinds.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"
#include "system/raft/raft_node.h"
#include "system/raft/raft_log.h"

namespace castle::raft::testing {

constexpr std::uint16_t raft_port = 9093;

// Applied entries in order; the snapshot is every (index, bytes) so far.
class RecordingMachine : public StateMachine {
 public:
  std::vector<std::pair<std::int64_t, Bytes>> applied;
  void apply(std::int64_t index, std::int64_t, std::span<const std::uint8_t> e) override {
    applied.emplace_back(index, Bytes(e.begin(), e.end()));
  }
  std::vector<std::uint8_t> snapshot() const override {
    Writer w;
    w.i32(static_cast<std::int32_t>(applied.size()));
    for (const auto& [i, b] : applied) {
      w.i64(i);
      w.bytes(b);
    }
    return w.take();
  }
  Result<void> restore(std::span<const std::uint8_t> s) override {
    Reader r(s);
    std::vector<std::pair<std::int64_t, Bytes>> out;
    const std::int32_t n = r.i32();
    for (std::int32_t k = 0; k < n && k < 1'000'000; ++k) {
      const std::int64_t i = r.i64();
      out.emplace_back(i, r.bytes());
    }
    if (!r.done()) return std::errc::illegal_byte_sequence;
    applied = std::move(out);
    return {};
  }
};

struct Live {
  RaftNode* node = nullptr;
  RecordingMachine* sm = nullptr;
};

class Cluster {
 public:
  Cluster(std::uint64_t seed, int voters, int observers = 0,
          std::function<void(RaftConfig&)> tweak = {})
      : world_(seed) {
    std::map<NodeId, Address> addrs;
    for (int i = 0; i < voters; ++i) addrs[i] = Address{"n" + std::to_string(i), raft_port};
    for (int i = 0; i < voters + observers; ++i) {
      RaftConfig cfg;
      cfg.id = i;
      cfg.voters = addrs;
      cfg.voter = i < voters;
      cfg.snapshot_threshold = 50;
      if (tweak) tweak(cfg);
      auto live = std::make_shared<Live>();
      lives_.push_back(live);
      sim::SimNode& n = world_.add_node("n" + std::to_string(i));
      n.set_main([cfg, live](Runtime& rt) { node_main(rt, cfg, live); });
    }
    for (std::size_t i = 0; i < world_.node_count(); ++i) world_.node(i).start();
  }

  sim::World& world() { return world_; }
  sim::SimNode& sim_node(int i) { return world_.node(static_cast<std::size_t>(i)); }
  RaftNode* node(int i) { return lives_[static_cast<std::size_t>(i)]->node; }
  RecordingMachine* machine(int i) { return lives_[static_cast<std::size_t>(i)]->sm; }
  int size() const { return static_cast<int>(lives_.size()); }

  // The one live node that is a ready leader, or -1.
  int ready_leader() {
    int found = -1;
    for (int i = 0; i < size(); ++i)
      if (node(i) && node(i)->is_ready_leader()) found = i;
    return found;
  }
  int wait_leader(Duration limit = seconds(10)) {
    world_.run_until([&] { return ready_leader() >= 0; }, world_.now() + limit.count());
    return ready_leader();
  }
  void run_for(Duration d) { world_.run_for(d); }
  // Proposes through node i from a fiber of it and waits for the outcome.
  Result<std::int64_t> propose(int i, const std::string& text, Duration limit = seconds(2));
  void isolate(int i) {
    for (int j = 0; j < size(); ++j)
      if (j != i) world_.network().cut_both(i, j);
  }
  void heal() { world_.network().heal_all(); }

 private:
  static void node_main(Runtime& rt, RaftConfig cfg, std::shared_ptr<Live> live) {
    RecordingMachine sm;
    RpcServer server(rt);
    RaftNode node(rt, cfg, sm, server);
    struct Clear {
      Live& l;
      ~Clear() { l = {}; }
    } clear{*live};
    const Address listen{rt.node_name(), raft_port};
    if (!server.start(listen) || !node.start()) return;
    live->node = &node;
    live->sm = &sm;
    for (;;) rt.sleep_for(seconds(3600));
  }

  sim::World world_;
  std::vector<std::shared_ptr<Live>> lives_;
};

inline Result<std::int64_t> Cluster::propose(int i, const std::string& text, Duration limit) {
  auto out = std::make_shared<std::optional<Result<std::int64_t>>>();
  RaftNode* n = node(i);
  if (n == nullptr) return make_error_code(RaftErrc::not_started);
  sim_node(i).spawn("test.propose", [this, i, text, out, limit] {
    RaftNode* rn = node(i);
    if (rn == nullptr) return;
    Bytes b(text.begin(), text.end());
    auto idx = rn->propose(b);
    if (!idx) {
      *out = idx;
      return;
    }
    auto w = rn->wait_applied(*idx, sim_node(i).now() + limit);
    *out = w ? Result<std::int64_t>(*idx) : Result<std::int64_t>(w.error());
  });
  world_.run_until([&] { return out->has_value(); }, world_.now() + limit.count() + 1'000'000);
  if (!out->has_value()) return make_error_code(RaftErrc::timed_out);
  return **out;
}

}  // namespace castle::raft::testing
