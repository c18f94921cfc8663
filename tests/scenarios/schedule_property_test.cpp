// RapidCheck over fault schedules: generated Kafka scenarios (cluster
// shape, producer settings, an explicit timeline of faults of every kind
// the contract can judge) run through the simulator with every checker on.
// Every run must pass under the durability contract. A failure shrinks
// through RapidCheck to a small timeline; the scenario JSON and the seed to
// replay it are printed with the counterexample.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "scenarios/run.h"

namespace castle::scenarios {
namespace {

const std::vector<std::string> node_kinds = {"crash", "pause", "disk_full", "slow_sync", "disk_eio"};
const std::vector<std::string> link_kinds = {"isolate", "oneway", "clog", "reset", "split"};
const std::vector<std::string> clock_kinds = {"clock_drift", "clock_jump"};

rc::Gen<FaultSpec> gen_fault(std::vector<std::string> nodes, std::int64_t duration_ms) {
  return rc::gen::exec([nodes, duration_ms] {
    FaultSpec f;
    f.at_ms = *rc::gen::inRange<std::int64_t>(0, duration_ms);
    f.duration_ms = *rc::gen::inRange<std::int64_t>(50, 3000);
    const int family = *rc::gen::inRange(0, 4);
    if (family == 0) {
      f.kind = *rc::gen::elementOf(node_kinds);
      f.nodes = {"s0"};
      if (f.kind == "disk_eio") f.rate = 0.05 + 0.05 * *rc::gen::inRange(0, 10);
    } else if (family == 1) {
      f.kind = *rc::gen::elementOf(link_kinds);
      const auto a = *rc::gen::elementOf(nodes);
      auto b = *rc::gen::elementOf(nodes);
      if (b == a) b = a == "s0" ? nodes.back() : "s0";
      f.nodes = {a};
      if (f.kind == "oneway" || f.kind == "clog" || f.kind == "split") f.others = {b};
      if (f.kind == "reset") f.duration_ms = 0;
    } else if (family == 2) {
      f.kind = *rc::gen::elementOf(clock_kinds);
      f.nodes = {*rc::gen::elementOf(nodes)};
      f.amount = f.kind == "clock_drift" ? *rc::gen::inRange<std::int64_t>(-200'000, 200'000)
                                         : *rc::gen::inRange<std::int64_t>(-60'000, 60'000);
      if (f.kind == "clock_jump") f.duration_ms = 0;
    } else {
      f.kind = "latency";
      f.amount = *rc::gen::inRange<std::int64_t>(10, 400);
    }
    return f;
  });
}

rc::Gen<Scenario> gen_scenario() {
  return rc::gen::exec([] {
    Scenario s;
    s.name = "generated";
    s.system = "kafka";
    s.servers = 1;
    s.clients = *rc::gen::inRange(1, 4);
    s.duration_ms = *rc::gen::inRange<std::int64_t>(2000, 6000);
    s.liveness_window_ms = 40'000;
    s.interval_ms = *rc::gen::inRange<std::int64_t>(2, 20);
    s.timeout_ms = 800;
    s.kafka.partitions = *rc::gen::inRange(1, 5);
    const int mode = *rc::gen::inRange(0, 3);
    s.kafka.acks = mode == 2 ? 1 : -1;
    s.kafka.idempotence = mode == 0;
    if (*rc::gen::arbitrary<bool>()) s.kafka.broker["log.flush.interval.messages"] = "1";
    std::vector<std::string> nodes = {"s0"};
    for (int i = 0; i < s.clients; ++i) nodes.push_back("c" + std::to_string(i));
    s.timeline = *rc::gen::container<std::vector<FaultSpec>>(
        static_cast<std::size_t>(*rc::gen::inRange(0, 7)), gen_fault(nodes, s.duration_ms));
    std::stable_sort(s.timeline.begin(), s.timeline.end(),
                     [](const FaultSpec& a, const FaultSpec& b) { return a.at_ms < b.at_ms; });
    return s;
  });
}

RC_GTEST_PROP(ScheduleProperty, GeneratedKafkaSchedulesPassUnderTheContract, ()) {
  const Scenario s = *gen_scenario();
  const auto seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 20);
  ParseError err;
  RC_PRE(validate_targets(s, &err));
  RunOptions o;
  o.seed = seed;
  const RunResult r = run_scenario(s, o);
  std::string why;
  for (const auto& a : r.check.anomalies) why += a.type + " " + a.key + ": " + a.description + "\n";
  RC_LOG() << "replay: save the scenario below and run castle sim FILE --seed " << seed << "\n"
           << scenario_to_json(s) << why << r.liveness_failure << "\n";
  RC_ASSERT(r.verdict == Verdict::pass);
  // A schedule that let nothing through would prove little.
  RC_ASSERT(r.stats.acked > 0);
  RC_TAG(s.timeline.empty() ? "no faults" : "faults");
}

}  // namespace
}  // namespace castle::scenarios
