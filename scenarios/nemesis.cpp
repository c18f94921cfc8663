#include "scenarios/nemesis.h"

#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"

namespace castle::scenarios {

namespace {

std::vector<std::string> random_half(Rng& rng, std::vector<std::string> nodes,
                                     std::vector<std::string>* rest) {
  for (std::size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[rng.below(i)]);
  const std::size_t half = 1 + rng.below(std::max<std::size_t>(1, nodes.size() - 1));
  std::vector<std::string> a(nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(half));
  rest->assign(nodes.begin() + static_cast<std::ptrdiff_t>(half), nodes.end());
  return a;
}

const std::string& pick(Rng& rng, const std::vector<std::string>& v) { return v[rng.below(v.size())]; }

// Faults that hit single nodes, which a scenario's random targets may aim.
bool single_node_kind(const std::string& kind) {
  return kind != "split" && kind != "bridge" && kind != "latency" && kind != "oneway" && kind != "clog";
}

void fill_targets(FaultSpec& f, Rng& rng, const std::vector<std::string>& servers,
                  const std::vector<std::string>& all, const std::vector<std::string>& targets) {
  if (!targets.empty() && single_node_kind(f.kind)) {
    f.nodes = {pick(rng, targets)};
  } else if (f.kind == "split") {
    f.nodes = random_half(rng, all, &f.others);
  } else if (f.kind == "bridge") {
    std::vector<std::string> rest;
    f.nodes = {pick(rng, servers)};
    for (const auto& n : all)
      if (n != f.nodes[0]) rest.push_back(n);
    f.others = rest;  // split in halves when applied
  } else if (f.kind == "latency") {
    // A latency spike is global: it names no node.
  } else if (f.kind == "oneway" || f.kind == "clog") {
    f.nodes = {pick(rng, all)};
    do f.others = {pick(rng, all)};
    while (f.others[0] == f.nodes[0] && all.size() > 1);
  } else if (f.kind == "isolate" || f.kind == "reset") {
    f.nodes = {pick(rng, all)};
  } else {
    f.nodes = {pick(rng, servers)};
  }
}

void fill_amounts(FaultSpec& f, Rng& rng) {
  if (f.kind == "clock_drift") f.amount = rng.between(-200'000, 200'000);
  if (f.kind == "clock_jump") f.amount = rng.between(-60'000, 60'000);
  if (f.kind == "latency") f.amount = rng.between(10, 500);
  if (f.kind == "disk_eio" || f.kind == "disk_sync_eio") f.rate = 0.05 + 0.5 * rng.unit();
  if (f.kind == "disk_bitflip" || f.kind == "reset" || f.kind == "clock_jump") f.duration_ms = 0;
}

}  // namespace

std::vector<FaultSpec> plan_faults(const Scenario& s, Rng& rng,
                                   const std::vector<std::string>& servers,
                                   const std::vector<std::string>& all_nodes) {
  std::vector<FaultSpec> out = s.timeline;
  if (s.random.enabled) {
    const auto& kinds = s.random.kinds.empty() ? fault_kinds() : s.random.kinds;
    std::int64_t t = s.random.start_ms;
    for (;;) {
      t += rng.between(s.random.interval_min_ms, s.random.interval_max_ms);
      if (t >= s.duration_ms) break;
      FaultSpec f;
      f.at_ms = t;
      f.kind = pick(rng, kinds);
      f.duration_ms = rng.between(s.random.duration_min_ms, s.random.duration_max_ms);
      fill_targets(f, rng, servers, all_nodes, s.random.targets);
      fill_amounts(f, rng);
      out.push_back(std::move(f));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const FaultSpec& a, const FaultSpec& b) { return a.at_ms < b.at_ms; });
  return out;
}

int Nemesis::node_id(const std::string& name) const {
  sim::SimNode* n = world_.find_node(name);
  CASTLE_ASSERT(n != nullptr, "fault names an unknown node (validated before the run)");
  return n->id();
}

std::vector<std::string> Nemesis::resolve(const std::vector<std::string>& names) const {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (n != leader_target && n != controller_target) {
      out.push_back(n);
      continue;
    }
    auto finder = finders_.find(n);
    const std::string leader = finder != finders_.end() ? finder->second() : std::string();
    if (!leader.empty() && std::find(out.begin(), out.end(), leader) == out.end()) out.push_back(leader);
  }
  return out;
}

