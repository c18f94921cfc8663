// The per-process order checks (nonmonotonic-poll, poll-skip,
// nonmonotonic-send) on hand-written histories: each anomaly is found where
// it was planted, with the operations involved, and none is found in clean
// histories that reassign, crash, lose poll outcomes or send concurrently.
#include <gtest/gtest.h>

#include "checkers/order_checks.h"
#include "tests/checkers/builder.h"

namespace castle::checkers {
namespace {

using history::OpType;
using testing::Builder;

CheckResult order(const Builder& b) {
  CheckResult r;
  check_order(b.history(), r);
  return r;
}

// Three records at offsets 0..2 of t-0, acknowledged to process 0.
Builder with_three_records() {
  Builder b;
  b.send(0, "t-0", 10, 0);
  b.send(0, "t-0", 11, 1);
  b.send(0, "t-0", 12, 2);
  return b;
}

TEST(OrderChecks, ContiguousPollsAcrossProcessesAreClean) {
  Builder b = with_three_records();
  b.poll(1, "t-0", {{0, 10}});
  b.poll(2, "t-0", {{0, 10}, {1, 11}});
  b.poll(1, "t-0", {{1, 11}, {2, 12}});
  b.poll(2, "t-0", {{2, 12}});
  EXPECT_TRUE(order(b).valid());
}

TEST(OrderChecks, ReassignCrashAndInfoPollResetThePosition) {
  Builder b = with_three_records();
  b.poll(1, "t-0", {{0, 10}, {1, 11}});
  b.assign(1, {"t-0"});
  b.poll(1, "t-0", {{0, 10}});  // re-read after assign
  b.crash(1);
  b.poll(1, "t-0", {{2, 12}});  // after a crash the consumer may start anywhere
  b.assign(1, {"t-0"}, "subscribe");
  b.poll(1, "t-0", {{0, 10}});
  b.invoke_poll(1);
  b.end_poll(1, OpType::info);  // it may have consumed offset 1 unseen
  b.poll(1, "t-0", {{2, 12}});
  EXPECT_TRUE(order(b).valid()) << order(b).anomalies[0].description;
}

TEST(OrderChecks, ConcurrentSendersInterleaveCleanly) {
  Builder b;
  b.invoke_send(0, "t-0", 1);
  b.invoke_send(1, "t-0", 2);
  b.ok_send(1, "t-0", 2, 0);
  b.ok_send(0, "t-0", 1, 1);
  b.invoke_send(1, "t-0", 3);
  b.invoke_send(0, "t-0", 4);
  b.end_send(0, OpType::info, "t-0", 4);
  b.ok_send(1, "t-0", 3, 3);  // offset 2 went to the info send
  b.send(0, "t-0", 5, 4);
  b.send(0, "t-1", 6, 0);  // another key has its own offsets
  EXPECT_TRUE(order(b).valid());
}

TEST(OrderChecks, NonmonotonicPollAcrossPollsNamesBothPolls) {
  Builder b = with_three_records();
  const auto first = b.poll(1, "t-0", {{0, 10}, {1, 11}});
  const auto second = b.poll(1, "t-0", {{1, 11}, {2, 12}});  // repeats offset 1
  auto r = order(b);
  ASSERT_EQ(r.counts["nonmonotonic-poll"], 1);
  EXPECT_EQ(r.anomalies[0].ops, (std::vector<std::int64_t>{first, second}));
  EXPECT_EQ(r.anomalies[0].key, "t-0");
}

TEST(OrderChecks, NonmonotonicPollWithinOnePoll) {
  Builder b = with_three_records();
  b.poll(1, "t-0", {{1, 11}, {0, 10}});
  EXPECT_EQ(order(b).counts["nonmonotonic-poll"], 1);
}

TEST(OrderChecks, PollSkipOverAnAcknowledgedOffset) {
  Builder b = with_three_records();
  const auto first = b.poll(1, "t-0", {{0, 10}});
  const auto second = b.poll(1, "t-0", {{2, 12}});  // offset 1 exists (acked at index 3)
  auto r = order(b);
  ASSERT_EQ(r.counts["poll-skip"], 1);
  EXPECT_EQ(r.anomalies[0].ops, (std::vector<std::int64_t>{first, second, 3}));
}

TEST(OrderChecks, PollSkipWithinOnePollOverAnOffsetAnotherReaderSaw) {
  Builder b;
  b.poll(1, "t-0", {{5, 50}, {6, 60}, {7, 70}});
  b.poll(2, "t-0", {{5, 50}, {7, 70}});
  auto r = order(b);
  EXPECT_EQ(r.counts["poll-skip"], 1);
}

TEST(OrderChecks, GapsNobodyKnowsAreNoSkip) {
  // Offset 1 is a hole no read or ack names (e.g. a transaction marker).
  Builder b;
  b.send(0, "t-0", 10, 0);
  b.send(0, "t-0", 12, 2);
  b.poll(1, "t-0", {{0, 10}});
  b.poll(1, "t-0", {{2, 12}});
  EXPECT_TRUE(order(b).valid());
}

TEST(OrderChecks, NonmonotonicSendNamesBothAcknowledgements) {
  Builder b;
  const auto first = b.send(0, "t-0", 1, 5);
  const auto second = b.send(0, "t-0", 2, 3);
  auto r = order(b);
  ASSERT_EQ(r.counts["nonmonotonic-send"], 1);
  EXPECT_EQ(r.anomalies[0].ops, (std::vector<std::int64_t>{first, second}));
}

TEST(OrderChecks, NonmonotonicSendResetsOnCrash) {
  Builder b;
  b.send(0, "t-0", 1, 5);
  b.crash(0);
  b.send(0, "t-0", 2, 3);  // a restarted producer is a new producer
  EXPECT_TRUE(order(b).valid());
}

}  // namespace
}  // namespace castle::checkers
