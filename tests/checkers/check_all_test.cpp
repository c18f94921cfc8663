// All the history checkers together, as `castle check` runs them, on the
// hand-written histories in tests/checkers/histories/: each file named after
// an anomaly type is found to contain it, clean.jsonl contains nothing, and
// the summary keeps the fields it always had while adding the new ones.
#include <gtest/gtest.h>

#include <fstream>

#include "checkers/check_all.h"
#include "tests/checkers/builder.h"

namespace castle::checkers {
namespace {

history::History load(const std::string& name) {
  std::ifstream in(std::string(CASTLE_SOURCE_DIR) + "/tests/checkers/histories/" + name + ".jsonl");
  EXPECT_TRUE(in.good()) << name;
  std::string error;
  auto h = history::History::read_jsonl(in, &error);
  EXPECT_TRUE(h.has_value()) << error;
  return h ? *h : history::History{};
}

TEST(CheckAll, CleanHistoryWithInfoCrashAndConcurrentSendsIsValid) {
  auto r = check_history(load("clean"), {});
  EXPECT_EQ(r.verdict(), "valid");
  EXPECT_TRUE(r.check.anomalies.empty()) << r.check.anomalies[0].description;
  EXPECT_EQ(r.lin.verdict, LinVerdict::valid);
}

class EachAnomalyFile : public ::testing::TestWithParam<const char*> {};

TEST_P(EachAnomalyFile, IsFoundWithTheOperationsInvolved) {
  auto r = check_history(load(GetParam()), {});
  EXPECT_EQ(r.verdict(), "invalid");
  ASSERT_EQ(r.check.counts.count(GetParam()), 1u);
  for (const auto& a : r.check.anomalies) EXPECT_FALSE(a.ops.empty()) << a.type;
}

INSTANTIATE_TEST_SUITE_P(Histories, EachAnomalyFile,
                         ::testing::Values("nonmonotonic-poll", "poll-skip", "nonmonotonic-send",
                                           "nonlinearizable"));

TEST(CheckAll, SummaryKeepsTheOldFieldsAndAddsTheNew) {
  const auto h = load("poll-skip");
  const auto j = summary_json(h, check_history(h, {}));
  for (const char* old : {"valid", "ops", "acked_sends", "counts", "anomalies"})
    EXPECT_TRUE(j.contains(old)) << old;
  EXPECT_EQ(j["valid"], false);
  EXPECT_EQ(j["verdict"], "invalid");
  EXPECT_EQ(j["by_type"]["poll-skip"]["count"], 1);
  EXPECT_EQ(j["by_type"]["poll-skip"]["instances"].size(), 1u);
  EXPECT_EQ(j["linearizability"]["verdict"], "valid");
}

TEST(CheckAll, ExhaustedBudgetMakesTheVerdictUnknownNotInvalid) {
  testing::Builder b;
  b.send(0, "t-0", 1, 0);
  for (int p = 1; p <= 30; ++p) b.invoke_poll(p);
  b.poll(100, "t-0", {{1, 2}});
  b.send(0, "t-0", 2, 1);
  for (int p = 1; p <= 30; ++p) b.ok_poll(p, "t-0", {{0, 1}});
  AllCheckOptions o;
  o.lin.steps_max = 10'000;
  auto r = check_history(b.history(), o);
  EXPECT_EQ(r.verdict(), "unknown");
  EXPECT_TRUE(r.check.valid());
  EXPECT_EQ(summary_json(b.history(), r)["linearizability"]["keys"][0]["verdict"], "unknown");
}

}  // namespace
}  // namespace castle::checkers