std::vector<int> Nemesis::node_ids(const std::vector<std::string>& names) const {
  std::vector<int> ids;
  for (const auto& n : names) ids.push_back(node_id(n));
  return ids;
}

void Nemesis::note(const std::string& what) {
  log_.push_back({world_.now(), what});
  world_.note("nemesis", log_.size());
}

void Nemesis::schedule(const std::vector<FaultSpec>& faults, std::int64_t stop_ms) {
  for (const FaultSpec& f : faults) {
    if (f.at_ms >= stop_ms) continue;
    world_.at(f.at_ms * 1'000'000, [this, f] {
      if (!stopped_) apply(f);
    });
  }
}

void Nemesis::undo_later(const FaultSpec& f, Callback undo) {
  auto shared = std::make_shared<Callback>(std::move(undo));
  world_.after(milliseconds(f.duration_ms), [this, shared] {
    if (!stopped_) (*shared)();
  });
}

void Nemesis::cut(int from, int to) {
  if (from == to) return;
  if (cuts_[{from, to}]++ == 0) world_.network().cut(from, to);
}

void Nemesis::uncut(int from, int to) {
  if (from == to) return;
  auto it = cuts_.find({from, to});
  if (it == cuts_.end() || it->second == 0) return;
  if (--it->second == 0) world_.network().heal(from, to);
}

void Nemesis::partition(const std::vector<int>& a, const std::vector<int>& b, bool both_ways,
                        const FaultSpec& f) {
  for (int x : a)
    for (int y : b) {
      cut(x, y);
      if (both_ways) cut(y, x);
    }
  undo_later(f, [this, a, b, both_ways] {
    for (int x : a)
      for (int y : b) {
        uncut(x, y);
        if (both_ways) uncut(y, x);
      }
  });
}

}  // namespace castle::scenarios

namespace castle::scenarios {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The second side without the nodes of the first: "leader" may resolve to
// a node the other side also lists (split ["leader", "s0"] from ["s1", "s2",
// "s3"] keeps whichever of s1..s3 leads with s0), and a node cut from its
// own side would make the fault something other than what it says.
std::vector<std::string> without(std::vector<std::string> others, const std::vector<std::string>& side) {
  std::erase_if(others, [&side](const std::string& n) {
    return std::find(side.begin(), side.end(), n) != side.end();
  });
  return others;
}
}  // namespace

void Nemesis::apply(const FaultSpec& f) {
  const std::vector<std::string> named = resolve(f.nodes);
  const std::vector<std::string> named_others = without(resolve(f.others), named);
  note(f.kind + " nodes=" + join(named) + (named_others.empty() ? "" : " others=" + join(named_others)) +
       " for " + std::to_string(f.duration_ms) + "ms");
  FaultSpec resolved = f;
  resolved.nodes = named;
  resolved.others = named_others;
  applied_.push_back(std::move(resolved));
  auto& net = world_.network();
  const std::vector<int> nodes = node_ids(named);
  const std::vector<int> others = node_ids(named_others);
  if (f.kind == "crash") {
    for (int id : nodes) {
      sim::SimNode& n = world_.node(static_cast<std::size_t>(id));
      if (n.up()) n.crash();
      ++crashed_[id];
      undo_later(f, [this, id] {
        if (--crashed_[id] == 0 && !world_.node(static_cast<std::size_t>(id)).up())
          world_.node(static_cast<std::size_t>(id)).start();
      });
    }
  } else if (f.kind == "pause") {
    for (int id : nodes) {
      if (paused_[id]++ == 0) world_.node(static_cast<std::size_t>(id)).pause();
      undo_later(f, [this, id] {
        if (--paused_[id] == 0) world_.node(static_cast<std::size_t>(id)).resume();
      });
    }
  } else if (f.kind == "isolate") {
    std::vector<int> rest;
    for (std::size_t i = 0; i < world_.node_count(); ++i)
      if (std::find(nodes.begin(), nodes.end(), static_cast<int>(i)) == nodes.end())
        rest.push_back(static_cast<int>(i));
    partition(nodes, rest, true, f);
  } else if (f.kind == "split") {
    partition(nodes, others, true, f);
  } else if (f.kind == "bridge") {
    // The bridge node (nodes[0]) is left out of both halves and sees both.
    const std::size_t half = (others.size() + 1) / 2;
    partition(std::vector<int>(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(half)),
              std::vector<int>(others.begin() + static_cast<std::ptrdiff_t>(half), others.end()),
              true, f);
  } else if (f.kind == "oneway") {
    partition(nodes, others, false, f);
  } else if (f.kind == "clog") {
    for (int x : nodes)
      for (int y : others) net.clog(x, y, milliseconds(f.duration_ms));
  } else if (f.kind == "latency") {
    net.latency_spike(milliseconds(f.amount), milliseconds(f.duration_ms));
  } else if (f.kind == "reset") {
    for (int id : nodes) net.reset_connections(id);
  } else {
    apply_node_fault(f, nodes);
  }
}

