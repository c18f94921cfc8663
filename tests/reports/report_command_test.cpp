// `castle report DIR` against the castle binary: a folder written by
// `castle sim --out` whose pictures and page were deleted gets the same ones
// back from its files (a swarm run's with the cluster its seed drew); a
// folder with only a history.jsonl gets pictures and a page from the
// checkers; a broken file is exit 2 naming it and its line.
#include <gtest/gtest.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

const std::string castle = std::string(CASTLE_BINARY_DIR) + "/castle";

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr
};

Outcome run(const std::string& command) {
  Outcome o;
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) o.output.append(buf, n);
  const int status = ::pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool is_page(const fs::path& p) {
  const auto ext = p.extension();
  return ext == ".svg" || ext == ".dot" || p.filename() == "index.html";
}

// The pictures and page of a folder, by name.
std::map<std::string, std::string> pages(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (is_page(e.path())) out[e.path().filename().string()] = slurp(e.path());
  return out;
}

std::set<std::string> names(const std::map<std::string, std::string>& files) {
  std::set<std::string> out;
  for (const auto& [name, text] : files) out.insert(name);
  return out;
}

// One failing run (the planted bug loses acknowledged writes), written once
// for every test here.
class ReportCommand : public ::testing::Test {
 protected:
  // One folder per process: ctest runs each test as its own process, in
  // parallel, and a shared folder was removed under a neighbour's feet.
  static fs::path dir() {
    static const fs::path d =
        fs::temp_directory_path() / ("castle_report_command_test-" + std::to_string(::getpid()));
    return d;
  }

  static void SetUpTestSuite() {
    ASSERT_TRUE(fs::exists(castle)) << "build the castle binary first: " << castle;
    fs::remove_all(dir());
    const Outcome o = run(castle + " sim " + CASTLE_SOURCE_DIR +
                          "/scenarios/logsvc-planted-ack-before-sync.json --seed 1 --quiet --out " +
                          (dir() / "run").string());
    ASSERT_EQ(o.code, 1) << o.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir()); }

  // A new folder holding copies of the run's raw files named here.
  static fs::path copy_of(const std::string& name, std::initializer_list<const char*> files) {
    const fs::path to = dir() / name;
    fs::remove_all(to);
    fs::create_directories(to);
    for (const char* f : files) fs::copy_file(dir() / "run" / f, to / f);
    return to;
  }
};

TEST_F(ReportCommand, RedrawsTheSamePicturesAndPageFromTheFiles) {
  const fs::path folder =
      copy_of("redraw", {"report.json", "history.jsonl", "trace.jsonl", "scenario.json"});
  const auto before = pages(dir() / "run");
  ASSERT_TRUE(before.count("index.html") && before.count("timeline.dot") && before.count("latency.svg"));
  const Outcome o = run(castle + " report " + folder.string());
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("verdict=safety"), std::string::npos) << o.output;
  const auto after = pages(folder);
  EXPECT_EQ(names(after), names(before));
  // One drawing path: the same files byte for byte, the page included, so
  // it shows the same verdict, numbers and anomalies.
  for (const auto& [name, text] : before) EXPECT_TRUE(after.count(name) && after.at(name) == text) << name;
  EXPECT_NE(after.at("index.html").find("class=\"verdict safety\""), std::string::npos);
  EXPECT_NE(after.at("index.html").find("lost-write"), std::string::npos);
}

TEST_F(ReportCommand, RedrawsASwarmRunWithTheClusterItsSeedDrew) {
  const fs::path folder = dir() / "swarm";
  const Outcome sim = run(castle + " sim " + CASTLE_SOURCE_DIR +
                          "/scenarios/kafka-swarm.json --seed 2 --quiet --out " + folder.string());
  ASSERT_TRUE(sim.code == 0 || sim.code == 1 || sim.code == 3) << sim.output;
  const auto before = pages(folder);
  for (const auto& [name, text] : before) fs::remove(folder / name);
  const Outcome o = run(castle + " report " + folder.string());
  ASSERT_EQ(o.code, 0) << o.output;
  const auto after = pages(folder);
  EXPECT_EQ(names(after), names(before));
  for (const auto& [name, text] : before) EXPECT_TRUE(after.count(name) && after.at(name) == text) << name;
  // The file says 3 clients; seed 2 drew 5, and each client process is its
  // node (only the final reader, process 100000, has a box of its own).
  EXPECT_NE(after.at("cluster.dot").find("\"c4\""), std::string::npos);
  EXPECT_EQ(after.at("cluster.dot").find("\"process 3\""), std::string::npos);
}

TEST_F(ReportCommand, DrawsAFolderWithOnlyAHistory) {
  const fs::path folder = copy_of("history-only", {"history.jsonl"});
  const Outcome o = run(castle + " report " + folder.string());
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("verdict=safety"), std::string::npos)
      << "the checkers find the lost writes: " << o.output;
  const auto drawn = pages(folder);
  for (const char* f :
       {"index.html", "timeline.dot", "sequence.dot", "cluster.dot", "throughput.svg", "latency.svg"})
    EXPECT_TRUE(drawn.count(f)) << f;
  const std::string& page = drawn.at("index.html");
  EXPECT_NE(page.find("no report.json"), std::string::npos);
  EXPECT_NE(page.find("First violation"), std::string::npos);
  EXPECT_EQ(page.find("href=\"report.json\""), std::string::npos) << "no link to a file that is not there";
  EXPECT_FALSE(fs::exists(folder / "report.json")) << "raw files are never written";
}

TEST_F(ReportCommand, ABrokenHistoryLineIsExit2NamingTheLine) {
  const fs::path folder = copy_of("broken", {"history.jsonl"});
  std::istringstream lines(slurp(folder / "history.jsonl"));
  std::string text, line;
  for (int n = 1; std::getline(lines, line); ++n)
    text += (n == 3 ? std::string("{\"process\": oops") : line) + "\n";
  std::ofstream(folder / "history.jsonl") << text;
  const Outcome o = run(castle + " report " + folder.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("history.jsonl: line 3:"), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(folder / "index.html"));
}

TEST_F(ReportCommand, AFolderThatIsNotAReportIsExit2NamingTheFile) {
  const fs::path empty = copy_of("empty", {});
  Outcome o = run(castle + " report " + empty.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("no history.jsonl"), std::string::npos) << o.output;

  const fs::path folder = copy_of("bad-report", {"history.jsonl", "report.json"});
  std::ofstream(folder / "report.json") << "{\"seed\": 1,\n \"verdict\": \"pass\",\n \"trace_hash\": }\n";
  o = run(castle + " report " + folder.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("report.json: not JSON"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("line 3"), std::string::npos) << o.output;

  std::ofstream(folder / "report.json") << "{\"seed\": 1, \"verdict\": \"pass\", \"trace_hash\": 7}\n";
  o = run(castle + " report " + folder.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("report.json: trace_hash:"), std::string::npos) << o.output;
}

}  // namespace
