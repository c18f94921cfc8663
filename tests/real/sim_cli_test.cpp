// The simulator's workflow commands as a user runs them: sweep (verdict
// table, exit code by each scenario's declared expectation), shrink (a
// failing seed becomes a smaller scenario file that fails the same way),
// and replay (a report folder re-runs to the identical trace).
#include <gtest/gtest.h>

#include <fstream>

#include "tests/real/real_test_util.h"

namespace castle::real::testing {
namespace {

const std::string planted = CASTLE_SOURCE_DIR "/scenarios/logsvc-planted-ack-before-sync.json";
const std::string clean = CASTLE_SOURCE_DIR "/scenarios/logsvc-crash-restart.json";

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(CastleSweep, ReportsEachScenarioAndExitsByItsExpectation) {
  auto [code, out] = run_shell(castle_binary + " sweep " + clean + " " + planted +
                               " --seeds 1..6 -j 2 --no-progress");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("logsvc-crash-restart"), std::string::npos) << out;
  // The planted bug is caught at the first seed.
  EXPECT_NE(out.find("safety"), std::string::npos);
  EXPECT_NE(out.find("sweep: 12 runs"), std::string::npos) << out;
}

TEST(CastleSweep, AFailureAScenarioDoesNotExpectFailsTheSweepWithItsReproduction) {
  TempDir dir;
  std::string text = read_file(planted);
  const auto at = text.find("\"expect\": \"safety\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("\"expect\": \"safety\"").size(), "\"expect\": \"pass\"");
  std::ofstream(dir.path() + "/s.json") << text;
  auto [code, out] = run_shell(castle_binary + " sweep " + dir.path() + "/s.json --seeds 1..2");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("UNEXPECTED logsvc-planted-ack-before-sync seed=1 verdict=safety"), std::string::npos) << out;
  EXPECT_NE(out.find("reproduce: castle sim"), std::string::npos) << out;
}

// A sweep of a buggify scenario says which points its runs reached, were
// armed in and fired, summed over the seeds; a scenario without buggify
// gets no such line.
TEST(CastleSweep, SaysWhichBuggifyPointsTheRunsExercised) {
  const std::string buggify = CASTLE_SOURCE_DIR "/scenarios/kafka-buggify.json";
  auto [code, out] = run_shell(castle_binary + " sweep " + buggify + " " + clean + " --seeds 1..12 -j 2 --no-progress");
  EXPECT_EQ(code, 0) << out;
  const auto line = out.find("buggify kafka-buggify (point: runs reached/armed, times fired):");
  ASSERT_NE(line, std::string::npos) << out;
  const std::string coverage = out.substr(line, out.find('\n', line) - line);
  EXPECT_NE(coverage.find(" log.roll_early 12/"), std::string::npos) << coverage;
  EXPECT_NE(coverage.find(" broker.fetch_short 12/"), std::string::npos) << coverage;
  EXPECT_EQ(out.find("buggify logsvc-crash-restart"), std::string::npos) << out;
}

TEST(CastleSweep, ShardsSplitTheSeeds) {
  auto [c1, o1] = run_shell(castle_binary + " sweep " + clean + " --seeds 1..5 --shard 1/2");
  auto [c2, o2] = run_shell(castle_binary + " sweep " + clean + " --seeds 1..5 --shard 2/2");
  EXPECT_EQ(c1, 0);
  EXPECT_EQ(c2, 0);
  EXPECT_NE(o1.find("sweep: 3 runs"), std::string::npos) << o1;
  EXPECT_NE(o2.find("sweep: 2 runs"), std::string::npos) << o2;
  auto [bad, out] = run_shell(castle_binary + " sweep " + clean + " --seeds 1..5 --shard 3/2");
  EXPECT_EQ(bad, 2) << out;
}

TEST(CastleShrink, FailingSeedBecomesASmallerScenarioThatStillFails) {
  TempDir dir;
  const std::string out_file = dir.path() + "/min.json";
  auto [code, out] = run_shell(castle_binary + " shrink " + planted + " --seed 2 --out " + out_file);
  ASSERT_EQ(code, 0) << out;
  const std::string minimal = read_file(out_file);
  EXPECT_NE(minimal.find("\"timeline\""), std::string::npos) << minimal;
  EXPECT_EQ(minimal.find("\"random\""), std::string::npos) << minimal;
  // Fewer faults than the original run had.
  const auto arrow = out.find(" faults");
  ASSERT_NE(arrow, std::string::npos) << out;
  int before = 0, after = 0;
  ASSERT_EQ(std::sscanf(out.c_str() + out.find("runs: ") + 6, "%d -> %d", &before, &after), 2) << out;
  EXPECT_LT(after, before);
  // The minimal scenario replays the failure from its file and seed.
  auto [rcode, rout] = run_shell(castle_binary + " sim " + out_file + " --seed 2");
  EXPECT_EQ(rcode, 1) << rout;
  EXPECT_NE(rout.find("verdict=safety seed=2"), std::string::npos) << rout;
}

TEST(CastleShrink, PassingSeedHasNothingToShrink) {
  auto [code, out] = run_shell(castle_binary + " shrink " + clean + " --seed 1 --out /dev/null");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("nothing to shrink"), std::string::npos) << out;
}

TEST(CastleReplay, AReportFolderReplaysIdentically) {
  TempDir dir;
  auto [code, out] = run_shell(castle_binary + " sim " + planted + " --seed 4 --out " + dir.path() + "/r");
  ASSERT_EQ(code, 1) << out;
  auto [rcode, rout] = run_shell(castle_binary + " replay " + dir.path() + "/r");
  EXPECT_EQ(rcode, 1) << rout;  // the recorded verdict, safety
  EXPECT_NE(rout.find("replay: identical"), std::string::npos) << rout;
  // A tampered recording is told apart.
  std::string report = read_file(dir.path() + "/r/report.json");
  const auto at = report.find("\"trace_hash\": \"");
  ASSERT_NE(at, std::string::npos);
  report[at + 15] = report[at + 15] == '0' ? '1' : '0';
  std::ofstream(dir.path() + "/r/report.json") << report;
  auto [tcode, tout] = run_shell(castle_binary + " replay " + dir.path() + "/r");
  EXPECT_EQ(tcode, 1) << tout;
  EXPECT_NE(tout.find("DIVERGED"), std::string::npos) << tout;
  auto [ncode, nout] = run_shell(castle_binary + " replay " + dir.path());
  EXPECT_EQ(ncode, 2) << nout;
}

}  // namespace
}  // namespace castle::real::testing