void Nemesis::apply_node_fault(const FaultSpec& f, const std::vector<int>& nodes) {
  for (int id : nodes) {
    sim::SimNode& n = world_.node(static_cast<std::size_t>(id));
    sim::SimDisk& disk = n.sim_disk();
    if (f.kind == "clock_drift") {
      n.set_drift_ppm(f.amount);
      undo_later(f, [&n] { n.set_drift_ppm(0); });
    } else if (f.kind == "clock_jump") {
      n.jump_wall(milliseconds(f.amount));
    } else if (f.kind == "disk_bitflip") {
      corruption_injected_ = true;
      disk.flip_random_bit();
    } else {
      apply_disk_fault(f, id);
    }
  }
}

void Nemesis::apply_disk_fault(const FaultSpec& f, int node) {
  sim::SimDisk& disk = world_.node(static_cast<std::size_t>(node)).sim_disk();
  sim::DiskConfig c = disk.config();
  if (!saved_disk_.count(node)) saved_disk_.emplace(node, c);
  if (f.kind == "disk_eio") {
    c.read_eio_rate = c.write_eio_rate = c.sync_eio_rate = f.rate;
  } else if (f.kind == "disk_sync_eio") {
    c.sync_eio_rate = f.rate;
    c.sync_eio_loses_writes = true;
  } else if (f.kind == "disk_full") {
    c.capacity_bytes = disk.used_bytes();
  } else if (f.kind == "slow_sync") {
    c.slow_sync_rate = 1.0;
    // A chosen latency slows a node without stalling it past its peers'
    // timeouts (the default is half a second).
    if (f.amount > 0) c.slow_sync_latency = milliseconds(f.amount);
  }
  disk.set_config(c);
  ++disk_faults_[node];
  undo_later(f, [this, node, &disk] {
    if (--disk_faults_[node] == 0) disk.set_config(saved_disk_.at(node));
  });
}

void Nemesis::stop() {
  note("faults stop");
  stopped_ = true;
  world_.network().heal_all();
  cuts_.clear();
  for (std::size_t i = 0; i < world_.node_count(); ++i) {
    sim::SimNode& n = world_.node(i);
    if (n.paused()) n.resume();
    n.set_drift_ppm(0);
  }
  // Only nodes this nemesis took down: others may be down by design.
  for (const auto& [id, outstanding] : crashed_) {
    sim::SimNode& n = world_.node(static_cast<std::size_t>(id));
    if (outstanding > 0 && !n.up()) n.start();
  }
  for (auto& [node, config] : saved_disk_)
    world_.node(static_cast<std::size_t>(node)).sim_disk().set_config(config);
  crashed_.clear();
  paused_.clear();
  disk_faults_.clear();
}

}  // namespace castle::scenarios
