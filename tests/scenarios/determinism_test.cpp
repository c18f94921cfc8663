// A run is a pure function of (binary, scenario, seed): the same run gives
// the same trace hash even after other runs in the same process, so no
// state leaks between runs through statics or address-dependent order.
#include <gtest/gtest.h>

#include "scenarios/run.h"

namespace castle::scenarios {
namespace {

Scenario load(const std::string& name) {
  ParseError err;
  auto s = load_scenario(CASTLE_SOURCE_DIR "/scenarios/" + name + ".json", &err);
  EXPECT_TRUE(s.has_value()) << err.to_string();
  s->duration_ms = std::min<std::int64_t>(s->duration_ms, 6000);
  return *s;
}

std::uint64_t hash_of(const Scenario& s, std::uint64_t seed) {
  RunOptions o;
  o.seed = seed;
  return run_scenario(s, o).trace_hash;
}

TEST(Determinism, SameRunSameHashAfterOtherRunsInTheProcess) {
  for (const char* name : {"kafka-everything", "kafka-disk-pressure", "logsvc-faults"}) {
    const Scenario s = load(name);
    const std::uint64_t first = hash_of(s, 3);
    hash_of(load("kafka-network-chaos"), 5);
    hash_of(load("logsvc-crash-restart"), 2);
    EXPECT_EQ(hash_of(s, 3), first) << name;
  }
}

}  // namespace
}  // namespace castle::scenarios
