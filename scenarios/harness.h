#pragma once
// What every system's scenario runner shares (internal to scenarios/): the
// world's network and disk settings from the scenario, and the bookkeeping
// at the start and end of a run.

#include "scenarios/nemesis.h"
#include "scenarios/run.h"
#include "sim/disk.h"
#include "sim/network.h"
#include "sim/node.h"
#include "sim/world.h"

namespace castle::scenarios {

void configure_run_world(sim::World& w, const Scenario& s);
void configure_disk(sim::SimNode& n, const Scenario& s);
// Seed, step recording, trace capture, network and buggify settings.
void begin_run(sim::World& world, const Scenario& s, const RunOptions& options, RunResult& result);
// Restarts, applied faults, buggify points, trace hash, time and events.
// Servers are the world's first `servers` nodes.
void end_run(sim::World& world, const RunOptions& options, const Nemesis& nemesis,
             std::size_t servers, RunResult& result);

RunResult run_logsvc(const Scenario& s, const RunOptions& options);
RunResult run_kafka(const Scenario& s, const RunOptions& options);
RunResult run_raft(const Scenario& s, const RunOptions& options);

}  // namespace castle::scenarios
