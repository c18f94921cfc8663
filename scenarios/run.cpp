#include "scenarios/run.h"

#include "scenarios/harness.h"
#include "scenarios/swarm.h"
#include "system/broker/broker_config.h"

#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"

namespace castle::scenarios {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::safety: return "safety";
    case Verdict::liveness: return "liveness";
  }
  return "?";
}

int exit_code(Verdict v) {
  switch (v) {
    case Verdict::pass: return 0;
    case Verdict::safety: return 1;
    case Verdict::liveness: return 3;
  }
  return 2;
}

std::vector<std::string> server_names(const Scenario& s) {
  std::vector<std::string> v;
  for (int i = 0; i < s.servers; ++i) v.push_back("s" + std::to_string(i));
  // Raft's observers are servers too: faults target them like the voters.
  if (s.system == "raft")
    for (int i = 0; i < s.raft.observers; ++i) v.push_back("o" + std::to_string(i));
  return v;
}

std::vector<std::string> client_names(const Scenario& s) {
  std::vector<std::string> v;
  for (int i = 0; i < s.clients; ++i) v.push_back("c" + std::to_string(i));
  return v;
}

bool validate_targets(const Scenario& s, ParseError* error) {
  auto servers = server_names(s);
  auto all = servers;
  for (auto& c : client_names(s)) all.push_back(c);
  auto known = [&](const std::string& n) {
    // Resolved when the fault applies.
    if (n == leader_target && (s.system == "raft" || (s.system == "kafka" && s.servers > 1))) return true;
    if (n == controller_target && s.system == "kafka" && s.servers > 1) return true;
    return std::find(all.begin(), all.end(), n) != all.end();
  };
  if (s.system == "kafka") {
    broker::BrokerConfig cfg;
    broker::PropertyError pe;
    if (!broker::apply_broker_properties(s.kafka.broker, &cfg, &pe)) {
      *error = {"kafka.broker." + pe.property, pe.message};
      return false;
    }
  }
  for (std::size_t i = 0; i < s.random.targets.size(); ++i)
    if (!known(s.random.targets[i])) {
      *error = {"faults.random.targets[" + std::to_string(i) + "]",
                "names node '" + s.random.targets[i] + "', which the cluster does not have"};
      return false;
    }
  for (std::size_t i = 0; i < s.timeline.size(); ++i) {
    const FaultSpec& f = s.timeline[i];
    const std::string field = "faults.timeline[" + std::to_string(i) + "]";
    for (const auto* list : {&f.nodes, &f.others})
      for (const auto& n : *list)
        if (!known(n)) {
          *error = {field, "names node '" + n + "', which the cluster does not have"};
          return false;
        }
    if (f.nodes.empty() && f.kind != "latency") {
      *error = {field + ".nodes", "a " + f.kind + " fault needs at least one node"};
      return false;
    }
  }
  return true;
}

void configure_run_world(sim::World& w, const Scenario& s) {
  sim::NetworkConfig nc;
  nc.latency_min = microseconds(s.latency_min_us);
  nc.latency_max = microseconds(s.latency_max_us);
  w.network().set_config(nc);
  w.set_buggify(sim::BuggifyConfig{s.buggify});
}

void configure_disk(sim::SimNode& n, const Scenario& s) {
  sim::DiskConfig dc = n.sim_disk().config();
  dc.sync_latency_min = microseconds(s.sync_latency_min_us);
  dc.sync_latency_max = microseconds(s.sync_latency_max_us);
  n.sim_disk().set_config(dc);
}

void begin_run(sim::World& world, const Scenario& s, const RunOptions& options, RunResult& result) {
  result.seed = options.seed;
  world.record_steps(options.record_steps);
  if (options.keep_trace)
    world.trace_bus().subscribe(
        [&result](const TraceEvent& e) { result.trace_lines.push_back(e.to_json()); });
  configure_run_world(world, s);
}

void end_run(sim::World& world, const RunOptions& options, const Nemesis& nemesis,
             std::size_t servers, RunResult& result) {
  for (std::size_t i = 0; i < servers; ++i)
    result.stats.server_restarts += static_cast<std::int64_t>(world.node(i).incarnation()) - 1;
  result.faults = nemesis.log();
  for (const auto& [point, p] : world.buggify_points()) {
    result.buggify_points[point] = p.armed;
    if (p.armed) result.buggify_fired[point] = p.fired;
  }
  result.trace_hash = world.trace_hash();
  result.sim_time_ns = world.now();
  result.events = world.events_processed();
  if (options.record_steps) result.steps = world.steps();
}

RunResult run_scenario(const Scenario& given, const RunOptions& options) {
  const Scenario s = draw_swarm(given, options.seed);
  RunResult r = s.system == "kafka"  ? run_kafka(s, options)
                : s.system == "raft" ? run_raft(s, options)
                                     : run_logsvc(s, options);
  if (s.swarm) r.swarm = describe_swarm(s);
  return r;
}

}  // namespace castle::scenarios
