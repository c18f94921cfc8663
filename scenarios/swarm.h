#pragma once
// Swarm testing: with `"swarm": true` the seed also draws the cluster
// shape, the configuration and the mix of faults, within what the scenario
// file allows (its random fault kinds are the pool a subset is drawn
// from). Different seeds then explore different corners instead of the
// same average mix, which finds bugs a fixed mix dilutes (Groce et al.,
// "Swarm testing"). The draw is a pure function of (scenario, seed), so a
// run replays from its seed like any other.

#include <cstdint>
#include <string>

#include "scenarios/scenario.h"

namespace castle::scenarios {

// The scenario a swarm run actually runs; s itself if swarm is off.
Scenario draw_swarm(const Scenario& s, std::uint64_t seed);
// One line naming what was drawn, for the run's summary.
std::string describe_swarm(const Scenario& drawn);

}  // namespace castle::scenarios
