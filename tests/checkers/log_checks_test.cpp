// The log checkers on hand-written histories: each anomaly type is found in
// a history built to contain it, and none is found in a clean history.
#include <gtest/gtest.h>

#include <sstream>

#include "checkers/history.h"
#include "checkers/log_checks.h"

namespace castle::checkers {
namespace {

using history::History;
using history::Op;
using history::OpType;

// Builds histories line by line, in the same JSON shape as history.jsonl.
History parse(const std::string& jsonl) {
  std::istringstream in(jsonl);
  std::string error;
  auto h = History::read_jsonl(in, &error);
  EXPECT_TRUE(h.has_value()) << error;
  return h ? *h : History{};
}

std::string send(int p, const char* type, const char* key, int value, int offset = -1) {
  std::string v = offset >= 0 ? "[" + std::to_string(offset) + "," + std::to_string(value) + "]"
                              : std::to_string(value);
  return R"({"process":)" + std::to_string(p) + R"(,"type":")" + type +
         R"(","f":"send","value":[["send",")" + key + R"(",)" + v + "]]}\n";
}

std::string poll(int p, const char* key, const std::vector<std::pair<int, int>>& pairs) {
  std::string arr;
  for (auto [o, v] : pairs)
    arr += (arr.empty() ? "" : ",") + ("[" + std::to_string(o) + "," + std::to_string(v) + "]");
  return R"({"process":)" + std::to_string(p) + R"(,"type":"invoke","f":"poll","value":[["poll"]]})" +
         "\n" + R"({"process":)" + std::to_string(p) +
         R"(,"type":"ok","f":"poll","value":[["poll",{")" + key + R"(":[)" + arr + "]}]]}\n";
}

CheckResult check(const std::string& jsonl) { return check_log_history(parse(jsonl), {}); }

TEST(LogChecks, CleanHistoryHasNoAnomalies) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) +
                 send(1, "invoke", "t-0", 2) + send(1, "info", "t-0", 2) +
                 send(0, "invoke", "t-0", 3) + send(0, "fail", "t-0", 3) +
                 poll(9, "t-0", {{0, 1}, {1, 2}}));
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.acked_sends, 1);
}

TEST(LogChecks, LostWriteWhenReadsPassTheOffset) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) +
                 send(0, "invoke", "t-0", 2) + send(0, "ok", "t-0", 2, 1) +
                 poll(9, "t-0", {{1, 2}, {2, 7}}) + send(3, "invoke", "t-0", 7) +
                 send(3, "info", "t-0", 7));
  ASSERT_EQ(r.counts["lost-write"], 1);
  EXPECT_EQ(r.anomalies[0].ops, (std::vector<std::int64_t>{0, 1}));
}

TEST(LogChecks, UnseenWhenReadsStopShort) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 5) + poll(9, "t-0", {}));
  EXPECT_EQ(r.counts["unseen"], 1);
  EXPECT_EQ(r.counts["lost-write"], 0);
}

TEST(LogChecks, InconsistentOffsets) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) +
                 poll(9, "t-0", {{0, 2}}) + send(1, "invoke", "t-0", 2) + send(1, "info", "t-0", 2));
  EXPECT_GE(r.counts["inconsistent-offsets"], 1);
}

TEST(LogChecks, DuplicateValue) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) +
                 poll(9, "t-0", {{0, 1}, {1, 1}}));
  EXPECT_EQ(r.counts["duplicate"], 1);
}

TEST(LogChecks, G1aFailedSendIsRead) {
  auto r = check(send(0, "invoke", "t-0", 1) + send(0, "fail", "t-0", 1) + poll(9, "t-0", {{0, 1}}));
  EXPECT_EQ(r.counts["G1a"], 1);
}

TEST(LogChecks, PhantomValue) {
  auto r = check(poll(9, "t-0", {{0, 99}}));
  EXPECT_EQ(r.counts["phantom"], 1);
}

TEST(LogChecks, ReportedCorruptionExcusesLossOnlyWhenInjected) {
  History h = parse(send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) + poll(9, "t-0", {}));
  LogCheckOptions opt;
  opt.reported_corrupt = {{"t-0", 0}};
  EXPECT_FALSE(check_log_history(h, opt).valid());
  opt.corruption_injected = true;
  auto r = check_log_history(h, opt);
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.excused, 1);
}

TEST(History, RoundTripsThroughJsonl) {
  const std::string text = send(0, "invoke", "t-0", 1) + send(0, "ok", "t-0", 1, 0) +
                           poll(9, "t-0", {{0, 1}});
  History h = parse(text);
  std::ostringstream out;
  h.write_jsonl(out);
  History again = parse(out.str());
  ASSERT_EQ(again.size(), h.size());
  for (std::size_t i = 0; i < h.size(); ++i)
    EXPECT_EQ(history::op_to_json(again.ops()[i]), history::op_to_json(h.ops()[i]));
}

TEST(History, MalformedLineNamesTheLine) {
  std::istringstream in(send(0, "invoke", "t-0", 1) + "{\"process\":1,\"type\":\"bogus\",\"f\":\"send\"}\n");
  std::string error;
  EXPECT_FALSE(History::read_jsonl(in, &error).has_value());
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

}  // namespace
}  // namespace castle::checkers
