// The proof service in the simulator: it passes its scenarios under faults,
// planted bugs are caught within a bounded number of seeds, and runs are a
// pure function of the seed.
#include <gtest/gtest.h>

#include <set>

#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::scenarios {
namespace {

Scenario load(const std::string& name, std::int64_t duration_ms = 0) {
  ParseError e;
  auto s = load_scenario(CASTLE_SOURCE_DIR "/scenarios/" + name + ".json", &e);
  EXPECT_TRUE(s.has_value()) << e.to_string();
  if (!s) return {};
  if (duration_ms > 0) s->duration_ms = duration_ms;
  return *s;
}

RunResult run(const Scenario& s, std::uint64_t seed, bool record = false) {
  RunOptions o;
  o.seed = seed;
  o.record_steps = record;
  return run_scenario(s, o);
}

std::string describe(const RunResult& r) {
  std::string out = std::string("verdict=") + to_string(r.verdict) + " seed=" +
                    std::to_string(r.seed) + " " + r.liveness_failure;
  for (const auto& a : r.check.anomalies) out += "\n  " + a.type + ": " + a.description;
  return out;
}

// Every library scenario that expects to pass does, over several seeds, and
// the workload really ran under faults (acks, failures and restarts seen).
TEST(LogsvcSim, LibraryScenariosPassUnderFaults) {
  for (const char* name : {"logsvc-faults", "logsvc-crash-restart", "logsvc-partitions",
                           "logsvc-disk-faults", "logsvc-clocks", "logsvc-buggify"}) {
    Scenario s = load(name, 8000);
    std::int64_t acked = 0, faults = 0;
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      RunResult r = run(s, seed);
      EXPECT_EQ(r.verdict, Verdict::pass) << name << " " << describe(r);
      acked += r.stats.acked;
      faults += static_cast<std::int64_t>(r.faults.size());
    }
    EXPECT_GT(acked, 100) << name;
    EXPECT_GT(faults, 4) << name;
  }
}

// Crashes really happen and servers really restart in the crash scenario.
TEST(LogsvcSim, CrashScenarioRestartsServers) {
  RunResult r = run(load("logsvc-crash-restart", 8000), 3);
  EXPECT_EQ(r.verdict, Verdict::pass) << describe(r);
  EXPECT_GE(r.stats.server_restarts, 3);
  EXPECT_GT(r.stats.unknown + r.stats.failed, 0);
}

// Returns the first seed in [1, limit] whose run is a safety violation.
std::uint64_t seeds_to_detect(const Scenario& s, std::uint64_t limit) {
  for (std::uint64_t seed = 1; seed <= limit; ++seed)
    if (run(s, seed).verdict == Verdict::safety) return seed;
  return 0;
}

// Each planted bug of the proof service is caught within a bounded number of
// seeds by the scenario that exercises it.
TEST(LogsvcSim, PlantedBugsAreCaught) {
  struct Case {
    const char* bug;
    const char* scenario;
  };
  for (const Case c : {Case{"logsvc-ack-before-sync", "logsvc-crash-restart"},
                       Case{"logsvc-no-dir-sync", "logsvc-crash-restart"},
                       Case{"logsvc-serve-corrupt", "logsvc-disk-faults"}}) {
    Scenario s = load(c.scenario, 6000);
    s.bugs = {c.bug};
    const std::uint64_t found = seeds_to_detect(s, 20);
    EXPECT_GT(found, 0u) << c.bug << " was not caught in 20 seeds";
    std::printf("planted bug %s caught at seed %llu\n", c.bug,
                static_cast<unsigned long long>(found));
  }
}

// The same scenario and seed give the same trace hash, 100 seeds over; the
// hashes of different seeds differ.
TEST(LogsvcSim, SameSeedSameTraceHashAcrossSeeds) {
  Scenario s = load("logsvc-faults", 1500);
  s.liveness_window_ms = 5000;
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const auto a = run(s, seed).trace_hash;
    const auto b = run(s, seed).trace_hash;
    ASSERT_EQ(a, b) << "seed " << seed;
    hashes.insert(a);
  }
  EXPECT_EQ(hashes.size(), 100u);
}

// Recording every step of two runs of one seed gives identical logs; the
// divergence finder does point at a difference when there is one.
TEST(LogsvcSim, CheckDeterminismComparesEveryStep) {
  Scenario s = load("logsvc-faults", 2000);
  RunResult a = run(s, 42, true);
  RunResult b = run(s, 42, true);
  ASSERT_GT(a.steps.size(), 1000u);
  EXPECT_EQ(sim::first_divergence(a.steps, b.steps), "");
  RunResult c = run(s, 43, true);
  EXPECT_NE(sim::first_divergence(a.steps, c.steps), "");
}

}  // namespace
}  // namespace castle::scenarios
