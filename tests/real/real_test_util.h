#pragma once
// Shared by the real-runtime tests: a scratch data directory under /tmp and
// a runner that drives a fiber to completion on a RealRuntime under a
// watchdog, so a broken test fails in seconds instead of hanging.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "real/real_runtime.h"

namespace castle::real::testing {

// The castle binary of this build, for the tests that run it as a process.
inline const std::string castle_binary = CASTLE_BINARY_DIR "/castle";

// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/castle-real-test-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    CASTLE_ASSERT(made != nullptr, "mkdtemp failed");
    path_ = made;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline RealConfig config_for(const TempDir& dir) {
  RealConfig c;
  c.node_name = "test";
  c.data_dir = dir.path();
  c.seed = 42;
  return c;
}

// Runs a shell command, returning its exit code and everything it printed
// (stdout and stderr).
inline std::pair<int, std::string> run_shell(const std::string& cmd) {
  std::FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Runs body in a fiber until every fiber has ended. If that takes longer
// than limit the test fails and the remaining fibers are unwound.
inline void run_fiber(RealRuntime& rt, std::function<void()> body,
                      Duration limit = std::chrono::seconds(5)) {
  bool timed_out = false;
  Task watchdog = rt.spawn("watchdog", [&] {
    rt.sleep_for(limit);
    timed_out = true;
    rt.stop();
  });
  rt.spawn("main", [&] {
    body();
    watchdog.cancel();
  });
  rt.run_until_idle();
  EXPECT_FALSE(timed_out) << "the test's fibers did not finish within the limit";
  // Fibers left behind borrow this frame; unwind them before it goes.
  rt.shutdown();
}

inline std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string string_of(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace castle::real::testing
