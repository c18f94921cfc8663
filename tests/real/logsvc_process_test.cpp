// The proof service as real processes on loopback: the same Server code the
// simulator runs. Two servers take appends from the real client; one is
// killed with SIGKILL mid-run and restarted on the same data directory; a
// second workload run then reads everything back and checks that every
// acknowledged append survived, in place.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/real/real_test_util.h"

namespace castle::real::testing {
namespace {


// A child process whose stdout we read line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    CASTLE_ASSERT(::pipe(fds) == 0, "pipe");
    pid_ = ::fork();
    CASTLE_ASSERT(pid_ >= 0, "fork");
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_) std::fclose(out_);
  }
  std::string line() {
    char buf[512];
    if (!std::fgets(buf, sizeof buf, out_)) return {};
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
};

// Starts a server on an ephemeral port and returns its "host:port".
std::string start_server(std::unique_ptr<Child>& child, const std::string& dir,
                         const std::string& listen = "127.0.0.1:0") {
  child = std::make_unique<Child>(
      std::vector<std::string>{castle_binary, "logsvc", "serve", "--listen", listen, "--dir", dir});
  const std::string first = child->line();
  const std::string prefix = "listening on ";
  EXPECT_EQ(first.rfind(prefix, 0), 0u) << first;
  return first.substr(prefix.size());
}

std::unique_ptr<Child> start_workload(const std::string& servers, int count,
                                      const std::string& history) {
  return std::make_unique<Child>(std::vector<std::string>{
      castle_binary, "logsvc", "workload", "--servers", servers, "--count",
      std::to_string(count), "--history", history, "--timeout-ms", "3000"});
}

int finish_workload(Child& w) {
  std::string last, l;
  while (!(l = w.line()).empty()) last = l;
  std::printf("workload: %s\n", last.c_str());
  return w.wait();
}

TEST(LogsvcProcess, AcknowledgedAppendsSurviveSigkillAndRestart) {
  TempDir dir0, dir1, scratch;
  std::unique_ptr<Child> s0, s1;
  const std::string a0 = start_server(s0, dir0.path());
  const std::string a1 = start_server(s1, dir1.path());
  const std::string history = scratch.path() + "/history.jsonl";
  // Kill s0 while the workload is appending to it, and bring it back at
  // once on the same port and directory; the client reconnects.
  auto w = start_workload(a0 + "," + a1, 3000, history);
  ::usleep(150 * 1000);
  s0->signal(SIGKILL);
  s0->wait();
  const std::string again = start_server(s0, dir0.path(), a0);
  ASSERT_EQ(again, a0);
  ASSERT_EQ(finish_workload(*w), 0);
  // A second run appends more and checks the whole history again.
  auto w2 = start_workload(a0 + "," + a1, 100, history);
  ASSERT_EQ(finish_workload(*w2), 0);

  // A clean stop on SIGTERM exits 0.
  s1->signal(SIGTERM);
  EXPECT_EQ(s1->wait(), 0);
}

TEST(LogsvcProcess, BadFlagsExitTwo) {
  Child c({castle_binary, "logsvc", "serve", "--listen", "nonsense", "--dir", "/tmp"});
  EXPECT_EQ(c.wait(), 2);
  Child d({castle_binary, "sim", "--seed", "x", "scenarios/none.json"});
  EXPECT_EQ(d.wait(), 2);
}

// The contract of `castle sim`: a broken scenario file is exit 2 with an
// error naming the field; a run's last line is the verdict line; a failing
// run prints the command that reproduces it, and that command reproduces it.
TEST(CastleSim, BrokenScenarioNamesTheFieldAndExitsTwo) {
  TempDir dir;
  const std::string path = dir.path() + "/broken.json";
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(R"({"name":"b","cluster":{"servers":2,"clientz":3}})", f);
  std::fclose(f);
  auto [code, out] = run_shell(castle_binary + " sim " + path + " --seed 1");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("cluster.clientz: unknown field"), std::string::npos) << out;
}

TEST(CastleSim, FailingRunPrintsItsReproductionAndItReproduces) {
  const std::string scenario = CASTLE_SOURCE_DIR "/scenarios/logsvc-planted-ack-before-sync.json";
  auto [code, out] = run_shell(castle_binary + " sim " + scenario + " --seed 3");
  EXPECT_EQ(code, 1) << out;
  const auto at = out.find("reproduce: ");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string cmd = out.substr(at + 11, out.find('\n', at) - at - 11);
  const std::string verdict = out.substr(out.rfind("verdict="));
  EXPECT_EQ(verdict.rfind("verdict=safety seed=3 trace_hash=", 0), 0u) << verdict;
  auto [code2, out2] = run_shell(CASTLE_BINARY_DIR "/" + cmd);
  EXPECT_EQ(code2, 1);
  EXPECT_EQ(out2.substr(out2.rfind("verdict=")), verdict);
}

TEST(CastleSim, CheckDeterminismPasses) {
  auto [code, out] = run_shell(castle_binary + " sim " CASTLE_SOURCE_DIR
                               "/scenarios/logsvc-faults.json --seed 5 --check-determinism");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("determinism: identical on a second run"), std::string::npos) << out;
}

}  // namespace
}  // namespace castle::real::testing
