// The Raft system's scenarios: the "raft" section parses strictly (errors
// name the field) and round-trips; the state machine's snapshot restores
// exactly the list it was taken of and refuses a doctored one; the final
// applied-log checks find divergence and misplaced acknowledgements; and a
// short faulty run of the system passes, deterministically.
#include <gtest/gtest.h>

#include "scenarios/raft_checks.h"
#include "scenarios/raft_machine.h"
#include "scenarios/run.h"
#include "scenarios/scenario.h"

namespace castle::scenarios {
namespace {

ParseError error_of(const std::string& text) {
  ParseError e;
  EXPECT_FALSE(parse_scenario(text, &e).has_value()) << text;
  return e;
}

std::string raft_with(const std::string& section) {
  return R"({"name":"x","system":"raft","raft":)" + section + "}";
}

TEST(RaftScenario, RaftSectionErrorsNameTheField) {
  EXPECT_EQ(error_of(raft_with(R"({"observer":1})")).field, "raft.observer");
  EXPECT_EQ(error_of(raft_with(R"({"observers":-1})")).field, "raft.observers");
  EXPECT_EQ(error_of(raft_with(R"({"snapshot_threshold":0})")).field, "raft.snapshot_threshold");
  EXPECT_EQ(error_of(raft_with(R"({"append_bytes_max":0})")).field, "raft.append_bytes_max");
  EXPECT_EQ(error_of(raft_with(R"({"election_timeout_ms":[300]})")).field, "raft.election_timeout_ms");
  EXPECT_EQ(error_of(raft_with(R"({"election_timeout_ms":[300,200]})")).field,
            "raft.election_timeout_ms");
  EXPECT_EQ(error_of(raft_with(R"({"election_timeout_ms":[100,200],"heartbeat_ms":100})")).field,
            "raft.heartbeat_ms");
  EXPECT_EQ(error_of(R"({"name":"x","system":"kafka","cluster":{"servers":1},"raft":{}})").field, "raft");
  EXPECT_EQ(error_of(R"({"name":"x","system":"raft","faults":{"random":{}}})").field,
            "faults.random.kinds");
  EXPECT_EQ(error_of(R"({"name":"x","system":"raft","faults":{"random":{"kinds":["crash","disk_bitflip"]}}})")
                .field,
            "faults.random.kinds[1]");
}

TEST(RaftScenario, RaftSectionRoundTripsAndObserversAreServers) {
  ParseError e;
  auto s = parse_scenario(
      raft_with(R"({"observers":2,"snapshot_threshold":7,"election_timeout_ms":[100,250],"heartbeat_ms":20,)"
                R"("append_bytes_max":1})"),
      &e);
  ASSERT_TRUE(s.has_value()) << e.to_string();
  auto again = parse_scenario(scenario_to_json(*s), &e);
  ASSERT_TRUE(again.has_value()) << e.to_string();
  EXPECT_EQ(again->raft.observers, 2);
  EXPECT_EQ(again->raft.snapshot_threshold, 7);
  EXPECT_EQ(again->raft.election_timeout_min_ms, 100);
  EXPECT_EQ(again->raft.election_timeout_max_ms, 250);
  EXPECT_EQ(again->raft.heartbeat_ms, 20);
  EXPECT_EQ(again->raft.append_bytes_max, 1);
  EXPECT_EQ(server_names(*again), (std::vector<std::string>{"s0", "s1", "s2", "o0", "o1"}));
}

TEST(RaftScenario, LeaderTargetIsOnlyForRaft) {
  ParseError e;
  auto raft = parse_scenario(
      R"({"name":"x","system":"raft","faults":{"timeline":[{"at_ms":1,"kind":"crash","nodes":["leader"]}]}})", &e);
  ASSERT_TRUE(raft.has_value()) << e.to_string();
  EXPECT_TRUE(validate_targets(*raft, &e)) << e.to_string();
  auto logsvc = parse_scenario(
      R"({"name":"x","faults":{"timeline":[{"at_ms":1,"kind":"crash","nodes":["leader"]}]}})", &e);
  ASSERT_TRUE(logsvc.has_value());
  EXPECT_FALSE(validate_targets(*logsvc, &e));
}

TEST(RaftScenario, MachineSnapshotRestoresTheSameListAndRefusesADoctoredOne) {
  ValueListMachine a;
  a.apply(2, 1, encode_value(7, 16));
  a.apply(3, 1, std::vector<std::uint8_t>{1, 2, 3});  // not a client value
  a.apply(5, 2, encode_value(9, 16));
  ASSERT_EQ(a.entries().size(), 3u);
  EXPECT_EQ(a.entries()[1].value, raft_garbled_value);
  ValueListMachine b;
  ASSERT_TRUE(b.restore(a.snapshot()).ok());
  EXPECT_EQ(b.entries(), a.entries());
  EXPECT_EQ(b.hash(), a.hash());
  auto doctored = a.snapshot();
  doctored.back() ^= 1;  // the last value changes, the hash does not
  ValueListMachine c;
  EXPECT_FALSE(c.restore(doctored).ok());
  EXPECT_TRUE(c.entries().empty());
}

history::History acked(std::int64_t value, std::int64_t index) {
  history::History h;
  history::Op invoke;
  invoke.f = "send";
  invoke.sends.push_back({"raft", value, std::nullopt});
  h.add(invoke);
  history::Op ok = invoke;
  ok.type = history::OpType::ok;
  ok.sends[0].offset = index;
  h.add(ok);
  return h;
}

TEST(RaftScenario, AppliedLogChecksFindDivergenceAndWrongIndexes) {
  const history::History h = acked(7, 3);
  checkers::CheckResult clean;
  check_applied_logs(h, {{"s0", 4, {{3, 7}, {4, 8}}, 2}, {"s1", 3, {{3, 7}}, 3}}, clean);
  EXPECT_TRUE(clean.valid());
  // s1 holds no client value at 4 where s0 holds 8, though both applied it.
  checkers::CheckResult diverged;
  check_applied_logs(h, {{"s0", 4, {{3, 7}, {4, 8}}, 2}, {"s1", 4, {{3, 7}}, 3}}, diverged);
  EXPECT_EQ(diverged.counts["log-divergence"], 1);
  checkers::CheckResult moved;
  check_applied_logs(h, {{"s0", 4, {{4, 7}}, 2}}, moved);
  EXPECT_EQ(moved.counts["wrong-index"], 1);
}

TEST(RaftScenario, AFaultyRunPassesAndIsDeterministic) {
  ParseError e;
  auto s = load_scenario(CASTLE_SOURCE_DIR "/scenarios/raft-everything.json", &e);
  ASSERT_TRUE(s.has_value()) << e.to_string();
  RunOptions o;
  o.seed = 3;
  const RunResult first = run_scenario(*s, o);
  EXPECT_EQ(first.verdict, Verdict::pass) << (first.check.anomalies.empty() ? first.liveness_failure
                                                                           : first.check.anomalies[0].description);
  EXPECT_GT(first.stats.acked, 100);
  EXPECT_FALSE(first.faults.empty());
  EXPECT_EQ(run_scenario(*s, o).trace_hash, first.trace_hash);
}

}  // namespace
}  // namespace castle::scenarios
