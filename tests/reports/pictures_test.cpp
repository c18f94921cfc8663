// The report's pictures, from a small hand-made run whose faults, trace and
// history are known: faults land on their lanes in the timeline, the first
// violation's operations are the ones the sequence chart marks, `dot`
// accepts every picture, the plots count what the history holds, and a
// missing `dot` leaves the .dot files and a page that says so.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "reports/cluster_dot.h"
#include "reports/dot.h"
#include "reports/plots.h"
#include "reports/report.h"
#include "reports/run_view.h"
#include "reports/sequence_dot.h"
#include "reports/timeline_dot.h"

namespace castle::reports {
namespace {

constexpr std::int64_t ms = 1'000'000;

scenarios::FaultSpec fault(std::int64_t at_ms, std::string kind, std::int64_t duration_ms,
                           std::vector<std::string> nodes, std::vector<std::string> others = {}) {
  scenarios::FaultSpec f;
  f.at_ms = at_ms;
  f.kind = std::move(kind);
  f.duration_ms = duration_ms;
  f.nodes = std::move(nodes);
  f.others = std::move(others);
  return f;
}

history::Op op(std::int64_t time_ns, std::int64_t process, history::OpType type, std::string f) {
  history::Op o;
  o.time_ns = time_ns;
  o.process = process;
  o.type = type;
  o.f = std::move(f);
  return o;
}

history::Op send(std::int64_t time_ns, std::int64_t process, history::OpType type, std::int64_t value,
                 std::optional<std::int64_t> offset = std::nullopt) {
  history::Op o = op(time_ns, process, type, "send");
  o.sends.push_back({"t-0", value, offset});
  return o;
}

// Two servers, two clients; a crash, a split, a latency spike on every
// link, a clock jump; process 1's send ends unknown and the final read
// misses it, which the (hand-written) check calls unseen.
struct Fixture {
  scenarios::Scenario s;
  scenarios::RunResult r;
  Fixture() {
    s.name = "synthetic";
    s.servers = 2;
    s.clients = 2;
    s.duration_ms = 1000;
    r.seed = 7;
    r.sim_time_ns = 1500 * ms;
    r.planned_faults = {fault(100, "crash", 200, {"s0"}), fault(400, "split", 100, {"s0"}, {"s1"}),
                        fault(500, "latency", 100, {}), fault(600, "clock_jump", 0, {"s1"})};
    r.trace_lines = {
        R"({"time_ns":50000000,"node":"s1","kind":"partition.leader","partition":"t-0","epoch":3})",
        R"({"time_ns":100000000,"node":"s0","kind":"node.crash","incarnation":1})",
        R"({"time_ns":300000000,"node":"s0","kind":"node.start","incarnation":2})",
        R"({"time_ns":1500000000,"node":"s1","kind":"node.crash","incarnation":1})"};
    r.history.add(send(10 * ms, 0, history::OpType::invoke, 1));         // #0
    r.history.add(send(12 * ms, 0, history::OpType::ok, 1, 0));          // #1
    r.history.add(send(150 * ms, 1, history::OpType::invoke, 2));        // #2
    r.history.add(send(950 * ms, 1, history::OpType::info, 2));          // #3
    r.history.add(op(1200 * ms, 0, history::OpType::invoke, "poll"));    // #4
    history::Op read = op(1210 * ms, 0, history::OpType::ok, "poll");    // #5
    read.polls["t-0"] = {{0, 1}};
    r.history.add(read);
    r.check.add({"unseen", "t-0", "value 2 never read", {3, 5}});
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool dot_on_path() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

TEST(RunView, PairsOperationsAndReadsLifecycleAndLeadership) {
  Fixture fx;
  const RunView v = make_run_view(fx.s, fx.r);
  ASSERT_EQ(v.ops.size(), 3u);
  EXPECT_EQ(v.ops[1].invoke_index, 2);
  EXPECT_EQ(v.ops[1].complete_index, 3);
  EXPECT_EQ(v.ops[1].latency_ns(), 800 * ms);
  EXPECT_EQ(v.op_of_index.at(5), 2u);
  // The crash at 100 ms ends at the restart; the stop at the run's end is no outage.
  ASSERT_EQ(v.down.size(), 1u);
  EXPECT_EQ(v.down[0].start_ns, 100 * ms);
  EXPECT_EQ(v.down[0].end_ns, 300 * ms);
  ASSERT_EQ(v.leaders.size(), 1u);
  EXPECT_EQ(v.leaders[0].subject, "t-0");
  EXPECT_EQ(v.leaders[0].epoch, "3");
  EXPECT_EQ(v.violation_ops, (std::vector<std::int64_t>{3, 5}));
}

TEST(Timeline, ShowsEveryFaultOnItsLanesAndTheViolation) {
  Fixture fx;
  const std::string dot = timeline_dot(make_run_view(fx.s, fx.r));
  EXPECT_NE(dot.find("crash s0 (200 ms) at 100.0 ms until 300.0 ms"), std::string::npos);
  EXPECT_NE(dot.find("split s0 | s1 (100 ms)"), std::string::npos);
  EXPECT_NE(dot.find("\"network\""), std::string::npos) << "a fault on every link gets its own lane";
  EXPECT_NE(dot.find("shape=diamond"), std::string::npos) << "the clock jump is an instant";
  EXPECT_NE(dot.find("leader t-0 e3"), std::string::npos);
  EXPECT_NE(dot.find("\"#3\""), std::string::npos) << "a rule marks the violation's operation";
  EXPECT_NE(dot.find("faults stop"), std::string::npos);
}

TEST(SequenceChart, MarksTheFirstViolationsOperations) {
  Fixture fx;
  const std::string dot = sequence_dot(make_run_view(fx.s, fx.r));
  for (std::int64_t index : fx.r.check.anomalies.front().ops)
    EXPECT_NE(dot.find("!#" + std::to_string(index) + " "), std::string::npos) << index;
  EXPECT_NE(dot.find("First violation: unseen t-0"), std::string::npos);
  EXPECT_NE(dot.find("crash starts"), std::string::npos) << "faults of the same stretch show";
}

TEST(SequenceChart, PassingRunCentresOnTheLastFault) {
  Fixture fx;
  fx.r.check = {};
  const RunView v = make_run_view(fx.s, fx.r);
  ASSERT_EQ(sequence_focus(v).size(), 1u);
  EXPECT_EQ(v.ops[sequence_focus(v)[0]].invoke_index, 2) << "the op invoked nearest 600 ms";
  const std::string dot = sequence_dot(v);
  EXPECT_NE(dot.find("around the last fault: clock_jump s1"), std::string::npos);
  EXPECT_EQ(dot.find("!#"), std::string::npos) << "no operation is marked as a violation";
}

TEST(Cluster, ShowsCutsCrashesAndWhoServesAKey) {
  Fixture fx;
  const std::string dot = cluster_dot(make_run_view(fx.s, fx.r));
  EXPECT_NE(dot.find("\"s0\" -> \"s1\" [xlabel=\"split x1\""), std::string::npos);
  EXPECT_NE(dot.find("crashed x1"), std::string::npos);
  EXPECT_NE(dot.find("\"t-0\" -> \"s1\" [label=\"leader (last)\""), std::string::npos);
  EXPECT_NE(dot.find("\"c0\" -> \"t-0\" [tooltip=\"c0 -> t-0: 2 ok / 0 fail / 0 info\""), std::string::npos);
  EXPECT_NE(dot.find("c1\\n1 ops"), std::string::npos) << "clients count their operations";
}

// An open-loop workload takes a process per in-flight send: thousands of
// boxes that dot cannot lay out. The busiest keep theirs, the rest share one,
// and no operation is lost from the counts.
TEST(Cluster, FoldsTheLeastBusyProcessesIntoOneBox) {
  RunView v;
  v.clients = {"c0"};
  v.servers = {"s0"};
  const std::int64_t processes = 40;
  for (std::int64_t p = 0; p < processes; ++p)
    for (std::int64_t i = 0; i <= p; ++i) {  // process 1000000 + p runs p + 1 operations
      OpPair op;
      op.process = 1'000'000 + p;
      op.outcome = history::OpType::ok;
      op.keys = {"t-0"};
      v.ops.push_back(op);
    }
  const std::string dot = cluster_dot(v);
  EXPECT_NE(dot.find("\"process 1000039\" [label=\"process 1000039\\n40 ops\""), std::string::npos);
  EXPECT_NE(dot.find("\"process 1000029\""), std::string::npos) << "the 11th busiest keeps its box";
  EXPECT_EQ(dot.find("\"process 1000028\""), std::string::npos) << "the 12th busiest is folded";
  // Processes 0..28 (29 of them) ran 1 + 2 + ... + 29 = 435 operations.
  EXPECT_NE(dot.find("\"29 other processes\" [label=\"29 other processes\\n435 ops\""), std::string::npos);
  EXPECT_NE(dot.find("t-0\\n820 ops"), std::string::npos) << "every operation still counts on its key";
}

TEST(Pictures, DotAcceptsEveryPicture) {
  if (!dot_on_path()) GTEST_SKIP() << "Graphviz dot is not installed";
  Fixture fx;
  const RunView v = make_run_view(fx.s, fx.r);
  const auto dir = std::filesystem::temp_directory_path() / "castle_reports_dot_test";
  std::filesystem::create_directories(dir);
  for (const auto& [name, text] : {std::pair{"timeline", timeline_dot(v)}, std::pair{"sequence", sequence_dot(v)},
                                   std::pair{"cluster", cluster_dot(v)}}) {
    const std::string base = (dir / name).string();
    std::ofstream(base + ".dot") << text;
    const RenderResult r = render_svg(base + ".dot", base + ".svg");
    EXPECT_TRUE(r.ok) << name << ": " << r.error;
    EXPECT_NE(slurp(base + ".svg").find("</svg>"), std::string::npos) << name;
  }
  std::filesystem::remove_all(dir);
}

TEST(Plots, CountCompletionsAndPercentilesPerBucket) {
  Fixture fx;
  const RunView v = make_run_view(fx.s, fx.r);
  EXPECT_EQ(plot_bucket_ns(1500 * ms), 20 * ms) << "1.5 s in about 80 round buckets";
  const LineChart t = throughput_chart(v);
  ASSERT_EQ(t.series.size(), 3u);  // ok, fail, info
  double ok = 0;
  for (const auto& x : t.series[0].values) ok += x.value_or(0);
  EXPECT_EQ(ok, 2) << "the send and the read completed ok";
  const LineChart l = latency_chart(v);
  ASSERT_EQ(l.series.size(), 6u);                       // p50 and p99 per outcome
  EXPECT_DOUBLE_EQ(*l.series[4].values[950 / 20], 800);  // info p50: the 800 ms send
  // Counts run through every bucket: lines. Each latency sits alone in its bucket: dots.
  const std::string counts = line_chart_svg(t);
  EXPECT_NE(counts.find("<polyline"), std::string::npos);
  const std::string latencies = line_chart_svg(l);
  EXPECT_EQ(latencies.find("<polyline"), std::string::npos);
  EXPECT_NE(latencies.find("<circle"), std::string::npos);
  EXPECT_NE(latencies.find("</svg>"), std::string::npos);
}

TEST(RunFolder, WithoutDotKeepsTheSourcesAndSaysSo) {
  Fixture fx;
  const auto dir = std::filesystem::temp_directory_path() / "castle_reports_nodot_test";
  std::filesystem::remove_all(dir);
  ::setenv("CASTLE_DOT", "/nonexistent/dot", 1);
  std::string error;
  const bool ok = write_run_folder(dir.string(), "synthetic.json", fx.s, fx.r, &error);
  ::unsetenv("CASTLE_DOT");
  ASSERT_TRUE(ok) << error;
  for (const char* f : {"timeline.dot", "sequence.dot", "cluster.dot", "throughput.svg", "latency.svg",
                        "index.html", "report.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  EXPECT_FALSE(std::filesystem::exists(dir / "timeline.svg"));
  const std::string page = slurp((dir / "index.html").string());
  EXPECT_NE(page.find("data-pictures-unrendered=\"3\""), std::string::npos);
  EXPECT_NE(page.find("Not rendered: cannot run '/nonexistent/dot'"), std::string::npos);
  EXPECT_NE(page.find("src=\"throughput.svg\""), std::string::npos) << "the plots need no Graphviz";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace castle::reports
