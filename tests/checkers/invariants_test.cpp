// The state-invariant hook: invariants attached to a TraceBus see the events
// published on it and report at the end. Checked with synthetic events for
// the proof service's "durable log never shrinks" invariant.
#include <gtest/gtest.h>

#include "checkers/invariants.h"

namespace castle::checkers {
namespace {

TraceEvent recovered(const std::string& node, std::int64_t time_ns, std::int64_t records) {
  return TraceEvent{node, time_ns, "logsvc.recovered",
                    {{"records", records}, {"corrupt_regions", 0}, {"cut_bytes", 0}}};
}

TEST(Invariants, DurableLogThatGrowsOrStaysIsClean) {
  TraceBus bus;
  InvariantSet set;
  set.add(logsvc_durable_log_never_shrinks());
  set.attach(bus);
  bus.publish(recovered("s0", 10, 0));
  bus.publish(recovered("s1", 11, 4));
  bus.publish(recovered("s0", 20, 7));
  bus.publish(recovered("s0", 30, 7));
  bus.publish(recovered("s1", 31, 9));
  CheckResult r;
  set.finish(r);
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(set.events_seen(), 5);
}

TEST(Invariants, DurableLogThatShrinksOnOneNodeIsReported) {
  TraceBus bus;
  InvariantSet set;
  set.add(logsvc_durable_log_never_shrinks());
  set.attach(bus);
  bus.publish(recovered("s0", 10, 5));
  bus.publish(recovered("s1", 15, 2));  // another node: its own log
  bus.publish(TraceEvent{"s0", 18, "node.crash", {{"incarnation", 1}}});
  bus.publish(TraceEvent{"s0", 19, "logsvc.exit", {{"records", 0}}});  // other kinds ignored
  bus.publish(recovered("s0", 20, 3));
  CheckResult r;
  set.finish(r);
  ASSERT_EQ(r.counts["durable-log-shrank"], 1);
  EXPECT_EQ(r.anomalies[0].key, "s0");
  EXPECT_NE(r.anomalies[0].description.find("from 5"), std::string::npos)
      << r.anomalies[0].description;
}

TEST(Invariants, MonotonicFieldIgnoresEventsWithoutTheField) {
  MonotonicField epochs("leader-epoch-went-back", "broker.leader", "epoch");
  epochs.observe(TraceEvent{"b1", 1, "broker.leader", {{"epoch", 3}}});
  epochs.observe(TraceEvent{"b1", 2, "broker.leader", {{"partition", 0}}});
  epochs.observe(TraceEvent{"b1", 3, "broker.leader", {{"epoch", 2}}});
  auto found = epochs.finish();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].type, "leader-epoch-went-back");
}

}  // namespace
}  // namespace castle::checkers
