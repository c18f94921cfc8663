// The log linearizability checker: it accepts concurrent histories with
// info outcomes, rejects planted real-time and ordering violations with a
// small witness, gives up with `unknown` when a pathological history
// exhausts its budget, and stays linear in the size of a clean history.
#include <gtest/gtest.h>

#include <algorithm>

#include "checkers/linearizability.h"
#include "tests/checkers/builder.h"

namespace castle::checkers {
namespace {

using history::OpType;
using testing::Builder;
using testing::Pairs;

LinResult lin(const Builder& b, LinOptions options = {}) {
  return check_log_linearizability(b.history(), options);
}

bool contains(const std::vector<std::int64_t>& v, std::int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(Linearizability, ConcurrentSendsAndPollsWithInfoOutcomes) {
  Builder b;
  b.invoke_send(0, "t-0", 1);
  b.invoke_send(1, "t-0", 2);
  b.invoke_poll(2);
  b.ok_send(1, "t-0", 2, 0);
  b.ok_poll(2, "t-0", {{0, 2}, {1, 1}});  // saw 1 before its send returned
  b.end_send(0, OpType::info, "t-0", 1);  // ... which then timed out
  b.invoke_send(0, "t-0", 3);
  b.end_send(0, OpType::info, "t-0", 3);  // never read: may never have happened
  b.send(1, "t-0", 4, 3);                 // offset 2 is a hole
  b.invoke_send(0, "t-0", 5);
  b.end_send(0, OpType::fail, "t-0", 5);
  b.poll(2, "t-0", {{3, 4}});
  b.poll(3, "t-0", {{0, 2}, {1, 1}, {3, 4}});
  b.invoke_poll(4);
  b.end_poll(4, OpType::info);
  auto r = lin(b);
  EXPECT_EQ(r.verdict, LinVerdict::valid) << r.keys[0].reason;
}

TEST(Linearizability, KeysAreCheckedSeparately) {
  Builder b;
  b.send(0, "t-0", 1, 0);
  b.send(0, "t-1", 2, 0);
  b.poll(1, "t-1", {{0, 2}});
  auto r = lin(b);
  EXPECT_EQ(r.verdict, LinVerdict::valid);
  EXPECT_EQ(r.keys.size(), 2u);
}

// The checker finds where an info send landed from its first read, by
// value; a value another key read first must still be found under its own.
TEST(Linearizability, AValueSentToTwoKeysIsPlacedUnderEach) {
  Builder b;
  b.send(0, "t-0", 7, 0);
  b.poll(2, "t-0", {{0, 7}});
  b.send(0, "t-1", 1, 0);
  b.invoke_send(0, "t-1", 7);
  b.poll(1, "t-1", {{0, 1}, {1, 7}});
  b.end_send(0, OpType::info, "t-1", 7);
  auto r = lin(b);
  EXPECT_EQ(r.verdict, LinVerdict::valid) << r.keys[1].reason;
}

TEST(Linearizability, PollObservingAWriteBeforeItsInvokeFails) {
  Builder b;
  b.send(0, "t-0", 1, 0);
  const auto poll_done = b.poll(1, "t-0", {{1, 2}});
  const auto send_invoke = b.invoke_send(0, "t-0", 2);
  b.ok_send(0, "t-0", 2, 1);
  auto r = lin(b);
  ASSERT_EQ(r.verdict, LinVerdict::invalid);
  const auto& w = r.keys[0].witness;
  EXPECT_TRUE(contains(w, poll_done));
  EXPECT_TRUE(contains(w, send_invoke));
  EXPECT_FALSE(contains(w, 0)) << "the first send is not needed to explain it";
}

TEST(Linearizability, TwoReadersSeeingDifferentOrdersFail) {
  Builder b;
  b.invoke_send(0, "t-0", 1);
  b.invoke_send(1, "t-0", 2);
  b.end_send(0, OpType::info, "t-0", 1);
  b.end_send(1, OpType::info, "t-0", 2);
  b.poll(2, "t-0", {{0, 1}, {1, 2}});
  b.poll(3, "t-0", {{0, 2}, {1, 1}});
  EXPECT_EQ(lin(b).verdict, LinVerdict::invalid);
}

TEST(Linearizability, LaterSendGettingALowerOffsetFails) {
  // Different processes, so nonmonotonic-send cannot see it: real time can.
  Builder b;
  b.send(0, "t-0", 1, 5);
  b.send(1, "t-0", 2, 3);
  EXPECT_EQ(lin(b).verdict, LinVerdict::invalid);
}

TEST(Linearizability, PollMissingAnEarlierAcknowledgedWriteFails) {
  Builder b;
  b.send(0, "t-0", 1, 0);
  b.send(0, "t-0", 2, 1);
  b.send(0, "t-0", 3, 2);
  const auto bad = b.poll(1, "t-0", {{0, 1}, {2, 3}});
  auto r = lin(b);
  ASSERT_EQ(r.verdict, LinVerdict::invalid);
  EXPECT_TRUE(contains(r.keys[0].witness, bad));
}

TEST(Linearizability, ValueReadAtAnotherOffsetNamesThePollAndTheAppendsThere) {
  Builder b;
  for (int v = 0; v < 50; ++v) b.send(0, "t-0", v, v);
  const auto moved = b.send(1, "t-0", 100, 50);
  const auto there = b.send(1, "t-0", 101, 51);
  Pairs all;
  for (int v = 0; v < 50; ++v) all.emplace_back(v, v);
  all.emplace_back(50, 101);  // a retried duplicate shifted everything
  all.emplace_back(51, 100);
  const auto poll = b.poll(2, "t-0", all);
  auto r = lin(b);
  ASSERT_EQ(r.verdict, LinVerdict::invalid);
  EXPECT_NE(r.keys[0].reason.find("value 101 at offset 50"), std::string::npos) << r.keys[0].reason;
  EXPECT_EQ(r.keys[0].witness,
            (std::vector<std::int64_t>{moved - 1, moved, there - 1, there, poll - 1, poll}));
}

// Many polls open at once, then one that read a value whose send starts only
// after it returned: without knowing reads commute, the search tries every
// subset of the open polls before giving up.
Builder pathological(int open_polls) {
  Builder b;
  b.send(0, "t-0", 1, 0);
  for (int p = 1; p <= open_polls; ++p) b.invoke_poll(p);
  b.poll(100, "t-0", {{0, 1}, {1, 2}});
  b.send(0, "t-0", 2, 1);
  for (int p = 1; p <= open_polls; ++p) b.ok_poll(p, "t-0", {{0, 1}});
  return b;
}

TEST(Linearizability, BudgetExhaustedIsUnknownNotInvalid) {
  LinOptions o;
  o.steps_max = 100'000;
  auto r = lin(pathological(40), o);
  EXPECT_EQ(r.verdict, LinVerdict::unknown);
  EXPECT_GE(r.keys[0].steps, o.steps_max);
  EXPECT_TRUE(r.keys[0].witness.empty());
}

TEST(Linearizability, SmallPathologicalCaseIsDecided) {
  auto r = lin(pathological(6));
  EXPECT_EQ(r.verdict, LinVerdict::invalid);
  // The early poll, the late send, and the first send whose value it read.
  EXPECT_LE(r.keys[0].witness.size(), 6u);
}

// A clean history of ~4 * rounds operations with four producers and two
// consumers overlapping in every round.
Builder clean_concurrent(int rounds) {
  Builder b;
  std::int64_t offset = 0, value = 0;
  for (int i = 0; i < rounds; ++i) {
    for (int p = 0; p < 4; ++p) b.invoke_send(p, "t-0", value + p);
    b.invoke_poll(10);
    for (int p = 3; p >= 0; --p) b.ok_send(p, "t-0", value + p, offset + (3 - p));
    b.ok_poll(10, "t-0", {{offset, value + 3}});
    b.poll(11, "t-0", {{offset, value + 3}, {offset + 1, value + 2}});
    offset += 4;
    value += 4;
  }
  return b;
}

TEST(Linearizability, CleanHistoryCostIsLinear) {
  Builder b = clean_concurrent(1000);  // 6000 operations
  auto r = lin(b);
  ASSERT_EQ(r.verdict, LinVerdict::valid) << r.keys[0].reason;
  EXPECT_EQ(r.keys[0].ops, 6000);
  EXPECT_LT(r.steps, 20 * r.keys[0].ops) << "no backtracking on a clean history";
  std::printf("clean history: %lld ops, %lld steps, %.1f ms\n",
              static_cast<long long>(r.keys[0].ops), static_cast<long long>(r.steps),
              r.elapsed_ms);
}

}  // namespace
}  // namespace castle::checkers
